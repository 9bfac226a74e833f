package dev.sonde.analyzer.kernel.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.memory.PatchedMemory;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Walks over tampered kernel data stop at cycles, bad pointers and limits, and report what they could not read. */
class HostileWalkTest {

    private static KernelMemory kernel(PatchedMemory memory) {
        return new KernelMemory(ProfileFixture.imageProfile(), memory);
    }

    private static List<ProcessLister.Task> tasks() {
        return ProcessLister.list(new KernelMemory(ProfileFixture.imageProfile(), ProfileFixture.image().memory())).items();
    }

    private static PatchedMemory patched() {
        return new PatchedMemory(ProfileFixture.image().memory());
    }

    private static long phys(KernelMemory k, long virtual) {
        long p = k.space().physicalAddress(virtual);
        assertTrue(p >= 0);
        return p;
    }

    @Test
    void aTaskListCycleIsReportedAndTheWalkStops() {
        List<ProcessLister.Task> t = tasks();
        PatchedMemory m = patched();
        KernelMemory k = kernel(m);
        long tasksOff = ProfileFixture.imageProfile().offset("task_struct", "tasks");
        // The 6th task's next points back to the 3rd: a loop that never reaches init_task.
        m.patchU64(phys(k, t.get(5).address() + tasksOff), t.get(2).address() + tasksOff);
        WalkResult<ProcessLister.Task> r = ProcessLister.list(k);
        assertFalse(r.complete());
        assertEquals(6, r.items().size());
        assertTrue(r.problems().stream().anyMatch(p -> p.contains("cycle back to")), r.problems().toString());
    }

    @Test
    void aNonKernelPointerStopsTheWalk() {
        List<ProcessLister.Task> t = tasks();
        PatchedMemory m = patched();
        KernelMemory k = kernel(m);
        long tasksOff = ProfileFixture.imageProfile().offset("task_struct", "tasks");
        m.patchU64(phys(k, t.get(9).address() + tasksOff), 0x1234);
        WalkResult<ProcessLister.Task> r = ProcessLister.list(k);
        assertFalse(r.complete());
        assertEquals(10, r.items().size());
        assertTrue(r.problems().get(0).contains("0x1234, not a kernel address"), r.problems().toString());
    }

    @Test
    void aBrokenBackLinkIsReportedButTheWalkGoesOn() {
        List<ProcessLister.Task> t = tasks();
        PatchedMemory m = patched();
        KernelMemory k = kernel(m);
        long tasksOff = ProfileFixture.imageProfile().offset("task_struct", "tasks");
        long prevOff = ProfileFixture.imageProfile().offset("list_head", "prev");
        m.patchU64(phys(k, t.get(20).address() + tasksOff + prevOff), t.get(3).address() + tasksOff);
        WalkResult<ProcessLister.Task> r = ProcessLister.list(k);
        assertEquals(t.size(), r.items().size());
        assertEquals(1, r.problems().size(), r.problems().toString());
        assertTrue(r.problems().get(0).contains("has prev"), r.problems().toString());
    }

    @Test
    void theElementLimitIsEnforced() {
        KernelMemory k = kernel(patched());
        KObject init = k.global("init_task", "task_struct");
        WalkResult<KObject> r = k.list(init.addressOf("tasks"), "task_struct", "tasks", 10);
        assertEquals(10, r.items().size());
        assertFalse(r.complete());
        assertTrue(r.problems().get(0).contains("limit of 10"), r.problems().toString());
        ProcessLister.Task withMm = tasks().stream().filter(x -> x.mm() != 0).findFirst().orElseThrow();
        WalkResult<KObject> vmas = k.vmas(k.object("mm_struct", withMm.mm()), 3);
        assertEquals(3, vmas.items().size());
        assertFalse(vmas.complete());
    }

    @Test
    void aMapleNodeLoopIsReported() {
        ProcessLister.Task withMm = tasks().stream().filter(x -> x.mm() != 0).findFirst().orElseThrow();
        PatchedMemory m = patched();
        KernelMemory k = kernel(m);
        KObject mm = k.object("mm_struct", withMm.mm());
        long root = k.space().readU64(mm.addressOf("mm_mt") + ProfileFixture.imageProfile().offset("maple_tree", "ma_root"));
        long node = root & ~255L;
        long type = (root >>> 3) & 0xf;
        WalkResult<KernelMemory.MapleEntry> before = k.mapleTree(mm.addressOf("mm_mt"), 1000);
        assertTrue(before.complete());
        if (type == 1) {
            // A single leaf: make its first slot a node pointer to itself (as an arange node).
            m.patchU64(phys(k, node + ProfileFixture.imageProfile().offset("maple_range_64", "slot")), root);
            m.patchU64(phys(k, mm.addressOf("mm_mt") + ProfileFixture.imageProfile().offset("maple_tree", "ma_root")),
                    node | (2L << 3) | 2);
        } else {
            long slotOff = ProfileFixture.imageProfile().offset(type == 3 ? "maple_arange_64" : "maple_range_64", "slot");
            m.patchU64(phys(k, node + slotOff), root);
        }
        WalkResult<KernelMemory.MapleEntry> after = k.mapleTree(mm.addressOf("mm_mt"), 1000);
        assertFalse(after.complete());
        assertTrue(after.problems().stream().anyMatch(p -> p.contains("reached twice")), after.problems().toString());
    }

    @Test
    void aGarbagePointerIsAReadErrorNamingTheObject() {
        ProcessLister.Task task = tasks().get(30);
        PatchedMemory m = patched();
        KernelMemory k = kernel(m);
        KObject t = k.object("task_struct", task.address());
        m.patchU64(phys(k, t.addressOf("real_parent")), 0x4141414141414141L);
        KernelReadException e = assertThrows(KernelReadException.class, () -> t.deref("real_parent"));
        assertTrue(e.getMessage().contains("task_struct@0x" + Long.toHexString(task.address()) + ".real_parent"),
                e.getMessage());
        WalkResult<ProcessLister.Task> r = ProcessLister.list(k);
        assertEquals(tasks().size() - 1, r.items().size());
        assertEquals(1, r.problems().size());
        // A pointer into unmapped kernel space: absent memory, named.
        m.patchU64(phys(k, t.addressOf("real_parent")), 0xffffc90000000000L + 0x7000_0000L);
        KernelReadException e2 = assertThrows(KernelReadException.class, () -> t.deref("real_parent").get().integer("pid"));
        assertTrue(e2.getMessage().contains("no memory at"), e2.getMessage());
    }

    @Test
    void typedReadsFollowTheProfile() {
        KernelMemory k = kernel(patched());
        KObject uts = k.global("init_uts_ns", "uts_namespace");
        KObject name = uts.field("name");
        assertEquals("new_utsname", name.type());
        assertEquals("Linux", name.string("sysname"));
        assertEquals("6.1.0-57-amd64", name.string("release"));
        KObject init = k.global("init_task", "task_struct");
        assertEquals("swapper/0", init.string("comm"));
        assertEquals(0, init.integer("pid"));
        // A bitfield: task_struct.in_execve is 1 bit (0 for the idle task).
        assertEquals(TypeRef.Kind.BITFIELD, init.member("in_execve").type().kind());
        assertEquals(0, init.integer("in_execve"));
        // Members inside anonymous structs and unions, and nested paths.
        KObject mm = k.global("init_mm", "mm_struct");
        assertEquals(mm.addressOf("mm_mt") + ProfileFixture.imageProfile().offset("maple_tree", "ma_root"),
                mm.addressOf("mm_mt.ma_root"));
        assertEquals(0, init.pointer("mm"), "the idle task has no mm of its own");
        assertTrue(init.deref("active_mm").isPresent(), "but borrows one");
        ProfileException e = assertThrows(ProfileException.class, () -> init.integer("no_such_member"));
        assertTrue(e.getMessage().contains("task_struct.no_such_member"), e.getMessage());
    }
}
