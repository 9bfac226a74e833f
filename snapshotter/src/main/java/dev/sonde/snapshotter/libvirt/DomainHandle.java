package dev.sonde.snapshotter.libvirt;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import java.util.Optional;
import org.libvirt.Domain;
import org.libvirt.DomainBlockJobInfo;
import org.libvirt.LibvirtException;

/** One domain of a {@link LibvirtSession}, with the operations a checkpoint needs. */
public final class DomainHandle {
    private final LibvirtSession session;
    private final Domain domain;
    private final String name;
    private final String uuid;

    DomainHandle(LibvirtSession session, Domain domain) throws VirtException {
        this.session = session;
        this.domain = domain;
        try {
            this.name = domain.getName();
            this.uuid = domain.getUUIDString();
        } catch (LibvirtException e) {
            throw new VirtException("domain identity", e);
        }
    }

    public LibvirtSession session() {
        return session;
    }

    public Domain raw() {
        return domain;
    }

    public String name() {
        return name;
    }

    public String uuid() {
        return uuid;
    }

    Pointer ptr() {
        return NativeHandles.of(domain);
    }

    /** A domain state and its reason, as virDomainGetState reports them. */
    public record State(int state, int reason) {
        public boolean running() {
            return state == LibvirtNative.VIR_DOMAIN_RUNNING;
        }

        public boolean paused() {
            return state == LibvirtNative.VIR_DOMAIN_PAUSED;
        }

        public boolean active() {
            return state != LibvirtNative.VIR_DOMAIN_SHUTOFF && state != LibvirtNative.VIR_DOMAIN_NOSTATE;
        }

        public String label() {
            String s = switch (state) {
                case LibvirtNative.VIR_DOMAIN_RUNNING -> "running";
                case LibvirtNative.VIR_DOMAIN_BLOCKED -> "blocked";
                case LibvirtNative.VIR_DOMAIN_PAUSED -> "paused";
                case LibvirtNative.VIR_DOMAIN_SHUTDOWN -> "shutting down";
                case LibvirtNative.VIR_DOMAIN_SHUTOFF -> "shut off";
                case LibvirtNative.VIR_DOMAIN_CRASHED -> "crashed";
                case LibvirtNative.VIR_DOMAIN_PMSUSPENDED -> "pm-suspended";
                default -> "no state";
            };
            if (state == LibvirtNative.VIR_DOMAIN_PAUSED) {
                String r = switch (reason) {
                    case 1 -> "user";
                    case 2 -> "migration";
                    case 3 -> "save";
                    case 4 -> "dump";
                    case 5 -> "I/O error";
                    case 6 -> "watchdog";
                    case 7 -> "from snapshot";
                    case 8 -> "shutting down";
                    case 9 -> "snapshot";
                    case 10 -> "crashed";
                    case 11 -> "starting up";
                    case 12 -> "post-copy";
                    case 13 -> "post-copy failed";
                    default -> "unknown";
                };
                return s + " (" + r + ")";
            }
            return s;
        }
    }

    public State state() throws VirtException {
        IntByReference st = new IntByReference();
        IntByReference reason = new IntByReference();
        if (LibvirtNative.INSTANCE.virDomainGetState(ptr(), st, reason, 0) < 0) {
            throw VirtException.last("virDomainGetState " + name);
        }
        return new State(st.getValue(), reason.getValue());
    }

    public String xml() throws VirtException {
        try {
            return domain.getXMLDesc(0);
        } catch (LibvirtException e) {
            throw new VirtException("virDomainGetXMLDesc " + name, e);
        }
    }

    /** The persistent definition (VIR_DOMAIN_XML_INACTIVE), what the domain boots with next time. */
    public String inactiveXml() throws VirtException {
        try {
            return domain.getXMLDesc(2);
        } catch (LibvirtException e) {
            throw new VirtException("virDomainGetXMLDesc(inactive) " + name, e);
        }
    }

    public void suspend() throws VirtException {
        if (LibvirtNative.INSTANCE.virDomainSuspend(ptr()) < 0) {
            throw VirtException.last("virDomainSuspend " + name);
        }
    }

    public void resume() throws VirtException {
        if (LibvirtNative.INSTANCE.virDomainResume(ptr()) < 0) {
            throw VirtException.last("virDomainResume " + name);
        }
    }

    /** virDomainSnapshotCreateXML with flags; the snapshot object (no metadata is kept) is freed at once. */
    public void snapshotCreate(String xml, int flags) throws VirtException {
        Pointer snap = LibvirtNative.INSTANCE.virDomainSnapshotCreateXML(ptr(), xml, flags);
        if (snap == null) {
            throw VirtException.last("virDomainSnapshotCreateXML " + name);
        }
        LibvirtNative.INSTANCE.virDomainSnapshotFree(snap);
    }

    /** virDomainCoreDumpWithFormat: a memory-only dump is ELF ({@code FORMAT_RAW}) or kdump-compressed. */
    public void coreDump(String path, int format, int flags) throws VirtException {
        if (LibvirtNative.INSTANCE.virDomainCoreDumpWithFormat(ptr(), path, format, flags) < 0) {
            throw VirtException.last("virDomainCoreDumpWithFormat " + name);
        }
    }

    /** virDomainSaveFlags: saves memory to {@code path} and stops the domain ({@code dxml}: replacement XML or null). */
    public void save(String path, String dxml, int flags) throws VirtException {
        if (LibvirtNative.INSTANCE.virDomainSaveFlags(ptr(), path, dxml, flags) < 0) {
            throw VirtException.last("virDomainSaveFlags " + name);
        }
    }

    /** virDomainRestoreFlags on {@code session}'s connection. */
    public static void restore(LibvirtSession session, String path, String dxml, int flags) throws VirtException {
        if (LibvirtNative.INSTANCE.virDomainRestoreFlags(NativeHandles.of(session.connect0()), path, dxml, flags) < 0) {
            throw VirtException.last("virDomainRestoreFlags " + path);
        }
    }

    /** The domain XML a libvirt save image carries (virDomainSaveImageGetXMLDesc). */
    public static String saveImageXml(LibvirtSession session, String path) throws VirtException {
        Pointer p = LibvirtNative.INSTANCE.virDomainSaveImageGetXMLDesc(NativeHandles.of(session.connect0()), path, 0);
        if (p == null) {
            throw VirtException.last("virDomainSaveImageGetXMLDesc " + path);
        }
        try {
            return p.getString(0, "UTF-8");
        } finally {
            Native.free(Pointer.nativeValue(p));
        }
    }

    /** Freezes the guest's file systems through the agent; returns how many were frozen. */
    public int fsFreeze() throws VirtException {
        int n = LibvirtNative.INSTANCE.virDomainFSFreeze(ptr(), null, 0, 0);
        if (n < 0) {
            throw VirtException.last("virDomainFSFreeze " + name);
        }
        return n;
    }

    public int fsThaw() throws VirtException {
        int n = LibvirtNative.INSTANCE.virDomainFSThaw(ptr(), null, 0, 0);
        if (n < 0) {
            throw VirtException.last("virDomainFSThaw " + name);
        }
        return n;
    }

    /** A guest-agent command (JSON); empty when the agent does not answer within {@code timeoutSeconds}. */
    public Optional<String> agentCommand(String json, int timeoutSeconds) {
        Pointer p = LibvirtQemuNative.INSTANCE.virDomainQemuAgentCommand(ptr(), json, timeoutSeconds, 0);
        if (p == null) {
            LibvirtNative.INSTANCE.virResetLastError();
            return Optional.empty();
        }
        try {
            return Optional.of(p.getString(0, "UTF-8"));
        } finally {
            Native.free(Pointer.nativeValue(p));
        }
    }

    /** A guest-agent command (JSON); the reply, or a {@link VirtException} with libvirt's reason. */
    public String agentCommandOrThrow(String json, int timeoutSeconds) throws VirtException {
        Pointer p = LibvirtQemuNative.INSTANCE.virDomainQemuAgentCommand(ptr(), json, timeoutSeconds, 0);
        if (p == null) {
            throw VirtException.last("virDomainQemuAgentCommand " + name);
        }
        try {
            return p.getString(0, "UTF-8");
        } finally {
            Native.free(Pointer.nativeValue(p));
        }
    }

    /**
     * A QEMU monitor command (virDomainQemuMonitorCommand): QMP JSON, or a human monitor (HMP) command line when
     * {@code hmp}. Returns QEMU's reply.
     */
    public String qemuMonitorCommand(String command, boolean hmp) throws VirtException {
        com.sun.jna.ptr.PointerByReference result = new com.sun.jna.ptr.PointerByReference();
        if (LibvirtQemuNative.INSTANCE.virDomainQemuMonitorCommand(ptr(), command, result, hmp ? 1 : 0) < 0) {
            throw VirtException.last("virDomainQemuMonitorCommand " + name);
        }
        Pointer p = result.getValue();
        if (p == null) {
            return "";
        }
        try {
            return p.getString(0, "UTF-8");
        } finally {
            Native.free(Pointer.nativeValue(p));
        }
    }

    /** Starts an active, shallow block commit of {@code target}'s top image into its backing file. */
    public void blockCommitActive(String target) throws VirtException {
        try {
            domain.blockCommit(target, null, null, 0,
                    LibvirtNative.VIR_DOMAIN_BLOCK_COMMIT_ACTIVE | LibvirtNative.VIR_DOMAIN_BLOCK_COMMIT_SHALLOW);
        } catch (LibvirtException e) {
            throw new VirtException("virDomainBlockCommit " + name + " " + target, e);
        }
    }

    /** The block job on {@code target}, if there is one. */
    public Optional<DomainBlockJobInfo> blockJob(String target) throws VirtException {
        try {
            DomainBlockJobInfo i = domain.getBlockJobInfo(target, 0);
            return i == null || i.type == 0 ? Optional.empty() : Optional.of(i);
        } catch (LibvirtException e) {
            throw new VirtException("virDomainGetBlockJobInfo " + name + " " + target, e);
        }
    }

    /** Pivots {@code target} to the commit's base (the original image) and ends the job. */
    public void pivot(String target) throws VirtException {
        try {
            domain.blockJobAbort(target, LibvirtNative.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT);
        } catch (LibvirtException e) {
            throw new VirtException("virDomainBlockJobAbort(pivot) " + name + " " + target, e);
        }
    }

    /** Whether an asynchronous job (save, dump, snapshot, migration) is running on the domain. */
    public boolean jobActive() throws VirtException {
        try {
            return domain.getJobInfo().getType() != 0;
        } catch (LibvirtException e) {
            throw new VirtException("virDomainGetJobInfo " + name, e);
        }
    }

    /** virDomainBackupBegin (push mode; {@code xml} is a domainbackup document). */
    public void backupBegin(String xml) throws VirtException {
        if (LibvirtNative.INSTANCE.virDomainBackupBegin(ptr(), xml, null, 0) < 0) {
            throw VirtException.last("virDomainBackupBegin " + name);
        }
    }

    /**
     * The type of the last completed job (virDomainGetJobStats with VIR_DOMAIN_JOB_STATS_COMPLETED): 3 completed,
     * 4 failed, 5 cancelled, 0 none.
     */
    public int lastCompletedJobType() throws VirtException {
        try {
            return domain.getJobStats(1).type;
        } catch (LibvirtException e) {
            throw new VirtException("virDomainGetJobStats(completed) " + name, e);
        }
    }

    public void abortJob() throws VirtException {
        if (LibvirtNative.INSTANCE.virDomainAbortJob(ptr()) < 0) {
            throw VirtException.last("virDomainAbortJob " + name);
        }
    }

    public void destroy() throws VirtException {
        try {
            domain.destroy();
        } catch (LibvirtException e) {
            throw new VirtException("virDomainDestroy " + name, e);
        }
    }

    public void undefine() throws VirtException {
        try {
            domain.undefine();
        } catch (LibvirtException e) {
            throw new VirtException("virDomainUndefine " + name, e);
        }
    }

    public long memoryKiB() {
        try {
            return domain.getMaxMemory();
        } catch (LibvirtException e) {
            return -1;
        }
    }
}
