package dev.sonde.kb.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A raw disk image file: the guest's bytes as they are. */
public final class RawImage implements BlockDevice {
    private final Path file;
    private final FileChannel ch;
    private final long size;

    public RawImage(Path file) throws IOException {
        this.file = file;
        this.ch = FileChannel.open(file, StandardOpenOption.READ);
        this.size = ch.size();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public String name() {
        return file.toString();
    }

    @Override
    public void read(long pos, byte[] buf, int off, int len) throws IOException {
        if (pos < 0 || len < 0 || pos > size - len) {
            throw new DiskFormatException(file, pos, "read of " + len + " bytes past the end of the image (" + size + " bytes)");
        }
        readFully(ch, file, pos, buf, off, len);
    }

    static void readFully(FileChannel ch, Path file, long pos, byte[] buf, int off, int len) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(buf, off, len);
        long p = pos;
        while (bb.hasRemaining()) {
            int n = ch.read(bb, p);
            if (n < 0) {
                throw new DiskFormatException(file, p, "unexpected end of file");
            }
            p += n;
        }
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
