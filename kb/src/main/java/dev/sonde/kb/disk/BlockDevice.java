package dev.sonde.kb.disk;

import java.io.Closeable;
import java.io.IOException;

/** A virtual disk as the guest sees it: random-access bytes of a fixed size (sparse parts read as zeros). */
public interface BlockDevice extends Closeable {
    /** Virtual size in bytes. */
    long size();

    /** A name for error messages (the top image file). */
    String name();

    /** Reads exactly {@code len} bytes at {@code pos}; reading past {@link #size()} is an error. */
    void read(long pos, byte[] buf, int off, int len) throws IOException;

    default byte[] read(long pos, int len) throws IOException {
        byte[] b = new byte[len];
        read(pos, b, 0, len);
        return b;
    }
}
