package dev.sonde.analyzer.kernel.isf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.fixtures.GroundTruth;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelProfile;
import dev.sonde.analyzer.kernel.profile.KernelProfiles;
import dev.sonde.analyzer.kernel.profile.ProcessLister;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Volatility 3 (the venv {@code scripts/setup-python.sh} installs) reads an ISF exported from a profile built only by
 * scanning the committed tiny capture (no VMCOREINFO, no ISF) and lists the same processes as Sonde and as the ground
 * truth. Skipped, with the reason, when the venv is not there, except in CI ({@code CI=true}), where it must be.
 */
class VolatilityReadsExportTest {

    @Test
    void volatilityPsListWithTheExportedIsfListsWhatSondeLists(@TempDir Path tmp) throws Exception {
        String home = Optional.ofNullable(System.getenv("SONDE_HOME")).filter(s -> !s.isBlank()).orElse("/opt/sonde");
        Path vol = Path.of(Optional.ofNullable(System.getenv("SONDE_VOL")).orElse(home + "/venv/bin/vol"));
        if (System.getenv("CI") == null) {
            assumeTrue(Files.isExecutable(vol), "no Volatility 3 at " + vol + " (scripts/setup-python.sh installs it)");
        }
        assertTrue(Files.isExecutable(vol), "no Volatility 3 at " + vol);
        // Volatility reads no xz: give it the plain ELF core.
        Path capture = tmp.resolve("memory.elf");
        try (var in = new org.apache.commons.compress.compressors.xz.XZCompressorInputStream(
                Files.newInputStream(Fixtures.committedTinyImage()))) {
            Files.copy(in, capture);
        }

        Map<Integer, String> ours = new TreeMap<>();
        try (MemoryImage opened = ImageOpener.standard().open(capture)) {
            MemoryImage bare = new MemoryImage(opened.file(), opened.format(), opened.memory(), List.of(), Optional.empty(),
                    List.of());
            KernelProfile profile = KernelProfiles.build(bare);
            Path dir = Files.createDirectories(tmp.resolve("symbols"));
            IsfExporter.export(profile, dir.resolve("sonde-kernel.json.xz"));
            for (ProcessLister.Task t : ProcessLister.list(new KernelMemory(profile, opened.memory())).items()) {
                ours.put(t.pid(), t.ppid() + " " + t.comm());
            }
            Path cache = Files.createDirectories(tmp.resolve("volcache"));
            Path out = tmp.resolve("pslist.json");
            Process p = new ProcessBuilder(vol.toString(), "--offline", "-q", "-r", "json", "--cache-path", cache.toString(),
                    "-s", dir.toString(), "-f", capture.toString(), "linux.pslist.PsList")
                    .redirectOutput(out.toFile()).redirectError(tmp.resolve("vol.err").toFile()).start();
            assertTrue(p.waitFor(300, TimeUnit.SECONDS), "vol did not finish");
            assertEquals(0, p.exitValue(), () -> read(tmp.resolve("vol.err")));
        }
        Map<Integer, String> theirs = new TreeMap<>();
        for (JsonNode row : new ObjectMapper().readTree(tmp.resolve("pslist.json").toFile())) {
            theirs.put(row.path("PID").asInt(), row.path("PPID").asInt() + " " + row.path("COMM").asText());
        }
        assertEquals(ours, theirs);
        Map<Integer, String> truth = new TreeMap<>();
        for (GroundTruth.Process gp : GroundTruth.read(Fixtures.committedTinyGroundTruth()).processes()) {
            // task_struct.comm holds 15 characters; /proc prints a kernel thread's full name.
            String comm = gp.raw().path("task_comm").asText(gp.comm());
            truth.put(gp.pid(), gp.ppid() + " " + comm.substring(0, Math.min(15, comm.length())));
        }
        assertEquals(truth, theirs, "Volatility's pslist with Sonde's exported ISF equals the ground truth");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
