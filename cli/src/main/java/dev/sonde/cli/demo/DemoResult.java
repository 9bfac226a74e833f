package dev.sonde.cli.demo;

import dev.sonde.analyzer.linux.Finding;
import dev.sonde.rollback.ForkReport;
import java.util.List;
import java.util.Map;

/**
 * What one demo run did and found: the JSON result ({@code demo.json}). Absent parts are null.
 *
 * @param guest        {@code debian} or {@code tiny}
 * @param domain       the demo guest's domain name
 * @param ready        the guest's readiness line
 * @param startedAt    when the demo started (UTC)
 * @param seconds      the whole run's wall time
 * @param steps        each step's wall time in seconds, in order
 * @param environment  what the demo found or started on the host
 * @param outputs      where everything was written
 * @param checkpoint   the evidence bundle
 * @param analysis     the analysis of the checkpoint's memory
 * @param scenarios    the planted scenarios and what the analysis shows of them
 * @param kb           the knowledge-base step, null when skipped (see {@code kbSkipped})
 * @param kbSkipped    why the knowledge-base step was skipped
 * @param fork         the fork, its probes and the verified rollback
 * @param probesSkipped probes not run, and why
 * @param error        why the demo stopped early, null when it ran to the end
 * @param cleanup      what the teardown did (guest destroyed and undefined, daemons stopped)
 */
public record DemoResult(String guest, String domain, String ready, String startedAt, double seconds,
        Map<String, Double> steps, List<String> environment, Outputs outputs, Checkpoint checkpoint, Analysis analysis,
        List<PlantedScenarios.Seen> scenarios, KnowledgeStep.Outcome kb, String kbSkipped, ForkReport fork,
        List<String> probesSkipped, String error, List<String> cleanup) {

    /** Whether the fork ran and its rollback was verified. */
    @com.fasterxml.jackson.annotation.JsonProperty("rollbackVerified")
    public boolean rollbackVerified() {
        return fork != null && fork.rollback() != null && fork.rollback().verified();
    }

    /** The output files. */
    public record Outputs(String directory, String bundle, String json, String html, String analysisJson) {
    }

    /**
     * The checkpoint's bundle.
     *
     * @param bundle         the bundle directory
     * @param manifestSha256 SHA-256 of its manifest (the anchor to keep off the host)
     * @param verified       whether {@code sonde verify} passes on it
     * @param pauseMillis    the guest's measured pause
     * @param files          each file's name, size and SHA-256
     */
    public record Checkpoint(String bundle, String manifestSha256, boolean verified, Double pauseMillis,
            List<FileHash> files) {
    }

    /** One bundle file. */
    public record FileHash(String name, long size, String sha256) {
    }

    /**
     * The analysis of the checkpoint's memory.
     *
     * @param kernel    kernel release
     * @param processes processes found
     * @param binaries  executable images found
     * @param complete  whether every part was read
     * @param problems  what could not be read
     * @param findings  every finding with its evidence
     */
    public record Analysis(String kernel, int processes, int binaries, boolean complete, List<String> problems,
            List<Finding> findings) {
    }
}
