package dev.sonde.snapshotter;

import java.io.IOException;

/**
 * Progress of a checkpoint: named steps, bytes written, and messages (what was cleaned up). Tests use {@link #step}
 * and {@link #wrote} to inject faults at exact points (throw, kill the process, kill libvirtd).
 */
public interface CheckpointListener {
    CheckpointListener NONE = new CheckpointListener() {
    };

    /** Steps, in the order a checkpoint reaches them. */
    String LOCKED = "locked";
    String JOURNAL_WRITTEN = "journal-written";
    String BEFORE_SNAPSHOT = "before-snapshot";
    /** dump modes only: the guest has just been paused by Sonde */
    String PAUSED = "paused";
    String AFTER_SNAPSHOT = "after-snapshot";
    String MEMORY_COPIED = "memory-copied";
    String DISKS_COPIED = "disks-copied";
    String AFTER_COMMIT = "after-commit";
    String BEFORE_SEAL = "before-seal";
    String SEALED = "sealed";

    default void step(String step) throws IOException {
    }

    default void wrote(String file, long bytesSoFar) throws IOException {
    }

    default void info(String message) {
    }
}
