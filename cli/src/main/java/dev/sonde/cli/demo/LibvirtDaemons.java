package dev.sonde.cli.demo;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The libvirt daemons the demo needs on a local URI: when no libvirtd answers, {@code virtlogd} and {@code libvirtd}
 * are started as {@code fixtures/common/libvirt-up.sh} starts them (daemonized, no systemd), and {@link #stop()} stops
 * exactly the ones started here, never a daemon that was already running.
 */
public final class LibvirtDaemons {
    private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(60);

    private final String uri;
    private final Consumer<String> log;
    private final List<Started> started = new ArrayList<>();

    private record Started(String name, long pid) {
    }

    public LibvirtDaemons(String uri, Consumer<String> log) {
        this.uri = uri;
        this.log = log;
    }

    /** Whether libvirt answers at the URI now. */
    public boolean answers() {
        try {
            return HostCommand.run(List.of("virsh", "-c", uri, "version"), null, Duration.ofSeconds(20), l -> { }).ok();
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Makes libvirt answer: nothing when it does; else, for a local {@code qemu:///system} URI, starts the daemons that
     * do not run. Returns what it did.
     */
    public String ensure() throws IOException {
        if (answers()) {
            return "libvirt answers at " + uri;
        }
        if (!uri.equals("qemu:///system")) {
            throw new DemoException(DemoException.Kind.ENVIRONMENT, "libvirt does not answer at " + uri
                    + " and the demo starts daemons only for qemu:///system");
        }
        for (String d : List.of("virtlogd", "libvirtd")) {
            if (pid(d).isPresent()) {
                continue;
            }
            log.accept("starting " + d);
            HostCommand.Result r = HostCommand.run(List.of(d, "-d"), null, Duration.ofSeconds(30), log);
            Optional<Long> pid = pid(d);
            if (pid.isEmpty()) {
                throw new DemoException(DemoException.Kind.ENVIRONMENT, d + " -d failed (exit " + r.exitCode() + ")");
            }
            started.add(new Started(d, pid.get()));
        }
        long deadline = System.nanoTime() + ANSWER_TIMEOUT.toNanos();
        while (!answers()) {
            if (System.nanoTime() > deadline) {
                throw new DemoException(DemoException.Kind.ENVIRONMENT, "libvirtd does not answer at " + uri + " after "
                        + ANSWER_TIMEOUT.toSeconds() + " s");
            }
            sleep(500);
        }
        return "started " + String.join(" and ", started.stream().map(s -> s.name() + " (pid " + s.pid() + ")").toList());
    }

    /** Whether this instance started a daemon. */
    public boolean startedAny() {
        return !started.isEmpty();
    }

    /** Stops the daemons started by {@link #ensure()}, last started first (SIGTERM, then SIGKILL after 15 s). */
    public String stop() {
        if (started.isEmpty()) {
            return null;
        }
        List<String> out = new ArrayList<>();
        for (int i = started.size() - 1; i >= 0; i--) {
            Started s = started.get(i);
            Optional<ProcessHandle> h = ProcessHandle.of(s.pid());
            if (h.isEmpty() || !h.get().info().command().map(c -> c.endsWith("/" + s.name())).orElse(true)) {
                out.add(s.name() + " (pid " + s.pid() + ") already gone");
                continue;
            }
            h.get().destroy();
            try {
                h.get().onExit().get(15, java.util.concurrent.TimeUnit.SECONDS);
                out.add("stopped " + s.name() + " (pid " + s.pid() + ")");
            } catch (Exception e) {
                h.get().destroyForcibly();
                out.add("killed " + s.name() + " (pid " + s.pid() + "): it did not stop on SIGTERM within 15 s");
            }
        }
        started.clear();
        return String.join("; ", out);
    }

    /** The pid of the newest process named exactly {@code name}. */
    private static Optional<Long> pid(String name) throws IOException {
        HostCommand.Result r = HostCommand.run(List.of("pgrep", "-n", "-x", name), null, Duration.ofSeconds(10), l -> { });
        String s = r.stdout().trim();
        return r.ok() && s.matches("\\d+") ? Optional.of(Long.parseLong(s)) : Optional.empty();
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DemoException(DemoException.Kind.INTERRUPTED, "interrupted");
        }
    }
}
