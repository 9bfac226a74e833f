package dev.sonde.analyzer.memory;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

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

    /**
     * One request of a {@link #readBatch batched read}: up to {@code length} bytes from {@code address} into
     * {@code dst[offset, offset + length)}.
     */
    record ReadRequest(long address, byte[] dst, int offset, int length) {
        public ReadRequest {
            Objects.requireNonNull(dst, "dst");
            Objects.checkFromIndexSize(offset, length, dst.length);
        }

        /** A request for {@code length} bytes into a new buffer, {@link #dst()}. */
        public static ReadRequest of(long address, int length) {
            return new ReadRequest(address, new byte[length], 0, length);
        }
    }

    /**
     * Reads many requests at once. Each result is what {@link #read} would have returned for that request: the
     * number of bytes present contiguously from its address (0 when the address is absent). Requests are independent:
     * their destination regions must not overlap, and an implementation may serve them in any order (e.g. sorted by
     * address, coalescing neighbours or reading each page-table page or compressed block once); the results are in
     * request order. The default reads them one by one, in order.
     *
     * @return per request, the count of contiguous present bytes
     */
    default int[] readBatch(List<ReadRequest> requests) {
        int[] present = new int[requests.size()];
        for (int i = 0; i < present.length; i++) {
            ReadRequest r = requests.get(i);
            present[i] = read(r.address(), r.dst(), r.offset(), r.length());
        }
        return present;
    }

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

    /**
     * The little-endian 64-bit value at {@code address}, or {@code absent} when any of its 8 bytes is absent: a read
     * that neither throws nor allocates in the implementations that override it (the default reads into a temporary
     * array). Pick an {@code absent} value the caller cannot confuse with data, e.g. 0 for a page-table entry (an absent
     * table then reads as a not-present entry), or confirm a result equal to it with {@link #readU64}.
     */
    default long readU64OrElse(long address, long absent) {
        byte[] b = new byte[8];
        if (read(address, b, 0, 8) != 8) {
            return absent;
        }
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
