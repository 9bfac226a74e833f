package dev.sonde.analyzer.report.html;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What an HTML report shows besides the tables of its {@link dev.sonde.analyzer.report.Report}: the kernel, free
 * facts for the summary header, and the optional sections filled by the snapshotter (checkpoint), the rollback
 * controller (fork verification) and the scheduler (timeline). Absent sections are not rendered.
 *
 * @param kernel     kernel release of the image
 * @param facts      extra lines of the summary header (e.g. domain, taken at)
 * @param checkpoint the evidence bundle the image came from
 * @param fork       the verification of a forked clone and its rollback
 * @param timeline   what appeared and vanished across scheduled checkpoints
 */
public record ReportContext(Optional<String> kernel, List<Fact> facts, Optional<CheckpointSection> checkpoint,
                            Optional<ForkVerification> fork, Optional<Timeline> timeline) {
    public ReportContext {
        facts = List.copyOf(facts);
    }

    /** No kernel, no facts, no optional section. */
    public static ReportContext empty() {
        return new ReportContext(Optional.empty(), List.of(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    public ReportContext withKernel(String release) {
        return new ReportContext(Optional.of(release), facts, checkpoint, fork, timeline);
    }

    public ReportContext withFact(String label, String value) {
        List<Fact> f = new ArrayList<>(facts);
        f.add(new Fact(label, value));
        return new ReportContext(kernel, f, checkpoint, fork, timeline);
    }

    public ReportContext withCheckpoint(CheckpointSection c) {
        return new ReportContext(kernel, facts, Optional.of(c), fork, timeline);
    }

    public ReportContext withFork(ForkVerification f) {
        return new ReportContext(kernel, facts, checkpoint, Optional.of(f), timeline);
    }

    public ReportContext withTimeline(Timeline t) {
        return new ReportContext(kernel, facts, checkpoint, fork, Optional.of(t));
    }

    /** One labelled value. */
    public record Fact(String label, String value) {
    }
}
