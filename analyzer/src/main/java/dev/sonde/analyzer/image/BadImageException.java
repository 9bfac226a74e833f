package dev.sonde.analyzer.image;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An image that cannot be interpreted: names the file, the byte offset and what was wrong.
 */
public final class BadImageException extends IOException {
    private final Path file;
    private final long offset;
    private final String problem;

    public BadImageException(Path file, long offset, String problem) {
        super(offset < 0 ? file + ": " + problem
                : String.format("%s: at offset 0x%x (%d): %s", file, offset, offset, problem));
        this.file = file;
        this.offset = offset;
        this.problem = problem;
    }

    public BadImageException(Path file, String problem) {
        this(file, -1, problem);
    }

    /** What was wrong, without the file and offset. */
    public String problem() {
        return problem;
    }

    public Path file() {
        return file;
    }

    /** The offset of the problem in the file, or -1 when it concerns the file as a whole. */
    public long offset() {
        return offset;
    }
}
