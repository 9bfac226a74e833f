package dev.sonde.analyzer.image.compressed;

import dev.sonde.analyzer.image.BadImageException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Random access into compressed images by decompressing once into a cache file, keyed by the SHA-256 of the
 * compressed bytes. Formats like xz, gzip or zstd streams have no usable seek index in general, and memory analysis
 * reads pages all over the image, so a decompressed copy (memory-mapped afterwards) is the strategy that keeps reads
 * random-access. The copy is written to a temporary file and renamed into place only when complete; the output is
 * bounded so a decompression bomb fails cleanly instead of filling the disk.
 */
public final class DecompressedCache {
    /** Leave this much free space on the cache's file system. */
    static final long MIN_FREE_BYTES = 512L << 20;

    private final Path directory;
    private final long maxOutputBytes;

    public DecompressedCache(Path directory, long maxOutputBytes) {
        this.directory = directory;
        this.maxOutputBytes = maxOutputBytes;
    }

    /** The cache under {@code $SONDE_CACHE/decompressed}, else {@code ~/.cache/sonde/decompressed}; 64 GiB per image. */
    public static DecompressedCache defaultCache() {
        String env = System.getenv("SONDE_CACHE");
        Path base = env != null && !env.isBlank()
                ? Path.of(env)
                : Path.of(System.getProperty("user.home"), ".cache", "sonde");
        return new DecompressedCache(base.resolve("decompressed"), 64L << 30);
    }

    /** Returns the path of the decompressed copy of {@code file}, creating it if needed. */
    public Path decompressed(Path file, Compression compression) throws IOException {
        return decompressed(file, 0, compression, "data");
    }

    /**
     * Returns the path of the decompressed copy of the compressed stream that starts at {@code offset} in {@code file}
     * (e.g. a migration stream after a libvirt save header), creating it if needed.
     *
     * @param what names the stream in error messages, e.g. {@code "migration stream"}
     */
    public Path decompressed(Path file, long offset, Compression compression, String what) throws IOException {
        Files.createDirectories(directory);
        Path target = directory.resolve(sha256(file) + (offset == 0 ? "" : "@" + offset) + ".img");
        if (Files.isRegularFile(target)) {
            return target;
        }
        Path tmp = Files.createTempFile(directory, "partial-", ".img");
        try {
            long written = 0;
            byte[] buf = new byte[1 << 20];
            try (InputStream raw = Files.newInputStream(file);
                 InputStream in = compression.decompress(new BufferedInputStream(skip(raw, offset), 1 << 20));
                 OutputStream out = Files.newOutputStream(tmp)) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    written += n;
                    if (written > maxOutputBytes) {
                        throw new BadImageException(file, offset, "the " + compression.label() + " " + what
                                + " decompresses to more than " + maxOutputBytes
                                + " bytes; refusing (raise the limit if this image is really that large)");
                    }
                    if ((written & ((256L << 20) - 1)) < n && Files.getFileStore(directory).getUsableSpace() < MIN_FREE_BYTES) {
                        throw new BadImageException(file, offset, "not enough free space in " + directory
                                + " to decompress the " + compression.label() + " " + what);
                    }
                    out.write(buf, 0, n);
                }
            } catch (IOException e) {
                if (e instanceof BadImageException) {
                    throw e;
                }
                throw new BadImageException(file, offset, "corrupt " + compression.label() + " " + what + " after "
                        + written + " decompressed bytes: " + e.getMessage());
            }
            if (written == 0) {
                throw new BadImageException(file, offset, "the " + compression.label() + " " + what + " is empty");
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static InputStream skip(InputStream in, long offset) throws IOException {
        in.skipNBytes(offset);
        return in;
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
