package dev.sonde.analyzer.image.kdump;

import com.github.luben.zstd.Zstd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.xerial.snappy.Snappy;

/**
 * Decompresses kdump pages; a page must decompress to exactly the block size. Not thread-safe: one instance per lock.
 *
 * <p>zlib pages are decompressed as a stream that can stop early: {@link #startZlib} then {@link #inflate} up to the
 * bytes needed, and later {@link #inflate} further on the same stream (until another page is started). Only a stream
 * inflated to the end of the page is checked whole (it must end exactly there); a prefix is right as far as it goes, or
 * reported corrupt when the corruption lies inside it. snappy and zstd pages are decompressed whole.
 */
final class PageCodec {
    private final Inflater inflater = new Inflater();
    /** Compressed bytes that are not stored contiguously in the mapping are copied here. */
    private final byte[] scratch;

    PageCodec(int blockSize) {
        this.scratch = new byte[blockSize];
    }

    /** A page that would not decompress; the message says why. */
    static final class CorruptPage extends Exception {
        CorruptPage(String message) {
            super(message);
        }
    }

    static String name(int flags) {
        return switch (flags) {
            case KdumpHeader.COMPRESSED_ZLIB -> "zlib";
            case KdumpHeader.COMPRESSED_LZO -> "lzo";
            case KdumpHeader.COMPRESSED_SNAPPY -> "snappy";
            case KdumpHeader.COMPRESSED_ZSTD -> "zstd";
            default -> "uncompressed";
        };
    }

    /** A buffer of at least the block size for compressed bytes that must be copied; clobbers any started stream. */
    byte[] scratch() {
        return scratch;
    }

    /** Starts decompressing a zlib page whose compressed bytes are {@code in} (read in place, not copied). */
    void startZlib(ByteBuffer in) {
        inflater.reset();
        inflater.setInput(in);
    }

    /** Starts decompressing a zlib page whose compressed bytes are {@code in[0, len)} (e.g. {@link #scratch()}). */
    void startZlib(byte[] in, int len) {
        inflater.reset();
        inflater.setInput(in, 0, len);
    }

    /**
     * Continues the started zlib stream, which has produced {@code out[0, from)}, until {@code out[0, target)} holds
     * the first {@code target} bytes of the {@code pageSize}-byte page. When {@code target} is the whole page the
     * stream must end exactly there.
     *
     * @return {@code target}
     * @throws CorruptPage when the data is corrupt within what was decompressed, ends before {@code target}, or (for a
     *                     whole page) does not end with the page
     */
    int inflate(byte[] out, int from, int target, int pageSize) throws CorruptPage {
        int n = from;
        try {
            while (n < target && !inflater.finished()) {
                int r = inflater.inflate(out, n, target - n);
                if (r == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
                n += r;
            }
        } catch (DataFormatException e) {
            throw new CorruptPage("corrupt zlib data: " + e.getMessage());
        }
        if (n < target) {
            throw new CorruptPage(inflater.finished()
                    ? "zlib data decompresses to " + n + " bytes, not the " + pageSize + "-byte page"
                    : "zlib data ends after " + n + " of " + pageSize + " bytes");
        }
        if (n == pageSize && !inflater.finished()) {
            throw new CorruptPage("zlib data decompresses to more than the " + pageSize + "-byte page");
        }
        return n;
    }

    /** Decompresses a whole snappy or zstd page {@code in[0, len)} into {@code out} (the page size). */
    void decompress(int flags, byte[] in, int len, byte[] out) throws CorruptPage {
        switch (flags) {
            case KdumpHeader.COMPRESSED_SNAPPY -> snappy(in, len, out);
            case KdumpHeader.COMPRESSED_ZSTD -> zstd(in, len, out);
            default -> throw new CorruptPage(name(flags) + " pages cannot be decompressed: no maintained Java decoder "
                    + "is available (re-dump with zlib, snappy or zstd compression)");
        }
    }

    private static void snappy(byte[] in, int len, byte[] out) throws CorruptPage {
        try {
            int size = Snappy.uncompressedLength(in, 0, len);
            if (size != out.length) {
                throw new CorruptPage("snappy data announces " + size + " bytes, not the " + out.length + "-byte page");
            }
            int n = Snappy.uncompress(in, 0, len, out, 0);
            if (n != out.length) {
                throw new CorruptPage("snappy data decompresses to " + n + " bytes, not the " + out.length + "-byte page");
            }
        } catch (IOException | RuntimeException e) {
            throw new CorruptPage("corrupt snappy data: " + e.getMessage());
        }
    }

    private static void zstd(byte[] in, int len, byte[] out) throws CorruptPage {
        long n;
        try {
            n = Zstd.decompressByteArray(out, 0, out.length, in, 0, len);
        } catch (RuntimeException e) {
            throw new CorruptPage("corrupt zstd data: " + e.getMessage());
        }
        if (Zstd.isError(n)) {
            throw new CorruptPage("corrupt zstd data: " + Zstd.getErrorName(n));
        }
        if (n != out.length) {
            throw new CorruptPage("zstd data decompresses to " + n + " bytes, not the " + out.length + "-byte page");
        }
    }

    void close() {
        inflater.end();
    }
}
