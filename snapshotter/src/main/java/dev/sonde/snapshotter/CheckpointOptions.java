package dev.sonde.snapshotter;

import dev.sonde.snapshotter.bundle.BundleArchive;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * What a checkpoint does.
 *
 * @param memory           how memory is captured
 * @param disks            whether writable disks are captured
 * @param diskMethod       how disks are captured
 * @param excludeDisks     disk targets left out
 * @param quiesce          guest-agent file system freeze around the disk snapshot
 * @param archive          also pack the sealed bundle into one archive file (the directory is then removed)
 * @param staging          where libvirt writes the memory image before Sonde copies it into the bundle
 * @param stagingDir       the directory for {@link Staging#DIR}
 * @param hypervisorUser   the user an unprivileged libvirtd writes files as, when it is not this process's user
 * @param reconnectTimeout how long to wait for libvirtd to come back when the connection drops
 * @param commitTimeout    how long merging one overlay back may take
 * @param sondeVersion     recorded in the manifest
 */
public record CheckpointOptions(MemoryMode memory, boolean disks, DiskMethod diskMethod, Set<String> excludeDisks,
        Quiesce quiesce,
        Optional<BundleArchive.Kind> archive, Staging staging, Optional<Path> stagingDir, Optional<String> hypervisorUser,
        Duration reconnectTimeout, Duration commitTimeout, String sondeVersion) {

    /** How disks are captured at the instant of the memory image. */
    public enum DiskMethod {
        /**
         * External overlay in the same libvirt snapshot as memory (in the same vCPU stop); Sonde copies the images the
         * guest no longer writes to, then merges the overlay back (active block commit + pivot). Works with every memory
         * mode; the default.
         */
        OVERLAY,
        /**
         * Dump modes only: a push-mode backup job (virDomainBackupBegin) started while the guest is still paused after
         * the memory dump; QEMU writes one flattened qcow2 per disk in the background after the guest resumes. The
         * guest's chain is never touched.
         */
        BACKUP
    }

    /** Guest file system freeze through the QEMU guest agent. */
    public enum Quiesce {
        /** freeze when the domain has a guest agent that answers and disks are captured */
        AUTO,
        /** freeze, fail when there is no agent */
        ON,
        /** never */
        OFF
    }

    /** Where the memory image is first written. */
    public enum Staging {
        /**
         * A private directory in {@code /dev/shm} when the guest's memory fits there and libvirt is local: QEMU's
         * writes and libvirt's final fdatasync of the image (inside the guest's pause) then cost no disk I/O, and Sonde
         * hashes the image while it copies it into the bundle. Otherwise as {@link #NONE}.
         */
        AUTO,
        /** libvirt writes straight into the partial bundle; Sonde hashes the image right after. */
        NONE,
        /** a given directory */
        DIR
    }

    public static CheckpointOptions defaults() {
        return new CheckpointOptions(MemoryMode.LIVE, true, DiskMethod.OVERLAY, Set.of(), Quiesce.AUTO, Optional.empty(),
                Staging.AUTO, Optional.empty(), Optional.empty(), Duration.ofSeconds(60), Duration.ofMinutes(10), defaultVersion());
    }

    static String defaultVersion() {
        String v = CheckpointOptions.class.getPackage().getImplementationVersion();
        return v == null ? "development build" : v;
    }

    public CheckpointOptions withMemory(MemoryMode m) {
        return new CheckpointOptions(m, disks, diskMethod, excludeDisks, quiesce, archive, staging, stagingDir, hypervisorUser,
                reconnectTimeout, commitTimeout, sondeVersion);
    }

    public CheckpointOptions withDisks(boolean d) {
        return new CheckpointOptions(memory, d, diskMethod, excludeDisks, quiesce, archive, staging, stagingDir, hypervisorUser,
                reconnectTimeout, commitTimeout, sondeVersion);
    }

    public CheckpointOptions withDiskMethod(DiskMethod m) {
        return new CheckpointOptions(memory, disks, m, excludeDisks, quiesce, archive, staging, stagingDir, hypervisorUser,
                reconnectTimeout, commitTimeout, sondeVersion);
    }

    public CheckpointOptions withExcludeDisks(Set<String> x) {
        return new CheckpointOptions(memory, disks, diskMethod, Set.copyOf(x), quiesce, archive, staging, stagingDir, hypervisorUser,
                reconnectTimeout, commitTimeout, sondeVersion);
    }

    public CheckpointOptions withQuiesce(Quiesce q) {
        return new CheckpointOptions(memory, disks, diskMethod, excludeDisks, q, archive, staging, stagingDir, hypervisorUser,
                reconnectTimeout, commitTimeout, sondeVersion);
    }

    public CheckpointOptions withArchive(Optional<BundleArchive.Kind> a) {
        return new CheckpointOptions(memory, disks, diskMethod, excludeDisks, quiesce, a, staging, stagingDir, hypervisorUser,
                reconnectTimeout, commitTimeout, sondeVersion);
    }

    public CheckpointOptions withStaging(Staging s, Optional<Path> dir) {
        return new CheckpointOptions(memory, disks, diskMethod, excludeDisks, quiesce, archive, s, dir, hypervisorUser,
                reconnectTimeout, commitTimeout, sondeVersion);
    }

    public CheckpointOptions withHypervisorUser(Optional<String> u) {
        return new CheckpointOptions(memory, disks, diskMethod, excludeDisks, quiesce, archive, staging, stagingDir, u,
                reconnectTimeout, commitTimeout, sondeVersion);
    }

    public CheckpointOptions withReconnectTimeout(Duration d) {
        return new CheckpointOptions(memory, disks, diskMethod, excludeDisks, quiesce, archive, staging, stagingDir, hypervisorUser,
                d, commitTimeout, sondeVersion);
    }

    public CheckpointOptions withSondeVersion(String v) {
        return new CheckpointOptions(memory, disks, diskMethod, excludeDisks, quiesce, archive, staging, stagingDir, hypervisorUser,
                reconnectTimeout, commitTimeout, v);
    }
}
