package dev.sonde.snapshotter.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.snapshotter.MemoryMode;
import dev.sonde.snapshotter.store.RetentionPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScheduleConfigTest {
    @TempDir
    Path dir;

    @Test
    void theShippedExampleParses() throws IOException {
        Path example = Path.of(System.getProperty("user.dir")).getParent().resolve("dist/schedule.properties");
        ScheduleConfig c = ScheduleConfig.load(example);
        assertEquals(List.of("db", "web"), c.jobs().stream().map(JobSpec::name).toList());
        JobSpec web = c.jobs().get(1);
        assertEquals("0 * * * *", web.cron().text());
        assertEquals(List.of("web-*", "api-*"), web.domains());
        assertTrue(web.selects("web-01") && web.selects("api-x") && !web.selects("db-primary"));
        assertEquals("qemu:///system", web.uri());
        assertEquals(MemoryMode.LIVE, web.options().memory());
        assertTrue(web.analyze());
        assertEquals(RetentionPolicy.none().withKeepLast(24).withDaily(7).withWeekly(4).withMaxAge(Duration.ofDays(90))
                .withMinCount(3), web.retention());
        JobSpec db = c.jobs().get(0);
        assertFalse(db.options().disks());
        assertTrue(db.selects("db-primary") && !db.selects("db-primary2"));
        assertEquals(Duration.ofMinutes(2), c.jitter());
        assertEquals(Optional.empty(), c.jitterSeed());
        assertEquals(1, c.perHostConcurrency());
        assertEquals(4, c.totalConcurrency());
        assertEquals(Optional.of(Path.of("/var/lib/sonde/alerts.jsonl")), c.alertsJsonl());
        assertEquals(Optional.empty(), c.alertCommand());
        assertEquals(9464, c.metricsListen().orElseThrow().getPort());
        assertEquals(ZoneId.of("UTC"), c.zone());
    }

    ScheduleConfigException bad(String text) throws IOException {
        Path f = dir.resolve("s.properties");
        Files.writeString(f, text);
        return assertThrows(ScheduleConfigException.class, () -> ScheduleConfig.load(f));
    }

    @Test
    void errorsNameTheFileAndTheKey() throws IOException {
        String f = dir.resolve("s.properties").toString();
        assertEquals(f + ": job.x.cron: cron '0 25 * * *': hour field '25': 25 is outside 0-23",
                bad("job.x.cron = 0 25 * * *\njob.x.domains = a\n").getMessage());
        assertEquals(f + ": job.x.domains: missing", bad("job.x.cron = @hourly\n").getMessage());
        assertTrue(bad("job.x.cron = @hourly\njob.x.domains = a\njob.x.colour = red\n").getMessage()
                .startsWith(f + ": job.x.colour: unknown job key 'colour'"));
        assertTrue(bad("jiter = 2m\njob.x.cron = @hourly\njob.x.domains = a\n").getMessage()
                .startsWith(f + ": jiter: unknown key"));
        assertTrue(bad("job.x.cron = @hourly\njob.x.domains = a\njob.x.retention = keep-last=3 keep-forever\n")
                .getMessage().startsWith(f + ": job.x.retention: 'keep-forever' is not a rule"));
        assertEquals(f + ": job.x.memory: unknown memory mode 'tape' (live, elf, kdump-zlib, kdump-lzo, kdump-snappy)",
                bad("job.x.cron = @hourly\njob.x.domains = a\njob.x.memory = tape\n").getMessage());
        assertEquals(f + ": concurrency.per-host: 0 is outside 1-64",
                bad("concurrency.per-host = 0\njob.x.cron = @hourly\njob.x.domains = a\n").getMessage());
        assertEquals(f + ": metrics.listen: HOST:PORT expected, not '9464'",
                bad("metrics.listen = 9464\njob.x.cron = @hourly\njob.x.domains = a\n").getMessage());
        assertEquals(f + ": no job (add job.NAME.cron and job.NAME.domains)", bad("store = /tmp\n").getMessage());
    }
}
