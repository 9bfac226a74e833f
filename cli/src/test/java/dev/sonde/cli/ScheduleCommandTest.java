package dev.sonde.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sonde schedule --check} and configuration errors, in-process (the service itself: ScheduleDayTest). */
class ScheduleCommandTest {
    @TempDir
    Path dir;

    record Result(int exit, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Sonde.commandLine(new PrintWriter(out, true), new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void checkPrintsEachJobAndItsNextFirings() {
        Path example = Path.of(System.getProperty("user.dir")).getParent().resolve("dist/schedule.properties");
        Result r = run("schedule", "--config", example.toString(), "--check", "--firings", "3");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("2 job(s), zone UTC, jitter 120s, 1 per host, 4 in total"), r.out());
        assertTrue(r.out().contains("job web: cron '0 * * * *', domains web-*,api-* on qemu:///system, memory live + disks,"
                + " analyze on, store /var/lib/sonde/bundles, retention keep-last=24 keep-daily=7 keep-weekly=4"
                + " max-age=90d min-count=3"), r.out());
        assertEquals(6, r.out().lines().filter(l -> l.matches("  \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:00Z \\(due .*\\)")).count(),
                r.out());
    }

    @Test
    void badConfigurationIsBadInputNamingFileAndKey() throws IOException {
        Path f = dir.resolve("s.properties");
        Files.writeString(f, "job.x.cron = 61 * * * *\njob.x.domains = a\n");
        Result r = run("schedule", "--config", f.toString(), "--check");
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.err().contains(f + ": job.x.cron: cron '61 * * * *': minute field '61': 61 is outside 0-59"), r.err());
        Result missing = run("schedule", "--config", dir.resolve("nope.properties").toString());
        assertEquals(ExitCodes.BAD_INPUT, missing.exit());
        assertTrue(missing.err().contains("nope.properties: no such file"), missing.err());
    }
}
