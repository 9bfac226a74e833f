package dev.sonde.rollback.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sonde.rollback.ForkException;
import dev.sonde.snapshotter.libvirt.DomainHandle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/**
 * Commands inside a clone through the QEMU guest agent ({@code guest-exec} and {@code guest-exec-status}): output
 * captured (the agent caps it at 16 MiB and says when it truncated), every wait bounded.
 */
public final class GuestAgent {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final DomainHandle domain;

    public GuestAgent(DomainHandle domain) {
        this.domain = domain;
    }

    /** The outcome of one command. {@code exitCode} is empty when it did not end in time (or was killed by a signal). */
    public record Outcome(long guestPid, java.util.Optional<Integer> exitCode, java.util.Optional<Integer> signal,
            byte[] stdout, byte[] stderr, boolean truncated, boolean timedOut) {
        public String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        public String err() {
            return new String(stderr, StandardCharsets.UTF_8);
        }
    }

    /** Waits until the agent answers {@code guest-ping}. */
    public void awaitReady(Duration timeout) throws ForkException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (domain.agentCommand("{\"execute\":\"guest-ping\"}", 5).isPresent()) {
                return;
            }
            sleep(500);
        }
        throw new ForkException(ForkException.Kind.ENVIRONMENT, "the clone's guest agent does not answer within "
                + timeout.toSeconds() + " s (is qemu-guest-agent installed and running in the guest?)");
    }

    /** Runs {@code path args...} in the guest, waiting at most {@code timeout}. */
    public Outcome exec(String path, List<String> args, Duration timeout) throws ForkException {
        ObjectNode cmd = JSON.createObjectNode().put("execute", "guest-exec");
        ObjectNode a = cmd.putObject("arguments").put("path", path).put("capture-output", true);
        ArrayNode arr = a.putArray("arg");
        args.forEach(arr::add);
        JsonNode r = call(cmd.toString(), 30);
        long pid = r.path("return").path("pid").asLong(-1);
        if (pid < 0) {
            throw new ForkException(ForkException.Kind.ENVIRONMENT, "guest-exec gave no pid: " + r);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        int wait = 50;
        while (true) {
            JsonNode s = call("{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":" + pid + "}}", 30).path("return");
            if (s.path("exited").asBoolean(false)) {
                return new Outcome(pid,
                        s.has("exitcode") ? java.util.Optional.of(s.get("exitcode").asInt()) : java.util.Optional.empty(),
                        s.has("signal") ? java.util.Optional.of(s.get("signal").asInt()) : java.util.Optional.empty(),
                        decode(s.path("out-data")), decode(s.path("err-data")),
                        s.path("out-truncated").asBoolean(false) || s.path("err-truncated").asBoolean(false), false);
            }
            if (System.nanoTime() > deadline) {
                return new Outcome(pid, java.util.Optional.empty(), java.util.Optional.empty(), new byte[0], new byte[0],
                        false, true);
            }
            sleep(wait);
            wait = Math.min(wait * 2, 500);
        }
    }

    /** A shell command line ({@code /bin/sh -c}). */
    public Outcome shell(String command, Duration timeout) throws ForkException {
        return exec("/bin/sh", List.of("-c", command), timeout);
    }

    private JsonNode call(String json, int timeoutSeconds) throws ForkException {
        String reply;
        try {
            reply = domain.agentCommandOrThrow(json, timeoutSeconds);
        } catch (IOException e) {
            throw new ForkException(ForkException.Kind.ENVIRONMENT, "guest agent: " + e.getMessage() + " ("
                    + abbreviate(json) + ")", e);
        }
        try {
            JsonNode n = JSON.readTree(reply);
            if (n.has("error")) {
                throw new ForkException(ForkException.Kind.ENVIRONMENT, "guest agent error: " + n.get("error"));
            }
            return n;
        } catch (IOException e) {
            if (e instanceof ForkException f) {
                throw f;
            }
            throw new ForkException(ForkException.Kind.ENVIRONMENT, "guest agent reply is not JSON: " + abbreviate(reply));
        }
    }

    private static byte[] decode(JsonNode n) {
        return n.isTextual() ? Base64.getDecoder().decode(n.asText()) : new byte[0];
    }

    private static String abbreviate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
