package dev.sonde.cli.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A host command run by the demo (fixture scripts, virsh, pgrep): its stderr lines go to a log as they come, its
 * stdout is returned; a command that outlives its time limit is killed with its children.
 */
final class HostCommand {
    private HostCommand() {
    }

    /** The outcome of a command. */
    record Result(int exitCode, String stdout) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    static Result run(List<String> command, Map<String, String> env, Duration limit, Consumer<String> stderr)
            throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        if (env != null) {
            pb.environment().putAll(env);
        }
        Process p = pb.start();
        StringBuilder out = new StringBuilder();
        Thread errPump = new Thread(() -> pump(p, stderr), "sonde-demo-stderr");
        errPump.setDaemon(true);
        errPump.start();
        Thread outPump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                char[] buf = new char[8192];
                int n;
                while ((n = r.read(buf)) > 0) {
                    synchronized (out) {
                        if (out.length() < 1 << 20) {
                            out.append(buf, 0, n);
                        }
                    }
                }
            } catch (IOException e) {
                // the process is gone
            }
        }, "sonde-demo-stdout");
        outPump.setDaemon(true);
        outPump.start();
        try {
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + ": still running after " + limit.toSeconds() + " s: killed");
            }
            outPump.join(5000);
            errPump.join(5000);
        } catch (InterruptedException e) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", command) + ": interrupted");
        }
        synchronized (out) {
            return new Result(p.exitValue(), out.toString());
        }
    }

    /** Runs a command that must succeed; its exit code and last stderr line otherwise in the exception. */
    static String check(List<String> command, Map<String, String> env, Duration limit, Consumer<String> stderr)
            throws IOException {
        String[] last = {""};
        Result r = run(command, env, limit, line -> {
            last[0] = line;
            stderr.accept(line);
        });
        if (!r.ok()) {
            throw new IOException(String.join(" ", command) + ": exit " + r.exitCode() + (last[0].isEmpty() ? "" : ": " + last[0]));
        }
        return r.stdout();
    }

    private static void pump(Process p, Consumer<String> stderr) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                stderr.accept(line.length() > 400 ? line.substring(0, 400) + "..." : line);
            }
        } catch (IOException e) {
            // the process is gone
        }
    }
}
