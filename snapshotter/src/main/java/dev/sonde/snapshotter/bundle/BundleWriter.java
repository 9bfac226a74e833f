package dev.sonde.snapshotter.bundle;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes one evidence bundle atomically. The files go into {@code PARENT/.partial-NAME/}; each is hashed while it is
 * written and forced to stable storage when finished. {@link #seal} then writes {@code manifest.json} last, forces it
 * and the directory, renames the directory to {@code PARENT/NAME} and forces the parent. Until that rename the bundle is
 * a {@code .partial-*} directory, which {@link BundleVerifier} rejects and a store deletes as a leftover: a crash at
 * any point never leaves a bundle that looks complete.
 */
public final class BundleWriter implements Closeable {
    public static final String PARTIAL_PREFIX = ".partial-";
    static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,199}");

    /** Sees every write (tests use it to kill the process in the middle of a file). */
    @FunctionalInterface
    public interface Observer {
        Observer NONE = (file, bytes) -> { };

        void wrote(String file, long bytesSoFar) throws IOException;
    }

    private final Path parent;
    private final String name;
    private final Path dir;
    private final Observer observer;
    private final List<FileEntry> entries = new ArrayList<>();
    private final List<String> reserved = new ArrayList<>();
    private UserPrincipal sharedWith;
    private boolean sealed;
    private boolean aborted;

    private BundleWriter(Path parent, String name, Observer observer) {
        this.parent = parent;
        this.name = name;
        this.dir = parent.resolve(PARTIAL_PREFIX + name);
        this.observer = observer;
    }

    /** Starts bundle {@code name} in {@code parent} (created if needed). */
    public static BundleWriter create(Path parent, String name, Observer observer) throws IOException {
        checkName(name);
        Files.createDirectories(parent);
        BundleWriter w = new BundleWriter(parent, name, observer);
        if (Files.exists(parent.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(parent.resolve(name).toString(), null, "a bundle with this name exists");
        }
        Files.createDirectory(w.dir);
        try {
            Files.setPosixFilePermissions(w.dir, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: keep the default permissions
        }
        return w;
    }

    static void checkName(String n) {
        if (n == null || !SAFE_NAME.matcher(n).matches() || n.contains("..")) {
            throw new IllegalArgumentException("not a safe bundle or file name: " + n);
        }
    }

    public String name() {
        return name;
    }

    /** The partial directory the files are written into. */
    public Path directory() {
        return dir;
    }

    /** The path the bundle will have once sealed. */
    public Path finalPath() {
        return parent.resolve(name);
    }

    public List<FileEntry> entries() {
        return List.copyOf(entries);
    }

    /**
     * Lets another user (the one an unprivileged libvirtd runs as) write into the partial directory, for images that
     * libvirt writes straight into the bundle. Ownership returns to this process's user when the bundle is sealed.
     */
    public void shareWith(UserPrincipal user) throws IOException {
        Files.setOwner(dir, user);
        sharedWith = user;
    }

    /** A new file of the bundle; call {@link HashingFileOutput#finish()} to complete it. */
    public HashingFileOutput create(String fileName, String role, String format) throws IOException {
        checkFile(fileName);
        return new HashingFileOutput(dir.resolve(fileName), fileName, role, format, observer, entries::add);
    }

    /** Writes a whole file from memory. */
    public FileEntry write(String fileName, String role, String format, byte[] data) throws IOException {
        try (HashingFileOutput out = create(fileName, role, format)) {
            out.write(ByteBuffer.wrap(data));
            return out.finish();
        }
    }

    /** Copies {@code source} into the bundle, hashing the bytes as they are written. */
    public FileEntry copyFrom(Path source, String fileName, String role, String format) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(4 << 20);
        try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ);
             HashingFileOutput out = create(fileName, role, format)) {
            while (in.read(buf) >= 0) {
                buf.flip();
                out.write(buf);
                buf.clear();
            }
            return out.finish();
        }
    }

    /** Copies a stream into the bundle, hashing the bytes as they are written. */
    public FileEntry copyFrom(InputStream source, String fileName, String role, String format) throws IOException {
        byte[] buf = new byte[1 << 20];
        try (HashingFileOutput out = create(fileName, role, format)) {
            int r;
            while ((r = source.read(buf)) >= 0) {
                out.write(buf, 0, r);
            }
            return out.finish();
        }
    }

    /**
     * A path inside the partial bundle for a file another process (libvirt, QEMU) writes; {@link #adopt} it when that
     * writer is done.
     */
    public Path reserve(String fileName) throws IOException {
        checkFile(fileName);
        reserved.add(fileName);
        return dir.resolve(fileName);
    }

    /**
     * Adds a file another process wrote at a {@link #reserve reserved} path: hashed with one read, right after its
     * writer closed it (formats such as the libvirt save image rewrite their header when complete, so they cannot be
     * hashed while written), then forced to stable storage.
     */
    public FileEntry adopt(String fileName, String role, String format) throws IOException {
        if (!reserved.contains(fileName)) {
            throw new IllegalStateException(fileName + " was not reserved");
        }
        Path f = dir.resolve(fileName);
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(f + ": the writer did not leave a regular file");
        }
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        String sha = Sha256.of(f);
        FileEntry e = new FileEntry(fileName, role, format, Files.size(f), sha);
        entries.add(e);
        return e;
    }

    private void checkFile(String fileName) throws IOException {
        checkName(fileName);
        if (sealed || aborted) {
            throw new IllegalStateException("bundle " + name + " is " + (sealed ? "sealed" : "aborted"));
        }
        if (fileName.equals(Manifest.FILE_NAME)) {
            throw new IllegalArgumentException(Manifest.FILE_NAME + " is written by seal()");
        }
        if (entries.stream().anyMatch(e -> e.name().equals(fileName)) || reserved.contains(fileName)) {
            throw new FileAlreadyExistsException(fileName);
        }
    }

    /**
     * Seals the bundle: checks that every file in the directory is listed (and nothing else is there), writes the
     * manifest with the file list, forces it, renames the directory to its final name and forces the parent.
     */
    public Sealed seal(Manifest manifest) throws IOException {
        if (sealed || aborted) {
            throw new IllegalStateException("bundle " + name + " is already " + (sealed ? "sealed" : "aborted"));
        }
        List<String> onDisk;
        try (Stream<Path> s = Files.list(dir)) {
            onDisk = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        List<String> listed = entries.stream().map(FileEntry::name).sorted().toList();
        if (!onDisk.equals(listed)) {
            throw new IOException("bundle " + name + ": files on disk " + onDisk + " differ from the files written " + listed);
        }
        Manifest sealedManifest = manifest.withSeal(name, entries);
        byte[] json = sealedManifest.toJson();
        try (FileChannel ch = FileChannel.open(dir.resolve(Manifest.FILE_NAME), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(json);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        if (sharedWith != null) {
            Files.setOwner(dir, parent.getFileSystem().getUserPrincipalLookupService()
                    .lookupPrincipalByName(System.getProperty("user.name")));
        }
        fsyncDirectory(dir);
        Path target = finalPath();
        try {
            Files.move(dir, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + dir + " atomically to " + target, e);
        }
        sealed = true;
        fsyncDirectory(parent);
        return new Sealed(target, Sha256.of(json), sealedManifest);
    }

    /** Deletes the partial bundle (nothing happens once sealed). */
    public void abort() throws IOException {
        if (sealed || aborted) {
            return;
        }
        aborted = true;
        deleteTree(dir);
    }

    @Override
    public void close() throws IOException {
        abort();
    }

    /** Forces a directory's entries to stable storage (fsync on the directory). */
    public static void fsyncDirectory(Path d) throws IOException {
        try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
                return; // some platforms cannot open directories
            }
            throw e;
        }
    }

    /** Deletes a file or a directory tree without following symbolic links. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            Files.deleteIfExists(root);
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** A sealed bundle: where it is, the SHA-256 of its manifest, and the manifest. */
    public record Sealed(Path path, String manifestSha256, Manifest manifest) {
    }
}
