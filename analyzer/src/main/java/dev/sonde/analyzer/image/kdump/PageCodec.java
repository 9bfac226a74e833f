package dev.sonde.analyzer.image.kdump;

import com.github.luben.zstd.Zstd;
import java.io.IOException;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.xerial.snappy.Snappy;

/** Decompresses one kdump page; a page must decompress to exactly the block size. */
final class PageCodec {
    private final Inflater inflater = new Inflater();

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

    byte[] decompress(int flags, byte[] in, int blockSize) throws CorruptPage {
        byte[] out = new byte[blockSize];
        switch (flags) {
            case KdumpHeader.COMPRESSED_ZLIB -> zlib(in, out);
            case KdumpHeader.COMPRESSED_SNAPPY -> snappy(in, out);
            case KdumpHeader.COMPRESSED_ZSTD -> zstd(in, out);
            default -> throw new CorruptPage(name(flags) + " pages cannot be decompressed: no maintained Java decoder "
                    + "is available (re-dump with zlib, snappy or zstd compression)");
        }
        return out;
    }

    private void zlib(byte[] in, byte[] out) throws CorruptPage {
        inflater.reset();
        inflater.setInput(in);
        int n = 0;
        try {
            while (n < out.length && !inflater.finished()) {
                int r = inflater.inflate(out, n, out.length - n);
                if (r == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
                n += r;
            }
            if (!inflater.finished()) {
                throw new CorruptPage(n < out.length
                        ? "zlib data ends after " + n + " of " + out.length + " bytes"
                        : "zlib data decompresses to more than the " + out.length + "-byte page");
            }
        } catch (DataFormatException e) {
            throw new CorruptPage("corrupt zlib data: " + e.getMessage());
        }
        if (n != out.length) {
            throw new CorruptPage("zlib data decompresses to " + n + " bytes, not the " + out.length + "-byte page");
        }
    }

    private static void snappy(byte[] in, byte[] out) throws CorruptPage {
        try {
            int size = Snappy.uncompressedLength(in, 0, in.length);
            if (size != out.length) {
                throw new CorruptPage("snappy data announces " + size + " bytes, not the " + out.length + "-byte page");
            }
            int n = Snappy.uncompress(in, 0, in.length, out, 0);
            if (n != out.length) {
                throw new CorruptPage("snappy data decompresses to " + n + " bytes, not the " + out.length + "-byte page");
            }
        } catch (IOException | RuntimeException e) {
            throw new CorruptPage("corrupt snappy data: " + e.getMessage());
        }
    }

    private static void zstd(byte[] in, byte[] out) throws CorruptPage {
        long n;
        try {
            n = Zstd.decompressByteArray(out, 0, out.length, in, 0, in.length);
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
