package dev.sonde.snapshotter.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Small host helpers for the libvirt tests. */
public final class Host {
    private Host() {
    }

    /** Runs a command, returns stdout; fails with its output when it exits non-zero. */
    public static String run(List<String> cmd) throws IOException {
        return run(cmd, null, 600);
    }

    public static String run(List<String> cmd, java.util.Map<String, String> env, int timeoutSeconds) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (env != null) {
            pb.environment().putAll(env);
        }
        Process p = pb.start();
        byte[] out;
        try {
            out = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(cmd + " timed out");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            throw new IOException("interrupted", e);
        }
        String s = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(cmd + " exited " + p.exitValue() + ":\n" + s);
        }
        return s;
    }

    public static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** The repository root (surefire passes it as sonde.repo). */
    public static Path repo() {
        return dev.sonde.analyzer.fixtures.Fixtures.repo();
    }

    public static Path cache() {
        return dev.sonde.analyzer.fixtures.Fixtures.cache();
    }

    /**
     * Waits while a benchmark runs on this machine ({@code pgrep -f benchmarks.jar}), polling every 30 s, at most
     * {@code maxMinutes}: guests under TCG would disturb its figures.
     */
    public static void waitForIdleMachine(int maxMinutes) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(maxMinutes);
        while (System.nanoTime() < deadline) {
            try {
                Process p = new ProcessBuilder("pgrep", "-f", "benchmarks.jar").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor() != 0) {
                    return;
                }
                System.err.println("[test] a benchmark is running (pgrep -f benchmarks.jar): waiting 30 s");
                Thread.sleep(30_000);
            } catch (IOException | InterruptedException e) {
                return;
            }
        }
    }

    /** Starts virtlogd/libvirtd when they are not running (never restarts running daemons). */
    public static void systemLibvirtUp() throws IOException {
        run(List.of(repo().resolve("fixtures/common/libvirt-up.sh").toString()));
    }
}
