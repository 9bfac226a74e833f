package dev.sonde.snapshotter.schedule;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command per alert with the alert's JSON on its standard input (its output goes to the log). A command that
 * runs longer than the timeout is killed (with its descendants) and reported as failed.
 */
public final class CommandAlertSink implements AlertSink {
    private final List<String> command;
    private final Duration timeout;

    public CommandAlertSink(List<String> command, Duration timeout) {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("empty alert command");
        }
        this.command = List.copyOf(command);
        this.timeout = timeout;
    }

    @Override
    public void send(Alert a) throws IOException {
        Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.INHERIT)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write((a.toJson() + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // the command need not read its input
        }
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                throw new IOException("alert command " + command.get(0) + " still running after " + timeout.toMillis()
                        + " ms: killed");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while the alert command ran", e);
        }
        if (p.exitValue() != 0) {
            throw new IOException("alert command " + command.get(0) + " exited with " + p.exitValue());
        }
    }

    @Override
    public String describe() {
        return "command " + command.get(0);
    }
}
