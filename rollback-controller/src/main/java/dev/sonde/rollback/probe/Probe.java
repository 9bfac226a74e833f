package dev.sonde.rollback.probe;

import java.io.IOException;

/**
 * One inspection of a clone. Probes run in the order given while the clone runs ({@link Phase#LIVE}), or after it was
 * stopped and before its files are deleted ({@link Phase#AFTER_STOP}); each returns a typed result. A probe may do
 * anything to the clone: it is rolled back whatever happens.
 */
public interface Probe {
    /** When a probe runs. */
    enum Phase { LIVE, AFTER_STOP }

    /** The probe as given on the command line, e.g. {@code run:30}. */
    String spec();

    default Phase phase() {
        return Phase.LIVE;
    }

    ProbeResult run(ProbeContext context) throws IOException;
}
