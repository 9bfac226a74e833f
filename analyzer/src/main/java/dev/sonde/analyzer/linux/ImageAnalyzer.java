package dev.sonde.analyzer.linux;

import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelProfile;
import dev.sonde.analyzer.kernel.profile.KernelReadException;
import dev.sonde.analyzer.kernel.profile.KernelProfiles;
import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import dev.sonde.analyzer.linux.crossview.CrossView;
import dev.sonde.analyzer.linux.crossview.MemoryScan;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The whole native analysis of one Linux memory image in one call: open (any supported format), build the kernel
 * profile, read the processes (cross-checked against independent views), their executable images and the guest's clock, derive the findings. The entry point for the CLI, the scheduler and the rollback
 * controller.
 */
public final class ImageAnalyzer {
    private ImageAnalyzer() {
    }

    /**
     * Analyzes {@code image}.
     *
     * @throws dev.sonde.analyzer.image.BadImageException when the file is not a memory image Sonde can read
     * @throws dev.sonde.analyzer.kernel.profile.ProfileException when no kernel profile can be built
     */
    public static AnalysisResult analyze(Path image, ProfileOptions options) throws IOException {
        try (MemoryImage img = ImageOpener.standard().open(image)) {
            return analyze(img, image.toString(), options);
        }
    }

    /** Analyzes an image already open; the caller closes it. */
    public static AnalysisResult analyze(MemoryImage img, String source, ProfileOptions options) {
        return analyze(img, source, KernelProfiles.build(img, options));
    }

    /** Analyzes an image already open with the profile already built for it; the caller closes the image. */
    public static AnalysisResult analyze(MemoryImage img, String source, KernelProfile p) {
        return analyze(img, source, p, MemoryScan.SLAB);
    }

    /**
     * As {@link #analyze(MemoryImage, String, KernelProfile)}, choosing how the processes' cross-view check scans
     * physical memory for task_structs.
     */
    public static AnalysisResult analyze(MemoryImage img, String source, KernelProfile p, MemoryScan scan) {
        KernelMemory kernel = new KernelMemory(p, img.memory());
        LinuxProcesses linux = new LinuxProcesses(kernel, img.memory());
        CrossView.Result checked = new CrossView(kernel, img.memory(), linux).withMemoryScan(scan).check(linux.analyze());
        ProcessReport processes = checked.report();
        List<Finding> findings = new ArrayList<>(checked.findings());
        findings.addAll(ProcessFindings.find(processes));
        List<MappedBinary> binaries = new MappedBinaries(kernel, img.memory()).of(processes);
        List<String> problems = new ArrayList<>();
        Optional<BootClock> clock = Optional.empty();
        try {
            clock = BootClock.read(kernel);
            if (clock.isEmpty()) {
                problems.add("clock: the kernel has no tk_core symbol; process start times stay relative to boot");
            }
        } catch (KernelReadException e) {
            problems.add("clock: " + e.getMessage());
        }
        return new AnalysisResult(source, p.identity().release().orElse("?"), p.notes(), processes, findings, binaries,
                clock, problems);
    }
}
