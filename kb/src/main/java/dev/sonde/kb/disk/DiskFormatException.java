package dev.sonde.kb.disk;

import java.io.IOException;
import java.nio.file.Path;

/** A disk image or file system that cannot be read as what it claims to be: names the file, the offset and what. */
public class DiskFormatException extends IOException {
    private final String file;
    private final long offset;

    public DiskFormatException(String file, long offset, String what) {
        super(String.format("%s: offset 0x%x: %s", file, offset, what));
        this.file = file;
        this.offset = offset;
    }

    public DiskFormatException(Path file, long offset, String what) {
        this(file.toString(), offset, what);
    }

    public String file() {
        return file;
    }

    public long offset() {
        return offset;
    }
}
