package dev.sonde.rollback.probe;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** The typed result of one probe; {@link #probe()} is the probe as given. */
public sealed interface ProbeResult {
    String probe();

    /** {@code run}, {@code exec}, {@code crossview}, {@code qmp}, {@code diskdiff} or {@code failed}. */
    @JsonProperty("kind")
    String kind();

    /** The probe could not complete: why. */
    record Failed(String probe, String error) implements ProbeResult {
        public String kind() {
            return "failed";
        }
    }

    /**
     * {@code run:SECONDS}: the clone ran that long and was checkpointed; its processes compared with the bundle's.
     *
     * @param checkpointMemory the clone checkpoint's memory image (deleted with the clone)
     */
    record Run(String probe, int seconds, String checkpointMemory, ProcessDiff diff) implements ProbeResult {
        public String kind() {
            return "run";
        }
    }

    /** {@code exec:COMMAND}: a shell command in the guest, its exit code or signal (null: none) and captured output. */
    record Exec(String probe, String command, long guestPid, Integer exitCode, Integer signal,
            String stdout, String stderr, boolean truncated, boolean timedOut) implements ProbeResult {
        public String kind() {
            return "exec";
        }
    }

    /**
     * {@code crossview}: the guest's own process and open-file view against Sonde's analysis of a checkpoint taken
     * right after it.
     */
    record CrossView(String probe, int guestProcesses, int memoryProcesses, long listingPid,
            List<CrossViewDifference> differences) implements ProbeResult {
        public String kind() {
            return "crossview";
        }
    }

    /** {@code qmp:COMMAND}: QEMU's reply. */
    record Qmp(String probe, String command, boolean hmp, String reply) implements ProbeResult {
        public String kind() {
            return "qmp";
        }
    }

    /**
     * {@code diskdiff}: per disk, the guest ranges the clone's overlay holds (what the clone wrote), and the files
     * they belong to when that mapping is available.
     */
    record DiskDiff(String probe, List<DiskChanges> disks) implements ProbeResult {
        public String kind() {
            return "diskdiff";
        }
    }

    /**
     * One disk's changes: the overlay's allocated clusters ({@code allocatedBytes}), the 4 KiB blocks among them whose
     * content differs from the checkpoint's ({@code changedBytes}, -1 when not compared; {@code ranges} are those
     * blocks then), and which guest files they belong to ({@code files}), or why that is not known ({@code filesNote}).
     */
    record DiskChanges(String target, long virtualSize, int clusterSize, long allocatedBytes, long changedBytes, int rangeCount,
            List<Range> ranges, boolean rangesTruncated, List<String> files, String filesNote) {
    }

    /** A guest disk byte range the clone wrote ({@code zero}: recorded as zeros). */
    record Range(long offset, long length, boolean zero) {
    }
}
