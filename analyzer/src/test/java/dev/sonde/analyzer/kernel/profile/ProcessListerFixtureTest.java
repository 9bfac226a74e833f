package dev.sonde.analyzer.kernel.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.fixtures.GroundTruth;
import dev.sonde.analyzer.image.MemoryImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Without any ISF, the profile built from the image's own BTF and kallsyms walks the kernel's data and finds what the
 * guest reported about itself at capture time: every process (pid, ppid, comm), every process's memory mappings
 * (through its maple tree), every thread ID (through the PID namespace's IDR). Also with VMCOREINFO and the CPU state
 * taken away, as a LiME capture would be.
 */
class ProcessListerFixtureTest {

    private static GroundTruth truth() {
        return GroundTruth.read(Fixtures.committedTinyGroundTruth());
    }

    /**
     * pid to "ppid comm", from the ground truth: {@code task_comm} is procfs' comm without the workqueue suffix it adds
     * to kworkers, and a kernel thread's full name there is cut to the 15 characters {@code task_struct.comm} holds.
     */
    private static Map<Integer, String> expected(GroundTruth gt) {
        Map<Integer, String> m = new TreeMap<>();
        for (GroundTruth.Process p : gt.processes()) {
            String comm = p.raw().path("task_comm").asText();
            m.put(p.pid(), p.ppid() + " " + comm.substring(0, Math.min(15, comm.length())));
        }
        return m;
    }

    private static Map<Integer, String> listed(KernelMemory kernel) {
        WalkResult<ProcessLister.Task> r = ProcessLister.list(kernel);
        assertEquals(List.of(), r.problems());
        assertTrue(r.complete());
        Map<Integer, String> m = new TreeMap<>();
        for (ProcessLister.Task t : r.items()) {
            m.put(t.pid(), t.ppid() + " " + t.comm());
        }
        assertEquals(r.items().size(), m.size(), "one entry per thread group");
        return m;
    }

    @Test
    void processListWithoutAnIsfEqualsTheGroundTruth() {
        KernelProfile profile = ProfileFixture.imageProfile();
        assertTrue(profile.types().source().startsWith("BTF"));
        Map<Integer, String> got = listed(new KernelMemory(profile, ProfileFixture.image().memory()));
        assertEquals(expected(truth()), got);
        assertEquals(88, got.size());
    }

    @Test
    void processListWithoutVmcoreinfoOrCpuStateEqualsTheGroundTruth() {
        MemoryImage bare = ProfileFixture.bare(ProfileFixture.image().memory());
        KernelProfile profile = KernelProfiles.build(bare);
        assertTrue(profile.layout().method().startsWith("kallsyms + "), profile.layout().method());
        assertEquals(expected(truth()), listed(new KernelMemory(profile, bare.memory())));
    }

    @Test
    void kernelThreadsAndUserProcessesAreTold() {
        KernelMemory kernel = new KernelMemory(ProfileFixture.imageProfile(), ProfileFixture.image().memory());
        GroundTruth gt = truth();
        for (ProcessLister.Task t : ProcessLister.list(kernel).items()) {
            GroundTruth.Process p = gt.byPid(t.pid()).orElseThrow();
            assertEquals(p.kthread(), t.kernelThread(), p.comm());
            assertEquals(p.kthread(), t.mm() == 0, p.comm());
            assertEquals(p.tgid(), t.tgid());
        }
    }

    @Test
    void everyProcessMapsFromItsMapleTreeEqualTheGroundTruth() {
        KernelMemory kernel = new KernelMemory(ProfileFixture.imageProfile(), ProfileFixture.image().memory());
        GroundTruth gt = truth();
        int compared = 0;
        for (ProcessLister.Task t : ProcessLister.list(kernel).items()) {
            if (t.mm() == 0) {
                continue;
            }
            WalkResult<KObject> vmas = kernel.vmas(kernel.object("mm_struct", t.mm()), 100_000);
            assertEquals(List.of(), vmas.problems(), t.comm());
            List<String> got = new ArrayList<>();
            for (KObject v : vmas.items()) {
                got.add(Long.toHexString(v.integer("vm_start")) + "-" + Long.toHexString(v.integer("vm_end")));
            }
            List<String> want = gt.byPid(t.pid()).orElseThrow().maps().stream()
                    .filter(m -> !m.path().equals("[vsyscall]"))
                    .map(m -> Long.toHexString(m.start()) + "-" + Long.toHexString(m.end())).toList();
            assertEquals(want, got, t.pid() + " " + t.comm());
            assertEquals(kernel.object("mm_struct", t.mm()).integer("map_count"), got.size());
            compared++;
        }
        assertTrue(compared >= 10, "processes compared: " + compared);
    }

    @Test
    void thePidNamespaceIdrHoldsEveryThread() {
        KernelMemory kernel = new KernelMemory(ProfileFixture.imageProfile(), ProfileFixture.image().memory());
        KObject ns = kernel.global("init_pid_ns", "pid_namespace");
        WalkResult<KernelMemory.XaEntry> idr = kernel.idr(ns.addressOf("idr"), 1 << 20);
        assertEquals(List.of(), idr.problems());
        assertTrue(idr.complete());
        TreeSet<Long> want = truth().processes().stream().flatMap(p -> p.threads().stream()).map(Integer::longValue)
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(want, idr.items().stream().map(KernelMemory.XaEntry::index).collect(Collectors.toCollection(TreeSet::new)));
        // Each entry is a struct pid whose level-0 number is its index.
        long upidSize = kernel.profile().requireSize("upid");
        for (KernelMemory.XaEntry e : idr.items()) {
            KObject pid = kernel.object("pid", e.entry());
            KObject upid = kernel.object("upid", pid.addressOf("numbers") + upidSize * pid.integer("level"));
            assertEquals(e.index(), upid.integer("nr"));
        }
    }

    @Test
    void theThreadGroupListHoldsTheThreads() {
        KernelMemory kernel = new KernelMemory(ProfileFixture.imageProfile(), ProfileFixture.image().memory());
        GroundTruth gt = truth();
        for (ProcessLister.Task t : ProcessLister.list(kernel).items()) {
            KObject task = kernel.object("task_struct", t.address());
            KObject signal = task.deref("signal").orElseThrow();
            WalkResult<KObject> threads = kernel.list(signal.addressOf("thread_head"), "task_struct", "thread_node", 1 << 16);
            assertEquals(List.of(), threads.problems());
            List<Integer> tids = threads.items().stream().map(x -> (int) x.integer("pid")).sorted().toList();
            assertEquals(gt.byPid(t.pid()).orElseThrow().threads().stream().sorted().toList(), tids, t.comm());
        }
    }
}
