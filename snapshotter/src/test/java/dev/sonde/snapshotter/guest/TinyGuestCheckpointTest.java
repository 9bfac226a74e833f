package dev.sonde.snapshotter.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.GroundTruth;
import dev.sonde.analyzer.fixtures.PlantedScenarios;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.KernelIdentity;
import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.ImageAnalyzer;
import dev.sonde.snapshotter.CheckpointListener;
import dev.sonde.snapshotter.CheckpointOptions;
import dev.sonde.snapshotter.CheckpointResult;
import dev.sonde.snapshotter.Checkpointer;
import dev.sonde.snapshotter.MemoryMode;
import dev.sonde.snapshotter.bundle.BundleArchive;
import dev.sonde.snapshotter.bundle.BundleVerifier;
import dev.sonde.snapshotter.bundle.Manifest;
import dev.sonde.snapshotter.bundle.VerifyReport;
import dev.sonde.snapshotter.libvirt.DomainHandle;
import dev.sonde.snapshotter.libvirt.LibvirtNative;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import dev.sonde.snapshotter.store.BundleStore;
import dev.sonde.snapshotter.store.RetentionPolicy;
import dev.sonde.snapshotter.store.StoredBundle;
import dev.sonde.snapshotter.testing.FixtureGuest;
import dev.sonde.snapshotter.testing.Host;
import dev.sonde.snapshotter.testing.ProcessListCheck;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints of the tiny fixture guest (256 MiB, TCG) under the system libvirtd, with two extra disks: vda a qcow2
 * over a backing qcow2 (chain depth 2), vdb a standalone qcow2.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TinyGuestCheckpointTest {
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

    List<String> diskDirListing() throws IOException {
        Path dir = Host.cache().resolve("run/" + guest.name() + ".disks");
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    void assertGuestAsBefore() throws IOException {
        assertTrue(guest.handle().state().running(), guest.handle().state().label());
        assertEquals(chains, guest.chains());
        assertEquals(persistent, guest.persistentChains());
        assertEquals(diskFiles, diskDirListing());
        assertNotNull(guest.ping(30));
    }

    CheckpointResult checkpoint(BundleStore store, CheckpointOptions o) throws IOException {
        return new Checkpointer(session, store, o.withSondeVersion("test"), CheckpointListener.NONE).checkpoint(guest.name());
    }

    @Test
    @Order(1)
    void liveCheckpointVerifiesFindsTheGroundTruthProcessesAndLeavesTheGuestAsItWas() throws IOException {
        BundleStore store = BundleStore.open(tmp.resolve("store1"), Clock.systemUTC());
        GroundTruth before = GroundTruth.read(guest.groundTruth(tmp.resolve("gt-before.jsonl")));
        CheckpointResult r = checkpoint(store, CheckpointOptions.defaults());
        GroundTruth after = GroundTruth.read(guest.groundTruth(tmp.resolve("gt-after.jsonl")));
        System.err.println("[tiny live] " + r.bundle() + " pause " + r.pauseMillis() + " ms; manifest:\n" + r.manifest());
        VerifyReport v = BundleVerifier.verify(r.bundle(), Optional.of(r.manifestSha256()));
        assertTrue(v.ok(), v.problems().toString());
        Manifest m = r.manifest();
        assertEquals(guest.name(), m.domain().name());
        assertEquals("libvirt-save", m.checkpoint().memoryFormat());
        assertTrue(m.checkpoint().pause().method().startsWith("QEMU STOP/RESUME"), m.checkpoint().pause().method());
        assertTrue(m.checkpoint().pause().millis() > 0 && m.checkpoint().pause().millis() < 5000);
        assertEquals(List.of("vda", "vdb"), m.disks().stream().map(Manifest.Disk::target).toList());
        assertEquals(2, m.disks().get(0).layers().size());
        assertEquals(m.disks().get(0).chainBefore(), m.disks().get(0).chainAfter());
        assertTrue(m.host().libvirtVersion().startsWith("9."), m.host().libvirtVersion());
        try (MemoryImage img = ImageOpener.standard().open(r.bundle().resolve("memory.save"))) {
            KernelIdentity k = KernelIdentity.of(img);
            assertEquals("6.1.0-57-amd64", k.release().orElseThrow());
            assertTrue(img.memory().presentBytes() >= 200L << 20, "present " + img.memory().presentBytes());
        }
        AnalysisResult a = ImageAnalyzer.analyze(r.bundle().resolve("memory.save"), ProfileOptions.defaults());
        ProcessListCheck.assertMatches(before, a, after);
        assertEquals(List.of(), PlantedScenarios.missing(before));
        assertGuestAsBefore();
    }

    @Test
    @Order(2)
    void memoryOnlyDumpsOpenInTheAnalyzerWithVmcoreinfo() throws IOException {
        BundleStore store = BundleStore.open(tmp.resolve("store2"), Clock.systemUTC());
        for (MemoryMode mode : List.of(MemoryMode.ELF, MemoryMode.KDUMP_ZLIB)) {
            CheckpointResult r = checkpoint(store, CheckpointOptions.defaults().withMemory(mode));
            System.err.println("[tiny " + mode.label() + "] pause " + r.pauseMillis() + " ms");
            assertTrue(BundleVerifier.verify(r.bundle(), Optional.of(r.manifestSha256())).ok());
            try (MemoryImage img = ImageOpener.standard().open(r.bundle().resolve(mode.fileName()))) {
                assertTrue(img.vmcoreinfo().isPresent(), mode + ": no VMCOREINFO");
                assertEquals("6.1.0-57-amd64", img.vmcoreinfo().get().entries().get("OSRELEASE"));
                assertEquals("6.1.0-57-amd64", KernelIdentity.of(img).release().orElseThrow());
            }
            assertGuestAsBefore();
        }
    }

    @Test
    @Order(3)
    void archiveVerifiesAndOneChangedByteFailsNamingTheFile() throws IOException {
        BundleStore store = BundleStore.open(tmp.resolve("store3"), Clock.systemUTC());
        CheckpointResult a = checkpoint(store, CheckpointOptions.defaults().withArchive(Optional.of(BundleArchive.Kind.TAR_ZST)));
        assertTrue(a.bundle().getFileName().toString().endsWith(".tar.zst"), a.bundle().toString());
        VerifyReport va = BundleVerifier.verify(a.bundle(), Optional.of(a.manifestSha256()));
        assertTrue(va.ok(), va.problems().toString());
        assertEquals(5, va.filesChecked()); // domain.xml, memory.save, vda 2 layers, vdb

        CheckpointResult d = checkpoint(store, CheckpointOptions.defaults());
        Path mem = d.bundle().resolve("memory.save");
        try (RandomAccessFile f = new RandomAccessFile(mem.toFile(), "rw")) {
            long at = f.length() / 2;
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x40);
        }
        VerifyReport vd = BundleVerifier.verify(d.bundle(), Optional.empty());
        assertFalse(vd.ok());
        assertEquals(List.of("memory.save"), vd.problems().stream().map(VerifyReport.Problem::file).toList());
        assertGuestAsBefore();
    }

    @Test
    @Order(5)
    void saveFlagsAndRestoreFlagsWithReplacementXml() throws IOException {
        // the JNA bindings the rollback side uses: save (stops the guest), read the image's XML, restore with new XML
        Path save = tmp.resolve("tiny.save");
        guest.handle().save(save.toString(), null, LibvirtNative.VIR_DOMAIN_SAVE_RUNNING);
        assertFalse(guest.handle().state().active());
        String xml = DomainHandle.saveImageXml(session, save.toString());
        assertTrue(xml.contains("<name>" + guest.name() + "</name>"), xml);
        String changed = xml.replaceFirst("</name>", "</name>\n  <description>restored by sonde test</description>");
        DomainHandle.restore(session, save.toString(), changed, LibvirtNative.VIR_DOMAIN_SAVE_RUNNING);
        assertTrue(guest.handle().xml().contains("restored by sonde test"));
        assertGuestAsBefore();
    }

    @Test
    @Order(6)
    void elfDumpWithABackupJobStartedWhileThePausedGuestNeverChangesItsChain() throws IOException {
        BundleStore store = BundleStore.open(tmp.resolve("store6"), Clock.systemUTC());
        CheckpointResult r = checkpoint(store, CheckpointOptions.defaults().withMemory(MemoryMode.ELF)
                .withDiskMethod(CheckpointOptions.DiskMethod.BACKUP));
        System.err.println("[tiny elf+backup] pause " + r.pauseMillis() + " ms, steps " + r.manifest().checkpoint().stepMillis());
        VerifyReport v = BundleVerifier.verify(r.bundle(), Optional.of(r.manifestSha256()));
        assertTrue(v.ok(), v.problems().toString());
        assertEquals(List.of("disk-vda.qcow2", "disk-vdb.qcow2", "domain.xml", "memory.elf"),
                r.manifest().files().stream().map(f -> f.name()).sorted().toList());
        String info = Host.run(List.of("qemu-img", "info", "--output=json", r.bundle().resolve("disk-vda.qcow2").toString()));
        assertFalse(info.contains("backing-filename"), "the backup is one flattened image: " + info);
        assertTrue(info.contains("\"virtual-size\": 67108864"), info);
        assertGuestAsBefore();
    }

    @Test
    @Order(4)
    void twentyCheckpointsInARowLeaveTheChainUnchangedAndRetentionKeepsThePolicy() throws IOException {
        BundleStore store = BundleStore.open(tmp.resolve("store4"), Clock.systemUTC());
        List<Double> pauses = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            CheckpointResult r = checkpoint(store, CheckpointOptions.defaults());
            pauses.add(r.pauseMillis());
            assertEquals(chains, guest.chains(), "after checkpoint " + (i + 1));
            assertEquals(diskFiles, diskDirListing(), "after checkpoint " + (i + 1));
        }
        List<StoredBundle> all = store.bundles();
        assertEquals(20, all.size());
        for (StoredBundle b : all) {
            assertTrue(BundleVerifier.verify(b.path(), Optional.empty()).ok(), b.name());
        }
        List<Double> sorted = pauses.stream().sorted().toList();
        System.err.printf("[tiny x20] pause ms: median %.2f, min %.2f, max %.2f, all %s%n", sorted.get(10),
                sorted.get(0), sorted.get(19), pauses);
        BundleStore.PruneResult p = store.prune(RetentionPolicy.none().withKeepLast(5), false);
        assertEquals(15, p.deleted().size());
        assertEquals(all.subList(15, 20), store.bundles());
        assertGuestAsBefore();
    }
}
