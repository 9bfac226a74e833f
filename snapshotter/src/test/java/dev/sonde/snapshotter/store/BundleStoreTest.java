package dev.sonde.snapshotter.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.snapshotter.bundle.BundleArchive;
import dev.sonde.snapshotter.bundle.BundleVerifier;
import dev.sonde.snapshotter.bundle.BundleWriter;
import dev.sonde.snapshotter.bundle.CheckpointLog;
import dev.sonde.snapshotter.bundle.VerifyReport;
import dev.sonde.snapshotter.testing.MutableClock;
import dev.sonde.snapshotter.testing.TestBundles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A store of bundles, its lock, leftovers, log and retention, with a fake clock. */
class BundleStoreTest {
    @TempDir
    Path root;

    final MutableClock clock = new MutableClock(Instant.parse("2026-03-15T12:00:00Z"));

    @Test
    void namesCarryTheClockTimeAndSortByIt() throws IOException {
        BundleStore store = BundleStore.open(root, clock);
        TestBundles.inStore(store, "web 1", "aaaa");
        clock.advance(Duration.ofMinutes(5));
        TestBundles.inStore(store, "web 1", "bbbb");
        List<StoredBundle> b = store.bundles();
        assertEquals(2, b.size());
        assertEquals("20260315T120000.000Z-web_1-aaaa", b.get(0).name());
        assertEquals(Instant.parse("2026-03-15T12:05:00Z"), b.get(1).time());
        assertEquals("web_1", b.get(1).domain());
    }

    @Test
    void pruneDryRunDeletesNothingAndPruneKeepsWhatThePolicySays() throws IOException {
        BundleStore store = BundleStore.open(root, clock);
        for (int i = 0; i < 48; i++) { // one every 30 minutes for a day
            TestBundles.inStore(store, "dom", String.format("i%03d", i));
            clock.advance(Duration.ofMinutes(30));
        }
        RetentionPolicy p = RetentionPolicy.none().withKeepLast(3).withHourly(6).withMinCount(1);
        BundleStore.PruneResult dry = store.prune(p, true);
        assertEquals(48, store.bundles().size());
        // last 3: 11:30, 11:00, 10:30 (next day); hourly 6: 11:30, 10:30, 09:30, 08:30, 07:30, 06:30
        assertEquals(7, dry.kept().size());
        assertEquals(41, dry.deleted().size());
        BundleStore.PruneResult real = store.prune(p, false);
        assertEquals(dry.kept(), real.kept());
        List<StoredBundle> left = store.bundles();
        assertEquals(7, left.size());
        assertEquals(real.kept().stream().map(StoredBundle::name).sorted().toList(),
                left.stream().map(StoredBundle::name).sorted().toList());
        for (StoredBundle b : left) {
            VerifyReport r = BundleVerifier.verify(b.path(), Optional.empty());
            assertTrue(r.ok(), r.problems().toString());
        }
        CheckpointLog.Contents log = store.log().read();
        assertEquals(List.of(), log.problems());
        assertEquals(48 + 41, log.entries().size());
    }

    @Test
    void leftoversAreFoundCleanedAndReported() throws IOException {
        BundleStore store = BundleStore.open(root, clock);
        BundleWriter w = store.newBundle("dom", "dead", BundleWriter.Observer.NONE);
        w.write("memory.save", "memory", "libvirt-save", new byte[1000]);
        // the process "dies" here: no seal, no abort
        TestBundles.inStore(store, "dom", "live");
        assertEquals(List.of(w.directory()), store.leftovers());
        assertEquals(1, store.bundles().size());
        List<String> cleaned;
        try (BundleStore.Lock lock = store.lock()) {
            cleaned = store.cleanLeftovers(lock);
        }
        assertEquals(1, cleaned.size());
        assertTrue(cleaned.get(0).contains("partial bundle") && cleaned.get(0).contains("1000 bytes"), cleaned.get(0));
        assertFalse(Files.exists(w.directory()));
        assertEquals(List.of(), store.leftovers());
    }

    @Test
    @SuppressWarnings("try")
    void theLockIsExclusive() throws IOException {
        BundleStore store = BundleStore.open(root, clock);
        try (BundleStore.Lock l = store.lock()) {
            assertThrows(StoreBusyException.class, store::lock);
            assertThrows(StoreBusyException.class, () -> store.prune(RetentionPolicy.none().withKeepLast(1), false));
        }
        store.lock().close();
    }

    @Test
    void archivesAreBundlesOfTheStoreToo() throws IOException {
        BundleStore store = BundleStore.open(root, clock);
        BundleWriter.Sealed s = TestBundles.inStore(store, "dom", "arch");
        Path a = BundleArchive.pack(s.path(), BundleArchive.Kind.TAR_ZST);
        List<StoredBundle> b = store.bundles();
        assertEquals(1, b.size());
        assertTrue(b.get(0).archive());
        VerifyReport r = BundleVerifier.verify(a, Optional.empty());
        assertTrue(r.ok(), r.problems().toString());
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("matches the store's checkpoint log")), r.notes().toString());
        clock.advance(Duration.ofDays(10));
        store.prune(RetentionPolicy.none().withMaxAge(Duration.ofDays(1)), false);
        assertFalse(Files.exists(a));
    }

    @Test
    void aRewrittenManifestFailsAgainstTheStoreLog() throws IOException {
        BundleStore store = BundleStore.open(root, clock);
        BundleWriter.Sealed s = TestBundles.inStore(store, "dom", "tamp");
        // an attacker rewrites the memory file AND its hash in the manifest: the files agree with the manifest again,
        // but the manifest no longer has the hash the store recorded when it was sealed
        Path mem = s.path().resolve("memory.save");
        byte[] m = Files.readAllBytes(mem);
        m[10] ^= 1;
        Files.write(mem, m);
        Path mf = s.path().resolve("manifest.json");
        String oldSha = s.manifest().files().stream().filter(f -> f.name().equals("memory.save")).findFirst().orElseThrow()
                .sha256();
        Files.writeString(mf, Files.readString(mf).replace(oldSha, dev.sonde.snapshotter.bundle.Sha256.of(mem)));
        VerifyReport r = BundleVerifier.verify(s.path(), Optional.empty());
        assertFalse(r.ok());
        assertEquals(List.of("manifest.json"), r.problems().stream().map(VerifyReport.Problem::file).toList());
        assertTrue(r.problems().get(0).message().contains("checkpoint log"), r.problems().toString());
    }

    @Test
    void aBrokenLogChainIsReported() throws IOException {
        BundleStore store = BundleStore.open(root, clock);
        BundleWriter.Sealed s1 = TestBundles.inStore(store, "dom", "one1");
        TestBundles.inStore(store, "dom", "two2");
        Path log = store.log().file();
        Files.writeString(log, Files.readString(log).replaceFirst("\"event\":\"sealed\"", "\"event\":\"sealdd\""));
        VerifyReport r = BundleVerifier.verify(s1.path(), Optional.empty());
        assertFalse(r.ok());
        assertEquals(CheckpointLog.RELATIVE_PATH, r.problems().get(0).file());
        assertThrows(IOException.class, () -> store.log().append(clock.instant(), "sealed", "x", "y"));
    }
}
