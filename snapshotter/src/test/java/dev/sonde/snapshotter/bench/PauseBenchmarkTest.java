package dev.sonde.snapshotter.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sonde.snapshotter.CheckpointListener;
import dev.sonde.snapshotter.CheckpointOptions;
import dev.sonde.snapshotter.CheckpointResult;
import dev.sonde.snapshotter.Checkpointer;
import dev.sonde.snapshotter.MemoryMode;
import dev.sonde.snapshotter.bundle.BundleWriter;
import dev.sonde.snapshotter.bundle.FileEntry;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import dev.sonde.snapshotter.libvirt.PauseRecorder;
import dev.sonde.snapshotter.store.BundleStore;
import dev.sonde.snapshotter.testing.FixtureGuest;
import dev.sonde.snapshotter.testing.Host;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Guest pause and throughput of checkpoints of the tiny guest (256 MiB, TCG) under the system libvirtd, beside the pause
 * of a plain {@code virsh dump --memory-only} of the same guest; all pauses from QEMU's STOP/RESUME event timestamps.
 * Opt-in: {@code -Dsonde.bench=true} (optional {@code -Dsonde.bench.runs=N}); writes
 * {@code target/snapshot-bench.json}.
 */
@EnabledIfSystemProperty(named = "sonde.bench", matches = "true")
class PauseBenchmarkTest {
    @TempDir
    Path tmp;

    record Series(String name, List<Double> pauseMs, List<Double> memoryMBps, List<Double> bundleMBps) {
        Map<String, Object> summary() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("runs", pauseMs.size());
            m.put("pauseMedianMs", median(pauseMs));
            m.put("pauseP90Ms", pct(pauseMs, 0.9));
            m.put("pauseMinMs", pauseMs.stream().mapToDouble(d -> d).min().orElse(-1));
            m.put("pauseMaxMs", pauseMs.stream().mapToDouble(d -> d).max().orElse(-1));
            m.put("memoryImageMBps", median(memoryMBps));
            if (!bundleMBps.isEmpty()) {
                m.put("bundleMBps", median(bundleMBps));
            }
            m.put("pausesMs", pauseMs);
            return m;
        }
    }

    static double median(List<Double> l) {
        return pct(l, 0.5);
    }

    static double pct(List<Double> l, double p) {
        if (l.isEmpty()) {
            return -1;
        }
        List<Double> s = l.stream().sorted().toList();
        return Math.round(s.get((int) Math.min(s.size() - 1, Math.floor(p * s.size()))) * 100) / 100.0;
    }

    @Test
    void pauseAndThroughput() throws Exception {
        int runs = Integer.getInteger("sonde.bench.runs", 20);
        Host.systemLibvirtUp();
        Map<String, Object> out = new LinkedHashMap<>();
        try (LibvirtSession session = LibvirtSession.open("qemu:///system")) {
            try (FixtureGuest g = FixtureGuest.tiny(session, 256, List.of())) {
                g.start(300);
                g.ping(60);
                Thread.sleep(3000);
                out.put("live, no disks (staging /dev/shm)", sonde(session, g, CheckpointOptions.defaults(), runs, "a").summary());
                out.put("live, no disks, no staging (image written into the store)", sonde(session, g,
                        CheckpointOptions.defaults().withStaging(CheckpointOptions.Staging.NONE, java.util.Optional.empty()),
                        runs, "b").summary());
                out.put("elf memory-only dump by sonde", sonde(session, g,
                        CheckpointOptions.defaults().withMemory(MemoryMode.ELF), Math.max(3, runs / 4), "c").summary());
                out.put("virsh dump --memory-only --format elf, to /dev/shm", virshDump(g, Math.max(3, runs / 4),
                        Path.of("/dev/shm")).summary());
                out.put("virsh dump --memory-only --format elf, to disk", virshDump(g, Math.max(3, runs / 4), tmp).summary());
            }
            try (FixtureGuest g = FixtureGuest.tiny(session, 256, List.of(new FixtureGuest.ExtraDisk("vda", 64, true),
                    new FixtureGuest.ExtraDisk("vdb", 32, false)))) {
                g.start(300);
                g.ping(60);
                Thread.sleep(3000);
                out.put("live, 2 disks (vda over a backing file, vdb)", sonde(session, g, CheckpointOptions.defaults(), runs,
                        "d").summary());
            }
        }
        out.put("sha256+write MBps (bundle writer, 256 MiB from tmpfs)", hashWrite());
        String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out);
        System.err.println(json);
        Path target = Path.of(System.getProperty("user.dir"), "target", "snapshot-bench.json");
        Files.createDirectories(target.getParent());
        Files.writeString(target, json);
    }

    Series sonde(LibvirtSession session, FixtureGuest g, CheckpointOptions o, int runs, String tag) throws IOException {
        BundleStore store = BundleStore.open(tmp.resolve("store-" + tag), Clock.systemUTC());
        List<Double> pause = new ArrayList<>();
        List<Double> mem = new ArrayList<>();
        List<Double> bundle = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            CheckpointResult r = new Checkpointer(session, store, o, CheckpointListener.NONE).checkpoint(g.name());
            double total = (System.nanoTime() - t0) / 1e9;
            pause.add(r.pauseMillis());
            long memBytes = r.manifest().files().stream().filter(f -> f.role().equals("memory")).mapToLong(FileEntry::size).sum();
            long all = r.manifest().files().stream().mapToLong(FileEntry::size).sum();
            double snapMs = r.manifest().checkpoint().stepMillis().get("snapshot");
            mem.add(Math.round(memBytes / 1e6 / (snapMs / 1000) * 10) / 10.0);
            bundle.add(Math.round(all / 1e6 / total * 10) / 10.0);
            BundleWriter.deleteTree(r.bundle());
            Recovery.sleep(500);
        }
        return new Series(tag, pause, mem, bundle);
    }

    Series virshDump(FixtureGuest g, int runs, Path dir) throws IOException {
        List<Double> pause = new ArrayList<>();
        List<Double> mem = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            Path f = dir.resolve("sonde-bench-dump-" + i + ".elf");
            try (PauseRecorder rec = PauseRecorder.start(g.handle())) {
                long t0 = System.nanoTime();
                Host.run(List.of("virsh", "-c", "qemu:///system", "dump", "--memory-only", "--format", "elf", g.name(),
                        f.toString()));
                double s = (System.nanoTime() - t0) / 1e9;
                rec.awaitBalanced(Duration.ofSeconds(5));
                pause.add(rec.totalMicros() / 1000.0);
                mem.add(Math.round(Files.size(f) / 1e6 / s * 10) / 10.0);
            } finally {
                Files.deleteIfExists(f);
            }
            Recovery.sleep(500);
        }
        return new Series("virsh dump", pause, mem, List.of());
    }

    Map<String, Object> hashWrite() throws IOException {
        Path src = Path.of("/dev/shm/sonde-bench-src");
        byte[] block = new byte[1 << 20];
        new java.util.Random(1).nextBytes(block);
        try (var o = Files.newOutputStream(src)) {
            for (int i = 0; i < 256; i++) {
                o.write(block);
            }
        }
        try {
            List<Double> mbps = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                BundleWriter w = BundleWriter.create(tmp, "hash-bench-" + i, BundleWriter.Observer.NONE);
                long t0 = System.nanoTime();
                w.copyFrom(src, "memory.save", "memory", "raw");
                mbps.add(Math.round(268.435456 / ((System.nanoTime() - t0) / 1e9) * 10) / 10.0);
                w.abort();
            }
            return Map.of("MBps", mbps);
        } finally {
            Files.deleteIfExists(src);
        }
    }

    /** Tiny local sleep helper (keeps the test free of the main package's internals). */
    static final class Recovery {
        static void sleep(long ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
