package dev.sonde.snapshotter.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.snapshotter.CheckpointException;
import dev.sonde.snapshotter.CheckpointListener;
import dev.sonde.snapshotter.CheckpointOptions;
import dev.sonde.snapshotter.Checkpointer;
import dev.sonde.snapshotter.bundle.BundleVerifier;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import dev.sonde.snapshotter.store.BundleStore;
import dev.sonde.snapshotter.testing.FixtureGuest;
import dev.sonde.snapshotter.testing.Host;
import dev.sonde.snapshotter.testing.KillableCheckpoint;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults under the system libvirtd with the tiny guest (256 MiB, disks vda over a backing file and vdb): the sonde
 * process SIGKILLed in the middle of writing the bundle or around the snapshot call, and a store on a small tmpfs that
 * fills up. Each must end with the guest running and no bundle that verifies; after a SIGKILL, the next run puts the
 * disk chain back and says what it cleaned.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SondeKilledAndStoreFullTest {
    static final String URI = "qemu:///system";

    @TempDir
    Path tmp;

    LibvirtSession session;
    FixtureGuest guest;
    Map<String, List<String>> chains;
    Map<String, List<String>> persistent;
    List<String> diskFiles;

    @BeforeAll
    void boot() throws IOException {
        Host.systemLibvirtUp();
        session = LibvirtSession.open(URI);
        guest = FixtureGuest.tiny(session, 256, List.of(new FixtureGuest.ExtraDisk("vda", 64, true),
                new FixtureGuest.ExtraDisk("vdb", 32, false)));
        guest.start(300);
        guest.ping(60);
        chains = guest.chains();
        persistent = guest.persistentChains();
        diskFiles = diskDirListing();
    }

    @AfterAll
    void shutdown() throws IOException {
        try {
            if (guest != null) {
                guest.close();
            }
        } finally {
            if (session != null) {
                session.close();
            }
        }
    }

    @AfterEach
    void guestIsBackAsItWas() throws IOException {
        assertTrue(guest.handle().state().running(), guest.handle().state().label());
        assertEquals(chains, guest.chains());
        assertEquals(persistent, guest.persistentChains());
        assertEquals(diskFiles, diskDirListing());
        guest.ping(30);
        assertEquals(List.of(), stagingLeftovers());
    }

    List<String> diskDirListing() throws IOException {
        try (Stream<Path> s = Files.list(Host.cache().resolve("run/" + guest.name() + ".disks"))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    static List<Path> stagingLeftovers() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/dev/shm"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("sonde-staging-")).toList();
        }
    }

    /** No sealed bundle, and whatever the store holds fails verify. */
    static void assertNoBundleVerifies(BundleStore store) throws IOException {
        assertEquals(List.of(), store.bundles());
        try (Stream<Path> s = Files.list(store.root())) {
            for (Path p : s.filter(p -> !p.getFileName().toString().equals(".sonde")).toList()) {
                assertFalse(BundleVerifier.verify(p, Optional.empty()).ok(), p + " verifies");
            }
        }
    }

    /** Runs a checkpoint in a child JVM and SIGKILLs it when it prints the mark (after {@code delayMs}). */
    void killChild(BundleStore store, String when, long delayMs, String... memory) throws Exception {
        Process p = KillableCheckpoint.start(URI, store.root(), guest.name(), when, memory);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            boolean marked = false;
            while ((line = r.readLine()) != null) {
                if (line.equals(KillableCheckpoint.MARK)) {
                    marked = true;
                    break;
                }
            }
            assertTrue(marked, "the child never reached " + when + " (exit " + (p.isAlive() ? "-" : p.exitValue()) + ")");
            Thread.sleep(delayMs);
            p.destroyForcibly(); // SIGKILL
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(137, p.exitValue());
        } finally {
            p.destroyForcibly();
        }
    }

    /** The next run: recovers, says what it cleaned. */
    List<String> nextRun(BundleStore store) throws IOException {
        List<String> cleaned = new Checkpointer(session, store, CheckpointOptions.defaults(), CheckpointListener.NONE).recover();
        System.err.println("[next run cleaned] " + String.join("\n  ", cleaned));
        return cleaned;
    }

    @Test
    void sondeKilledWhileWritingTheMemoryImage() throws Exception {
        BundleStore store = BundleStore.open(tmp.resolve("k1"), Clock.systemUTC());
        killChild(store, "wrote:memory.save:8000000", 0);
        // the guest runs (libvirt resumed it), on Sonde's overlays until the next run
        assertTrue(guest.handle().state().running());
        assertNotEquals(chains, guest.chains());
        assertNoBundleVerifies(store);
        assertEquals(1, store.leftovers().size());
        List<String> cleaned = nextRun(store);
        assertTrue(cleaned.stream().anyMatch(s -> s.contains("merged overlay") && s.contains("vda")), cleaned.toString());
        assertTrue(cleaned.stream().anyMatch(s -> s.contains("merged overlay") && s.contains("vdb")), cleaned.toString());
        assertTrue(cleaned.stream().anyMatch(s -> s.contains("deleted staging directory")), cleaned.toString());
        assertTrue(cleaned.stream().anyMatch(s -> s.contains("partial bundle")), cleaned.toString());
        assertEquals(List.of(), store.leftovers());
        assertEquals(List.of(), Files.list(store.journalDir()).toList());
    }

    @Test
    void sondeKilledWhileCopyingADisk() throws Exception {
        BundleStore store = BundleStore.open(tmp.resolve("k2"), Clock.systemUTC());
        killChild(store, "wrote:disk-vda.0.qcow2:1", 0);
        assertTrue(guest.handle().state().running());
        assertNoBundleVerifies(store);
        List<String> cleaned = nextRun(store);
        assertTrue(cleaned.stream().anyMatch(s -> s.contains("merged overlay")), cleaned.toString());
    }

    @Test
    void sondeKilledAroundTheSnapshotCall() throws Exception {
        for (long delay : new long[] {0, 60, 150, 400}) {
            BundleStore store = BundleStore.open(tmp.resolve("k3-" + delay), Clock.systemUTC());
            killChild(store, "step:" + CheckpointListener.BEFORE_SNAPSHOT, delay);
            Thread.sleep(2000); // a snapshot libvirt started may still be finishing
            assertTrue(guest.handle().state().running(), "delay " + delay + ": " + guest.handle().state().label());
            assertNoBundleVerifies(store);
            List<String> cleaned = nextRun(store);
            assertTrue(cleaned.stream().anyMatch(s -> s.contains("recovered interrupted checkpoint")), cleaned.toString());
            assertEquals(chains, guest.chains(), "delay " + delay);
        }
    }

    @Test
    void sondeKilledWhileItHoldsTheGuestPausedForADump() throws Exception {
        BundleStore store = BundleStore.open(tmp.resolve("k4"), Clock.systemUTC());
        killChild(store, "step:" + CheckpointListener.PAUSED, 0, "elf");
        // the watchdog resumes the guest once libvirt's dump (if it started) is over
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!guest.handle().state().running() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(guest.handle().state().running(), guest.handle().state().label());
        assertNoBundleVerifies(store);
        List<String> cleaned = nextRun(store);
        assertTrue(cleaned.stream().anyMatch(s -> s.contains("recovered interrupted checkpoint")), cleaned.toString());
    }

    /** A store on a tmpfs of {@code mib} MiB; unmounted by {@link #unmount}. */
    Path smallStore(String name, int mib) throws IOException {
        Path d = Files.createDirectories(tmp.resolve(name));
        Host.run(List.of("mount", "-t", "tmpfs", "-o", "size=" + mib + "m,mode=0755", "sonde-test-full", d.toString()));
        return d;
    }

    static void unmount(Path d) throws IOException {
        Host.run(List.of("umount", d.toString()));
    }

    @Test
    void storeFillsUpWhileSondeCopiesTheMemoryImage() throws IOException {
        Path d = smallStore("full1", 24);
        try {
            BundleStore store = BundleStore.open(d, Clock.systemUTC());
            CheckpointException e = assertThrows(CheckpointException.class, () -> new Checkpointer(session, store,
                    CheckpointOptions.defaults(), CheckpointListener.NONE).checkpoint(guest.name()));
            System.err.println("[store full, staging] " + e.getMessage() + "\n  " + String.join("\n  ", e.cleanup()));
            assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
            assertEquals(CheckpointException.Kind.STORE, e.kind());
            assertTrue(e.cleanup().stream().anyMatch(s -> s.contains("merged overlay")), e.cleanup().toString());
            assertNoBundleVerifies(store);
            assertEquals(List.of(), store.leftovers());
        } finally {
            unmount(d);
        }
    }

    @Test
    void storeFillsUpWhileLibvirtWritesTheMemoryImage() throws IOException {
        Path d = smallStore("full2", 24);
        try {
            BundleStore store = BundleStore.open(d, Clock.systemUTC());
            CheckpointException e = assertThrows(CheckpointException.class, () -> new Checkpointer(session, store,
                    CheckpointOptions.defaults().withStaging(CheckpointOptions.Staging.NONE, Optional.empty()),
                    CheckpointListener.NONE).checkpoint(guest.name()));
            System.err.println("[store full, no staging] " + e.getMessage() + "\n  " + String.join("\n  ", e.cleanup()));
            assertEquals(CheckpointException.Kind.LIBVIRT, e.kind());
            assertNoBundleVerifies(store);
            assertEquals(List.of(), store.leftovers());
        } finally {
            unmount(d);
        }
    }
}
