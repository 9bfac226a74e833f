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

/**
 * The planted scenarios of the fixture guests are found, on the right processes, nothing else rates high, and the
 * guests' ordinary processes (those that plant no marker: init, systemd and its services, nginx, sshd, cron, the
 * python worker, gtdump, busybox shells) produce no finding at all.
 */
class ProcessFindingsFixtureTest {

    /** Findings on processes the ground truth shows as ordinary (no scenario marker), printed with their count. */
    static List<Finding> falsePositives(String name, GroundTruth gt, List<Finding> findings) {
        Set<Integer> planted = new TreeSet<>();
        gt.userProcesses().stream().filter(p -> !p.markers().isEmpty()).forEach(p -> planted.add(p.pid()));
        List<Finding> fp = findings.stream().filter(f -> !planted.contains(f.pid())).toList();
        System.out.println(name + ": false positives on ordinary processes: " + fp.size());
        fp.forEach(f -> System.out.println("  " + f));
        return fp;
    }

    static void assertPlanted(GroundTruth gt, List<Finding> findings) {
        assertEquals(List.of(), PlantedScenarios.missing(gt));
        Map<String, Set<Integer>> high = byKind(findings, "high");
        assertEquals(Map.of(
                "deleted-executable", Set.of(pidOf(gt, "--role=deleted")),
                "fileless-executable", Set.of(pidOf(gt, "--role=fileless")),
                "anonymous-rwx-mapping", Set.of(pidOf(gt, "/opt/sonde/bin/rwxinject")),
                "kernel-thread-impostor", Set.of(pidOf(gt, "[kworker"))), high);
        // the deleted binary was started from /tmp: its code is mapped from there
        assertEquals(Map.of("executable-in-temp-dir", Set.of(pidOf(gt, "--role=deleted"))), byKind(findings, "medium"));
    }

    @Test
    void ordinaryProcessesOfTheTinyGuestProduceNoFinding() {
        assertEquals(List.of(), falsePositives("tiny (committed)", TinyFixture.truth(),
                ProcessFindings.find(TinyFixture.report())));
    }

    /** The debian capture from the fixture cache; skipped, with the reason printed, when it has not been built. */
    @Test
    void debianCaptureHasThePlantedFindingsAndNoFalsePositive() {
        List<Finding> findings = TinyAnalysis.debian().findings();
        GroundTruth gt = TinyAnalysis.debianTruth();
        assertEquals(List.of(), falsePositives("debian", gt, findings));
        assertPlanted(gt, findings);
    }

    static Map<String, Set<Integer>> byKind(List<Finding> findings, String severity) {
        Map<String, Set<Integer>> m = new TreeMap<>();
        for (Finding f : findings) {
            if (f.severity().equals(severity)) {
                m.computeIfAbsent(f.kind(), k -> new TreeSet<>()).add(f.pid());
            }
        }
        return m;
    }

    static int pidOf(GroundTruth gt, String argPart) {
        return gt.userProcesses().stream().filter(p -> p.cmdline().stream().anyMatch(a -> a.contains(argPart)))
                .findFirst().orElseThrow(() -> new AssertionError("no process with " + argPart)).pid();
    }

    @Test
    void plantedScenariosAreFoundAndNothingElseIsHigh() {
        GroundTruth gt = TinyFixture.truth();
        List<Finding> findings = ProcessFindings.find(TinyFixture.report());
        findings.forEach(f -> System.out.println("finding: " + f));
        assertPlanted(gt, findings);
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

    /** A real process of the capture with an environment variable added: the loader variables are findings. */
    @Test
    void loaderVariablesInTheEnvironmentAreFindings() {
        ProcessInfo p = TinyFixture.report().processes().stream().filter(x -> x.comm().equals("sleeper")).findFirst()
                .orElseThrow();
        assertEquals(List.of(), ProcessFindings.find(new ProcessReport(List.of(p), p.completeness())));
        for (String[] v : new String[][]{{"LD_PRELOAD=/dev/shm/.x/libhook.so", "medium"}, {"LD_AUDIT=/tmp/a.so", "medium"},
                {"LD_LIBRARY_PATH=/var/tmp/lib", "low"}}) {
            List<String> env = new java.util.ArrayList<>(p.environ().orElseThrow());
            env.add(v[0]);
            ProcessInfo q = new ProcessInfo(p.task(), p.pid(), p.tgid(), p.ppid(), p.comm(), p.state(), p.kernelThread(),
                    p.flags(), p.uid(), p.euid(), p.gid(), p.egid(), p.startTimeNs(), p.startTicks(), p.cmdline(),
                    java.util.Optional.of(env), p.exe(), p.threads(), p.maps(), p.files(), p.completeness());
            List<Finding> f = ProcessFindings.find(new ProcessReport(List.of(q), q.completeness()));
            assertEquals(1, f.size(), String.valueOf(f));
            assertEquals("loader-environment", f.get(0).kind());
            assertEquals(v[1], f.get(0).severity());
            assertEquals(List.of("environment " + v[0]), f.get(0).evidence());
        }
    }

    /** The tiny guest's init (busybox sh /init, fd 10 on /init) with its script unlinked: a deleted-script finding. */
    @Test
    void anInterpreterRunningADeletedScriptIsAFinding() {
        ProcessInfo p = TinyFixture.report().processes().stream().filter(x -> x.pid() == 1).findFirst().orElseThrow();
        assertEquals(List.of(), ProcessFindings.find(new ProcessReport(List.of(p), p.completeness())));
        List<OpenFile> files = p.files().stream().map(f -> f.target().equals(java.util.Optional.of("/init"))
                ? new OpenFile(f.fd(), java.util.Optional.of("/init (deleted)"), f.kind(), f.flags(), f.pos(), f.inode(),
                f.file(), f.problem(), f.socket()) : f).toList();
        assertTrue(files.stream().anyMatch(f -> f.target().equals(java.util.Optional.of("/init (deleted)"))));
        ProcessInfo q = new ProcessInfo(p.task(), p.pid(), p.tgid(), p.ppid(), p.comm(), p.state(), p.kernelThread(),
                p.flags(), p.uid(), p.euid(), p.gid(), p.egid(), p.startTimeNs(), p.startTicks(), p.cmdline(),
                p.environ(), p.exe(), p.threads(), p.maps(), files, p.completeness());
        List<Finding> f = ProcessFindings.find(new ProcessReport(List.of(q), q.completeness()));
        assertEquals(List.of("deleted-script"), f.stream().map(Finding::kind).toList());
        assertEquals("high", f.get(0).severity());
        assertTrue(f.get(0).evidence().contains("open file /init (deleted)"), String.valueOf(f.get(0).evidence()));
    }
}
