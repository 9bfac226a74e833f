package dev.sonde.snapshotter.libvirt;

import com.sun.jna.Pointer;
import java.io.Closeable;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Measures how long a guest's vCPUs are stopped, from QEMU's own {@code STOP} and {@code RESUME} monitor events: QEMU
 * timestamps each event (microseconds, when it happened inside QEMU), and libvirt-qemu forwards them with that
 * timestamp, so the pause is measured where it happens, not where the events are received. When the driver has no
 * QEMU monitor (other hypervisors, the test driver) the recorder reports that it could not measure, and the caller
 * falls back to timing the pausing call.
 */
public final class PauseRecorder implements Closeable {
    /** One QEMU event, at QEMU's timestamp. */
    public record Event(String name, Instant at, long epochMicros) {
    }

    /** A stop-to-resume interval. {@code resumedAt} is null when no RESUME followed. */
    public record Interval(Instant stoppedAt, Instant resumedAt, long micros) {
    }

    private final LibvirtSession session;
    private final List<Event> events = new CopyOnWriteArrayList<>();
    private final LibvirtQemuNative.MonitorEventCallback callback;
    private final Pointer conn;
    private int callbackId = -1;
    private String failure;

    private PauseRecorder(LibvirtSession session, DomainHandle dom) {
        this.session = session;
        this.conn = NativeHandles.of(session.connect0());
        this.callback = (c, d, event, seconds, micros, details, opaque) -> {
            long us = seconds * 1_000_000L + Integer.toUnsignedLong(micros);
            events.add(new Event(event, Instant.ofEpochSecond(seconds, Integer.toUnsignedLong(micros) * 1000L), us));
        };
        try {
            callbackId = LibvirtQemuNative.INSTANCE.virConnectDomainQemuMonitorEventRegister(conn, dom.ptr(),
                    "^(STOP|RESUME)$", callback, null, null,
                    LibvirtQemuNative.VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_REGEX);
            if (callbackId < 0) {
                failure = VirtException.last("virConnectDomainQemuMonitorEventRegister").getMessage();
            }
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            failure = "libvirt-qemu unavailable: " + e.getMessage();
            callbackId = -1;
        }
    }

    /** Starts recording the STOP/RESUME events of {@code dom}. */
    public static PauseRecorder start(DomainHandle dom) {
        return new PauseRecorder(dom.session(), dom);
    }

    /** Whether QEMU events are being recorded. */
    public boolean measuring() {
        return callbackId >= 0;
    }

    /** Why events cannot be recorded, when they cannot. */
    public String failure() {
        return failure;
    }

    public List<Event> events() {
        return List.copyOf(events);
    }

    /**
     * Waits until every STOP has its RESUME (events arrive asynchronously, shortly after the call that resumed the
     * guest returns), at most {@code timeout}.
     */
    public void awaitBalanced(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && !balanced()) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private boolean balanced() {
        int open = 0;
        for (Event e : events) {
            if (e.name().equals("STOP")) {
                open++;
            } else if (e.name().equals("RESUME") && open > 0) {
                open--;
            }
        }
        return open == 0;
    }

    /** The stop-to-resume intervals seen so far, in order. */
    public List<Interval> intervals() {
        List<Interval> out = new ArrayList<>();
        Event stop = null;
        for (Event e : events) {
            if (e.name().equals("STOP")) {
                if (stop == null) {
                    stop = e;
                }
            } else if (e.name().equals("RESUME") && stop != null) {
                out.add(new Interval(stop.at(), e.at(), e.epochMicros() - stop.epochMicros()));
                stop = null;
            }
        }
        if (stop != null) {
            out.add(new Interval(stop.at(), null, -1));
        }
        return out;
    }

    /** The total stopped time in microseconds, or -1 when a STOP has no RESUME. */
    public long totalMicros() {
        long sum = 0;
        for (Interval i : intervals()) {
            if (i.micros() < 0) {
                return -1;
            }
            sum += i.micros();
        }
        return sum;
    }

    @Override
    public void close() {
        if (callbackId >= 0) {
            try {
                if (session.alive()) {
                    LibvirtQemuNative.INSTANCE.virConnectDomainQemuMonitorEventDeregister(conn, callbackId);
                }
            } catch (RuntimeException e) {
                // connection gone: the registration went with it
            }
            callbackId = -1;
        }
    }
}
