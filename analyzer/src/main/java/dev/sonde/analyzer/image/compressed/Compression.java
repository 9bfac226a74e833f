package dev.sonde.analyzer.image.compressed;

import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorInputStream;

/** Whole-file compression wrappers recognised by their magic bytes, never by file name. */
public enum Compression {
    GZIP("gzip", new byte[] {0x1f, (byte) 0x8b}),
    XZ("xz", new byte[] {(byte) 0xfd, '7', 'z', 'X', 'Z', 0}),
    ZSTD("zstd", new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd}),
    BZIP2("bzip2", new byte[] {'B', 'Z', 'h'});

    private final String label;
    private final byte[] magic;

    Compression(String label, byte[] magic) {
        this.label = label;
        this.magic = magic;
    }

    public String label() {
        return label;
    }

    /** Detects a wrapper from the first bytes of a file. */
    public static Optional<Compression> detect(byte[] head) {
        for (Compression c : values()) {
            if (head.length >= c.magic.length && java.util.Arrays.equals(head, 0, c.magic.length, c.magic, 0, c.magic.length)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** A decompressing stream; concatenated members (pigz, pixz, zstd -T) are read to the end. */
    public InputStream decompress(InputStream in) throws IOException {
        return switch (this) {
            case GZIP -> new GzipCompressorInputStream(in, true);
            case XZ -> new XZCompressorInputStream(in, true);
            case ZSTD -> new ZstdCompressorInputStream(in);
            case BZIP2 -> new BZip2CompressorInputStream(in, true);
        };
    }
}
