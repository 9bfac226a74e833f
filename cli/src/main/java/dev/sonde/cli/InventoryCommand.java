package dev.sonde.cli;

import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.BinaryOrigin;
import dev.sonde.analyzer.linux.ImageAnalyzer;
import dev.sonde.analyzer.linux.MappedBinary;
import dev.sonde.analyzer.report.Report;
import dev.sonde.analyzer.report.ReportFormat;
import dev.sonde.analyzer.report.ReportRenderer;
import dev.sonde.analyzer.report.Table;
import dev.sonde.kb.disk.BlockDevice;
import dev.sonde.kb.disk.DiskFormatException;
import dev.sonde.kb.disk.GuestDisk;
import dev.sonde.kb.dpkg.InstalledPackage;
import dev.sonde.kb.ext4.Ext4FileSystem;
import dev.sonde.kb.importer.GuestFiles;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sonde inventory BUNDLE}: the packages installed on a checkpoint's disk (its dpkg status, read from the disk
 * image in Java) and which of them are running: a package runs when a process maps one of its files.
 */
@Command(name = "inventory", mixinStandardHelpOptions = true,
        description = "List the Debian packages installed on a checkpoint's disk and which of them are running"
                + " (a process maps one of their files), with the pids.")
final class InventoryCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "BUNDLE", description = "Evidence bundle directory (its disk and memory), or a disk image with --memory.")
    Path target;

    @Option(names = "--memory", paramLabel = "IMAGE", description = "Memory image to take the running processes from (default: the bundle's).")
    Path memory;

    @Option(names = "--disk", paramLabel = "DISK", description = "Disk image (qcow2 or raw) instead of the bundle's.")
    Path disk;

    @Option(names = "--running", description = "List only the packages that are running.")
    boolean runningOnly;

    @Option(names = "--format", defaultValue = "table", paramLabel = "FORMAT", description = "table, json, jsonl or csv.")
    ReportFormat format;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.exists(target)) {
            throw new java.nio.file.NoSuchFileException(target.toString());
        }
        boolean bundle = GuestDisk.isBundle(target);
        Path diskPath = disk != null ? disk : target;
        Path mem = memory != null ? memory : bundle ? BundleMemory.resolve(target) : null;
        Map<String, TreeSet<Integer>> pids = new TreeMap<>();
        Map<String, TreeSet<String>> files = new TreeMap<>();
        try (BlockDevice dev = GuestDisk.open(diskPath)) {
            Ext4FileSystem fs = Ext4FileSystem.open(dev);
            if (fs.needsRecovery()) {
                err.println("sonde: " + diskPath + ": the journal holds changes not yet in place (the guest was running);"
                        + " they are not seen");
            }
            GuestFiles guest = new GuestFiles(fs);
            if (mem != null) {
                err.println("sonde: analyzing " + mem);
                err.flush();
                AnalysisResult r = ImageAnalyzer.analyze(mem, ProfileOptions.defaults());
                for (MappedBinary b : r.binaries()) {
                    if (b.origin() != BinaryOrigin.FILE) {
                        continue;
                    }
                    Optional<String> canon = fs.resolve(b.path(), true).map(Ext4FileSystem.Resolved::path);
                    guest.owner(canon.orElse(b.path())).ifPresent(o -> {
                        pids.computeIfAbsent(o.pkg().name(), k -> new TreeSet<>()).add(b.pid());
                        files.computeIfAbsent(o.pkg().name(), k -> new TreeSet<>()).add(b.path());
                    });
                }
            } else {
                err.println("sonde: no memory image: listing installed packages only");
            }
            Table t = new Table("packages", List.of("package", "version", "arch", "status", "running", "pids", "files"));
            int installed = 0;
            for (InstalledPackage p : guest.dpkg().packages()) {
                boolean running = pids.containsKey(p.name());
                if (p.installed()) {
                    installed++;
                }
                if (runningOnly && !running) {
                    continue;
                }
                t.add(p.name(), p.version(), p.arch(), p.status(), mem == null ? null : running ? "yes" : "no",
                        running ? pids.get(p.name()).toString().replaceAll("[\\[\\] ]", "") : null,
                        running ? String.join(" ", files.get(p.name())) : null);
            }
            Report report = new Report("inventory", target.toString(), true, List.of(), List.of(t));
            PrintWriter out = spec.commandLine().getOut();
            ReportRenderer.render(report, format, out);
            out.flush();
            err.println("sonde: " + installed + " packages installed, " + pids.size() + " running");
        } catch (DiskFormatException e) {
            throw new SondeException(ExitCodes.BAD_INPUT, e.getMessage(), e);
        }
        return ExitCodes.OK;
    }
}
