package dev.sonde.snapshotter.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The standard diff rules on observations written out by hand (pure values: no guest needed). */
class DiffRulesTest {
    static Observation.Process proc(int pid, long start, String comm, String exe) {
        return new Observation.Process(pid, 1, start, comm, false, exe, List.of(comm));
    }

    static Observation.Process kthread(int pid, long start, String comm) {
        return new Observation.Process(pid, 2, start, comm, true, "", List.of());
    }

    static Observation obs(String bundle, List<Observation.Process> ps, List<Observation.FindingKey> fs, Set<String> known) {
        return new Observation("vm", bundle, "2026-03-01T00:00:00Z", "6.1.0", ps, fs, known);
    }

    static List<String> kinds(Optional<Observation> prev, Observation cur) {
        return DiffRule.standard().stream().flatMap(r -> r.diff(prev, cur).stream())
                .map(c -> c.kind() + " " + c.summary()).toList();
    }

    @Test
    void firstObservationRaisesOnlyItsFindings() {
        Observation cur = obs("b1", List.of(proc(1, 0, "init", "/sbin/init")),
                List.of(new Observation.FindingKey("deleted-executable", "high", 7, "x", "runs a deleted file")),
                Set.of("/sbin/init"));
        assertEquals(List.of("finding-new process 7 (x): runs a deleted file"), kinds(Optional.empty(), cur));
    }

    @Test
    void startedVanishedPidReuseNewAndUnknownBinaries() {
        Observation prev = obs("b1", List.of(proc(1, 0, "init", "/sbin/init"), proc(50, 100, "sshd", "/usr/sbin/sshd"),
                proc(60, 200, "cron", "/usr/sbin/cron"), kthread(3, 1, "kworker/0:1")), List.of(),
                Set.of("/sbin/init", "/usr/sbin/sshd", "/usr/sbin/cron", "/usr/bin/old"));
        Observation cur = obs("b2", List.of(proc(1, 0, "init", "/sbin/init"), proc(50, 100, "sshd", "/usr/sbin/sshd"),
                // pid 60 reused by another process: the cron one vanished, this one started
                proc(60, 900, "evil", "/tmp/evil"), proc(61, 901, "old", "/usr/bin/old"),
                // kernel threads coming and going are not alerts
                kthread(4, 2, "kworker/0:2")), List.of(), Set.of());
        assertEquals(List.of(
                "process-started process 60 (evil) started, running /tmp/evil",
                "process-started process 61 (old) started, running /usr/bin/old",
                "process-vanished process 60 (cron) is gone",
                "binary-new binary /tmp/evil runs (60 (evil))",
                "binary-unknown binary /tmp/evil never seen in this domain before",
                "binary-new binary /usr/bin/old runs (61 (old))"), kinds(Optional.of(prev), cur));
    }

    @Test
    void onlyNewFindingsAfterTheFirst() {
        Observation.FindingKey f1 = new Observation.FindingKey("anonymous-rwx-mapping", "medium", 9, "a", "rwx");
        Observation.FindingKey f2 = new Observation.FindingKey("fileless-executable", "high", 10, "b", "memfd");
        Observation prev = obs("b1", List.of(), List.of(f1), Set.of());
        Observation cur = obs("b2", List.of(), List.of(f1, f2), Set.of());
        assertEquals(List.of("finding-new process 10 (b): memfd"), kinds(Optional.of(prev), cur));
    }
}
