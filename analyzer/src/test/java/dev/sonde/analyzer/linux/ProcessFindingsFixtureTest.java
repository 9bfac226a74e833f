package dev.sonde.analyzer.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.GroundTruth;
import dev.sonde.analyzer.fixtures.PlantedScenarios;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The planted scenarios of the tiny guest are found, on the right processes, and nothing else rates high. */
class ProcessFindingsFixtureTest {

    private static Map<String, Set<Integer>> byKind(List<Finding> findings, String severity) {
        Map<String, Set<Integer>> m = new TreeMap<>();
        for (Finding f : findings) {
            if (f.severity().equals(severity)) {
                m.computeIfAbsent(f.kind(), k -> new TreeSet<>()).add(f.pid());
            }
        }
        return m;
    }

    private static int pidOf(GroundTruth gt, String argPart) {
        return gt.userProcesses().stream().filter(p -> p.cmdline().stream().anyMatch(a -> a.contains(argPart)))
                .findFirst().orElseThrow(() -> new AssertionError("no process with " + argPart)).pid();
    }

    @Test
    void plantedScenariosAreFoundAndNothingElseIsHigh() {
        GroundTruth gt = TinyFixture.truth();
        assertEquals(List.of(), PlantedScenarios.missing(gt));
        List<Finding> findings = ProcessFindings.find(TinyFixture.report());
        findings.forEach(f -> System.out.println("finding: " + f));
        Map<String, Set<Integer>> high = byKind(findings, "high");
        assertEquals(Map.of(
                "deleted-executable", Set.of(pidOf(gt, "--role=deleted")),
                "fileless-executable", Set.of(pidOf(gt, "--role=fileless")),
                "anonymous-rwx-mapping", Set.of(pidOf(gt, "/opt/sonde/bin/rwxinject")),
                "kernel-thread-impostor", Set.of(pidOf(gt, "[kworker"))), high);
    }

    @Test
    void theRwxFindingPointsAtTheMarkedMapping() {
        GroundTruth gt = TinyFixture.truth();
        GroundTruth.Marker rwx = gt.userProcesses().stream().flatMap(p -> p.markers().stream())
                .filter(m -> m.kind().equals("rwx")).findFirst().orElseThrow();
        Finding f = ProcessFindings.find(TinyFixture.report()).stream()
                .filter(x -> x.kind().equals("anonymous-rwx-mapping")).findFirst().orElseThrow();
        String[] range = f.evidence().get(0).split(" ")[1].split("-");
        long start = Long.parseUnsignedLong(range[0], 16);
        long end = Long.parseUnsignedLong(range[1], 16);
        assertTrue(rwx.address() >= start && rwx.address() < end, f.evidence() + " vs marker at " + Long.toHexString(rwx.address()));
    }

    @Test
    void namesThatDisagreeAreLowFindings() {
        Map<String, Set<Integer>> low = byKind(ProcessFindings.find(TinyFixture.report()), "low");
        // forker's children renamed themselves (prctl PR_SET_NAME) to sd-child-NN: 32 of them
        assertTrue(low.getOrDefault("name-mismatch", Set.of()).size() >= 32, String.valueOf(low));
    }
}
