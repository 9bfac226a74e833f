package dev.sonde.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sonde.rollback.ForkController;
import dev.sonde.rollback.ForkException;
import dev.sonde.rollback.ForkOptions;
import dev.sonde.rollback.ForkReport;
import dev.sonde.rollback.Reconciler;
import dev.sonde.rollback.RollbackVerification;
import dev.sonde.rollback.probe.CrossViewDifference;
import dev.sonde.rollback.probe.Probe;
import dev.sonde.rollback.probe.ProbeResult;
import dev.sonde.rollback.probe.ProcessDiff;
import dev.sonde.rollback.probe.Probes;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import dev.sonde.snapshotter.libvirt.VirtException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code sonde fork BUNDLE --probe ...}: destructive inspection on a clone of a checkpoint, always rolled back. */
@Command(name = "fork", mixinStandardHelpOptions = true,
        description = {"Start a clone of a live checkpoint bundle beside the running original (new name and UUID, its own "
                + "overlay, no network route, bounded CPU and run time), run probes on it, then destroy it, delete "
                + "everything it left and verify that the bundle and the original are unchanged.",
            "Probes: run:SECONDS, exec:COMMAND, crossview, qmp:COMMAND, diskdiff.",
            "Exit 5 when the rollback could not be verified; 4 when the clone could not be started or a probe failed."})
final class ForkCommand implements Callable<Integer> {
    enum Format { text, json }

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "BUNDLE", description = "A live checkpoint bundle directory.")
    Path bundle;

    @Option(names = {"-c", "--connect"}, paramLabel = "URI",
            description = "libvirt URI (default: $LIBVIRT_DEFAULT_URI, else qemu:///system).")
    String uri;

    @Option(names = "--probe", paramLabel = "PROBE", description = "A probe (repeatable, run in order).")
    List<String> probes = new ArrayList<>();

    @Option(names = "--reconcile", description = "Remove whatever forks whose sonde process died left behind, and exit.")
    boolean reconcile;

    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "Clones' files and the fork journal (default: $SONDE_FORK_DIR, else /var/lib/sonde/forks).")
    Path workDir;

    @Option(names = "--max-run-time", paramLabel = "SECONDS", defaultValue = "600",
            description = "Destroy the clone after this long, whatever its probes do (default ${DEFAULT-VALUE}).")
    long maxRunTime;

    @Option(names = "--cpu-percent", paramLabel = "PERCENT", defaultValue = "50",
            description = "CPU the whole clone may use, in percent of one host CPU (cgroup quota; default ${DEFAULT-VALUE}).")
    int cpuPercent;

    @Option(names = "--format", defaultValue = "text", description = "Output format: ${COMPLETION-CANDIDATES}.")
    Format format;

    static Path defaultWorkDir() {
        String env = System.getenv("SONDE_FORK_DIR");
        return Path.of(env != null && !env.isBlank() ? env : "/var/lib/sonde/forks");
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!reconcile && bundle == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "BUNDLE is required (or --reconcile)");
        }
        if (!reconcile && probes.isEmpty()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give at least one --probe");
        }
        if (maxRunTime <= 0 || cpuPercent < 1 || cpuPercent > 10_000) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--max-run-time must be positive, --cpu-percent 1..10000");
        }
        List<Probe> parsed = new ArrayList<>();
        for (String p : probes) {
            try {
                parsed.add(Probes.parse(p));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
        }
        String u = uri != null ? uri : SnapshotCommand.defaultUri();
        ForkOptions o = ForkOptions.defaults(u, workDir != null ? workDir : defaultWorkDir())
                .withMaxRunTime(Duration.ofSeconds(maxRunTime)).withCpuPercent(cpuPercent);
        try (LibvirtSession session = open(u)) {
            if (reconcile) {
                List<String> done = Reconciler.reconcile(session, o, m -> { });
                if (format == Format.json) {
                    out.println(json().writeValueAsString(Map.of("reconciled", done)));
                } else {
                    done.forEach(out::println);
                    err.println("sonde: " + (done.isEmpty() ? "nothing to reconcile" : done.size() + " actions"));
                }
                out.flush();
                return ExitCodes.OK;
            }
            ForkReport r;
            try {
                r = new ForkController(session, o, m -> {
                    err.println("sonde: " + m);
                    err.flush();
                }).fork(bundle, parsed);
            } catch (ForkException e) {
                throw new SondeException(switch (e.kind()) {
                    case BAD_INPUT -> ExitCodes.BAD_INPUT;
                    case ENVIRONMENT -> ExitCodes.MISSING_ENVIRONMENT;
                    case INTEGRITY -> ExitCodes.INTEGRITY;
                }, e.getMessage(), e);
            }
            if (format == Format.json) {
                out.println(json().writeValueAsString(r));
            } else {
                text(r, out);
            }
            out.flush();
            if (!r.rollback().verified()) {
                err.println("sonde: rollback NOT verified");
                return ExitCodes.INTEGRITY;
            }
            if (r.error() != null || r.probes().stream().anyMatch(p -> p instanceof ProbeResult.Failed)) {
                return ExitCodes.MISSING_ENVIRONMENT;
            }
            return ExitCodes.OK;
        }
    }

    private static ObjectMapper json() {
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .setSerializationInclusion(JsonInclude.Include.NON_NULL);
    }

    static void text(ForkReport r, PrintWriter out) {
        out.printf("fork %s: clone %s (%s) of %s%n", r.forkId(), r.cloneName(), r.cloneUuid(), r.original());
        r.bounds().forEach(b -> out.println("  bound: " + b));
        if (r.forkMillis() >= 0) {
            out.printf("  clone running after %.0f ms%n", r.forkMillis());
        }
        if (r.error() != null) {
            out.println("  stopped: " + r.error());
        }
        for (ProbeResult p : r.probes()) {
            out.println("probe " + p.probe() + ":");
            if (p instanceof ProbeResult.Failed f) {
                out.println("  FAILED: " + f.error());
            } else if (p instanceof ProbeResult.Exec e) {
                out.println("  " + (e.timedOut() ? "timed out" : e.exitCode() != null ? "exit " + e.exitCode()
                        : "signal " + e.signal()) + (e.truncated() ? " (output truncated)" : ""));
                e.stdout().lines().forEach(l -> out.println("  | " + l));
                e.stderr().lines().forEach(l -> out.println("  ! " + l));
            } else if (p instanceof ProbeResult.Qmp q) {
                out.println("  " + q.reply().strip());
            } else if (p instanceof ProbeResult.Run run) {
                ProcessDiff d = run.diff();
                out.printf("  processes %d -> %d: %d started, %d exited, %d changed%n", d.before(), d.after(),
                        d.started().size(), d.exited().size(), d.changed().size());
                d.started().forEach(x -> out.println("  + " + x.pid() + " " + x.comm() + " " + x.cmdline()));
                d.exited().forEach(x -> out.println("  - " + x.pid() + " " + x.comm() + " " + x.cmdline()));
                d.changed().forEach(c -> out.println("  ~ " + c.pid() + " " + c.comm() + " " + c.field() + ": "
                        + c.before() + " -> " + c.after()));
            } else if (p instanceof ProbeResult.CrossView c) {
                out.printf("  %d in-guest entries, %d in memory, %d differences%n", c.guestProcesses(),
                        c.memoryProcesses(), c.differences().size());
                for (CrossViewDifference d : c.differences()) {
                    out.println("  " + d.pid() + " " + d.what() + ": guest " + d.guest() + " | memory " + d.memory()
                            + (d.note().isEmpty() ? "" : " (" + d.note() + ")"));
                }
            } else if (p instanceof ProbeResult.DiskDiff dd) {
                for (ProbeResult.DiskChanges c : dd.disks()) {
                    out.printf("  %s: %d bytes of clusters allocated by the clone, %s; %d ranges%n", c.target(),
                            c.allocatedBytes(), c.changedBytes() < 0 ? "not compared" : c.changedBytes() + " bytes changed",
                            c.rangeCount());
                    c.ranges().stream().limit(50).forEach(x -> out.printf("    0x%x +0x%x%s%n", x.offset(), x.length(),
                            x.zero() ? " (zeroed)" : ""));
                    c.files().forEach(f -> out.println("    file " + f));
                    if (c.filesNote() != null) {
                        out.println("    " + c.filesNote());
                    }
                }
            }
        }
        RollbackVerification v = r.rollback();
        out.println("rollback: " + (v.verified() ? "verified" : "NOT VERIFIED") + String.format(" (%.0f ms)", v.rollbackMillis()));
        v.actions().forEach(a -> out.println("  " + a));
        out.println("  bundle hashes " + (v.bundleUnchanged() ? "unchanged" : "CHANGED: " + v.bundleProblems()));
        out.println("  original " + (!v.originalChecked() ? "not present at this URI (not compared)"
                : v.originalUnchanged() ? "unchanged: " + v.originalState() + ", chains " + v.originalChains()
                : "CHANGED: " + v.originalProblems()));
        out.println("  clone domain " + (v.cloneDomainGone() ? "gone" : "STILL PRESENT")
                + ", files " + (v.cloneFilesGone() ? "gone" : "STILL PRESENT")
                + ", journal entry " + (v.journalGone() ? "gone" : "STILL PRESENT"));
    }

    private static LibvirtSession open(String u) {
        try {
            return LibvirtSession.open(u);
        } catch (VirtException e) {
            throw new SondeException(ExitCodes.MISSING_ENVIRONMENT, e.getMessage(), e);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new SondeException(ExitCodes.MISSING_ENVIRONMENT, "libvirt is not installed (libvirt0): " + e.getMessage(), e);
        }
    }
}
