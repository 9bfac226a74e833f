package dev.sonde.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.fixtures.GroundTruth;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sonde info} run in-process on the committed tiny capture and on bad input. */
class InfoCommandTest {
    @TempDir
    Path dir;

    record Result(int exit, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Sonde.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void printsRealFactsOfTheCommittedImage() {
        GroundTruth gt = GroundTruth.read(Fixtures.committedTinyGroundTruth());
        Result r = run("info", Fixtures.committedTinyImage().toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("ELF64 core (QEMU) in xz"), r.out());
        assertTrue(r.out().contains("release       " + gt.header().path("release").asText()), r.out());
        assertTrue(r.out().contains(gt.header().path("version").asText()), "banner carries uname -v:\n" + r.out());
        assertTrue(r.out().matches("(?s).*cpu0\\s+cr3=0x[0-9a-f]+ .*"), r.out());
        assertTrue(r.out().contains("BUILD-ID="), r.out());
    }

    @Test
    void jsonOutputParses() throws Exception {
        Result r = run("info", "--format", "json", Fixtures.committedTinyImage().toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(Fixtures.KERNEL, j.path("kernel").path("release").asText());
        assertTrue(j.path("ranges").size() >= 1);
        assertTrue(j.path("vmcoreinfo").has("SYMBOL(swapper_pg_dir)"));
    }

    @Test
    void unrecognisedFileIsBadInputNamingTheFile() throws Exception {
        Path junk = dir.resolve("junk.elf");
        Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17});
        Result r = run("info", junk.toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.err().contains(junk.toString()) && r.err().contains("unrecognised"), r.err());
        assertEquals("", r.out(), "no partial output on stdout");
    }

    @Test
    void missingFileIsBadInputAndUnknownOptionIsUsage() {
        Result missing = run("info", dir.resolve("nope").toString());
        assertEquals(ExitCodes.BAD_INPUT, missing.exit());
        assertTrue(missing.err().contains("no such file"), missing.err());
        assertEquals(ExitCodes.USAGE, run("info", "--bogus", "x").exit());
        assertEquals(ExitCodes.USAGE, run("frobnicate").exit());
    }
}
