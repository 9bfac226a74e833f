package dev.sonde.analyzer.kernel.isf;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.SoftReference;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Loaded ISF files, cached at two levels: in this process (softly, per file, while its size and modification time
 * are unchanged), and on disk in a compact binary form keyed by the SHA-256 of the file's bytes
 * ({@code $SONDE_CACHE/isf}, else {@code ~/.cache/sonde/isf}), so a second run loads a 38 MB Debian kernel ISF without
 * decompressing or parsing JSON. A cache file that does not read back is ignored and rewritten.
 */
public final class IsfCache {
    private static final IsfCache SHARED = new IsfCache(defaultDirectory());

    private record Key(Path path, long size, long modified) {
    }

    private final Map<Key, SoftReference<IsfFile>> entries = new ConcurrentHashMap<>();
    private final Optional<Path> directory;

    /** @param directory where to keep binary copies; empty for an in-memory cache only */
    public IsfCache(Optional<Path> directory) {
        this.directory = directory;
    }

    public static IsfCache shared() {
        return SHARED;
    }

    static Optional<Path> defaultDirectory() {
        String env = System.getenv("SONDE_CACHE");
        Path base = env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "sonde");
        return Optional.of(base.resolve("isf"));
    }

    public IsfFile load(Path file) throws IOException {
        Path real = file.toRealPath();
        BasicFileAttributes a = Files.readAttributes(real, BasicFileAttributes.class);
        Key key = new Key(real, a.size(), a.lastModifiedTime().toMillis());
        SoftReference<IsfFile> ref = entries.get(key);
        IsfFile f = ref == null ? null : ref.get();
        if (f == null) {
            f = loadThroughDisk(file);
            entries.put(key, new SoftReference<>(f));
        }
        return f;
    }

    private IsfFile loadThroughDisk(Path file) throws IOException {
        if (directory.isEmpty()) {
            return IsfReader.read(file);
        }
        Path cached = directory.get().resolve(sha256(file) + ".isfbin");
        if (Files.isRegularFile(cached)) {
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(cached), 1 << 16))) {
                return IsfBinary.read(in, "ISF " + file);
            } catch (IOException | RuntimeException e) {
                // Unreadable cache file: parse the ISF again and rewrite it.
            }
        }
        IsfFile f = IsfReader.read(file);
        try {
            Files.createDirectories(directory.get());
            Path tmp = Files.createTempFile(directory.get(), "partial-", ".isfbin");
            try (OutputStream os = Files.newOutputStream(tmp);
                 DataOutputStream out = new DataOutputStream(new BufferedOutputStream(os, 1 << 16))) {
                IsfBinary.write(f, out);
            }
            try {
                Files.move(tmp, cached, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, cached, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            // The cache is an optimisation: a read-only or full disk must not stop the analysis.
        }
        return f;
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
