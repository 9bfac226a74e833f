package dev.sonde.snapshotter.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.snapshotter.testing.MutableClock;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler's rounds when a round overruns and when checkpoints fail, against libvirt's own test driver
 * ({@code test:///default}, where the domain does not exist, so every checkpoint fails at once): the schedule goes
 * on, a firing that fell due during the long round runs once, late, the older ones are skipped and counted.
 */
class SchedulerRoundsTest {
    @TempDir
    Path tmp;

    @Test
    void anOverrunningRoundSkipsTheFiringsItOverranAndRunsTheLatestLate() throws InterruptedException {
        Properties p = new Properties();
        p.setProperty("store", tmp.resolve("store").toString());
        p.setProperty("uri", "test:///default");
        p.setProperty("job.x.cron", "0 * * * *");
        p.setProperty("job.x.domains", "no-such-domain");
        p.setProperty("job.x.analyze", "false");
        ScheduleConfig c = ScheduleConfig.parse(tmp.resolve("s.properties"), p);
        Instant day = Instant.parse("2026-03-01T00:00:00Z");
        FakeTime time = new FakeTime(day.plusSeconds(30));
        MutableClock clock = (MutableClock) time.clock();
        List<Outcome> outcomes = new ArrayList<>();
        ScheduleMetrics metrics = new ScheduleMetrics();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        ScheduleListener l = o -> {
            outcomes.add(o);
            if (o.scheduled().equals(day.plusSeconds(2 * 3600))) {
                clock.set(day.plusSeconds(5 * 3600 + 1800)); // the 02:00 round ends at 05:30
            }
        };
        try (Scheduler s = new Scheduler(c, time, metrics, List.of(), DiffRule.standard(), l,
                new PrintStream(log, true, StandardCharsets.UTF_8))) {
            s.runUntil(day.plusSeconds(8 * 3600));
        }
        assertEquals(List.of(1, 2, 5, 6, 7, 8), outcomes.stream()
                .map(o -> (int) ((o.scheduled().getEpochSecond() - day.getEpochSecond()) / 3600)).toList());
        Outcome late = outcomes.get(2);
        assertEquals(day.plusSeconds(5 * 3600 + 1800), late.started(), "05:00 ran late, at 05:30");
        for (Outcome o : outcomes) {
            assertTrue(o.bundle().isEmpty());
            assertEquals(1, o.errors().size(), o.errors().toString());
            assertTrue(o.errors().get(0).contains("no-such-domain"), o.errors().toString());
        }
        String m = metrics.render();
        assertTrue(m.contains("sonde_checkpoint_failures_total{job=\"x\",domain=\"no-such-domain\"} 6\n"), m);
        assertTrue(m.contains("sonde_schedule_missed_firings_total 2\n"), m);
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("job x: 2 firing(s) skipped"), text);
        assertTrue(text.contains("FAILED x/no-such-domain (firing 2026-03-01T01:00:00Z)"), text);
    }
}
