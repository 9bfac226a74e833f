package dev.sonde.snapshotter.schedule;

import dev.sonde.snapshotter.libvirt.LibvirtSession;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * The {@code sonde schedule} loop. It computes each job's next cron firing (plus its jitter), waits for the earliest
 * through the {@link TimeSource}, and runs every firing due then as one round: each selected domain is checkpointed
 * on a bounded pool ({@code concurrency.total} at once, {@code concurrency.per-host} per libvirt URI), analyzed,
 * diffed, pruned. The next round starts when this one is done; a firing whose time passed meanwhile runs once, late,
 * and older ones it overran are skipped and counted.
 */
public final class Scheduler implements AutoCloseable {
    private final ScheduleConfig config;
    private final TimeSource time;
    private final Clock clock;
    private final Jitter jitter;
    private final CheckpointRound round;
    private final ScheduleListener listener;
    private final ScheduleMetrics metrics;
    private final ExecutorService pool;
    private volatile boolean stopped;
    private volatile Thread runner;
    private volatile boolean sleeping;

    public Scheduler(ScheduleConfig config, TimeSource time, ScheduleMetrics metrics, List<AlertSink> sinks,
            List<DiffRule> rules, ScheduleListener listener, PrintStream log) {
        this.config = config;
        this.time = time;
        this.clock = time.clock();
        this.jitter = new Jitter(config.jitter(), config.jitterSeed().orElseGet(() -> new SplittableRandom().nextLong()));
        this.metrics = metrics;
        this.round = new CheckpointRound(clock, config.perHostConcurrency(), metrics, sinks, rules, log);
        this.listener = listener;
        this.pool = Executors.newFixedThreadPool(config.totalConcurrency(), r -> {
            Thread t = new Thread(r, "sonde-checkpoint");
            t.setDaemon(true);
            return t;
        });
    }

    /** A scheduled firing of a job: its cron time and the time it is due (cron time plus jitter). */
    public record Firing(JobSpec job, Instant scheduled, Instant due) {
    }

    /** The first firing of {@code job} after {@code after}; empty when its cron expression never fires. */
    public Optional<Firing> next(JobSpec job, Instant after) {
        return job.cron().next(ZonedDateTime.ofInstant(after, config.zone()), config.zone())
                .map(z -> new Firing(job, z.toInstant(), z.toInstant().plus(jitter.delay(job.name(), z.toInstant()))));
    }

    /** Runs until {@link #stop()}. */
    public void run() throws InterruptedException {
        runUntil(Instant.MAX);
    }

    /** Runs the rounds due up to {@code until} (inclusive), then returns; or earlier on {@link #stop()}. */
    public void runUntil(Instant until) throws InterruptedException {
        runner = Thread.currentThread();
        Map<JobSpec, Instant> cursor = new LinkedHashMap<>();
        Instant start = clock.instant();
        for (JobSpec j : config.jobs()) {
            cursor.put(j, start);
        }
        try {
            while (!stopped) {
                List<Firing> next = new ArrayList<>();
                for (JobSpec j : new ArrayList<>(cursor.keySet())) {
                    Optional<Firing> f = next(j, cursor.get(j));
                    if (f.isEmpty()) {
                        round.log("job " + j.name() + ": cron '" + j.cron() + "' never fires; job ignored");
                        cursor.remove(j);
                    } else {
                        next.add(f.get());
                    }
                }
                Optional<Instant> earliest = next.stream().map(Firing::due).min(Instant::compareTo);
                if (earliest.isEmpty() || earliest.get().isAfter(until)) {
                    return;
                }
                sleeping = true;
                try {
                    if (stopped) {
                        return;
                    }
                    time.sleepUntil(earliest.get());
                } finally {
                    sleeping = false;
                }
                if (stopped) {
                    return;
                }
                Instant now = clock.instant();
                List<Firing> due = next.stream().filter(f -> !f.due().isAfter(now)).toList();
                runRound(due);
                Instant after = clock.instant();
                for (Firing f : due) {
                    Instant c = f.scheduled();
                    int missed = 0;
                    while (true) {
                        Optional<Firing> n = next(f.job(), c);
                        Optional<Firing> nn = n.flatMap(x -> next(f.job(), x.scheduled()));
                        if (nn.isPresent() && !nn.get().due().isAfter(after)) {
                            c = n.get().scheduled();
                            missed++;
                        } else {
                            break;
                        }
                    }
                    if (missed > 0) {
                        metrics.missed(missed);
                        round.log("job " + f.job().name() + ": " + missed + " firing(s) skipped, the round that began "
                                + f.due() + " ran until " + after);
                    }
                    cursor.put(f.job(), c);
                }
            }
        } finally {
            runner = null;
        }
    }

    private void runRound(List<Firing> due) {
        List<Future<Outcome>> running = new ArrayList<>();
        for (Firing f : due) {
            List<String> domains;
            try {
                domains = domains(f.job());
            } catch (IOException e) {
                metrics.failure(f.job().name(), String.join(",", f.job().domains()));
                round.log("job " + f.job().name() + ": cannot list the domains of " + f.job().uri() + ": "
                        + e.getMessage());
                continue;
            }
            if (domains.isEmpty()) {
                round.log("job " + f.job().name() + ": no running domain matches " + f.job().domains());
            }
            for (String d : domains) {
                running.add(pool.submit(() -> round.run(f.job(), d, f.scheduled())));
            }
        }
        // a checkpoint is never abandoned half-way: wait for every one, even when asked to stop
        boolean interrupted = false;
        for (Future<Outcome> o : running) {
            while (true) {
                try {
                    listener.completed(o.get());
                    break;
                } catch (ExecutionException e) {
                    round.log("checkpoint task failed: " + e.getCause());
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The job's domains: its plain names as given, and the running domains its patterns match, sorted. */
    List<String> domains(JobSpec job) throws IOException {
        TreeSet<String> out = new TreeSet<>();
        boolean patterns = false;
        for (String d : job.domains()) {
            if (JobSpec.isPattern(d)) {
                patterns = true;
            } else {
                out.add(d);
            }
        }
        if (patterns) {
            try (LibvirtSession s = LibvirtSession.open(job.uri())) {
                Connect c = s.connect0();
                for (int id : c.listDomains()) {
                    Domain dom;
                    try {
                        dom = c.domainLookupByID(id);
                    } catch (LibvirtException gone) {
                        continue; // stopped between the listing and the lookup: not running, so not selected
                    }
                    try {
                        if (job.selects(dom.getName())) {
                            out.add(dom.getName());
                        }
                    } finally {
                        dom.free();
                    }
                }
            } catch (LibvirtException e) {
                throw new IOException(e.getMessage(), e);
            }
        }
        return List.copyOf(out);
    }

    /** Makes {@link #run()} return: at once when it is waiting, after the current round when one runs. */
    public void stop() {
        stopped = true;
        Thread t = runner;
        if (t != null && sleeping) {
            t.interrupt();
        }
    }

    /** Whether {@link #run()} is still running (a round may be finishing after {@link #stop()}). */
    public boolean running() {
        return runner != null;
    }

    @Override
    public void close() {
        stop();
        pool.shutdown();
    }
}
