package dev.sonde.snapshotter.libvirt;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

/**
 * The libvirt calls libvirt-java 0.5.4 lacks or wraps too thinly, bound directly with JNA. Domain and connection
 * pointers come from libvirt-java objects ({@link NativeHandles}).
 */
public interface LibvirtNative extends Library {
    LibvirtNative INSTANCE = Native.load("virt", LibvirtNative.class);

    // virDomainCoreDumpFlags
    int VIR_DUMP_CRASH = 1 << 0;
    int VIR_DUMP_LIVE = 1 << 1;
    int VIR_DUMP_BYPASS_CACHE = 1 << 2;
    int VIR_DUMP_RESET = 1 << 3;
    int VIR_DUMP_MEMORY_ONLY = 1 << 4;

    // virDomainCoreDumpFormat
    int VIR_DOMAIN_CORE_DUMP_FORMAT_RAW = 0;
    int VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_ZLIB = 1;
    int VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_LZO = 2;
    int VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_SNAPPY = 3;

    // virDomainSaveRestoreFlags
    int VIR_DOMAIN_SAVE_BYPASS_CACHE = 1 << 0;
    int VIR_DOMAIN_SAVE_RUNNING = 1 << 1;
    int VIR_DOMAIN_SAVE_PAUSED = 1 << 2;

    // virDomainSnapshotCreateFlags
    int VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA = 1 << 2;
    int VIR_DOMAIN_SNAPSHOT_CREATE_HALT = 1 << 3;
    int VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY = 1 << 4;
    int VIR_DOMAIN_SNAPSHOT_CREATE_REUSE_EXT = 1 << 5;
    int VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE = 1 << 6;
    int VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC = 1 << 7;
    int VIR_DOMAIN_SNAPSHOT_CREATE_LIVE = 1 << 8;

    // virDomainBlockCommitFlags / virDomainBlockJobAbortFlags
    int VIR_DOMAIN_BLOCK_COMMIT_SHALLOW = 1 << 0;
    int VIR_DOMAIN_BLOCK_COMMIT_ACTIVE = 1 << 2;
    int VIR_DOMAIN_BLOCK_JOB_ABORT_ASYNC = 1 << 0;
    int VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT = 1 << 1;

    // virDomainState
    int VIR_DOMAIN_NOSTATE = 0;
    int VIR_DOMAIN_RUNNING = 1;
    int VIR_DOMAIN_BLOCKED = 2;
    int VIR_DOMAIN_PAUSED = 3;
    int VIR_DOMAIN_SHUTDOWN = 4;
    int VIR_DOMAIN_SHUTOFF = 5;
    int VIR_DOMAIN_CRASHED = 6;
    int VIR_DOMAIN_PMSUSPENDED = 7;

    // error codes (virErrorNumber) Sonde reacts to
    int VIR_ERR_NO_DOMAIN = 42;
    int VIR_ERR_OPERATION_INVALID = 55;
    int VIR_ERR_BLOCK_COPY_ACTIVE = 83;
    int VIR_ERR_AGENT_UNRESPONSIVE = 86;

    int virDomainCoreDumpWithFormat(Pointer dom, String to, int dumpformat, int flags);

    int virDomainSaveFlags(Pointer dom, String to, String dxml, int flags);

    int virDomainRestoreFlags(Pointer conn, String from, String dxml, int flags);

    /** Returns a malloc'ed string (free it) or null. */
    Pointer virDomainSaveImageGetXMLDesc(Pointer conn, String file, int flags);

    Pointer virDomainSnapshotCreateXML(Pointer dom, String xmlDesc, int flags);

    int virDomainSnapshotFree(Pointer snapshot);

    int virDomainFSFreeze(Pointer dom, Pointer mountpoints, int nmountpoints, int flags);

    int virDomainFSThaw(Pointer dom, Pointer mountpoints, int nmountpoints, int flags);

    int virDomainGetState(Pointer dom, IntByReference state, IntByReference reason, int flags);

    int virDomainSuspend(Pointer dom);

    int virDomainResume(Pointer dom);

    int virDomainAbortJob(Pointer dom);

    int virDomainBackupBegin(Pointer dom, String backupXML, String checkpointXML, int flags);

    String virGetLastErrorMessage();

    int virGetLastErrorCode();

    void virResetLastError();

    /** void (*virErrorFunc)(void *userData, virErrorPtr error). */
    interface ErrorFunc extends Callback {
        void invoke(Pointer userData, Pointer error);
    }

    void virSetErrorFunc(Pointer userData, ErrorFunc handler);
}
