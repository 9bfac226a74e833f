package dev.sonde.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.fixtures.GroundTruth;
import dev.sonde.snapshotter.bundle.BundleWriter;
import dev.sonde.snapshotter.bundle.Manifest;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sonde analyze} on an evidence bundle (sealed by the real {@link BundleWriter} around the committed tiny
 * capture; refused when its memory file differs from the manifest), its Timesketch timeline, and the sockets and
 * binaries tables.
 */
class AnalyzeBundleAndTimelineTest {
    @TempDir
    Path dir;

    private Path bundle(String name) throws Exception {
        BundleWriter w = BundleWriter.create(dir, name, BundleWriter.Observer.NONE);
        w.copyFrom(Fixtures.committedTinyImage(), "memory.elf.xz", "memory", "elf-core");
        Manifest m = new Manifest(Manifest.FORMAT, Manifest.VERSION, name, "cp-1", "test", null, null,
                new Manifest.Checkpoint("2026-11-29T00:00:00Z", "2026-11-29T00:00:01Z", "test", "memory.elf.xz",
                        "elf-core", null, null, null, null, null), null, null);
        return w.seal(m).path();
    }

    @Test
    void aBundleIsAnalyzedThroughItsVerifiedMemoryFile() throws Exception {
        Path b = bundle("b1-tiny-0001");
        AnalyzeCommandTest.Result r = AnalyzeCommandTest.run("analyze", "--view", "processes", "--format", "jsonl",
                b.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("88 processes"), r.err());
        assertTrue(r.err().contains(b.resolve("memory.elf.xz").toString()), r.err());
    }

    @Test
    void aBundleWhoseMemoryFileWasAlteredIsAnIntegrityFailure() throws Exception {
        Path b = bundle("b2-tiny-0002");
        Path mem = b.resolve("memory.elf.xz");
        try (RandomAccessFile f = new RandomAccessFile(mem.toFile(), "rw")) {
            f.seek(1000);
            int v = f.read();
            f.seek(1000);
            f.write(v ^ 0x01);
        }
        AnalyzeCommandTest.Result r = AnalyzeCommandTest.run("analyze", b.toString());
        assertEquals(ExitCodes.INTEGRITY, r.exit(), r.err());
        assertTrue(r.err().contains("SHA-256"), r.err());
        assertEquals("", r.out());
        try (RandomAccessFile f = new RandomAccessFile(mem.toFile(), "rw")) {
            f.setLength(f.length() - 1);
        }
        r = AnalyzeCommandTest.run("analyze", b.toString());
        assertEquals(ExitCodes.INTEGRITY, r.exit(), r.err());
        assertTrue(r.err().contains("bytes, the manifest records"), r.err());
    }

    @Test
    void aDirectoryThatIsNoBundleIsBadInput() throws Exception {
        Files.createDirectories(dir.resolve("empty"));
        AnalyzeCommandTest.Result r = AnalyzeCommandTest.run("analyze", dir.resolve("empty").toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertTrue(r.err().contains("manifest.json"), r.err());
    }

    @Test
    void timelineHasOneTimesketchEventPerProcess() throws Exception {
        Path file = dir.resolve("timeline.jsonl");
        AnalyzeCommandTest.Result r = AnalyzeCommandTest.run("analyze", "--format", "timeline", "--timeline",
                file.toString(), Fixtures.committedTinyImage().toString());
        assertEquals(0, r.exit(), r.err());
        GroundTruth gt = GroundTruth.read(Fixtures.committedTinyGroundTruth());
        List<String> lines = r.out().lines().toList();
        assertEquals(gt.processes().size(), lines.size());
        assertEquals(lines, Files.readAllLines(file));
        ObjectMapper json = new ObjectMapper();
        for (String line : lines) {
            JsonNode e = json.readTree(line);
            for (String required : List.of("message", "datetime", "timestamp_desc", "timestamp", "pid", "comm")) {
                assertTrue(e.hasNonNull(required), required + " in " + line);
            }
            OffsetDateTime at = OffsetDateTime.parse(e.path("datetime").asText());
            assertEquals(at.toInstant().toEpochMilli() * 1000 + at.getNano() / 1000 % 1000, e.path("timestamp").asLong());
            GroundTruth.Process p = gt.byPid(e.path("pid").asInt()).orElseThrow();
            assertEquals(p.raw().path("starttime").asLong(), e.path("start_boottime_ns").asLong() / 10_000_000L);
        }
        assertFalse(Files.list(dir).anyMatch(p -> p.getFileName().toString().endsWith(".partial")));
    }

    @Test
    void socketsAndBinariesTables() throws Exception {
        AnalyzeCommandTest.Result r = AnalyzeCommandTest.run("analyze", "--format", "json", "--view",
                "sockets,binaries,pages", Fixtures.committedTinyImage().toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertTrue(j.path("sockets").toString().contains("\"local\":\"127.0.0.1:8088\""), j.path("sockets").toString());
        assertTrue(j.path("sockets").toString().contains("\"local\":\"/tmp/sonde.sock\""));
        JsonNode busybox = null;
        for (JsonNode b : j.path("binaries")) {
            if (b.path("pid").asInt() == 1 && b.path("path").asText().equals("/bin/busybox")) {
                busybox = b;
            }
        }
        assertTrue(busybox != null && busybox.path("elf_type").asText().equals("EXEC")
                && busybox.path("build_id").asText().length() == 40, String.valueOf(busybox));
        int pages = 0;
        for (JsonNode p : j.path("pages")) {
            if (p.path("pid").asInt() == 1 && p.path("path").asText().equals("/bin/busybox")) {
                pages++;
            }
        }
        assertEquals(busybox.path("pages_resident").asInt(), pages);
    }
}
