package dev.sonde.snapshotter.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.GroundTruth;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.KernelIdentity;
import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import dev.sonde.analyzer.linux.ImageAnalyzer;
import dev.sonde.snapshotter.CheckpointListener;
import dev.sonde.snapshotter.CheckpointOptions;
import dev.sonde.snapshotter.CheckpointResult;
import dev.sonde.snapshotter.Checkpointer;
import dev.sonde.snapshotter.MemoryMode;
import dev.sonde.snapshotter.bundle.BundleVerifier;
import dev.sonde.snapshotter.bundle.Manifest;
import dev.sonde.snapshotter.bundle.VerifyReport;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import dev.sonde.snapshotter.store.BundleStore;
import dev.sonde.snapshotter.testing.FixtureGuest;
import dev.sonde.snapshotter.testing.Host;
import dev.sonde.snapshotter.testing.ProcessListCheck;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints of the debian fixture guest (systemd, qemu-guest-agent, root on a qcow2 overlay over the cached base
 * disk) under the system libvirtd: file systems frozen through the agent, both layers of the disk chain copied, the
 * chain unchanged afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DebianGuestCheckpointTest {
    @TempDir
    Path tmp;

    LibvirtSession session;
    FixtureGuest guest;
    Map<String, List<String>> chains;

    @BeforeAll
    void boot() throws IOException {
        Host.systemLibvirtUp();
        session = LibvirtSession.open("qemu:///system");
        guest = FixtureGuest.debian(session);
        guest.start(900);
        guest.ping(120);
        chains = guest.chains();
        assertEquals(2, chains.get("vda").size(), chains.toString());
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

    void assertGuestAsBefore() throws IOException {
        assertTrue(guest.handle().state().running(), guest.handle().state().label());
        assertEquals(chains, guest.chains());
        guest.ping(60);
        String status = guest.handle().agentCommand("{\"execute\":\"guest-fsfreeze-status\"}", 10).orElseThrow();
        assertTrue(status.contains("thawed"), status);
    }

    @Test
    void liveCheckpointWithAgentFreezeVerifiesAndFindsTheGroundTruthProcesses() throws IOException {
        BundleStore store = BundleStore.open(tmp.resolve("store"), Clock.systemUTC());
        GroundTruth before = GroundTruth.read(guest.groundTruth(tmp.resolve("gt-before.jsonl")));
        CheckpointResult r = new Checkpointer(session, store, CheckpointOptions.defaults().withSondeVersion("test"),
                CheckpointListener.NONE).checkpoint(guest.name());
        GroundTruth after = GroundTruth.read(guest.groundTruth(tmp.resolve("gt-after.jsonl")));
        Manifest m = r.manifest();
        System.err.println("[debian live] pause " + r.pauseMillis() + " ms, steps " + m.checkpoint().stepMillis()
                + ", quiesce: " + m.checkpoint().quiesce());
        VerifyReport v = BundleVerifier.verify(r.bundle(), Optional.of(r.manifestSha256()));
        assertTrue(v.ok(), v.problems().toString());
        assertTrue(m.checkpoint().quiesce().startsWith("guest file systems frozen"), m.checkpoint().quiesce());
        assertEquals(2, m.disks().get(0).layers().size());
        assertEquals("disk-vda.1.qcow2", m.disks().get(0).layers().get(0).backingFile());
        try (MemoryImage img = ImageOpener.standard().open(r.bundle().resolve("memory.save"))) {
            assertEquals("6.1.0-57-amd64", KernelIdentity.of(img).release().orElseThrow());
        }
        ProcessListCheck.assertBracketed(before,
                ImageAnalyzer.analyze(r.bundle().resolve("memory.save"), ProfileOptions.defaults()), after);
        assertGuestAsBefore();
    }

    @Test
    void kdumpWithABackupOfTheWholeChainStartedWhilePaused() throws IOException {
        BundleStore store = BundleStore.open(tmp.resolve("store-backup"), Clock.systemUTC());
        CheckpointResult r = new Checkpointer(session, store, CheckpointOptions.defaults().withMemory(MemoryMode.KDUMP_ZLIB)
                .withDiskMethod(CheckpointOptions.DiskMethod.BACKUP).withSondeVersion("test"), CheckpointListener.NONE)
                .checkpoint(guest.name());
        System.err.println("[debian kdump+backup] pause " + r.pauseMillis() + " ms, steps "
                + r.manifest().checkpoint().stepMillis());
        assertTrue(BundleVerifier.verify(r.bundle(), Optional.of(r.manifestSha256())).ok());
        assertEquals(1, r.manifest().disks().get(0).layers().size());
        try (MemoryImage img = ImageOpener.standard().open(r.bundle().resolve("memory.kdump"))) {
            assertEquals("6.1.0-57-amd64", img.vmcoreinfo().orElseThrow().entries().get("OSRELEASE"));
        }
        assertGuestAsBefore();
    }

    @Test
    void elfDumpOfThePausedGuestWithItsDisks() throws IOException {
        BundleStore store = BundleStore.open(tmp.resolve("store-elf"), Clock.systemUTC());
        CheckpointResult r = new Checkpointer(session, store, CheckpointOptions.defaults().withMemory(MemoryMode.ELF)
                .withSondeVersion("test"), CheckpointListener.NONE).checkpoint(guest.name());
        System.err.println("[debian elf] pause " + r.pauseMillis() + " ms, steps " + r.manifest().checkpoint().stepMillis());
        assertTrue(BundleVerifier.verify(r.bundle(), Optional.of(r.manifestSha256())).ok());
        try (MemoryImage img = ImageOpener.standard().open(r.bundle().resolve("memory.elf"))) {
            assertEquals("6.1.0-57-amd64", img.vmcoreinfo().orElseThrow().entries().get("OSRELEASE"));
        }
        assertGuestAsBefore();
    }
}
