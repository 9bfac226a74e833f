package dev.sonde.analyzer.linux;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.fixtures.GroundTruth;
import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * The whole analysis ({@link ImageAnalyzer}) of the committed tiny capture, and of the cached debian capture when it
 * has been built, each done once for the tests of this package.
 */
final class TinyAnalysis {
    private static AnalysisResult result;
    private static AnalysisResult debian;

    private TinyAnalysis() {
    }

    static synchronized AnalysisResult result() {
        if (result == null) {
            result = analyze(Fixtures.committedTinyImage());
        }
        return result;
    }

    /** The debian ELF capture's analysis; the test is skipped, with the reason printed, when it has not been built. */
    static synchronized AnalysisResult debian() {
        Path image = Fixtures.captureDir("debian").resolve("memory.elf");
        if (!java.nio.file.Files.isRegularFile(image)) {
            System.out.println("skipped: no " + image + " (build it with fixtures/debian/capture.sh)");
            org.junit.jupiter.api.Assumptions.assumeTrue(false, "no capture " + image);
        }
        if (debian == null) {
            debian = analyze(image);
        }
        return debian;
    }

    static GroundTruth debianTruth() {
        return GroundTruth.read(Fixtures.captureDir("debian").resolve("groundtruth.jsonl"));
    }

    static AnalysisResult analyze(Path image) {
        try {
            return ImageAnalyzer.analyze(image, ProfileOptions.defaults());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
