package dev.sonde.rollback;

import java.io.IOException;

/** A fork that cannot start or finish: what failed and which exit code class it maps to. */
public class ForkException extends IOException {
    /** What kind of failure. */
    public enum Kind {
        /** a bundle that cannot be forked, a bad probe */
        BAD_INPUT,
        /** libvirt, QEMU, the guest agent or the host missing or failing */
        ENVIRONMENT,
        /** the bundle's hashes or the rollback could not be verified */
        INTEGRITY
    }

    private final Kind kind;

    public ForkException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public ForkException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
