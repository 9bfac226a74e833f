package dev.sonde.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sonde analyze --format html -o FILE}: the page goes to the file, whole or not at all. */
class AnalyzeOutputFileTest {
    @TempDir
    Path dir;

    @Test
    void htmlReportIsWrittenToTheFileAndNothingToStdout() throws Exception {
        Path out = dir.resolve("report.html");
        AnalyzeCommandTest.Result r = AnalyzeCommandTest.run("analyze", "--format", "html", "-o", out.toString(),
                Fixtures.committedTinyImage().toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.out());
        assertTrue(r.err().contains("wrote " + out), r.err());
        String html = Files.readString(out);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertTrue(html.contains("<dd class=\"count\" data-count=\"processes\">88</dd>"), "88 processes");
        assertTrue(html.contains("6.1.0-57-amd64"), "kernel in the header");
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary file left");
        }
    }

    @Test
    void anUnwritableDestinationIsAnErrorNamingIt() {
        Path out = dir.resolve("missing/report.json");
        AnalyzeCommandTest.Result r = AnalyzeCommandTest.run("analyze", "--format", "json", "-o", out.toString(),
                Fixtures.committedTinyImage().toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertTrue(r.err().contains("missing"), r.err());
        assertFalse(Files.exists(out));
    }
}
