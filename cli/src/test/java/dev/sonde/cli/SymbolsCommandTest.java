package dev.sonde.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.FixtureIsf;
import dev.sonde.analyzer.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sonde symbols export} and {@code show} on the committed tiny capture. */
class SymbolsCommandTest {
    @TempDir
    Path dir;

    @Test
    void exportWritesAnIsfThatServesAsSymbolsForTheSameImage() throws Exception {
        Path isf = dir.resolve("kernel.json.xz");
        InfoCommandTest.Result r = InfoCommandTest.run("symbols", "export", Fixtures.committedTinyImage().toString(),
                "-o", isf.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.size(isf) > 100_000, "ISF size " + Files.size(isf));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no partial file left beside the ISF");
        }
        InfoCommandTest.Result show = InfoCommandTest.run("symbols", "show", "--symbols", isf.toString(),
                Fixtures.committedTinyImage().toString());
        assertEquals(0, show.exit(), show.err());
        assertTrue(show.out().contains(Fixtures.KERNEL), show.out());
    }

    @Test
    void anIsfOfTheWrongShapeIsBadInput() throws Exception {
        Path bogus = dir.resolve("bogus.json");
        Files.writeString(bogus, "{\"metadata\": {}, \"symbols\": 5}");
        InfoCommandTest.Result r = InfoCommandTest.run("symbols", "show", "--symbols", bogus.toString(),
                Fixtures.committedTinyImage().toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("bogus.json"), r.err());
        assertTrue(FixtureIsf.path().toFile().isFile());
    }
}
