package dev.sonde.snapshotter.schedule;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Where the scheduler gets the time and how it waits for the next firing. {@link #system()} reads the system clock and
 * sleeps; a test supplies one whose {@code sleepUntil} simply moves a fake clock, so a whole day passes in the time
 * the checkpoints themselves take.
 */
public interface TimeSource {
    Clock clock();

    /** Returns once the clock reads {@code t} or later; or early when {@code stop} is called from another thread. */
    void sleepUntil(Instant t) throws InterruptedException;

    /** The real clock (UTC); sleeps in steps of at most a minute so that clock jumps are noticed. */
    static TimeSource system() {
        Clock c = Clock.systemUTC();
        return new TimeSource() {
            @Override
            public Clock clock() {
                return c;
            }

            @Override
            public void sleepUntil(Instant t) throws InterruptedException {
                while (true) {
                    Duration left = Duration.between(c.instant(), t);
                    if (left.isNegative() || left.isZero()) {
                        return;
                    }
                    Thread.sleep(Math.min(left.toMillis() + 1, 60_000));
                }
            }
        };
    }
}
