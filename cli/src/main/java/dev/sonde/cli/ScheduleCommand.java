package dev.sonde.cli;

import dev.sonde.snapshotter.schedule.AlertSink;
import dev.sonde.snapshotter.schedule.CommandAlertSink;
import dev.sonde.snapshotter.schedule.DiffRule;
import dev.sonde.snapshotter.schedule.JobSpec;
import dev.sonde.snapshotter.schedule.JsonlAlertSink;
import dev.sonde.snapshotter.schedule.LogAlertSink;
import dev.sonde.snapshotter.schedule.MetricsServer;
import dev.sonde.snapshotter.schedule.ScheduleConfig;
import dev.sonde.snapshotter.schedule.ScheduleConfigException;
import dev.sonde.snapshotter.schedule.ScheduleListener;
import dev.sonde.snapshotter.schedule.ScheduleMetrics;
import dev.sonde.snapshotter.schedule.Scheduler;
import dev.sonde.snapshotter.schedule.TimeSource;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sonde schedule}: the long-running service that checkpoints a fleet on cron schedules. */
@Command(name = "schedule", mixinStandardHelpOptions = true,
        description = {"Run as a service: checkpoint the domains of each job of the configuration on its cron schedule "
                + "(with jitter, at most concurrency.per-host checkpoints per libvirt URI at once), analyze each "
                + "checkpoint and diff it against the previous one of its domain (new and vanished processes, new and "
                + "unknown binaries, new findings), send alerts to the log, a JSONL file and a command, apply each "
                + "job's retention, and serve Prometheus metrics.",
            "SIGTERM stops it after the checkpoints in progress. --check validates the configuration and prints "
                + "the next firings. The configuration format is in the README (\"Scheduled checkpoints\")."})
final class ScheduleCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", required = true,
            description = "Configuration file (Java properties; see README).")
    Path config;

    @Option(names = "--check", description = "Validate the configuration, print each job and its next firings, exit.")
    boolean check;

    @Option(names = "--firings", paramLabel = "N", defaultValue = "5", description = "Firings per job --check prints.")
    int firings;

    @Override
    public Integer call() throws Exception {
        ScheduleConfig c;
        try {
            c = ScheduleConfig.load(config);
        } catch (NoSuchFileException e) {
            throw new SondeException(ExitCodes.BAD_INPUT, config + ": no such file", e);
        } catch (ScheduleConfigException e) {
            throw new SondeException(ExitCodes.BAD_INPUT, e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (check) {
            printCheck(c, out);
            return ExitCodes.OK;
        }
        return serve(c);
    }

    private void printCheck(ScheduleConfig c, PrintWriter out) {
        try (Scheduler s = new Scheduler(c, TimeSource.system(), new ScheduleMetrics(), List.of(), List.of(),
                ScheduleListener.NONE, System.err)) {
            out.printf("%s: %d job(s), zone %s, jitter %ds, %d per host, %d in total%n", c.source(), c.jobs().size(),
                    c.zone(), c.jitter().toSeconds(), c.perHostConcurrency(), c.totalConcurrency());
            for (JobSpec j : c.jobs()) {
                out.printf("job %s: cron '%s', domains %s on %s, memory %s%s, analyze %s, store %s, retention %s%n",
                        j.name(), j.cron(), String.join(",", j.domains()), j.uri(), j.options().memory().label(),
                        j.options().disks() ? " + disks" : "", j.analyze() ? "on" : "off", j.store(),
                        j.retention().describe());
                Instant after = Instant.now();
                for (int i = 0; i < firings; i++) {
                    Optional<Scheduler.Firing> f = s.next(j, after);
                    if (f.isEmpty()) {
                        out.println("  never fires");
                        break;
                    }
                    out.printf("  %s (due %s)%n", f.get().scheduled(), f.get().due());
                    after = f.get().scheduled();
                }
            }
        }
        out.flush();
    }

    private int serve(ScheduleConfig c) throws IOException, InterruptedException {
        PrintStream log = System.err;
        ScheduleMetrics metrics = new ScheduleMetrics();
        List<AlertSink> sinks = new ArrayList<>();
        sinks.add(new LogAlertSink(log));
        c.alertsJsonl().ifPresent(p -> sinks.add(new JsonlAlertSink(p)));
        c.alertCommand().ifPresent(cmd -> sinks.add(new CommandAlertSink(cmd, c.alertCommandTimeout())));
        ScheduleListener textfile = o -> c.metricsTextfile().ifPresent(p -> {
            try {
                metrics.writeTextfile(p);
            } catch (IOException e) {
                log.println("sonde schedule: cannot write metrics to " + p + ": " + e.getMessage());
            }
        });
        MetricsServer server = null;
        if (c.metricsListen().isPresent()) {
            try {
                server = MetricsServer.start(c.metricsListen().get(), metrics);
            } catch (IOException e) {
                throw new SondeException(ExitCodes.MISSING_ENVIRONMENT, "metrics.listen " + c.metricsListen().get()
                        + ": " + e.getMessage(), e);
            }
            log.println("sonde schedule: metrics on http://" + server.address().getHostString() + ":"
                    + server.address().getPort() + "/metrics");
        }
        if (c.metricsTextfile().isPresent()) {
            Files.createDirectories(c.metricsTextfile().get().toAbsolutePath().getParent());
            metrics.writeTextfile(c.metricsTextfile().get());
        }
        CountDownLatch done = new CountDownLatch(1);
        Scheduler s = new Scheduler(c, TimeSource.system(), metrics, sinks, DiffRule.standard(), textfile, log);
        Thread hook = new Thread(() -> {
            log.println("sonde schedule: stopping (after the checkpoints in progress)");
            s.stop();
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "sonde-schedule-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        log.printf("sonde schedule: %d job(s) from %s%n", c.jobs().size(), c.source());
        try {
            s.run();
        } catch (InterruptedException e) {
            // stop() while waiting for the next firing
        } finally {
            s.close();
            if (server != null) {
                server.close();
            }
            // before the latch: once it opens, the shutdown hook returns and the JVM may halt
            log.println("sonde schedule: stopped");
            log.flush();
            done.countDown();
        }
        return ExitCodes.OK;
    }
}
