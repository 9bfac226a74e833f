package dev.sonde.cli;

import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.KernelIdentity;
import dev.sonde.analyzer.kernel.profile.KernelProfile;
import dev.sonde.analyzer.kernel.profile.KernelProfiles;
import dev.sonde.analyzer.kernel.profile.ProfileException;
import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.Finding;
import dev.sonde.analyzer.linux.ImageAnalyzer;
import dev.sonde.analyzer.linux.crossview.MemoryScan;
import dev.sonde.analyzer.linux.crossview.ProcessView;
import dev.sonde.analyzer.report.ProcessTables;
import dev.sonde.analyzer.report.Report;
import dev.sonde.analyzer.report.ReportFormat;
import dev.sonde.analyzer.report.ReportRenderer;
import dev.sonde.analyzer.report.Timeline;
import dev.sonde.analyzer.report.html.HtmlReport;
import dev.sonde.analyzer.report.html.ReportContext;
import dev.sonde.analyzer.volatility.VolRequest;
import dev.sonde.analyzer.volatility.VolatilityBridge;
import dev.sonde.analyzer.volatility.VolatilityInput;
import dev.sonde.analyzer.volatility.VolatilityPluginException;
import dev.sonde.analyzer.volatility.WindowsAnalysis;
import dev.sonde.kb.disk.GuestDisk;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sonde analyze IMAGE|BUNDLE}: processes, threads, memory maps, open files, sockets, executable images and
 * findings of a Linux memory image, read through the kernel profile (the image's own BTF and kallsyms, or
 * {@code --symbols ISF}); or a Timesketch timeline of process starts. A bundle directory is resolved to its memory
 * file, whose size and SHA-256 must match the manifest. Data goes to stdout, progress and the completeness verdict to
 * stderr. An image with no Linux kernel (a Windows guest) is analyzed through the Volatility 3
 * bridge instead ({@link WindowsAnalysis}), and the output says so.
 */
@Command(name = "analyze", mixinStandardHelpOptions = true,
        description = "List the processes (pid, ppid, credentials, command line, executable, interpreted script), memory"
                + " maps, open files, sockets and executable binaries (ELF type, build-id, page digests) of a Linux memory"
                + " image or evidence bundle, with findings (deleted or fileless executables, anonymous RWX memory, user"
                + " processes posing as kernel threads, names that disagree, code from temporary directories, loader"
                + " variables, deleted scripts, processes hidden from the task list, the PID IDR, the parent/child links or a"
                + " physical-memory scan). Every result says whether it is complete.")
final class AnalyzeCommand implements Callable<Integer> {

    enum Severity { low, medium, high }

    /** The report formats plus {@code timeline}, the Timesketch JSONL of process starts. */
    enum OutputFormat { table, json, jsonl, csv, html, timeline }

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "Memory image (ELF core, kdump, libvirt save; compressed is fine),"
            + " or an evidence bundle directory (its memory file is checked against the manifest first: exit 5 on mismatch).")
    Path image;

    @Mixin
    SymbolsCommand.ProfileArgs profile;

    @Option(names = "--format", defaultValue = "table", paramLabel = "FORMAT",
            description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}). In json/jsonl absent values are null;"
                    + " in csv an absent value is an empty unquoted field and an empty string is \"\". timeline: one Timesketch"
                    + " JSON line per process start, dated on the guest kernel's wall clock.")
    OutputFormat format;

    @Option(names = "--view", split = ",", paramLabel = "TABLE",
            description = "Tables to print, comma-separated: processes, maps, files, sockets, binaries, pages, findings"
                    + " (default: all but pages for table and csv, all for json and jsonl).")
    List<String> views;

    @Option(names = "--timeline", paramLabel = "FILE",
            description = "Also write the Timesketch JSONL timeline of process starts to FILE.")
    Path timeline;

    // --- known-binary identities (issue 6): KbIdentities adds the identities and unknown_pages tables ---
    @Option(names = "--kb", paramLabel = "KB",
            description = "Identify each running binary against this knowledge base (sonde kb import): identified,"
                    + " modified (naming the pages), on-disk mismatch or unknown (with its page digests).")
    Path kb;

    @Option(names = "--disk", paramLabel = "DISK",
            description = "With --kb: the checkpoint's disk image to compare mapped files with (default: the bundle's disk).")
    Path disk;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "Write the result to FILE instead of stdout (written whole, then renamed into place).")
    Path output;

    @Option(names = "--online",
            description = "For an image without a Linux kernel (analyzed through Volatility 3): let Volatility download"
                    + " the symbol files it lacks (Windows PDBs).")
    boolean online;

    @Option(names = "--fail-on", paramLabel = "SEVERITY",
            description = "Exit with code 1 when a finding of this severity or above is found: ${COMPLETION-CANDIDATES}.")
    Severity failOn;

    @Option(names = "--no-scan",
            description = "Skip the physical-memory scan for task_structs (the other views still cross-check the task list).")
    boolean noScan;

    @Option(names = "--full-scan",
            description = "Scan all of physical memory for task_structs, not only the task_struct slabs (slower; also finds"
                    + " a task_struct placed outside its slab cache).")
    boolean fullScan;

    @Override
    public Integer call() throws Exception {
        boolean whole = format == OutputFormat.json || format == OutputFormat.jsonl;
        Set<String> selected = new LinkedHashSet<>(views == null || views.isEmpty()
                ? (whole ? ProcessTables.VIEWS : ProcessTables.DEFAULT_VIEWS) : views);
        for (String v : selected) {
            if (!ProcessTables.VIEWS.contains(v)) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "unknown table '" + v + "' for --view (choose from " + String.join(", ", ProcessTables.VIEWS) + ")");
            }
        }
        ReportOutput.checkDestination(output);
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        Path file = image;
        if (Files.isDirectory(image)) {
            err.println("sonde: checking the memory file of bundle " + image + " against its manifest");
            err.flush();
            file = BundleMemory.resolve(image);
        }
        err.println("sonde: opening " + file);
        err.flush();
        try (MemoryImage img = ImageOpener.standard().open(file)) {
            KernelProfile p;
            try {
                p = KernelProfiles.build(img, profile.options());
            } catch (ProfileException e) {
                KernelIdentity id = KernelIdentity.of(img);
                if (id.release().isPresent() || id.banner().isPresent()) {
                    throw e;
                }
                return throughVolatility(file, err, out, e);
            }
            err.println("sonde: kernel " + p.identity().release().orElse("?") + "; " + p.notes().get(0));
            p.conflicts().forEach(c -> err.println("sonde: conflict: " + c));
            err.flush();
            MemoryScan scan = noScan ? MemoryScan.NONE : fullScan ? MemoryScan.FULL : MemoryScan.SLAB;
            AnalysisResult result = ImageAnalyzer.analyze(img, file.toString(), p, scan);
            result.problems().forEach(x -> err.println("sonde: " + x));
            err.println("sonde: views: " + viewCounts(result));
            List<Finding> findings = result.findings();
            Report report = ProcessTables.of(result, selected);
            if (kb != null) {
                Optional<Path> d = disk != null ? Optional.of(disk)
                        : GuestDisk.isBundle(image) ? Optional.of(image) : Optional.empty();
                report = KbIdentities.enrich(report, result, kb, d, err);
            }
            if (timeline != null) {
                ReportOutput.write(timeline, out, w -> writeTimeline(result, w));
            }
            Report rendered = report;
            ReportOutput.write(output, out, w -> {
                if (format == OutputFormat.timeline) {
                    writeTimeline(result, w);
                } else if (format == OutputFormat.html) {
                    HtmlReport.render(rendered, ReportContext.empty().withKernel(result.kernelRelease()), w);
                } else {
                    ReportRenderer.render(rendered, ReportFormat.valueOf(format.name()), w);
                }
            });
            if (output != null) {
                err.println("sonde: wrote " + output);
            }
            err.println("sonde: " + result.processes().processes().size() + " processes, " + result.binaries().size()
                    + " binaries, " + findings.size() + " findings; "
                    + report.verdict() + (report.complete() ? "" : " (" + report.reasons().size() + " problems)"));
            for (String r : report.reasons().subList(0, Math.min(20, report.reasons().size()))) {
                err.println("sonde:   " + r);
            }
            err.flush();
            if (failOn != null && findings.stream().anyMatch(f -> Severity.valueOf(f.severity()).ordinal() >= failOn.ordinal())) {
                return ExitCodes.FINDINGS;
            }
        }
        return ExitCodes.OK;
    }

    /** How many processes each view saw, e.g. {@code tasks 88, pid-idr 88, children 88, scan 88}. */
    private static String viewCounts(AnalysisResult result) {
        List<String> parts = new java.util.ArrayList<>();
        for (ProcessView v : ProcessView.values()) {
            long n = result.processes().views().values().stream().filter(l -> l.contains(v.label())).count();
            if (n > 0 || v.live()) {
                parts.add(v.label() + " " + n);
            }
        }
        return String.join(", ", parts);
    }

    /** The Timesketch timeline; a guest clock that cannot be read is bad input (exit 3). */
    private static void writeTimeline(AnalysisResult result, Writer w) {
        try {
            Timeline.write(result, w);
        } catch (IllegalStateException e) {
            throw new SondeException(ExitCodes.BAD_INPUT, result.source() + ": " + e.getMessage(), e);
        }
    }

    /** No Linux kernel in the image: processes, DLLs and handles from Volatility 3 (Windows guests). */
    private int throughVolatility(Path file, PrintWriter err, PrintWriter out, ProfileException linux) throws Exception {
        err.println("sonde: no Linux kernel in " + image + " (no VMCOREINFO, no Linux version banner); the native"
                + " analyzer covers Linux only, so processes, DLLs and handles come from Volatility 3 through the bridge ("
                + String.join(", ", WindowsAnalysis.PLUGINS) + ")");
        err.flush();
        List<Path> dirs = profile.isf == null ? List.of() : List.of(VolCommand.symbolDir(profile.isf));
        Report report;
        try {
            report = WindowsAnalysis.analyze(VolatilityBridge.get(), VolatilityInput.readable(file), file.toString(),
                    dirs, !online, VolRequest.DEFAULT_TIMEOUT);
        } catch (VolatilityPluginException e) {
            throw new SondeException(ExitCodes.BAD_INPUT, "no Linux kernel in " + image + " (" + linux.getMessage()
                    + "), and Volatility 3 could not analyze it either: " + e.getMessage(), e);
        }
        Report rendered = report;
        ReportOutput.write(output, out, w -> {
            if (format == OutputFormat.html) {
                HtmlReport.render(rendered, ReportContext.empty(), w);
            } else if (format == OutputFormat.timeline) {
                throw new SondeException(ExitCodes.USAGE, "--format timeline needs a Linux image");
            } else {
                ReportRenderer.render(rendered, ReportFormat.valueOf(format.name()), w);
            }
        });
        err.println("sonde: from Volatility 3: " + report.tables().stream().map(t -> t.rows().size() + " " + t.name())
                .collect(java.util.stream.Collectors.joining(", ")) + "; " + report.verdict());
        err.flush();
        return ExitCodes.OK;
    }
}
