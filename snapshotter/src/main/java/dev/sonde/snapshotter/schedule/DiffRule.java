package dev.sonde.snapshotter.schedule;

import java.util.List;
import java.util.Optional;

/**
 * One kind of change the scheduler looks for between two analyzed checkpoints of a domain. Rules are independent, so
 * new ones (binary identities from the knowledge base, sockets, modules) plug in beside these.
 */
public interface DiffRule {
    /**
     * The changes from {@code previous} (empty at the domain's first analyzed checkpoint) to {@code current}, as alerts
     * without job, time and bundle (the scheduler fills those in).
     */
    List<Change> diff(Optional<Observation> previous, Observation current);

    /** An alert's own part. */
    record Change(String kind, String severity, String summary, java.util.Map<String, Object> details) {
    }

    /** The rules Sonde applies by default. */
    static List<DiffRule> standard() {
        return List.of(new ProcessChanges(), new BinaryChanges(), new FindingChanges());
    }
}
