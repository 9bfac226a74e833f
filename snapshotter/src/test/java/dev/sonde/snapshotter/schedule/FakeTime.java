package dev.sonde.snapshotter.schedule;

import dev.sonde.snapshotter.testing.MutableClock;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A {@link TimeSource} for tests: waiting moves a {@link MutableClock} forward at once, running on the way the
 * actions registered for instants it passes (to change a guest between two firings).
 */
final class FakeTime implements TimeSource {
    interface Action {
        void run() throws IOException;
    }

    private record Timed(Instant at, Action action) {
    }

    private final MutableClock clock;
    private final List<Timed> actions = new ArrayList<>();
    private final List<Instant> waits = new ArrayList<>();

    FakeTime(Instant start) {
        this.clock = new MutableClock(start);
    }

    void at(Instant t, Action a) {
        actions.add(new Timed(t, a));
        actions.sort(Comparator.comparing(Timed::at));
    }

    /** The instants the scheduler waited for, in order. */
    List<Instant> waits() {
        return List.copyOf(waits);
    }

    @Override
    public Clock clock() {
        return clock;
    }

    @Override
    public void sleepUntil(Instant t) {
        waits.add(t);
        while (!actions.isEmpty() && !actions.get(0).at().isAfter(t)) {
            Timed a = actions.remove(0);
            if (a.at().isAfter(clock.instant())) {
                clock.set(a.at());
            }
            try {
                a.action().run();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        if (t.isAfter(clock.instant())) {
            clock.set(t);
        }
    }
}
