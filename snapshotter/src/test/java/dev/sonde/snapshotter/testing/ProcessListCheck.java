package dev.sonde.snapshotter.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.GroundTruth;
import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.ProcessInfo;
import java.util.Map;
import java.util.TreeMap;

/**
 * Compares the analyzer's process list of a checkpoint with the ground truth gtdump took in the guest right before and
 * right after it (the guest runs on while it is checkpointed, so one ground truth cannot be taken at the instant of
 * the memory image). User processes must be exactly the same in both ground truths and in the image; kernel threads
 * (workers come and go) must include every one present in both ground truths and nothing absent from both.
 */
public final class ProcessListCheck {
    private ProcessListCheck() {
    }

    /** pid to "ppid comm" as {@code task_struct.comm} holds it (gtdump's task_comm cut to 15 bytes). */
    static Map<Integer, String> expected(GroundTruth gt, boolean kernelThreads) {
        Map<Integer, String> m = new TreeMap<>();
        for (GroundTruth.Process p : gt.processes()) {
            if (p.kthread() != kernelThreads) {
                continue;
            }
            String comm = p.kthread() && p.comm().startsWith("kworker/R-") ? p.comm() : p.raw().path("task_comm").asText();
            m.put(p.pid(), p.ppid() + " " + comm.substring(0, Math.min(15, comm.length())));
        }
        return m;
    }

    static Map<Integer, String> got(AnalysisResult a, boolean kernelThreads) {
        Map<Integer, String> m = new TreeMap<>();
        for (ProcessInfo p : a.processes().processes()) {
            if (p.kernelThread() == kernelThreads) {
                m.put(p.pid(), p.ppid() + " " + p.comm());
            }
        }
        return m;
    }

    public static void assertMatches(GroundTruth before, AnalysisResult image, GroundTruth after) {
        assertTrue(image.processes().completeness().reasons().isEmpty(), image.processes().completeness().toString());
        Map<Integer, String> users = expected(before, false);
        assertEquals(users, expected(after, false), "user processes changed during the checkpoint");
        assertEquals(users, got(image, false), "user processes in the image");
        assertTrue(users.size() >= 10, "user processes: " + users);
        Map<Integer, String> kb = expected(before, true);
        Map<Integer, String> ka = expected(after, true);
        Map<Integer, String> kg = got(image, true);
        for (var e : kb.entrySet()) {
            if (e.getValue().equals(ka.get(e.getKey()))) {
                assertEquals(e.getValue(), kg.get(e.getKey()), "kernel thread " + e.getKey() + " in both ground truths");
            }
        }
        for (var e : kg.entrySet()) {
            assertTrue(e.getValue().equals(kb.get(e.getKey())) || e.getValue().equals(ka.get(e.getKey())),
                    "kernel thread " + e.getKey() + " " + e.getValue() + " in neither ground truth");
        }
        assertTrue(kg.values().stream().anyMatch(v -> v.endsWith(" kthreadd")), kg.toString());
    }
}
