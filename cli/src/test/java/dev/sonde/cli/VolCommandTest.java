package dev.sonde.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.fixtures.GroundTruth;
import dev.sonde.analyzer.fixtures.VolatilityFixture;
import dev.sonde.snapshotter.bundle.Manifest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sonde vol} on the committed tiny capture, the dispatch of {@code sonde analyze} to the bridge for an image
 * without a Linux kernel, and what happens when the Python environment is missing.
 */
class VolCommandTest {
    @TempDir
    Path dir;

    @Test
    void volPsListPrintsTheGroundTruthProcesses() throws Exception {
        VolatilityFixture.bridge();
        AnalyzeCommandTest.Result r = AnalyzeCommandTest.run("vol", "linux.pslist.PsList",
                Fixtures.committedTinyImage().toString(), "--symbols", VolatilityFixture.isfDir().toString(),
                "--format", "json");
        assertEquals(0, r.exit(), r.err());
        JsonNode rows = new ObjectMapper().readTree(r.out()).path("linux.pslist.PsList");
        Map<Integer, String> vol = new TreeMap<>();
        rows.forEach(row -> vol.put(row.path("PID").asInt(), row.path("PPID").asInt() + " " + row.path("COMM").asText()));
        Map<Integer, String> truth = new TreeMap<>();
        for (GroundTruth.Process p : GroundTruth.read(Fixtures.committedTinyGroundTruth()).processes()) {
            String comm = p.raw().path("task_comm").asText(p.comm());   // task_struct.comm: 15 characters
            truth.put(p.pid(), p.ppid() + " " + comm.substring(0, Math.min(15, comm.length())));
        }
        assertEquals(truth, vol);
        assertTrue(r.err().contains(truth.size() + " rows from Volatility"), r.err());
        // hex columns are rendered as 0x... strings (Volatility keeps kernel addresses as 48-bit values), no tree depth
        assertTrue(rows.get(0).path("OFFSET (V)").asText().matches("0x[0-9a-f]+"), rows.get(0).toString());
        assertFalse(rows.get(0).has("depth"), rows.get(0).toString());

        AnalyzeCommandTest.Result table = AnalyzeCommandTest.run("vol", "linux.pslist.PsList",
                Fixtures.committedTinyImage().toString(), "--symbols", VolatilityFixture.isfDir().toString());
        assertEquals(0, table.exit(), table.err());
        assertTrue(table.out().startsWith("LINUX.PSLIST.PSLIST (" + truth.size() + ")"), table.out());
    }

    @Test
    void onABundleWithAnIsfExportedBySonde() throws Exception {
        VolatilityFixture.bridge();
        Path image = dev.sonde.analyzer.volatility.VolatilityInput.readable(Fixtures.committedTinyImage());
        Path isf = dir.resolve("sonde-kernel.json.xz");
        AnalyzeCommandTest.Result export = AnalyzeCommandTest.run("symbols", "export", image.toString(), "-o", isf.toString());
        assertEquals(0, export.exit(), export.err());
        // a checkpoint bundle: its manifest names the memory file
        Path bundle = Files.createDirectories(dir.resolve("20261129T150612.123Z-tiny-1"));
        Files.createSymbolicLink(bundle.resolve("memory.elf"), image);
        Manifest m = new Manifest(Manifest.FORMAT, Manifest.VERSION, bundle.getFileName().toString(), "1", "test", null,
                null, new Manifest.Checkpoint(null, null, "elf", "memory.elf", "elf", null, null, null, null, null),
                List.of(), List.of());
        Files.write(bundle.resolve(Manifest.FILE_NAME), m.toJson());
        // a cache of its own, so that Volatility can only find the exported ISF
        AnalyzeCommandTest.Result r = AnalyzeCommandTest.run("vol", "linux.pslist.PsList", bundle.toString(),
                "--symbols", isf.toString(), "--cache", dir.resolve("volcache").toString(), "--format", "csv");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("on " + bundle.resolve("memory.elf")), r.err());
        long rows = r.out().lines().skip(1).count();
        assertEquals(GroundTruth.read(Fixtures.committedTinyGroundTruth()).processes().size(), rows, r.out());

        Path empty = Files.createDirectories(dir.resolve("not-a-bundle"));
        AnalyzeCommandTest.Result bad = AnalyzeCommandTest.run("vol", "linux.pslist.PsList", empty.toString());
        assertEquals(ExitCodes.BAD_INPUT, bad.exit(), bad.err());
        assertTrue(bad.err().contains("without manifest.json is not a checkpoint bundle"), bad.err());
    }

    @Test
    void aFailingPluginsMessageReachesTheUser() {
        VolatilityFixture.bridge();
        AnalyzeCommandTest.Result r = AnalyzeCommandTest.run("vol", "linux.pagecache.InodePages",
                Fixtures.committedTinyImage().toString(), "--symbols", VolatilityFixture.isfDir().toString(),
                "--option", "inode=1");
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertTrue(r.err().contains("Volatility plugin linux.pagecache.InodePages failed: "), r.err());
        assertTrue(r.err().contains("Page Fault"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void aLinuxImageNeverGoesToTheBridge() {
        AnalyzeCommandTest.Result r = AnalyzeCommandTest.run("analyze", "--view", "processes",
                Fixtures.committedTinyImage().toString());
        assertEquals(0, r.exit(), r.err());
        assertFalse(r.err().contains("Volatility"), r.err());
    }

    @Test
    void anImageWithoutALinuxKernelIsAskedOfVolatility() throws Exception {
        VolatilityFixture.bridge();
        Path elf = zeroCore(dir.resolve("no-kernel.elf"), 16 << 20);
        AnalyzeCommandTest.Result r = AnalyzeCommandTest.run("analyze", elf.toString());
        assertTrue(r.err().contains("no Linux kernel in " + elf), r.err());
        assertTrue(r.err().contains("Volatility 3 through the bridge (windows.pslist.PsList, windows.dlllist.DllList,"
                + " windows.handles.Handles)"), r.err());
        // Volatility finds no Windows kernel in it either, and says which requirement it could not satisfy
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertTrue(r.err().contains("Volatility 3 could not analyze it either: Volatility plugin windows.pslist.PsList"
                + " failed: unsatisfied requirements of windows.pslist.PsList: plugins.PsList.kernel"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void withoutThePythonEnvironmentVolSaysHowToInstallAndTheRestWorks() throws Exception {
        // a JVM of its own whose environment names no Python environment
        Path image = Fixtures.committedTinyImage();
        ProcessResult vol = sonde("vol", "linux.pslist.PsList", image.toString());
        assertEquals(ExitCodes.MISSING_ENVIRONMENT, vol.exit(), vol.err());
        assertTrue(vol.err().contains("scripts/setup-python.sh"), vol.err());
        assertTrue(vol.err().contains(dir.resolve("none").resolve("python.env").toString()), vol.err());
        ProcessResult analyze = sonde("analyze", "--view", "processes", "--format", "csv", image.toString());
        assertEquals(0, analyze.exit(), analyze.err());
        assertTrue(analyze.out().lines().count() > 80, analyze.out());
    }

    record ProcessResult(int exit, String out, String err) {
    }

    private ProcessResult sonde(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.sonde.cli.Sonde"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("SONDE_JEP") || k.startsWith("SONDE_PYTHON"));
        pb.environment().put("SONDE_HOME", dir.resolve("none").toString());
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "sonde did not finish");
        return new ProcessResult(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** An ELF core (as QEMU writes them: ET_CORE, x86-64, one PT_LOAD from physical 0) of zeroed memory. */
    static Path zeroCore(Path file, int size) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(64 + 56).order(ByteOrder.LITTLE_ENDIAN);
        h.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0}).put(new byte[8]);
        h.putShort((short) 4).putShort((short) 62).putInt(1).putLong(0).putLong(64).putLong(0).putInt(0)
                .putShort((short) 64).putShort((short) 56).putShort((short) 1).putShort((short) 64).putShort((short) 0)
                .putShort((short) 0);
        long dataOffset = 4096;
        h.putInt(1).putInt(7).putLong(dataOffset).putLong(0).putLong(0).putLong(size).putLong(size).putLong(4096);
        try (OutputStream o = Files.newOutputStream(file)) {
            o.write(h.array());
            o.write(new byte[(int) dataOffset - h.capacity()]);
            byte[] page = new byte[1 << 20];
            for (int i = 0; i < size; i += page.length) {
                o.write(page);
            }
        }
        return file;
    }
}
