package dev.sonde.snapshotter.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Retention rules on synthetic bundle lists (no files). */
class RetentionPolicyTest {
    static final Instant NOW = Instant.parse("2026-03-15T12:30:00Z");

    /** One bundle every {@code step}, the newest at {@code newest}, {@code n} in all. */
    static List<StoredBundle> series(Instant newest, Duration step, int n) {
        List<StoredBundle> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Instant t = newest.minus(step.multipliedBy(i));
            String name = BundleNames.name(t, "dom", String.format("id%02d", i));
            out.add(new StoredBundle(Path.of("/store", name), name, t, "dom", false));
        }
        return out;
    }

    static List<Instant> kept(List<RetentionPolicy.Decision> d) {
        return d.stream().filter(RetentionPolicy.Decision::keep).map(x -> x.bundle().time()).collect(Collectors.toList());
    }

    @Test
    void noRuleKeepsEverything() {
        List<RetentionPolicy.Decision> d = RetentionPolicy.none().decide(series(NOW, Duration.ofHours(1), 10), NOW);
        assertEquals(10, kept(d).size());
    }

    @Test
    void keepLastKeepsTheNewestN() {
        List<StoredBundle> b = series(NOW, Duration.ofMinutes(10), 20);
        List<RetentionPolicy.Decision> d = RetentionPolicy.none().withKeepLast(5).decide(b, NOW);
        assertEquals(List.of(NOW, NOW.minusSeconds(600), NOW.minusSeconds(1200), NOW.minusSeconds(1800),
                NOW.minusSeconds(2400)), kept(d));
        assertTrue(d.get(19).reasons().contains("matched by no keep rule"), d.get(19).reasons().toString());
    }

    @Test
    void hourlyKeepsTheNewestOfEachOfTheLastNHoursThatHaveBundles() {
        // every 20 minutes for 10 hours: 12:30, 12:10, 11:50, ...
        List<StoredBundle> b = series(NOW, Duration.ofMinutes(20), 30);
        List<RetentionPolicy.Decision> d = RetentionPolicy.none().withHourly(3).decide(b, NOW);
        assertEquals(List.of(Instant.parse("2026-03-15T12:30:00Z"), Instant.parse("2026-03-15T11:50:00Z"),
                Instant.parse("2026-03-15T10:50:00Z")), kept(d));
    }

    @Test
    void dailyAndWeeklyBucketsUseTheZone() {
        List<StoredBundle> b = series(NOW, Duration.ofHours(6), 4 * 30);
        List<RetentionPolicy.Decision> daily = RetentionPolicy.none().withDaily(3).decide(b, NOW);
        assertEquals(List.of(Instant.parse("2026-03-15T12:30:00Z"), Instant.parse("2026-03-14T18:30:00Z"),
                Instant.parse("2026-03-13T18:30:00Z")), kept(daily));
        // in UTC+10 the day of 2026-03-14T18:30Z is the 15th: the buckets move
        List<RetentionPolicy.Decision> daily10 = RetentionPolicy.none().withDaily(2).withZone(ZoneId.of("+10:00"))
                .decide(b, NOW);
        assertEquals(List.of(Instant.parse("2026-03-15T12:30:00Z"), Instant.parse("2026-03-14T12:30:00Z")), kept(daily10));
        List<RetentionPolicy.Decision> weekly = RetentionPolicy.none().withWeekly(3).decide(b, NOW);
        // 2026-03-15 is a Sunday: ISO weeks end on Sunday
        assertEquals(List.of(Instant.parse("2026-03-15T12:30:00Z"), Instant.parse("2026-03-08T18:30:00Z"),
                Instant.parse("2026-03-01T18:30:00Z")), kept(weekly));
    }

    @Test
    void rulesCombineAsAUnion() {
        List<StoredBundle> b = series(NOW, Duration.ofHours(1), 72);
        List<RetentionPolicy.Decision> d = RetentionPolicy.none().withKeepLast(2).withHourly(4).withDaily(3).decide(b, NOW);
        // last 2 (12:30, 11:30) within hourly 4 (12:30..09:30), plus daily: 15th 12:30, 14th 23:30, 13th 23:30
        assertEquals(List.of(NOW, NOW.minus(Duration.ofHours(1)), NOW.minus(Duration.ofHours(2)),
                NOW.minus(Duration.ofHours(3)), Instant.parse("2026-03-14T23:30:00Z"), Instant.parse("2026-03-13T23:30:00Z")),
                kept(d));
    }

    @Test
    void maxAgeDeletesOldBundlesEvenWhenARuleSelectsThem() {
        List<StoredBundle> b = series(NOW, Duration.ofDays(1), 30);
        List<RetentionPolicy.Decision> d = RetentionPolicy.none().withDaily(30).withMaxAge(Duration.ofDays(7)).decide(b, NOW);
        assertEquals(8, kept(d).size()); // today and the 7 previous days (exactly 7 days old is not older)
        RetentionPolicy.Decision old = d.get(20);
        assertTrue(old.reasons().contains("older than 7d"), old.reasons().toString());
    }

    @Test
    void maxAgeAloneKeepsEverythingYounger() {
        List<StoredBundle> b = series(NOW, Duration.ofHours(12), 10);
        assertEquals(5, kept(RetentionPolicy.none().withMaxAge(Duration.ofHours(48)).decide(b, NOW)).size());
    }

    @Test
    void minimumCountWinsOverMaxAge() {
        // checkpoints stopped a month ago: max-age would delete everything
        List<StoredBundle> b = series(NOW.minus(Duration.ofDays(30)), Duration.ofHours(1), 10);
        List<RetentionPolicy.Decision> d = RetentionPolicy.none().withKeepLast(10).withMaxAge(Duration.ofDays(7))
                .withMinCount(3).decide(b, NOW);
        assertEquals(3, kept(d).size());
        assertTrue(d.get(0).reasons().stream().anyMatch(r -> r.contains("minimum count")), d.get(0).reasons().toString());
    }

    @Test
    void futureBundlesAreKept() {
        List<StoredBundle> b = series(NOW.plus(Duration.ofHours(2)), Duration.ofHours(1), 4);
        List<RetentionPolicy.Decision> d = RetentionPolicy.none().withKeepLast(1).decide(b, NOW);
        // +2h is the last one, +1h is in the future; NOW and NOW-1h match no rule
        assertEquals(List.of(NOW.plus(Duration.ofHours(2)), NOW.plus(Duration.ofHours(1))), kept(d));
    }

    @Test
    void durationsParse() {
        assertEquals(Duration.ofDays(7), RetentionPolicy.parseDuration("7d"));
        assertEquals(Duration.ofHours(36), RetentionPolicy.parseDuration("1d12h"));
        assertEquals(Duration.ofDays(14), RetentionPolicy.parseDuration("2w"));
        assertEquals(Duration.ofMinutes(90), RetentionPolicy.parseDuration("PT90M"));
        assertThrows(IllegalArgumentException.class, () -> RetentionPolicy.parseDuration("7x"));
        assertThrows(IllegalArgumentException.class, () -> RetentionPolicy.parseDuration(""));
        assertThrows(IllegalArgumentException.class,
                () -> new RetentionPolicy(-1, 0, 0, 0, Optional.empty(), 0, ZoneId.of("UTC")));
    }
}
