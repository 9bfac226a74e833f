package dev.sonde.snapshotter.store;

import dev.sonde.snapshotter.bundle.BundleArchive;
import dev.sonde.snapshotter.bundle.BundleWriter;
import dev.sonde.snapshotter.bundle.CheckpointLog;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A directory of evidence bundles: sealed bundles (directories and archives named {@code TIME-DOMAIN-ID}), leftovers of
 * interrupted runs ({@code .partial-*}, {@code .deleting-*}), and the store's state in {@code .sonde/}: the lock, the
 * hash-chained checkpoint log, and the journals of checkpoints in progress. Time comes from the injected clock.
 */
public final class BundleStore {
    public static final String STATE_DIR = ".sonde";
    static final String DELETING_PREFIX = ".deleting-";

    private final Path root;
    private final Clock clock;

    private BundleStore(Path root, Clock clock) {
        this.root = root;
        this.clock = clock;
    }

    /** Opens (creating if needed) the store at {@code root}. */
    public static BundleStore open(Path root, Clock clock) throws IOException {
        Path r = root.toAbsolutePath().normalize();
        Files.createDirectories(r.resolve(STATE_DIR));
        try {
            Files.setPosixFilePermissions(r.resolve(STATE_DIR), PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException e) {
            // not POSIX
        }
        return new BundleStore(r, clock);
    }

    public Path root() {
        return root;
    }

    public Clock clock() {
        return clock;
    }

    public CheckpointLog log() {
        return CheckpointLog.of(root);
    }

    /** Where checkpoints in progress keep their journals. */
    public Path journalDir() throws IOException {
        return Files.createDirectories(root.resolve(STATE_DIR).resolve("journal"));
    }

    /** Starts a new bundle named after the clock's current time, the domain and the checkpoint id. */
    public BundleWriter newBundle(String domain, String id, BundleWriter.Observer observer) throws IOException {
        return BundleWriter.create(root, BundleNames.name(clock.instant(), domain, id), observer);
    }

    /** The sealed bundles, oldest first. Entries whose names Sonde did not make are ignored. */
    public List<StoredBundle> bundles() throws IOException {
        List<StoredBundle> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith(".")) {
                    continue;
                }
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    StoredBundle.of(p, n, false).ifPresent(out::add);
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && BundleArchive.isArchiveName(n)) {
                    StoredBundle.of(p, BundleArchive.bundleName(n), true).ifPresent(out::add);
                }
            }
        }
        out.sort(Comparator.comparing(StoredBundle::time).thenComparing(StoredBundle::name));
        return out;
    }

    /** Leftovers of interrupted runs: partial bundles and archives, half-deleted bundles. */
    public List<Path> leftovers() throws IOException {
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(BundleWriter.PARTIAL_PREFIX) || n.startsWith(DELETING_PREFIX);
            }).sorted().toList();
        }
    }

    /**
     * Deletes the leftovers and says what it deleted. Only call it with the store lock held: a partial bundle of a
     * running checkpoint is not a leftover.
     */
    public List<String> cleanLeftovers(Lock lock) throws IOException {
        lock.check();
        List<String> cleaned = new ArrayList<>();
        for (Path p : leftovers()) {
            long bytes = size(p);
            BundleWriter.deleteTree(p);
            cleaned.add("deleted " + (p.getFileName().toString().startsWith(DELETING_PREFIX)
                    ? "half-deleted bundle " : "partial bundle ") + p + " (" + bytes + " bytes)");
        }
        return cleaned;
    }

    /** Deletes one sealed bundle: renamed to {@code .deleting-*} first, so a crash cannot leave a half bundle in view. */
    public void delete(Lock lock, StoredBundle b) throws IOException {
        lock.check();
        Path tmp = root.resolve(DELETING_PREFIX + b.path().getFileName());
        Files.move(b.path(), tmp, StandardCopyOption.ATOMIC_MOVE);
        BundleWriter.fsyncDirectory(root);
        BundleWriter.deleteTree(tmp);
        log().append(clock.instant(), "pruned", b.name(), "-");
    }

    /** The outcome of a prune. */
    public record PruneResult(List<RetentionPolicy.Decision> decisions, List<String> leftovers, boolean dryRun) {
        public List<StoredBundle> deleted() {
            return decisions.stream().filter(d -> !d.keep()).map(RetentionPolicy.Decision::bundle).toList();
        }

        public List<StoredBundle> kept() {
            return decisions.stream().filter(RetentionPolicy.Decision::keep).map(RetentionPolicy.Decision::bundle).toList();
        }
    }

    /** Applies {@code policy} at the clock's current time; with {@code dryRun} only says what it would delete. */
    public PruneResult prune(RetentionPolicy policy, boolean dryRun) throws IOException {
        return prune(policy, dryRun, b -> true);
    }

    /**
     * Applies {@code policy} to the bundles {@code scope} selects (the scheduler: one domain's bundles) at the clock's
     * current time; the others are left alone. Leftovers are cleaned as by {@link #prune(RetentionPolicy, boolean)}.
     */
    public PruneResult prune(RetentionPolicy policy, boolean dryRun, java.util.function.Predicate<StoredBundle> scope)
            throws IOException {
        try (Lock lock = lock()) {
            List<RetentionPolicy.Decision> decisions = policy.decide(bundles().stream().filter(scope).toList(),
                    clock.instant());
            List<String> left;
            if (dryRun) {
                left = leftovers().stream().map(p -> "would delete leftover " + p).toList();
            } else {
                left = cleanLeftovers(lock);
                for (RetentionPolicy.Decision d : decisions) {
                    if (!d.keep()) {
                        delete(lock, d.bundle());
                    }
                }
            }
            return new PruneResult(decisions, left, dryRun);
        }
    }

    /** Takes the store's exclusive lock, or fails at once when another process holds it. */
    public Lock lock() throws IOException {
        Path f = root.resolve(STATE_DIR).resolve("lock");
        FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            l = null;
        }
        if (l == null) {
            ch.close();
            throw new StoreBusyException("store " + root + " is busy: another sonde process (checkpoint or prune) holds "
                    + f);
        }
        return new Lock(ch, l);
    }

    /** The store's exclusive lock; released on close, and by the kernel if the process dies. */
    public static final class Lock implements Closeable {
        private final FileChannel channel;
        private final FileLock lock;

        Lock(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }

        void check() {
            if (!lock.isValid()) {
                throw new IllegalStateException("store lock not held");
            }
        }

        @Override
        public void close() throws IOException {
            try {
                lock.release();
            } finally {
                channel.close();
            }
        }
    }

    /** Finds a bundle of this store by name (directory or archive). */
    public Optional<StoredBundle> find(String name) throws IOException {
        return bundles().stream().filter(b -> b.name().equals(name)).findFirst();
    }

    static long size(Path p) {
        try (Stream<Path> s = Files.walk(p)) {
            return s.filter(x -> Files.isRegularFile(x, LinkOption.NOFOLLOW_LINKS)).mapToLong(x -> {
                try {
                    return Files.size(x);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException e) {
            return 0;
        }
    }
}
