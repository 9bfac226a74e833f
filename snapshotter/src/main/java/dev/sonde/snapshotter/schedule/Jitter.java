package dev.sonde.snapshotter.schedule;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.SplittableRandom;

/**
 * A random delay in {@code [0, max)} added to each firing so that many hosts with the same schedule do not hit their
 * storage at the same second. The delay of a firing is a function of the seed, the job and the scheduled time: the
 * same seed gives the same delays whatever order jobs run in.
 */
public record Jitter(Duration max, long seed) {
    public Jitter {
        if (max.isNegative()) {
            throw new IllegalArgumentException("jitter cannot be negative");
        }
    }

    public Duration delay(String job, Instant scheduled) {
        long ms = max.toMillis();
        if (ms <= 0) {
            return Duration.ZERO;
        }
        long h = seed;
        for (byte b : job.getBytes(StandardCharsets.UTF_8)) {
            h = h * 31 + b;
        }
        h = h * 1_000_003L + scheduled.getEpochSecond();
        return Duration.ofMillis(new SplittableRandom(h).nextLong(ms));
    }
}
