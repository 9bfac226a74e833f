package dev.sonde.snapshotter.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScheduleMetricsTest {
    @TempDir
    Path dir;

    /** Every line is a comment (HELP/TYPE) or {@code name{labels} value} of a family declared before it. */
    static void assertExposition(String body) {
        Pattern sample = Pattern.compile("([a-z_]+)(\\{[^}]*\\})? (-?[0-9.e+]+|NaN)");
        java.util.Set<String> typed = new java.util.HashSet<>();
        for (String l : body.split("\n")) {
            if (l.startsWith("# TYPE ")) {
                typed.add(l.split(" ")[2]);
            } else if (!l.startsWith("# HELP ")) {
                var m = sample.matcher(l);
                assertTrue(m.matches(), "bad line: " + l);
                String fam = m.group(1).replaceAll("_(sum|count)$", "");
                assertTrue(typed.contains(fam) || typed.contains(m.group(1)), "no TYPE before " + l);
            }
        }
        assertTrue(body.endsWith("\n"));
    }

    @Test
    void servedOverHttpInTheTextFormatAndWrittenAsATextfile() throws IOException, InterruptedException {
        ScheduleMetrics m = new ScheduleMetrics();
        m.checkpoint("web", "vm\"1", 4.5, 300_000_000L, 0.0096, 1_772_323_380);
        m.checkpoint("web", "vm\"1", 5.5, 310_000_000L, 0.0104, 1_772_326_980);
        m.failure("web", "vm2");
        m.alert("web", "vm\"1", "process-started");
        m.pruned("web", "vm\"1", 2);
        String body;
        try (MetricsServer s = MetricsServer.start(new InetSocketAddress("127.0.0.1", 0), m)) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + s.address().getPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("Content-Type").orElseThrow());
            body = r.body();
        }
        assertExposition(body);
        String l = "{job=\"web\",domain=\"vm\\\"1\"}";
        assertTrue(body.contains("sonde_checkpoints_total" + l + " 2\n"), body);
        assertTrue(body.contains("sonde_checkpoint_duration_seconds_sum" + l + " 10\n"), body);
        assertTrue(body.contains("sonde_checkpoint_pause_seconds_sum" + l + " 0.020000\n"), body);
        assertTrue(body.contains("sonde_checkpoint_last_bytes" + l + " 310000000\n"), body);
        assertTrue(body.contains("sonde_checkpoint_last_success_timestamp_seconds" + l + " 1772326980\n"), body);
        assertTrue(body.contains("sonde_checkpoint_failures_total{job=\"web\",domain=\"vm2\"} 1\n"), body);
        assertTrue(body.contains("sonde_alerts_total{job=\"web\",domain=\"vm\\\"1\",kind=\"process-started\"} 1\n"), body);
        assertTrue(body.contains("sonde_bundles_pruned_total" + l + " 2\n"), body);
        // vm2 never succeeded: no last-success sample rather than a made-up one
        assertTrue(!body.contains("sonde_checkpoint_last_success_timestamp_seconds{job=\"web\",domain=\"vm2\"}"), body);
        Path f = dir.resolve("sonde.prom");
        m.writeTextfile(f);
        assertEquals(m.render(), Files.readString(f));
    }
}
