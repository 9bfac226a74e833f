package dev.sonde.rollback.probe;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;

/** {@code exec:COMMAND}: one shell command in the clone through the guest agent, its output captured. */
record ExecProbe(String spec, String command) implements Probe {
    static final Duration MAX = Duration.ofMinutes(5);

    @Override
    public ProbeResult run(ProbeContext ctx) throws IOException {
        Duration left = Duration.between(Instant.now(), ctx.deadline());
        GuestAgent.Outcome o = ctx.agent().shell(command, left.compareTo(MAX) < 0 ? left : MAX);
        ctx.log("exec '" + command + "': " + (o.timedOut() ? "timed out" : "exit " + o.exitCode().map(String::valueOf).orElse("?")));
        return new ProbeResult.Exec(spec, command, o.guestPid(), o.exitCode().orElse(null), o.signal().orElse(null), o.out(), o.err(),
                o.truncated(), o.timedOut());
    }
}
