package dev.sonde.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sonde demo} stopping early, in-process: usage errors and a missing environment, each with its exit code. */
class DemoCommandTest {
    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Sonde.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void runSecondsOutOfRangeIsAUsageError(@TempDir Path tmp) {
        Run r = run("demo", "--guest", "tiny", "--out", tmp.toString(), "--run-seconds", "100000");
        assertEquals(ExitCodes.USAGE, r.code(), r.err());
        assertTrue(r.err().contains("--run-seconds"), r.err());
        assertFalse(Files.exists(tmp.resolve("demo.json")));
    }

    @Test
    void unknownGuestIsAUsageError(@TempDir Path tmp) {
        Run r = run("demo", "--guest", "windows", "--out", tmp.toString());
        assertEquals(ExitCodes.USAGE, r.code(), r.err());
        assertTrue(r.err().contains("debian") && r.err().contains("tiny"), r.err());
    }

    @Test
    void fixturesNotFoundStopsBeforeAnythingStartsWithExit4(@TempDir Path tmp) throws Exception {
        Path missing = tmp.resolve("no-checkout");
        Run r = run("demo", "--guest", "tiny", "--out", tmp.resolve("out").toString(), "--fixtures", missing.toString());
        assertEquals(ExitCodes.MISSING_ENVIRONMENT, r.code(), r.err());
        assertTrue(r.err().contains(missing + ": no fixtures/tiny/build.sh there"), r.err());
        assertTrue(r.out().contains("STOPPED: environment: " + missing), r.out());
        JsonNode j = new ObjectMapper().readTree(tmp.resolve("out/demo.json").toFile());
        assertTrue(j.path("error").asText().contains("no fixtures/tiny/build.sh"), j.toString());
        assertTrue(j.path("checkpoint").isNull() && j.path("fork").isNull(), j.toString());
        assertFalse(j.path("rollbackVerified").asBoolean());
        assertFalse(Files.exists(tmp.resolve("out/report.html")), "no report without an analysis");
    }

    @Test
    void aLibvirtUriThatDoesNotAnswerIsNotStartedByTheDemo(@TempDir Path tmp) {
        String uri = "qemu+unix:///system?socket=" + tmp.resolve("no-libvirtd.sock");
        Run r = run("demo", "--guest", "tiny", "--out", tmp.resolve("out").toString(), "-c", uri);
        assertEquals(ExitCodes.MISSING_ENVIRONMENT, r.code(), r.err());
        assertTrue(r.err().contains("libvirt does not answer at " + uri), r.err());
    }
}
