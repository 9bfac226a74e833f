package dev.sonde.analyzer.linux;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** The whole analysis ({@link ImageAnalyzer}) of the committed tiny capture, done once for the tests of this package. */
final class TinyAnalysis {
    private static AnalysisResult result;

    private TinyAnalysis() {
    }

    static synchronized AnalysisResult result() {
        if (result == null) {
            result = analyze(Fixtures.committedTinyImage());
        }
        return result;
    }

    static AnalysisResult analyze(Path image) {
        try {
            return ImageAnalyzer.analyze(image, ProfileOptions.defaults());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
