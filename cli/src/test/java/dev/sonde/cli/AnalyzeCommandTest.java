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
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sonde analyze} run in-process on the committed tiny capture and on bad input. */
class AnalyzeCommandTest {
    @TempDir
    Path dir;

    record Result(int exit, String out, String err) {
    }

    private static String json;

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        PrintWriter o = new PrintWriter(out, true);
        PrintWriter e = new PrintWriter(err, true);
        CommandLine cl = Sonde.commandLine(o, e);
        if (!cl.getSubcommands().containsKey("analyze")) {
            // until Sonde lists AnalyzeCommand among its subcommands; setOut/setErr reach subcommands added before
            cl.addSubcommand("analyze", new AnalyzeCommand());
            cl.setOut(o);
            cl.setErr(e);
        }
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @BeforeAll
    static void analyzeOnceAsJson() {
        Result r = run("analyze", "--format", "json", Fixtures.committedTinyImage().toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("88 processes"), r.err());
        assertTrue(r.err().contains("complete"), r.err());
        assertTrue(r.err().contains("sonde: views: tasks 88, pid-idr 88, children 88, scan 88"), r.err());
        json = r.out();
    }

    @Test
    void jsonHoldsEveryProcessWithItsCommandLineAndExecutable() throws Exception {
        JsonNode j = new ObjectMapper().readTree(json);
        assertEquals("complete", j.path("completeness").asText());
        GroundTruth gt = GroundTruth.read(Fixtures.committedTinyGroundTruth());
        assertEquals(gt.processes().size(), j.path("processes").size());
        for (JsonNode p : j.path("processes")) {
            GroundTruth.Process want = gt.byPid(p.path("pid").asInt()).orElseThrow();
            assertEquals(want.ppid(), p.path("ppid").asInt());
            assertEquals("[\"tasks\",\"pid-idr\",\"children\",\"scan\"]", p.path("views").toString(), "pid " + want.pid());
            assertEquals(want.exe().orElse(null), p.get("exe").isNull() ? null : p.get("exe").asText());
            if (!want.kthread()) {
                List<String> argv = new ArrayList<>();
                p.path("cmdline").forEach(a -> argv.add(a.asText()));
                assertEquals(want.cmdline(), argv, "pid " + want.pid());
            } else {
                assertTrue(p.get("cmdline").isNull());
            }
        }
        int maps = gt.processes().stream().mapToInt(p -> p.maps().size()).sum();
        int fds = gt.processes().stream().mapToInt(p -> p.fds().size()).sum();
        assertEquals(maps, j.path("maps").size());
        assertEquals(fds, j.path("files").size());
        assertTrue(j.path("findings").toString().contains("kernel-thread-impostor"));
    }

    @Test
    void csvOfFilesAndFailOnHigh() {
        Result r = run("analyze", "--format", "csv", "--view", "files,findings", "--fail-on", "high",
                Fixtures.committedTinyImage().toString());
        assertEquals(ExitCodes.FINDINGS, r.exit(), r.err());
        String[] lines = r.out().split("\r\n");
        assertEquals("table,pid,fd,kind,target,flags,pos,inode,comm,severity,summary,evidence", lines[0]);
        assertTrue(r.out().contains("files,1,10,file,/init,02100000,1887,"), r.out());
        assertTrue(r.out().contains(",pipe,pipe:[9929],"), r.out());
    }

    @Test
    void unknownViewIsAUsageError() {
        Result r = run("analyze", "--view", "nope", Fixtures.committedTinyImage().toString());
        assertEquals(ExitCodes.USAGE, r.exit(), r.err());
        assertTrue(r.err().contains("nope"), r.err());
    }

    @Test
    void unrecognisedFileIsBadInput() throws Exception {
        Path junk = dir.resolve("junk.elf");
        Files.write(junk, new byte[64]);
        Result r = run("analyze", junk.toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertTrue(r.err().contains(junk.toString()), r.err());
        assertEquals("", r.out());
    }

    @Test
    void missingFileIsBadInput() {
        Result r = run("analyze", dir.resolve("absent.elf").toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
    }
}
