package dev.sonde.snapshotter.libvirt;

import java.io.Closeable;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * A connection to a libvirt URI that can be re-opened after libvirtd restarts. Domains are looked up again after a
 * reconnect (their handles do not survive the connection).
 */
public final class LibvirtSession implements Closeable {
    private final String uri;
    private Connect conn;

    private LibvirtSession(String uri) {
        this.uri = uri;
    }

    /** Opens {@code uri} (read-write). */
    public static LibvirtSession open(String uri) throws VirtException {
        EventLoop.ensureStarted();
        LibvirtSession s = new LibvirtSession(uri);
        s.connect();
        return s;
    }

    private void connect() throws VirtException {
        try {
            conn = new Connect(uri, false);
        } catch (LibvirtException e) {
            throw new VirtException("cannot connect to libvirt at " + uri, e);
        }
        try {
            conn.setKeepAlive(5, 3);
        } catch (LibvirtException e) {
            // keepalive unsupported by this driver (test://): fine
        }
    }

    public String uri() {
        return uri;
    }

    /** Whether the URI names a remote host (files are then written on that host, not here). */
    public boolean isRemote() {
        try {
            URI u = URI.create(uri);
            return u.getHost() != null && !u.getHost().isEmpty();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    public Connect connect0() {
        return conn;
    }

    /** Whether the connection still answers. */
    public boolean alive() {
        try {
            return conn != null && conn.isAlive() && conn.getLibVersion() > 0;
        } catch (LibvirtException | RuntimeException e) {
            return false;
        }
    }

    /** Re-opens the connection, retrying until {@code timeout} (libvirtd being restarted). */
    public void reconnect(Duration timeout) throws VirtException {
        long deadline = System.nanoTime() + timeout.toNanos();
        VirtException last = null;
        closeQuietly();
        while (System.nanoTime() < deadline) {
            try {
                connect();
                if (alive()) {
                    return;
                }
            } catch (VirtException e) {
                last = e;
            }
            closeQuietly();
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw last != null ? last : new VirtException("reconnect to " + uri, -1, "libvirt does not answer after " + timeout);
    }

    /** Makes sure the connection answers, reconnecting (up to {@code timeout}) when it does not. */
    public void ensureAlive(Duration timeout) throws VirtException {
        if (!alive()) {
            reconnect(timeout);
        }
    }

    /** Looks a domain up by name or UUID. */
    public DomainHandle domain(String nameOrUuid) throws VirtException {
        Domain d;
        try {
            d = conn.domainLookupByName(nameOrUuid);
        } catch (LibvirtException e) {
            Optional<UUID> u = uuid(nameOrUuid);
            if (u.isEmpty()) {
                throw new VirtException("no domain '" + nameOrUuid + "' at " + uri, e);
            }
            try {
                d = conn.domainLookupByUUID(u.get());
            } catch (LibvirtException e2) {
                throw new VirtException("no domain '" + nameOrUuid + "' at " + uri, e2);
            }
        }
        return new DomainHandle(this, d);
    }

    /** Looks a domain up by UUID; empty when it does not exist (any more). */
    public Optional<DomainHandle> domainByUuid(String uuid) throws VirtException {
        try {
            return Optional.of(new DomainHandle(this, conn.domainLookupByUUIDString(uuid)));
        } catch (LibvirtException e) {
            if (!alive()) {
                throw new VirtException("lookup of domain " + uuid, e);
            }
            return Optional.empty();
        }
    }

    private static Optional<UUID> uuid(String s) {
        try {
            return Optional.of(UUID.fromString(s));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** libvirt library version of the daemon side, as {@code 9.0.0}. */
    public String libvirtVersion() {
        try {
            return version(conn.getLibVersion());
        } catch (LibvirtException e) {
            return null;
        }
    }

    public String hypervisorType() {
        try {
            return conn.getType();
        } catch (LibvirtException e) {
            return null;
        }
    }

    public String hypervisorVersion() {
        try {
            return version(conn.getVersion());
        } catch (LibvirtException e) {
            return null;
        }
    }

    public String hostname() {
        try {
            return conn.getHostName();
        } catch (LibvirtException e) {
            return null;
        }
    }

    static String version(long v) {
        return (v / 1_000_000) + "." + (v / 1000 % 1000) + "." + (v % 1000);
    }

    private void closeQuietly() {
        if (conn != null) {
            try {
                conn.close();
            } catch (LibvirtException | RuntimeException e) {
                // the daemon is gone; the handle is freed anyway
            }
            conn = null;
        }
    }

    @Override
    public void close() {
        closeQuietly();
    }
}
