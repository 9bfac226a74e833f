package dev.sonde.analyzer.volatility;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.compressed.Compression;
import dev.sonde.analyzer.image.compressed.DecompressedCache;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The file Volatility should read for an image: the image itself, or, when it is wrapped in whole-file compression
 * (gzip, xz, zstd, bzip2; Volatility reads none of them), Sonde's decompressed copy from the same cache the native
 * analyzer uses.
 */
public final class VolatilityInput {
    private VolatilityInput() {
    }

    /** The path to hand to Volatility for {@code image}. */
    public static Path readable(Path image) throws IOException {
        return readable(image, DecompressedCache.defaultCache());
    }

    public static Path readable(Path image, DecompressedCache cache) throws IOException {
        if (!Files.exists(image)) {
            throw new NoSuchFileException(image.toString(), null, "no such file");
        }
        if (!Files.isRegularFile(image)) {
            throw new BadImageException(image, "not a regular file");
        }
        byte[] head;
        try (InputStream in = Files.newInputStream(image)) {
            head = in.readNBytes(64);
        }
        Optional<Compression> c = Compression.detect(head);
        return c.isPresent() ? cache.decompressed(image, c.get()) : image;
    }
}
