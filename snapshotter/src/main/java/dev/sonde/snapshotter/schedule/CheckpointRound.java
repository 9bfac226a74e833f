package dev.sonde.snapshotter.schedule;

import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.ImageAnalyzer;
import dev.sonde.snapshotter.CheckpointListener;
import dev.sonde.snapshotter.CheckpointResult;
import dev.sonde.snapshotter.Checkpointer;
import dev.sonde.snapshotter.bundle.Manifest;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import dev.sonde.snapshotter.store.BundleNames;
import dev.sonde.snapshotter.store.BundleStore;
import dev.sonde.snapshotter.store.RetentionPolicy;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One scheduled checkpoint of one domain, start to end: wait for a slot on the domain's host (at most
 * {@code concurrency.per-host} checkpoints per libvirt URI at once) and for the store (one writer per store: its lock
 * is exclusive), checkpoint, optionally analyze the memory image and diff it against the domain's previous
 * observation, send the alerts, apply the job's retention to the domain's bundles, record metrics.
 */
final class CheckpointRound {
    private final Clock clock;
    private final int perHost;
    private final ScheduleMetrics metrics;
    private final List<AlertSink> sinks;
    private final List<DiffRule> rules;
    private final PrintStream log;
    private final Map<String, Semaphore> hosts = new ConcurrentHashMap<>();
    private final Map<Path, ReentrantLock> stores = new ConcurrentHashMap<>();

    CheckpointRound(Clock clock, int perHost, ScheduleMetrics metrics, List<AlertSink> sinks, List<DiffRule> rules,
            PrintStream log) {
        this.clock = clock;
        this.perHost = perHost;
        this.metrics = metrics;
        this.sinks = List.copyOf(sinks);
        this.rules = List.copyOf(rules);
        this.log = log;
    }

    void log(String msg) {
        synchronized (log) {
            log.println("sonde schedule: " + msg);
            log.flush();
        }
    }

    private ReentrantLock storeLock(Path store) {
        return stores.computeIfAbsent(store.toAbsolutePath().normalize(), p -> new ReentrantLock());
    }

    Outcome run(JobSpec job, String domain, Instant scheduled) throws InterruptedException {
        List<String> errors = new ArrayList<>();
        Semaphore host = hosts.computeIfAbsent(job.uri(), u -> new Semaphore(perHost, true));
        Instant started;
        CheckpointResult r;
        BundleStore store;
        long t0;
        host.acquire();
        try {
            ReentrantLock sl = storeLock(job.store());
            sl.lockInterruptibly();
            try {
                started = clock.instant();
                t0 = System.nanoTime();
                store = BundleStore.open(job.store(), clock);
                try (LibvirtSession s = LibvirtSession.open(job.uri())) {
                    r = new Checkpointer(s, store, job.options(), new CheckpointListener() {
                        @Override
                        public void info(String message) {
                            log(job.name() + "/" + domain + ": " + message);
                        }
                    }).checkpoint(domain);
                }
            } finally {
                sl.unlock();
            }
        } catch (IOException | RuntimeException e) {
            metrics.failure(job.name(), domain);
            log("FAILED " + job.name() + "/" + domain + " (firing " + scheduled + "): " + e.getMessage());
            return new Outcome(job.name(), domain, scheduled, clock.instant(), Optional.empty(), Optional.empty(), 0,
                    List.of(), List.of(), List.of("checkpoint: " + e.getMessage()));
        } finally {
            host.release();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        Manifest m = r.manifest();
        String name = m.domain().name();
        long bytes = m.files().stream().mapToLong(dev.sonde.snapshotter.bundle.FileEntry::size).sum();
        metrics.checkpoint(job.name(), name, seconds, bytes, r.pauseMillis() / 1000, clock.instant().getEpochSecond());
        String bundleName = r.bundle().getFileName().toString();
        log(String.format("%s/%s: checkpoint %s (%.1f s, %d bytes, guest paused %.1f ms)", job.name(), name,
                bundleName, seconds, bytes, r.pauseMillis()));

        List<Alert> alerts = new ArrayList<>();
        if (job.analyze()) {
            try {
                alerts.addAll(analyze(job, name, r, store.root(), started));
            } catch (IOException | RuntimeException e) {
                errors.add("analysis: " + e.getMessage());
                metrics.failure(job.name(), name);
                log("analysis of " + bundleName + " FAILED: " + e.getMessage());
            }
        }
        for (Alert a : alerts) {
            metrics.alert(job.name(), name, a.kind());
            for (AlertSink s : sinks) {
                try {
                    s.send(a);
                } catch (IOException | RuntimeException e) {
                    errors.add("alert sink " + s.describe() + ": " + e.getMessage());
                    log("alert sink " + s.describe() + " failed: " + e.getMessage());
                }
            }
        }

        List<String> pruned = new ArrayList<>();
        if (!job.retention().isEmpty()) {
            try {
                pruned.addAll(prune(job, name, store));
            } catch (IOException | RuntimeException e) {
                errors.add("retention: " + e.getMessage());
                log("retention for " + job.name() + "/" + name + " FAILED: " + e.getMessage());
            }
        }
        return new Outcome(job.name(), name, scheduled, started, Optional.of(bundleName),
                Optional.of(r.manifestSha256()), r.pauseMillis(), pruned, alerts, errors);
    }

    private List<Alert> analyze(JobSpec job, String domain, CheckpointResult r, Path storeRoot, Instant time)
            throws IOException {
        Path bundle = r.bundle();
        if (!Files.isDirectory(bundle)) {
            throw new IOException(bundle + " is an archive; analysis needs a bundle directory");
        }
        Path mem = bundle.resolve(r.manifest().checkpoint().memoryFile());
        long t0 = System.nanoTime();
        AnalysisResult a = ImageAnalyzer.analyze(mem, ProfileOptions.defaults());
        Optional<Observation> prev = Observation.load(storeRoot, domain);
        Observation cur = Observation.of(domain, bundle.getFileName().toString(), time, a, prev);
        List<Alert> out = new ArrayList<>();
        for (DiffRule rule : rules) {
            for (DiffRule.Change c : rule.diff(prev, cur)) {
                out.add(new Alert(time.toString(), job.name(), domain, c.kind(), c.severity(), cur.bundle(),
                        prev.map(Observation::bundle).orElse(""), c.summary(), c.details()));
            }
        }
        cur.save(storeRoot);
        log(String.format("%s/%s: analyzed %s in %.1f s: %d processes, %d findings; %s, %d alert(s)", job.name(),
                domain, mem.getFileName(), (System.nanoTime() - t0) / 1e9, cur.processes().size(),
                cur.findings().size(), prev.map(p -> "compared with " + p.bundle()).orElse("first observation"),
                out.size()));
        return out;
    }

    private List<String> prune(JobSpec job, String domain, BundleStore store) throws IOException {
        String part = BundleNames.domainPart(domain);
        RetentionPolicy p = job.retention();
        ReentrantLock sl = storeLock(store.root());
        sl.lock();
        try {
            BundleStore.PruneResult pr = store.prune(p, false, b -> b.domain().equals(part));
            List<String> names = pr.deleted().stream().map(b -> b.name()).toList();
            pr.leftovers().forEach(l -> log(job.name() + ": " + l));
            if (!names.isEmpty()) {
                log(job.name() + "/" + domain + ": retention deleted " + String.join(", ", names) + "; kept "
                        + pr.kept().size());
            }
            metrics.pruned(job.name(), domain, names.size());
            return names;
        } finally {
            sl.unlock();
        }
    }
}
