package dev.sonde.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.report.Report;
import dev.sonde.analyzer.report.ReportFormat;
import dev.sonde.analyzer.report.ReportRenderer;
import dev.sonde.analyzer.report.html.CheckpointSection;
import dev.sonde.analyzer.report.html.ForkVerification;
import dev.sonde.analyzer.report.html.HtmlReport;
import dev.sonde.analyzer.report.html.ReportContext;
import dev.sonde.rollback.ForkReport;
import dev.sonde.rollback.RollbackVerification;
import dev.sonde.rollback.probe.ProbeResult;
import dev.sonde.snapshotter.CheckpointResult;
import dev.sonde.snapshotter.bundle.FileEntry;
import dev.sonde.snapshotter.bundle.Manifest;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Writes the demo's files into its output directory: {@code analysis.json} (every table of the analysis, with the
 * knowledge base's identities), {@code report.html} (the self-contained report with the checkpoint manifest and hashes
 * and the fork/rollback verification) and {@code demo.json} (the result), each written whole under a temporary name
 * and renamed into place; {@code demo.json} last.
 */
final class DemoOutputs {
    private DemoOutputs() {
    }

    /** A body written to a file. */
    @FunctionalInterface
    private interface Body {
        void write(Writer w) throws IOException;
    }

    static void write(DemoResult r, Report report, CheckpointResult checkpoint, AnalysisResult analysis) throws IOException {
        if (report != null) {
            atomically(Path.of(r.outputs().analysisJson()), w -> ReportRenderer.render(report, ReportFormat.json, w));
            atomically(Path.of(r.outputs().html()), w -> HtmlReport.render(report, context(r, checkpoint, analysis), w));
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        atomically(Path.of(r.outputs().json()), w -> {
            json.writeValue(w, r);
        });
    }

    static ReportContext context(DemoResult r, CheckpointResult c, AnalysisResult a) {
        ReportContext ctx = ReportContext.empty().withKernel(a.kernelRelease())
                .withFact("guest", r.guest() + " fixture guest, domain " + r.domain())
                .withFact("demo", "sonde demo, started " + r.startedAt());
        if (r.scenarios() != null) {
            ctx = ctx.withFact("planted scenarios", r.scenarios().stream().filter(PlantedScenarios.Seen::found).count()
                    + " of " + r.scenarios().size() + " found");
        }
        if (r.kb() != null) {
            ctx = ctx.withFact("knowledge base", r.kb().verdicts() + " (from the checkpoint's disk)");
        } else if (r.kbSkipped() != null) {
            ctx = ctx.withFact("knowledge base", "skipped: " + r.kbSkipped());
        }
        if (c != null) {
            ctx = ctx.withCheckpoint(checkpoint(c, r.checkpoint() != null && r.checkpoint().verified()));
        }
        if (r.fork() != null) {
            ctx = ctx.withFork(fork(r.fork(), r.probesSkipped(), r.cleanup()));
        }
        return ctx;
    }

    private static CheckpointSection checkpoint(CheckpointResult c, boolean verified) {
        Manifest m = c.manifest();
        List<ReportContext.Fact> facts = new ArrayList<>();
        if (m.domain() != null) {
            facts.add(new ReportContext.Fact("domain", m.domain().name() + " (" + m.domain().uuid() + ")"));
        }
        if (m.checkpoint() != null) {
            Manifest.Checkpoint k = m.checkpoint();
            facts.add(new ReportContext.Fact("taken", k.startTime() + " to " + k.endTime()));
            facts.add(new ReportContext.Fact("memory", k.memoryMethod() + " -> " + k.memoryFile() + " (" + k.memoryFormat() + ")"));
            if (k.diskMethod() != null) {
                facts.add(new ReportContext.Fact("disks", k.diskMethod()));
            }
            if (k.quiesce() != null) {
                facts.add(new ReportContext.Fact("quiesce", k.quiesce()));
            }
            if (k.pause() != null && k.pause().millis() != null) {
                facts.add(new ReportContext.Fact("guest paused", String.format("%.1f ms (%s)", k.pause().millis(), k.pause().method())));
            }
        }
        if (m.host() != null) {
            facts.add(new ReportContext.Fact("host", m.host().hostname() + ", libvirt " + m.host().libvirtVersion() + ", "
                    + m.host().hypervisorType() + " " + m.host().hypervisorVersion()));
        }
        List<CheckpointSection.FileHash> files = new ArrayList<>();
        for (FileEntry f : m.files()) {
            files.add(new CheckpointSection.FileHash(f.name(), f.size(), f.sha256()));
        }
        return new CheckpointSection(c.bundle().toString(), Optional.of(c.manifestSha256()), Optional.of(verified), facts, files);
    }

    private static ForkVerification fork(ForkReport f, List<String> skipped, List<String> cleanup) {
        List<ForkVerification.Check> checks = new ArrayList<>();
        checks.add(new ForkVerification.Check("clone forked", f.error() == null && f.forkMillis() >= 0,
                f.forkMillis() >= 0 ? String.format("%s (%s) running %.0f ms after the request; %s", f.cloneName(),
                        f.cloneUuid(), f.forkMillis(), String.join("; ", f.bounds()))
                        : "not started: " + f.error()));
        for (ProbeResult p : f.probes()) {
            checks.add(new ForkVerification.Check("probe " + p.probe(), !(p instanceof ProbeResult.Failed), describe(p)));
        }
        for (String s : skipped) {
            checks.add(new ForkVerification.Check("probe " + s.substring(0, s.indexOf(':')), true,
                    "not run: " + s.substring(s.indexOf(':') + 1).strip()));
        }
        RollbackVerification v = f.rollback();
        if (v != null) {
            checks.add(new ForkVerification.Check("bundle unchanged", v.bundleUnchanged(),
                    v.bundleProblems().isEmpty() ? "every file still has its manifest SHA-256" : String.join("; ", v.bundleProblems())));
            checks.add(new ForkVerification.Check("original unchanged", v.originalUnchanged(),
                    "state " + v.originalState() + ", disk chains " + v.originalChains()
                            + (v.originalProblems().isEmpty() ? "" : "; " + String.join("; ", v.originalProblems()))));
            checks.add(new ForkVerification.Check("clone domain gone", v.cloneDomainGone(), "no domain named " + f.cloneName()
                    + " or with UUID " + f.cloneUuid()));
            checks.add(new ForkVerification.Check("clone files gone", v.cloneFilesGone(),
                    "its directory (overlays, save image copy, console, checkpoints) and QEMU log deleted"));
            checks.add(new ForkVerification.Check("fork journal gone", v.journalGone(), "journal entry " + f.forkId() + " removed"));
        }
        if (cleanup != null && !cleanup.isEmpty()) {
            checks.add(new ForkVerification.Check("demo torn down", cleanup.stream().noneMatch(s -> s.contains("FAILED")),
                    String.join("; ", cleanup)));
        }
        boolean passed = v != null && v.verified() && f.error() == null
                && checks.stream().allMatch(ForkVerification.Check::passed);
        String summary = (v != null && v.verified() ? "rollback verified" : "rollback NOT verified")
                + String.format(" in %.0f ms", v == null ? 0.0 : v.rollbackMillis()) + "; " + f.probes().size() + " probes ran"
                + (f.error() == null ? "" : "; stopped early: " + f.error());
        return new ForkVerification(passed, summary, checks);
    }

    static String describe(ProbeResult p) {
        if (p instanceof ProbeResult.Failed x) {
            return "failed: " + x.error();
        }
        if (p instanceof ProbeResult.Run x) {
            return "the clone ran " + x.seconds() + " s; processes " + x.diff().before() + " -> " + x.diff().after() + ": "
                    + x.diff().started().size() + " started" + names(x.diff().started()) + ", " + x.diff().exited().size()
                    + " exited" + names(x.diff().exited()) + ", " + x.diff().changed().size() + " changed";
        }
        if (p instanceof ProbeResult.CrossView x) {
            long unexplained = x.differences().stream().filter(d -> d.note() == null || d.note().isEmpty()).count();
            return x.guestProcesses() + " processes in the guest's own view, " + x.memoryProcesses() + " in memory; "
                    + x.differences().size() + " differences (" + unexplained + " without an explanation)";
        }
        if (p instanceof ProbeResult.Exec x) {
            return (x.timedOut() ? "timed out" : x.exitCode() != null ? "exit " + x.exitCode() : "signal " + x.signal())
                    + " in the clone";
        }
        return p.kind();
    }

    /** Up to six processes as {@code (pid comm, ...)}, nothing for none. */
    private static String names(List<dev.sonde.rollback.probe.ProcessDiff.Proc> ps) {
        if (ps.isEmpty()) {
            return "";
        }
        return " (" + String.join(", ", ps.stream().limit(6).map(p -> p.pid() + " " + p.comm()).toList())
                + (ps.size() > 6 ? ", ..." : "") + ")";
    }

    private static void atomically(Path file, Body body) throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName() + ".", ".partial");
        try {
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                body.write(w);
            }
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
