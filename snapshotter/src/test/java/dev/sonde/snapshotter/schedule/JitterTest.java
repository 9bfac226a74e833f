package dev.sonde.snapshotter.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class JitterTest {
    @Test
    void boundedSeededAndSpread() {
        Jitter j = new Jitter(Duration.ofMinutes(10), 7);
        Instant t = Instant.parse("2026-03-01T00:00:00Z");
        Set<Duration> seen = new HashSet<>();
        for (int h = 0; h < 200; h++) {
            Duration d = j.delay("a", t.plusSeconds(3600L * h));
            assertTrue(!d.isNegative() && d.compareTo(Duration.ofMinutes(10)) < 0, d.toString());
            assertEquals(d, new Jitter(Duration.ofMinutes(10), 7).delay("a", t.plusSeconds(3600L * h)));
            seen.add(d);
        }
        assertTrue(seen.size() > 190, "delays spread: " + seen.size());
        assertNotEquals(j.delay("a", t), j.delay("b", t));
        assertNotEquals(j.delay("a", t), new Jitter(Duration.ofMinutes(10), 8).delay("a", t));
        assertEquals(Duration.ZERO, new Jitter(Duration.ZERO, 7).delay("a", t));
    }
}
