package dev.sonde.cli;

import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelProfile;
import dev.sonde.analyzer.kernel.profile.KernelProfiles;
import dev.sonde.analyzer.kernel.KernelIdentity;
import dev.sonde.analyzer.kernel.profile.ProfileException;
import dev.sonde.analyzer.linux.Finding;
import dev.sonde.analyzer.linux.LinuxProcesses;
import dev.sonde.analyzer.linux.ProcessFindings;
import dev.sonde.analyzer.linux.ProcessReport;
import dev.sonde.analyzer.report.ProcessTables;
import dev.sonde.analyzer.report.Report;
import dev.sonde.analyzer.report.ReportFormat;
import dev.sonde.analyzer.report.ReportRenderer;
import dev.sonde.analyzer.volatility.VolRequest;
import dev.sonde.analyzer.volatility.VolatilityBridge;
import dev.sonde.analyzer.volatility.VolatilityInput;
import dev.sonde.analyzer.volatility.VolatilityPluginException;
import dev.sonde.analyzer.volatility.WindowsAnalysis;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
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
 * {@code sonde analyze IMAGE}: processes, threads, memory maps, open files and findings of a Linux memory image, read
 * through the kernel profile (the image's own BTF and kallsyms, or {@code --symbols ISF}). Data goes to stdout,
 * progress and the completeness verdict to stderr. An image with no Linux kernel (a Windows guest) is analyzed through
 * the Volatility 3 bridge instead ({@link WindowsAnalysis}), and the output says so.
 */
@Command(name = "analyze", mixinStandardHelpOptions = true,
        description = "List the processes (pid, ppid, credentials, command line, executable), memory maps and open files"
                + " of a Linux memory image, with findings (deleted or fileless executables, anonymous RWX memory, user"
                + " processes posing as kernel threads, names that disagree). Every result says whether it is complete.")
final class AnalyzeCommand implements Callable<Integer> {

    enum Severity { low, medium, high }

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "Memory image (ELF core, kdump, libvirt save; compressed is fine).")
    Path image;

    @Mixin
    SymbolsCommand.ProfileArgs profile;

    @Option(names = "--format", defaultValue = "table", paramLabel = "FORMAT",
            description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}). In json/jsonl absent values are null;"
                    + " in csv an absent value is an empty unquoted field and an empty string is \"\".")
    ReportFormat format;

    @Option(names = "--view", split = ",", paramLabel = "TABLE",
            description = "Tables to print, comma-separated: processes, maps, files, findings (default: all).")
    List<String> views;

    @Option(names = "--online",
            description = "For an image without a Linux kernel (analyzed through Volatility 3): let Volatility download"
                    + " the symbol files it lacks (Windows PDBs).")
    boolean online;

    @Option(names = "--fail-on", paramLabel = "SEVERITY",
            description = "Exit with code 1 when a finding of this severity or above is found: ${COMPLETION-CANDIDATES}.")
    Severity failOn;

    @Override
    public Integer call() throws Exception {
        Set<String> selected = new LinkedHashSet<>(views == null || views.isEmpty() ? ProcessTables.VIEWS : views);
        for (String v : selected) {
            if (!ProcessTables.VIEWS.contains(v)) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "unknown table '" + v + "' for --view (choose from " + String.join(", ", ProcessTables.VIEWS) + ")");
            }
        }
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        err.println("sonde: opening " + image);
        err.flush();
        try (MemoryImage img = ImageOpener.standard().open(image)) {
            KernelProfile p;
            try {
                p = KernelProfiles.build(img, profile.options());
            } catch (ProfileException e) {
                KernelIdentity id = KernelIdentity.of(img);
                if (id.release().isPresent() || id.banner().isPresent()) {
                    throw e;
                }
                return throughVolatility(err, out, e);
            }
            err.println("sonde: kernel " + p.identity().release().orElse("?") + "; " + p.notes().get(0));
            p.conflicts().forEach(c -> err.println("sonde: conflict: " + c));
            err.flush();
            KernelMemory kernel = new KernelMemory(p, img.memory());
            ProcessReport processes = new LinuxProcesses(kernel, img.memory()).analyze();
            List<Finding> findings = ProcessFindings.find(processes);
            Report report = ProcessTables.of(processes, findings, image.toString(), selected);
            ReportRenderer.render(report, format, out);
            out.flush();
            err.println("sonde: " + processes.processes().size() + " processes, " + findings.size() + " findings; "
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

    /** No Linux kernel in the image: processes, DLLs and handles from Volatility 3 (Windows guests). */
    private int throughVolatility(PrintWriter err, PrintWriter out, ProfileException linux) throws Exception {
        err.println("sonde: no Linux kernel in " + image + " (no VMCOREINFO, no Linux version banner); the native"
                + " analyzer covers Linux only, so processes, DLLs and handles come from Volatility 3 through the bridge ("
                + String.join(", ", WindowsAnalysis.PLUGINS) + ")");
        err.flush();
        List<Path> dirs = profile.isf == null ? List.of() : List.of(VolCommand.symbolDir(profile.isf));
        Report report;
        try {
            report = WindowsAnalysis.analyze(VolatilityBridge.get(), VolatilityInput.readable(image), image.toString(),
                    dirs, !online, VolRequest.DEFAULT_TIMEOUT);
        } catch (VolatilityPluginException e) {
            throw new SondeException(ExitCodes.BAD_INPUT, "no Linux kernel in " + image + " (" + linux.getMessage()
                    + "), and Volatility 3 could not analyze it either: " + e.getMessage(), e);
        }
        ReportRenderer.render(report, format, out);
        out.flush();
        err.println("sonde: from Volatility 3: " + report.tables().stream().map(t -> t.rows().size() + " " + t.name())
                .collect(java.util.stream.Collectors.joining(", ")) + "; " + report.verdict());
        err.flush();
        return ExitCodes.OK;
    }
}
