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
 * the memory image). {@link #assertMatches}: user processes must be exactly the same in both ground truths and in the
 * image (a quiet guest such as the tiny one); {@link #assertBracketed}: for a guest with services that start
 * short-lived processes, every process (user or kernel) present in both ground truths must be in the image with the
 * same ppid and comm, and the image may hold nothing that is in neither.
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
        bracketed(expected(before, true), got(image, true), expected(after, true), "kernel thread");
    }

    public static void assertBracketed(GroundTruth before, AnalysisResult image, GroundTruth after) {
        assertTrue(image.processes().completeness().reasons().isEmpty(), image.processes().completeness().toString());
        Map<Integer, String> users = got(image, false);
        assertTrue(users.size() >= 10, "user processes: " + users);
        bracketed(expected(before, false), users, expected(after, false), "user process");
        bracketed(expected(before, true), got(image, true), expected(after, true), "kernel thread");
    }

    private static void bracketed(Map<Integer, String> before, Map<Integer, String> got, Map<Integer, String> after,
            String what) {
        int stable = 0;
        for (var e : before.entrySet()) {
            if (e.getValue().equals(after.get(e.getKey()))) {
                assertEquals(e.getValue(), got.get(e.getKey()), what + " " + e.getKey() + " in both ground truths");
                stable++;
            }
        }
        for (var e : got.entrySet()) {
            assertTrue(e.getValue().equals(before.get(e.getKey())) || e.getValue().equals(after.get(e.getKey())),
                    what + " " + e.getKey() + " " + e.getValue() + " in neither ground truth");
        }
        assertTrue(stable > 0, "no " + what + " in both ground truths");
        if (what.equals("kernel thread")) {
            assertTrue(got.values().stream().anyMatch(v -> v.endsWith(" kthreadd")), got.toString());
        }
    }
}
