package dev.sonde.analyzer.report.html;

import java.util.List;
import java.util.Optional;

/**
 * The evidence bundle a report was made from: where it is, the anchor hash of its manifest, a few facts of the
 * manifest (domain, times, pause) and every file with its size and SHA-256.
 *
 * @param bundle         path of the bundle
 * @param manifestSha256 SHA-256 of {@code manifest.json}
 * @param verified       the outcome of {@code sonde verify}, when it was run
 * @param facts          facts of the manifest, in display order
 * @param files          the bundle's files
 */
public record CheckpointSection(String bundle, Optional<String> manifestSha256, Optional<Boolean> verified,
                                List<ReportContext.Fact> facts, List<FileHash> files) {
    public CheckpointSection {
        facts = List.copyOf(facts);
        files = List.copyOf(files);
    }

    /** One file of the bundle. */
    public record FileHash(String name, long size, String sha256) {
    }
}
