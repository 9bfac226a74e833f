package dev.sonde.analyzer.linux;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.fixtures.GroundTruth;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelProfile;
import dev.sonde.analyzer.kernel.profile.KernelProfiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** The committed tiny capture analysed once for the tests of this package. */
final class TinyFixture {
    private static ProcessReport report;
    private static GroundTruth truth;

    private TinyFixture() {
    }

    static synchronized ProcessReport report() {
        if (report == null) {
            report = analyze(Fixtures.committedTinyImage());
        }
        return report;
    }

    static synchronized GroundTruth truth() {
        if (truth == null) {
            truth = GroundTruth.read(Fixtures.committedTinyGroundTruth());
        }
        return truth;
    }

    static ProcessReport analyze(Path imageFile) {
        try (MemoryImage image = ImageOpener.standard().open(imageFile)) {
            KernelProfile profile = KernelProfiles.build(image);
            KernelMemory kernel = new KernelMemory(profile, image.memory());
            return new LinuxProcesses(kernel, image.memory()).analyze();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
