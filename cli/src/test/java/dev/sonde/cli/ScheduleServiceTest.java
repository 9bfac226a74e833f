package dev.sonde.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sonde schedule} as the service runs it: a separate JVM serving metrics over HTTP and in a textfile, stopped
 * by SIGTERM (what systemd sends), which it logs and obeys. The job's yearly firing never comes during the test.
 */
class ScheduleServiceTest {
    @TempDir
    Path dir;

    @Test
    void servesMetricsAndStopsOnSigterm() throws IOException, InterruptedException {
        Path prom = dir.resolve("textfile/sonde.prom");
        Path cfg = dir.resolve("schedule.properties");
        Files.writeString(cfg, String.join("\n", "store = " + dir.resolve("store"), "uri = test:///default",
                "metrics.listen = 127.0.0.1:0", "metrics.textfile = " + prom, "job.yearly.cron = @yearly",
                "job.yearly.domains = test", ""));
        Path err = dir.resolve("stderr.txt");
        Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), Sonde.class.getName(), "schedule", "--config", cfg.toString()))
                .redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            Pattern listening = Pattern.compile("metrics on (http://127\\.0\\.0\\.1:\\d+/metrics)");
            String url = null;
            for (int i = 0; i < 600 && url == null && p.isAlive(); i++) {
                Matcher m = listening.matcher(Files.readString(err));
                if (m.find()) {
                    url = m.group(1);
                } else {
                    Thread.sleep(100);
                }
            }
            assertTrue(url != null, "no metrics address in: " + Files.readString(err));
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("sonde_schedule_missed_firings_total 0\n"), r.body());
            assertEquals(r.body(), Files.readString(prom));
            assertTrue(Files.readString(err).contains("sonde schedule: 1 job(s) from " + cfg));
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "still running after SIGTERM");
            String log = Files.readString(err);
            assertTrue(log.contains("stopping (after the checkpoints in progress)"), log);
            assertTrue(log.contains("sonde schedule: stopped"), log);
        } finally {
            p.destroyForcibly();
        }
    }
}
