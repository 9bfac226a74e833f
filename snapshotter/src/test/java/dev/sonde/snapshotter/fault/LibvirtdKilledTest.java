package dev.sonde.snapshotter.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.snapshotter.CheckpointException;
import dev.sonde.snapshotter.CheckpointListener;
import dev.sonde.snapshotter.CheckpointOptions;
import dev.sonde.snapshotter.CheckpointResult;
import dev.sonde.snapshotter.Checkpointer;
import dev.sonde.snapshotter.bundle.BundleVerifier;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import dev.sonde.snapshotter.store.BundleStore;
import dev.sonde.snapshotter.testing.FixtureGuest;
import dev.sonde.snapshotter.testing.Host;
import dev.sonde.snapshotter.testing.PrivateLibvirtd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * libvirtd SIGKILLed in the middle of a checkpoint and restarted a moment later. The daemon is a private, unprivileged
 * one ({@link PrivateLibvirtd}, user nobody), never the system daemon. The checkpoint must fail cleanly: it reconnects,
 * puts the guest back (running, overlays merged) and leaves no bundle.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LibvirtdKilledTest {
    PrivateLibvirtd daemon;
    LibvirtSession session;
    FixtureGuest guest;
    Map<String, List<String>> chains;
    Path storeRoot;

    @BeforeAll
    void boot() throws IOException {
        daemon = PrivateLibvirtd.start();
        session = LibvirtSession.open(daemon.uri());
        guest = FixtureGuest.tiny(session, 256, List.of(new FixtureGuest.ExtraDisk("vda", 64, true),
                new FixtureGuest.ExtraDisk("vdb", 32, false)));
        guest.start(300);
        guest.ping(60);
        chains = guest.chains();
        storeRoot = Files.createTempDirectory(Path.of("/tmp"), "sonde-lvd-store-");
        Files.setPosixFilePermissions(storeRoot, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterAll
    void shutdown() throws IOException {
        try {
            if (guest != null) {
                session.ensureAlive(Duration.ofSeconds(30));
                guest.close();
            }
        } finally {
            if (session != null) {
                session.close();
            }
            if (daemon != null) {
                daemon.close();
            }
            if (storeRoot != null) {
                Host.run(List.of("rm", "-rf", storeRoot.toString()));
            }
        }
    }

    @AfterEach
    void guestIsBackAsItWas() throws IOException {
        session.ensureAlive(Duration.ofSeconds(30));
        assertTrue(guest.handle().state().running(), guest.handle().state().label());
        assertEquals(chains, guest.chains());
        guest.ping(30);
        assertEquals(List.of(), SondeKilledAndStoreFullTest.stagingLeftovers());
    }

    CheckpointOptions options() {
        return CheckpointOptions.defaults().withHypervisorUser(Optional.of(PrivateLibvirtd.USER))
                .withReconnectTimeout(Duration.ofSeconds(60));
    }

    /** Kills the daemon from another thread when {@code trigger} says so, restarts it {@code downMs} later. */
    Thread killer(java.util.function.BooleanSupplier trigger, long downMs, AtomicReference<Throwable> failure) {
        Thread t = new Thread(() -> {
            try {
                long deadline = System.nanoTime() + 120_000_000_000L;
                while (!trigger.getAsBoolean()) {
                    if (System.nanoTime() > deadline) {
                        throw new IOException("the kill point was never reached");
                    }
                    Thread.onSpinWait();
                }
                daemon.kill9();
                System.err.println("[libvirtd killed]");
                Thread.sleep(downMs);
                daemon.restart();
                System.err.println("[libvirtd restarted]");
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "libvirtd-killer");
        t.start();
        return t;
    }

    static boolean stagedMemoryAtLeast(long bytes) {
        try (Stream<Path> s = Files.list(Path.of("/dev/shm"))) {
            for (Path d : s.filter(p -> p.getFileName().toString().startsWith("sonde-staging-")).toList()) {
                Path m = d.resolve("memory.save");
                if (Files.exists(m) && Files.size(m) >= bytes) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    void assertNoBundle(BundleStore store) throws IOException {
        assertEquals(List.of(), store.bundles());
        assertEquals(List.of(), store.leftovers());
        try (Stream<Path> s = Files.list(store.root())) {
            for (Path p : s.filter(p -> !p.getFileName().toString().equals(".sonde")).toList()) {
                assertFalse(BundleVerifier.verify(p, Optional.empty()).ok());
            }
        }
    }

    @Test
    void libvirtdKilledWhileQemuWritesTheMemorySnapshot() throws Exception {
        BundleStore store = BundleStore.open(storeRoot.resolve("a"), Clock.systemUTC());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread k = killer(() -> stagedMemoryAtLeast(4 << 20), 1500, failure);
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> new Checkpointer(session, store, options(), CheckpointListener.NONE).checkpoint(guest.name()));
        k.join();
        assertEquals(null, failure.get());
        System.err.println("[killed during memory] " + e.getMessage() + "\n  " + String.join("\n  ", e.cleanup()));
        assertNoBundle(store);
        // and the next checkpoint works on the restarted daemon
        CheckpointResult r = new Checkpointer(session, store, options(), CheckpointListener.NONE).checkpoint(guest.name());
        assertTrue(BundleVerifier.verify(r.bundle(), Optional.of(r.manifestSha256())).ok());
    }

    @Test
    void libvirtdKilledWhileTheGuestRunsOnSondesOverlays() throws Exception {
        BundleStore store = BundleStore.open(storeRoot.resolve("b"), Clock.systemUTC());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean go = new java.util.concurrent.atomic.AtomicBoolean();
        Thread k = killer(go::get, 2000, failure);
        CheckpointListener l = new CheckpointListener() {
            @Override
            public void step(String step) {
                if (step.equals(AFTER_SNAPSHOT)) {
                    go.set(true);
                    while (!k.getState().equals(Thread.State.TIMED_WAITING) && k.isAlive()) {
                        Thread.onSpinWait(); // until the daemon is dead and the killer sleeps
                    }
                }
            }
        };
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> new Checkpointer(session, store, options(), l).checkpoint(guest.name()));
        k.join();
        assertEquals(null, failure.get());
        System.err.println("[killed with overlays] " + e.getMessage() + "\n  " + String.join("\n  ", e.cleanup()));
        assertTrue(e.cleanup().stream().anyMatch(s -> s.contains("merged overlay")), e.cleanup().toString());
        assertNoBundle(store);
    }
}
