package dev.sonde.analyzer.linux;

import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelProfile;
import dev.sonde.analyzer.kernel.profile.KernelProfiles;
import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import dev.sonde.analyzer.linux.crossview.CrossView;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The whole native analysis of one Linux memory image in one call: open (any supported format), build the kernel
 * profile, read the processes, cross-check them against independent views, derive the findings. The entry point for the CLI, the scheduler and the rollback
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
        KernelProfile p = KernelProfiles.build(img, options);
        KernelMemory kernel = new KernelMemory(p, img.memory());
        LinuxProcesses linux = new LinuxProcesses(kernel, img.memory());
        CrossView.Result checked = new CrossView(kernel, img.memory(), linux).check(linux.analyze());
        ProcessReport processes = checked.report();
        List<Finding> findings = new java.util.ArrayList<>(checked.findings());
        findings.addAll(ProcessFindings.find(processes));
        return new AnalysisResult(source, p.identity().release().orElse("?"), p.notes(), processes, findings);
    }
}
