package dev.sonde.snapshotter;

import java.io.IOException;
import java.util.List;

/**
 * A checkpoint that did not produce a bundle. By the time it is thrown the guest has been put back (running, its
 * disk chain as before) as far as libvirt could be reached, and the partial bundle is gone; {@link #cleanup()} says
 * what was undone, {@link #kind()} what went wrong.
 */
public class CheckpointException extends IOException {
    /** What went wrong. */
    public enum Kind {
        /** the domain does not exist or is not running */
        DOMAIN,
        /** libvirt could not be reached or refused an operation */
        LIBVIRT,
        /** the store could not be written (full, read-only, busy) */
        STORE,
        /** the guest could not be put back as it was: see the message, the journal is kept for the next run */
        UNRESTORED
    }

    private final Kind kind;
    private final List<String> cleanup;

    public CheckpointException(Kind kind, String message, List<String> cleanup, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.cleanup = List.copyOf(cleanup);
    }

    public Kind kind() {
        return kind;
    }

    public List<String> cleanup() {
        return cleanup;
    }
}
