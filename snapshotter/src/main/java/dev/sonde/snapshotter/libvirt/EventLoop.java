package dev.sonde.snapshotter.libvirt;

import org.libvirt.Library;
import org.libvirt.LibvirtException;

/**
 * libvirt's default event loop, run on one daemon thread for the whole JVM: it delivers domain and QEMU monitor events
 * and keepalives. It must be registered before the first connection is opened.
 */
final class EventLoop {
    private static boolean started;
    private static final LibvirtNative.ErrorFunc QUIET = (userData, error) -> {
        // errors are read with virGetLastError* by the caller; do not print them to stderr
    };

    private EventLoop() {
    }

    static synchronized void ensureStarted() throws VirtException {
        if (started) {
            return;
        }
        LibvirtNative.INSTANCE.virSetErrorFunc(null, QUIET);
        try {
            Library.initEventLoop();
        } catch (LibvirtException e) {
            throw new VirtException("virEventRegisterDefaultImpl", e);
        }
        Thread t = new Thread(() -> {
            while (true) {
                try {
                    Library.processEvent();
                } catch (LibvirtException | RuntimeException e) {
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
        }, "libvirt-event-loop");
        t.setDaemon(true);
        t.start();
        started = true;
    }
}
