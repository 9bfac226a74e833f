package dev.sonde.analyzer.report.html;

import java.util.List;

/**
 * What was checked on a forked clone of a checkpoint and after its rollback (probes run, clone destroyed, original
 * untouched), each check with its outcome.
 *
 * @param passed  every check passed
 * @param summary one sentence
 * @param checks  the checks, in the order they ran
 */
public record ForkVerification(boolean passed, String summary, List<Check> checks) {
    public ForkVerification {
        checks = List.copyOf(checks);
    }

    /** One check and its evidence. */
    public record Check(String name, boolean passed, String detail) {
    }
}
