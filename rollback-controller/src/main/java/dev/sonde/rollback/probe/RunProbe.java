package dev.sonde.rollback.probe;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/** {@code run:SECONDS}: lets the clone run, checkpoints it and diffs its processes with the bundle's. */
record RunProbe(String spec, int seconds) implements Probe {
    @Override
    public ProbeResult run(ProbeContext ctx) throws IOException {
        Instant until = Instant.now().plusSeconds(seconds);
        if (until.isAfter(ctx.deadline())) {
            throw new IOException("run:" + seconds + " would pass the clone's run-time limit (" + ctx.deadline() + ")");
        }
        ctx.log("letting the clone run for " + seconds + " s");
        while (Instant.now().isBefore(until)) {
            if (!ctx.domain().state().running()) {
                throw new IOException("the clone stopped while running: " + ctx.domain().state().label());
            }
            GuestAgent.sleep(Math.min(1000, Math.max(1, Duration.between(Instant.now(), until).toMillis())));
        }
        Path mem = ctx.checkpointClone();
        ProcessDiff diff = ProcessDiff.of(ctx.sourceAnalysis(), ctx.analyze(mem));
        return new ProbeResult.Run(spec, seconds, mem.toString(), diff);
    }
}
