package dev.sonde.snapshotter.libvirt;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

/** libvirt-qemu: the guest agent and QEMU monitor (events with QEMU's own timestamps). */
public interface LibvirtQemuNative extends Library {
    LibvirtQemuNative INSTANCE = Native.load("virt-qemu", LibvirtQemuNative.class);

    int VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_REGEX = 1;
    int VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_NOCASE = 2;

    /** Returns a malloc'ed JSON reply (free it) or null on error. */
    Pointer virDomainQemuAgentCommand(Pointer domain, String cmd, int timeout, int flags);

    int virDomainQemuMonitorCommand(Pointer domain, String cmd, PointerByReference result, int flags);

    /**
     * {@code void (*)(virConnectPtr, virDomainPtr, const char *event, long long seconds, unsigned int micros,
     * const char *details, void *opaque)}: seconds/micros are QEMU's timestamp of the event.
     */
    interface MonitorEventCallback extends Callback {
        void invoke(Pointer conn, Pointer dom, String event, long seconds, int micros, String details, Pointer opaque);
    }

    int virConnectDomainQemuMonitorEventRegister(Pointer conn, Pointer dom, String event, MonitorEventCallback cb,
            Pointer opaque, Pointer freecb, int flags);

    int virConnectDomainQemuMonitorEventDeregister(Pointer conn, int callbackID);
}
