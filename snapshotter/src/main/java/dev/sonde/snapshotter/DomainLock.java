package dev.sonde.snapshotter;

import dev.sonde.snapshotter.store.StoreBusyException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One Sonde at a time per domain on this host (whatever store it writes to): only the holder may treat a Sonde overlay
 * on the domain's disks as a leftover. The lock file lives in {@code /run/lock/sonde} (or the temporary directory) and
 * the kernel releases it when the process dies.
 */
final class DomainLock implements Closeable {
    private final FileChannel channel;
    private final FileLock lock;

    private DomainLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static Path directory() {
        String prop = System.getProperty("sonde.lockdir");
        if (prop != null) {
            return Path.of(prop);
        }
        Path run = Path.of("/run/lock");
        if (Files.isDirectory(run) && Files.isWritable(run)) {
            return run.resolve("sonde");
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "sonde-locks");
    }

    static DomainLock acquire(String uuid) throws IOException {
        Path dir = Files.createDirectories(directory());
        Path f = dir.resolve("domain-" + uuid + ".lock");
        FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            l = null;
        }
        if (l == null) {
            ch.close();
            throw new StoreBusyException("domain " + uuid + " is being checkpointed by another sonde process (" + f + ")");
        }
        return new DomainLock(ch, l);
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
