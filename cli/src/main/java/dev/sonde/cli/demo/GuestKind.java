package dev.sonde.cli.demo;

/**
 * The fixture guests the demo can boot: {@code debian} (a Debian 12 server disk with its services, the planted
 * scenarios started by a systemd unit, a guest agent) and {@code tiny} (a busybox initramfs running the planted
 * scenarios; no disk, no guest agent).
 */
public enum GuestKind {
    debian(900),
    tiny(300);

    private final int bootTimeoutSeconds;

    GuestKind(int bootTimeoutSeconds) {
        this.bootTimeoutSeconds = bootTimeoutSeconds;
    }

    /** How long the guest may take to print its readiness marker under TCG on a busy host. */
    public int bootTimeoutSeconds() {
        return bootTimeoutSeconds;
    }
}
