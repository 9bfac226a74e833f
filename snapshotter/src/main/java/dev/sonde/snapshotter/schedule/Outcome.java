package dev.sonde.snapshotter.schedule;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What one scheduled checkpoint of one domain came to.
 *
 * @param scheduled      the cron time of the firing
 * @param started        when the checkpoint started (the firing time plus jitter, plus any wait for a host slot)
 * @param bundle         the sealed bundle's name; empty when the checkpoint failed
 * @param pruned         the names of the bundles the job's retention policy deleted afterwards
 * @param alerts         the alerts of the diff against the previous checkpoint
 * @param errors         what failed (checkpoint, analysis, retention, an alert sink)
 */
public record Outcome(String job, String domain, Instant scheduled, Instant started, Optional<String> bundle,
        Optional<String> manifestSha256, double pauseMillis, List<String> pruned, List<Alert> alerts,
        List<String> errors) {
    public Outcome {
        pruned = List.copyOf(pruned);
        alerts = List.copyOf(alerts);
        errors = List.copyOf(errors);
    }
}
