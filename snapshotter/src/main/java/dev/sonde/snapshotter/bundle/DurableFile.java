package dev.sonde.snapshotter.bundle;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A small file replaced as a whole and durably (journals, state): written next to its place as {@code NAME.tmp},
 * fsynced, renamed over the old version, then the directory fsynced. A crash leaves the old or the new version, and
 * at most a stale {@code .tmp} that {@link #delete} and readers may remove.
 */
public final class DurableFile {
    private DurableFile() {
    }

    /** The temporary name a write goes through. */
    public static Path temporary(Path target) {
        return target.resolveSibling(target.getFileName() + ".tmp");
    }

    /** Replaces {@code target} with {@code data}, durably. */
    public static void replace(Path target, byte[] data) throws IOException {
        Path tmp = temporary(target);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        BundleWriter.fsyncDirectory(target.getParent());
    }

    /** Deletes {@code target} and any temporary version of it, durably. */
    public static void delete(Path target) throws IOException {
        Files.deleteIfExists(target);
        Files.deleteIfExists(temporary(target));
        BundleWriter.fsyncDirectory(target.getParent());
    }
}
