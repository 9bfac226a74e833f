package dev.sonde.analyzer.memory;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An addressable space of bytes (physical memory or one virtual address space) with sparse contents.
 * Implementations provide {@link #read}; the typed helpers are defaults.
 */
public interface MemoryView {

    /** A short name for error messages, e.g. the image file. */
    String name();

    /**
     * Copies up to {@code length} bytes starting at {@code address} into {@code dst}.
     *
     * @return how many bytes were present contiguously from {@code address}; 0 when {@code address} itself is absent
     */
    int read(long address, byte[] dst, int offset, int length);

    /** Reads exactly {@code length} bytes or throws naming the first absent address. */
    default void readFully(long address, byte[] dst, int offset, int length) {
        int done = 0;
        while (done < length) {
            int n = read(address + done, dst, offset + done, length - done);
            if (n <= 0) {
                throw new AbsentMemoryException(name(), address + done);
            }
            done += n;
        }
    }

    default byte[] readBytes(long address, int length) {
        byte[] b = new byte[length];
        readFully(address, b, 0, length);
        return b;
    }

    default long readU64(long address) {
        byte[] b = readBytes(address, 8);
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }

    default long readU32(long address) {
        byte[] b = readBytes(address, 4);
        return (b[0] & 0xffL) | (b[1] & 0xffL) << 8 | (b[2] & 0xffL) << 16 | (b[3] & 0xffL) << 24;
    }

    default int readU16(long address) {
        byte[] b = readBytes(address, 2);
        return (b[0] & 0xff) | (b[1] & 0xff) << 8;
    }

    default int readU8(long address) {
        return readBytes(address, 1)[0] & 0xff;
    }

    /** Reads a NUL-terminated string of at most {@code maxLength} bytes (decoded as UTF-8, malformed bytes replaced). */
    default String readCString(long address, int maxLength) {
        byte[] b = new byte[maxLength];
        int n = read(address, b, 0, maxLength);
        if (n <= 0) {
            throw new AbsentMemoryException(name(), address);
        }
        int len = 0;
        while (len < n && b[len] != 0) {
            len++;
        }
        return new String(Arrays.copyOf(b, len), StandardCharsets.UTF_8);
    }
}
