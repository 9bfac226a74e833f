package dev.sonde.analyzer.linux;

import java.util.List;

/**
 * Everything the native analyzer found in one Linux memory image: what {@code sonde analyze} prints, what the
 * scheduler diffs between checkpoints and what the rollback controller compares with a clone's own view.
 *
 * @param source        the image analyzed (path as given)
 * @param kernelRelease the kernel release, {@code ?} when unknown
 * @param profileNotes  where the kernel profile came from (first note: the symbol sources used)
 * @param processes     processes, maps and open files
 * @param findings      findings over them
 */
public record AnalysisResult(String source, String kernelRelease, List<String> profileNotes, ProcessReport processes,
                             List<Finding> findings) {
    public AnalysisResult {
        profileNotes = List.copyOf(profileNotes);
        findings = List.copyOf(findings);
    }
}
