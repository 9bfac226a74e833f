package dev.sonde.rollback;

import dev.sonde.rollback.probe.ProbeResult;
import java.util.List;

/**
 * The outcome of one {@code sonde fork}: the clone, its probes' results, and the verified rollback.
 *
 * @param forkId         the fork's id (its journal and directory name)
 * @param bundle         the bundle forked
 * @param original       the original domain's name
 * @param cloneName      the clone's name
 * @param cloneUuid      the clone's UUID
 * @param bounds         the bounds applied to the clone (network, run time, CPU)
 * @param forkMillis     from the fork request to the clone running
 * @param error          why the fork or a probe phase stopped early, null when it did not
 * @param reconciled     what start-up reconciliation cleaned of earlier forks
 * @param probes         each probe's result, in order
 * @param rollback       the rollback and its verification
 */
public record ForkReport(String forkId, String bundle, String original, String cloneName, String cloneUuid,
        List<String> bounds, double forkMillis, String error, List<String> reconciled, List<ProbeResult> probes,
        RollbackVerification rollback) {
}
