package dev.sonde.cli.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.fixtures.GroundTruth;
import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.ImageAnalyzer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The demo's check of the planted scenarios, on real captures of both fixture guests with their ground truth: every
 * scenario the ground truth shows is found, and the evidence names the process the ground truth names.
 */
class PlantedScenariosTest {
    @ParameterizedTest
    @ValueSource(strings = {"committed-tiny", "debian"})
    void everyPlantedScenarioIsFoundWithTheProcessTheGroundTruthNames(String capture) throws Exception {
        Path image = capture.equals("committed-tiny") ? Fixtures.committedTinyImage()
                : Fixtures.captureDir(capture).resolve("memory.elf");
        Path truth = capture.equals("committed-tiny") ? Fixtures.committedTinyGroundTruth()
                : Fixtures.captureDir(capture).resolve("groundtruth.jsonl");
        assertTrue(Files.exists(image), image + " is missing: make it with fixtures/" + capture + "/capture.sh");
        GroundTruth gt = GroundTruth.read(truth);
        assertEquals(List.of(), dev.sonde.analyzer.fixtures.PlantedScenarios.missing(gt), "the ground truth shows every scenario");

        AnalysisResult a = ImageAnalyzer.analyze(image, ProfileOptions.defaults());
        List<PlantedScenarios.Seen> seen = PlantedScenarios.look(a);
        assertEquals(7, seen.size());
        assertEquals(List.of(), seen.stream().filter(s -> !s.found()).map(PlantedScenarios.Seen::scenario).toList());

        Map<String, Integer> pidOf = gt.userProcesses().stream()
                .collect(Collectors.toMap(GroundTruth.Process::comm, GroundTruth.Process::pid, (x, y) -> Math.min(x, y)));
        Map<String, String> evidence = seen.stream().collect(Collectors.toMap(PlantedScenarios.Seen::scenario,
                PlantedScenarios.Seen::evidence));
        assertTrue(evidence.get("deleted binary").contains("pid " + pidOf.get("sonde-deleted") + " sonde-deleted"),
                evidence.get("deleted binary"));
        assertTrue(evidence.get("anonymous RWX memory").contains("pid " + pidOf.get("rwxinject") + " rwxinject"),
                evidence.get("anonymous RWX memory"));
        assertTrue(evidence.get("parent with 30+ children").contains("pid " + pidOf.get("forker") + " forker has 32 children"),
                evidence.get("parent with 30+ children"));
        assertTrue(evidence.get("unlinked open file").contains("pid " + pidOf.get("fileholder") + " fileholder fd 4 -> "),
                evidence.get("unlinked open file"));
        assertTrue(evidence.get("pipe, UNIX and TCP sockets held open").contains("127.0.0.1:8088 LISTEN"),
                evidence.get("pipe, UNIX and TCP sockets held open"));
    }
}
