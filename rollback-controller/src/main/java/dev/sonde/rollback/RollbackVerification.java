package dev.sonde.rollback;

import java.util.List;

/**
 * What Sonde checked after a clone was rolled back.
 *
 * @param bundleUnchanged       every bundle file still has its manifest SHA-256 (and the manifest is unchanged)
 * @param bundleProblems        the bundle files that changed, if any
 * @param originalChecked       whether the original domain exists at this URI (otherwise nothing to compare)
 * @param originalUnchanged     its state, live XML and disk chains are as before the fork
 * @param originalState         its state after the rollback
 * @param originalChains        its disk chains after the rollback
 * @param originalProblems      what differs
 * @param cloneDomainGone       no domain with the clone's UUID or name remains
 * @param cloneFilesGone        the clone's directory (overlays, save image copy, console, checkpoints) and libvirt's QEMU log of it are gone
 * @param journalGone           the fork's journal entry is gone
 * @param actions               what the rollback did, in order
 * @param rollbackMillis        from the rollback request to the verified state
 */
public record RollbackVerification(boolean bundleUnchanged, List<String> bundleProblems, boolean originalChecked,
        boolean originalUnchanged, String originalState, java.util.Map<String, List<String>> originalChains,
        List<String> originalProblems, boolean cloneDomainGone, boolean cloneFilesGone, boolean journalGone,
        List<String> actions, double rollbackMillis) {

    /** Whether the rollback is verified: bundle and original unchanged, nothing of the clone left. */
    @com.fasterxml.jackson.annotation.JsonProperty("verified")
    public boolean verified() {
        return bundleUnchanged && originalUnchanged && cloneDomainGone && cloneFilesGone && journalGone;
    }
}
