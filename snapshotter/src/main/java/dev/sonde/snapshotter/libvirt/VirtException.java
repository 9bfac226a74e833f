package dev.sonde.snapshotter.libvirt;

import java.io.IOException;
import org.libvirt.LibvirtException;

/** A libvirt call that failed: the operation, libvirt's error code and message. */
public class VirtException extends IOException {
    private final int code;

    public VirtException(String operation, int code, String message) {
        super(operation + ": " + (message == null ? "unknown libvirt error" : message));
        this.code = code;
    }

    public VirtException(String operation, LibvirtException e) {
        super(operation + ": " + e.getError().getMessage(), e);
        this.code = e.getError().getCode() == null ? -1 : e.getError().getCode().ordinal();
    }

    /** libvirt's virErrorNumber, or -1. */
    public int code() {
        return code;
    }

    /** The last error of the calling thread, after a native call failed. */
    static VirtException last(String operation) {
        LibvirtNative n = LibvirtNative.INSTANCE;
        VirtException e = new VirtException(operation, n.virGetLastErrorCode(), n.virGetLastErrorMessage());
        n.virResetLastError();
        return e;
    }
}
