package dev.sonde.cli;

import dev.sonde.analyzer.linux.Finding;
import dev.sonde.cli.demo.Demo;
import dev.sonde.cli.demo.DemoException;
import dev.sonde.cli.demo.DemoOptions;
import dev.sonde.cli.demo.DemoResult;
import dev.sonde.cli.demo.GuestKind;
import dev.sonde.cli.demo.Progress;
import dev.sonde.rollback.probe.ProbeResult;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sonde demo}: boots a fixture guest, checkpoints, analyzes (with the knowledge base), forks, probes, rolls back
 * and verifies, then writes the bundle, a JSON result and the HTML report and prints a summary. Progress on stderr,
 * the summary on stdout; Ctrl-C leaves nothing running.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "The whole of Sonde on a fixture guest, nothing to configure: start libvirt if it does not answer,"
                + " boot the guest, checkpoint it, analyze the checkpoint (processes, maps, files, sockets, binaries,"
                + " cross-view findings; binaries matched against a knowledge base built from the checkpoint's disk),"
                + " fork it and run the cross-view and run-and-diff probes on the clone, roll back and verify, then"
                + " write the evidence bundle, demo.json and report.html under --out and print the findings."
                + " Ctrl-C stops it cleanly: the guest, any clone and the daemons it started are removed.")
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--guest", defaultValue = "debian", paramLabel = "GUEST",
            description = "Fixture guest: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    GuestKind guest;

    @Option(names = {"-o", "--out"}, defaultValue = "sonde-demo", paramLabel = "DIR",
            description = "Output directory: bundle store, knowledge base, demo.json, analysis.json, report.html (default: ./${DEFAULT-VALUE}).")
    Path out;

    @Option(names = {"-c", "--connect"}, paramLabel = "URI", description = "libvirt URI (default: qemu:///system).")
    String uri;

    @Option(names = "--fixtures", paramLabel = "DIR", description = "The Sonde checkout holding fixtures/ (default: found above the working directory or the jar).")
    Path fixtures;

    @Option(names = "--run-seconds", defaultValue = "10", paramLabel = "SECONDS",
            description = "How long the run-and-diff probe lets the clone run (default: ${DEFAULT-VALUE}).")
    int runSeconds;

    @Option(names = "--clone-cpu-percent", defaultValue = "100", paramLabel = "PERCENT",
            description = "CPU the clone may use, in percent of one host CPU (default: ${DEFAULT-VALUE}).")
    int cloneCpuPercent;

    @Override
    public Integer call() throws Exception {
        if (runSeconds < 0 || runSeconds > 600) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--run-seconds must be within 0..600");
        }
        if (cloneCpuPercent < 1 || cloneCpuPercent > 1000) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--clone-cpu-percent must be within 1..1000");
        }
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter stdout = spec.commandLine().getOut();
        DemoOptions o = new DemoOptions(guest, out, uri != null ? uri : "qemu:///system", Optional.ofNullable(fixtures),
                runSeconds, cloneCpuPercent);
        Demo demo = new Demo(o, new Progress(err, Demo.STEPS, System.console() != null));
        DemoResult r;
        try {
            r = demo.run();
        } catch (DemoException e) {
            throw new SondeException(e.kind() == DemoException.Kind.INTEGRITY ? ExitCodes.INTEGRITY
                    : e.kind() == DemoException.Kind.BAD_INPUT ? ExitCodes.BAD_INPUT : ExitCodes.MISSING_ENVIRONMENT,
                    e.getMessage(), e);
        }
        printSummary(r, stdout);
        stdout.flush();
        if (demo.failure() != null) {
            return switch (demo.failure()) {
                case INTEGRITY -> ExitCodes.INTEGRITY;
                case BAD_INPUT -> ExitCodes.BAD_INPUT;
                default -> ExitCodes.MISSING_ENVIRONMENT;
            };
        }
        if (r.error() != null || !r.rollbackVerified()) {
            return ExitCodes.INTEGRITY;
        }
        return ExitCodes.OK;
    }

    static void printSummary(DemoResult r, PrintWriter w) {
        w.printf("sonde demo: %s guest %s, %.1f s%s%n", r.guest(), r.domain(), r.seconds(),
                r.error() == null ? "" : " -- STOPPED: " + r.error());
        if (r.checkpoint() != null) {
            w.printf("checkpoint   %s%n             manifest sha256 %s, %s%s%n", r.checkpoint().bundle(),
                    r.checkpoint().manifestSha256(), r.checkpoint().verified() ? "verified" : "NOT verified",
                    r.checkpoint().pauseMillis() == null ? "" : String.format(", guest paused %.1f ms", r.checkpoint().pauseMillis()));
        }
        if (r.analysis() != null) {
            w.printf("analysis     kernel %s: %d processes, %d binaries, %d findings%s%n", r.analysis().kernel(),
                    r.analysis().processes(), r.analysis().binaries(), r.analysis().findings().size(),
                    r.analysis().complete() ? "" : " (partial: " + String.join("; ", r.analysis().problems()) + ")");
            w.println("findings");
            Map<String, List<Finding>> groups = new LinkedHashMap<>();
            for (Finding f : r.analysis().findings()) {
                groups.computeIfAbsent(f.severity() + " " + f.kind() + " " + f.summary(), k -> new ArrayList<>()).add(f);
            }
            for (List<Finding> g : groups.values()) {
                Finding f = g.get(0);
                if (g.size() == 1) {
                    w.printf("  %-6s %-24s pid %-6d %-16s %s%n", f.severity(), f.kind(), f.pid(), printable(f.comm()),
                            printable(f.summary()));
                } else {
                    String pids = g.stream().limit(3).map(x -> x.pid() + " " + printable(x.comm())).collect(Collectors.joining(", "));
                    w.printf("  %-6s %-24s %d processes (pid %s%s): %s%n", f.severity(), f.kind(), g.size(), pids,
                            g.size() > 3 ? ", ..." : "", printable(f.summary()));
                }
            }
        }
        if (r.scenarios() != null) {
            long found = r.scenarios().stream().filter(s -> s.found()).count();
            w.printf("planted scenarios: %d of %d found%n", found, r.scenarios().size());
            r.scenarios().forEach(s -> w.printf("  [%s] %-40s %s%n", s.found() ? "x" : " ", s.scenario(), printable(s.evidence())));
        }
        if (r.kb() != null) {
            w.printf("knowledge    %s%n             running binaries: %s%n", r.kb().imported(), r.kb().verdicts());
            r.kb().notable().stream().limit(12).forEach(n -> w.println("               " + printable(n)));
            if (r.kb().notable().size() > 12) {
                w.println("               ... " + (r.kb().notable().size() - 12) + " more in " + r.outputs().analysisJson());
            }
        } else if (r.kbSkipped() != null) {
            w.println("knowledge    skipped: " + r.kbSkipped());
        }
        if (r.fork() != null) {
            w.printf("fork         clone %s (%s)%s%n", r.fork().cloneName(), r.fork().cloneUuid(),
                    r.fork().error() == null ? "" : ": " + r.fork().error());
            for (ProbeResult p : r.fork().probes()) {
                w.printf("  probe %-12s %s%n", p.probe(), printable(dev.sonde.cli.demo.Demo.describe(p)));
            }
            r.probesSkipped().forEach(s -> w.println("  probe " + s));
            if (r.fork().rollback() != null) {
                var v = r.fork().rollback();
                w.printf("rollback     %s in %.0f ms: bundle %s, original %s, clone domain %s, clone files %s%n",
                        v.verified() ? "verified" : "NOT VERIFIED", v.rollbackMillis(), v.bundleUnchanged() ? "unchanged" : "CHANGED",
                        v.originalUnchanged() ? "unchanged" : "CHANGED", v.cloneDomainGone() ? "gone" : "LEFT",
                        v.cloneFilesGone() ? "gone" : "LEFT");
            }
        }
        w.println("cleanup      " + String.join("; ", r.cleanup()));
        w.println("files");
        w.println("  output     " + r.outputs().directory());
        if (r.outputs().bundle() != null) {
            w.println("  bundle     " + r.outputs().bundle());
        }
        w.println("  result     " + r.outputs().json());
        if (r.outputs().html() != null) {
            w.println("  report     " + r.outputs().html());
            w.println("  analysis   " + r.outputs().analysisJson());
        }
    }

    /** Guest strings on a terminal: control characters escaped. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(c -> {
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
                b.append(String.format("\\x%02x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }
}
