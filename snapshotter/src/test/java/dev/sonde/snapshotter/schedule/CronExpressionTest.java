package dev.sonde.snapshotter.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CronExpressionTest {
    static final ZoneId UTC = ZoneOffset.UTC;

    static List<String> firings(String cron, String from, int n, ZoneId zone) {
        CronExpression c = CronExpression.parse(cron);
        ZonedDateTime t = ZonedDateTime.parse(from);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            t = c.next(t, zone).orElseThrow();
            out.add(t.toOffsetDateTime().toString());
        }
        return out;
    }

    @Test
    void everyThreeHoursFromJustBeforeMidnight() {
        assertEquals(List.of("2026-03-01T00:00Z", "2026-03-01T03:00Z", "2026-03-01T06:00Z", "2026-03-01T09:00Z"),
                firings("0 */3 * * *", "2026-02-28T23:59:00Z", 4, UTC));
    }

    @Test
    void nextIsStrictlyAfter() {
        assertEquals(List.of("2026-03-01T12:00Z", "2026-03-02T00:00Z"), firings("0 0,12 * * *", "2026-03-01T00:00:00Z", 2, UTC));
        assertEquals(List.of("2026-03-01T00:01Z"), firings("* * * * *", "2026-03-01T00:00:59.999Z", 1, UTC));
    }

    @Test
    void rangesListsStepsAndNames() {
        // 30 */6 on weekdays: 2026-11-27 is a Friday
        assertEquals(List.of("2026-11-27T18:30Z", "2026-11-30T00:30Z"), firings("30 */6 * * MON-FRI", "2026-11-27T13:00:00Z", 2, UTC));
        assertEquals(List.of("2026-01-01T08:05Z", "2026-01-01T08:20Z", "2026-01-01T08:35Z", "2026-01-01T08:50Z",
                "2026-01-01T10:05Z"), firings("5/15 8-10/2 * jan,Jul *", "2026-01-01T08:00:00Z", 5, UTC));
        assertEquals(List.of("2026-07-01T08:05Z"), firings("5 8 1 JAN,jul *", "2026-01-02T00:00:00Z", 1, UTC));
        assertEquals(List.of("2026-03-01T00:00Z", "2026-03-08T00:00Z"), firings("@weekly", "2026-02-28T00:00:00Z", 2, UTC));
        assertEquals(firings("0 0 * * 0", "2026-02-28T00:00:00Z", 3, UTC), firings("0 0 * * 7", "2026-02-28T00:00:00Z", 3, UTC));
        assertEquals(firings("0 0 * * 1-5", "2026-02-28T00:00:00Z", 6, UTC), firings("0 0 * * mon-fri", "2026-02-28T00:00:00Z", 6, UTC));
    }

    @Test
    void dayOfMonthAndDayOfWeekBothRestrictedMatchEither() {
        // the 13th, or any Friday: 2026-02-13 is a Friday, 2026-02-20 a Friday, 2026-03-13 a Friday too
        assertEquals(List.of("2026-02-13T00:00Z", "2026-02-20T00:00Z", "2026-02-27T00:00Z", "2026-03-06T00:00Z",
                "2026-03-13T00:00Z"), firings("0 0 13 * FRI", "2026-02-12T00:00:00Z", 5, UTC));
        // day-of-month only: leap day
        assertEquals(List.of("2028-02-29T00:00Z"), firings("0 0 29 2 *", "2026-03-01T00:00:00Z", 1, UTC));
    }

    @Test
    void neverFiringExpressionIsEmptyNotAnEndlessLoop() {
        assertTrue(CronExpression.parse("0 0 31 2 *").next(ZonedDateTime.parse("2026-01-01T00:00:00Z"), UTC).isEmpty());
    }

    @Test
    void daylightSavingGapAndOverlap() {
        ZoneId paris = ZoneId.of("Europe/Paris");
        // 2026-03-29 02:30 does not exist in Paris: fires at 03:30 CEST (01:30Z)
        assertEquals(List.of("2026-03-29T03:30+02:00"), firings("30 2 * * *", "2026-03-28T12:00:00+01:00", 1, paris));
        // 2026-10-25 02:30 happens twice: fires once
        assertEquals(List.of("2026-10-25T02:30+02:00", "2026-10-26T02:30+01:00"),
                firings("30 2 * * *", "2026-10-24T12:00:00+02:00", 2, paris));
    }

    @Test
    void errorsNameTheFieldAndTheProblem() {
        assertEquals("cron '0 24 * * *': hour field '24': 24 is outside 0-23",
                assertThrows(IllegalArgumentException.class, () -> CronExpression.parse("0 24 * * *")).getMessage());
        assertEquals("cron '* * * *': 4 fields, expected 5 (minute hour day-of-month month day-of-week)",
                assertThrows(IllegalArgumentException.class, () -> CronExpression.parse("* * * *")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CronExpression.parse("0 0 * FOO *")).getMessage()
                .startsWith("cron '0 0 * FOO *': month field 'FOO': 'FOO' is not a number or a name"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CronExpression.parse("*/0 * * * *")).getMessage()
                .contains("minute field '*/0': 0 is outside 1-60"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CronExpression.parse("5-1 * * * *")).getMessage()
                .contains("range 5-1 runs backwards"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CronExpression.parse("1,,2 * * * *")).getMessage()
                .contains("empty list element"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CronExpression.parse("@fortnightly")).getMessage()
                .contains("unknown macro"));
    }
}
