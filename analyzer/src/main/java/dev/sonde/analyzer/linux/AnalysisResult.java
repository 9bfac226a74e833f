package dev.sonde.analyzer.linux;

import java.util.List;
import java.util.Optional;

/**
 * Everything the native analyzer found in one Linux memory image: what {@code sonde analyze} prints, what the
 * scheduler diffs between checkpoints and what the rollback controller compares with a clone's own view.
 *
 * @param source        the image analyzed (path as given)
 * @param kernelRelease the kernel release, {@code ?} when unknown
 * @param profileNotes  where the kernel profile came from (first note: the symbol sources used)
 * @param processes     processes, maps and open files
 * @param findings      findings over them
 * @param binaries      the executable files and anonymous executable regions of every process, with page digests
 * @param clock         the guest's wall clock (boot and capture instants) from its timekeeper, when readable
 * @param problems      what could not be read outside the processes themselves (the clock, ...)
 */
public record AnalysisResult(String source, String kernelRelease, List<String> profileNotes, ProcessReport processes,
                             List<Finding> findings, List<MappedBinary> binaries, Optional<BootClock> clock,
                             List<String> problems) {
    public AnalysisResult {
        profileNotes = List.copyOf(profileNotes);
        findings = List.copyOf(findings);
        binaries = List.copyOf(binaries);
        problems = List.copyOf(problems);
    }
}
