package dev.sonde.snapshotter.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JSONL and command alert sinks, with real files and real processes. */
class AlertSinksTest {
    @TempDir
    Path dir;

    static final Alert ALERT = new Alert("2026-03-01T09:03:00Z", "a", "vm1", "process-started", "medium", "B2", "B1",
            "process 60 (evil) started", Map.of("pid", 60, "comm", "evil"));

    @Test
    void jsonlAppendsOneObjectPerLine() throws IOException {
        Path f = dir.resolve("sub/alerts.jsonl");
        JsonlAlertSink s = new JsonlAlertSink(f);
        s.send(ALERT);
        s.send(ALERT);
        List<String> lines = Files.readAllLines(f);
        assertEquals(2, lines.size());
        JsonNode n = new ObjectMapper().readTree(lines.get(1));
        assertEquals("process-started", n.path("kind").asText());
        assertEquals(60, n.path("details").path("pid").asInt());
        assertEquals("B1", n.path("previousBundle").asText());
    }

    Path script(String body) throws IOException {
        Path p = dir.resolve("hook-" + System.nanoTime() + ".sh");
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        return p;
    }

    @Test
    void commandGetsTheAlertOnStdin() throws IOException {
        Path out = dir.resolve("got.json");
        new CommandAlertSink(List.of(script("cat > '" + out + "'").toString()), Duration.ofSeconds(20)).send(ALERT);
        assertEquals(ALERT.toJson(), Files.readString(out).trim());
    }

    @Test
    void commandThatFailsOrHangsIsReportedAndKilled() throws IOException {
        IOException e = assertThrows(IOException.class,
                () -> new CommandAlertSink(List.of(script("exit 3").toString()), Duration.ofSeconds(20)).send(ALERT));
        assertTrue(e.getMessage().endsWith("exited with 3"), e.getMessage());
        Path pidFile = dir.resolve("child.pid");
        IOException t = assertThrows(IOException.class, () -> new CommandAlertSink(
                List.of(script("sleep 300 & echo $! > '" + pidFile + "'; wait").toString()), Duration.ofMillis(1500))
                .send(ALERT));
        assertTrue(t.getMessage().contains("still running after 1500 ms: killed"), t.getMessage());
        long child = Long.parseLong(Files.readString(pidFile).trim());
        // the hook's own children are killed too
        for (int i = 0; i < 50 && ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false); i++) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException ex) {
                throw new AssertionError(ex);
            }
        }
        assertTrue(ProcessHandle.of(child).map(ph -> !ph.isAlive()).orElse(true), "sleep " + child + " still runs");
    }
}
