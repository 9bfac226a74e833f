package dev.sonde.analyzer.linux.crossview;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.image.compressed.Compression;
import dev.sonde.analyzer.image.compressed.DecompressedCache;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelProfiles;
import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.Finding;
import dev.sonde.analyzer.linux.ImageAnalyzer;
import dev.sonde.analyzer.linux.ProcessInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tampering with the task list in a copy of the committed tiny capture: the bytes are patched in the ELF file itself,
 * at the file offset of the field (virtual address through the kernel's page tables to physical, physical through the
 * ELF's PT_LOAD segments to the file). Each analysis must end (the timeout is only a hang guard), give a partial
 * verdict and the right finding, and still list every process of the intact image.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class TamperedTaskListTest {
    @TempDir
    static Path dir;
    static Path pristine;
    static AnalysisResult baseline;
    static List<ProcessInfo> listed;
    static long tasksOffset;
    static long nextOffset;
    static long prevOffset;
    /** Physical address of each process' {@code tasks} list_head, by pid. */
    static java.util.Map<Integer, Long> tasksPhysical = new java.util.HashMap<>();
    static MemoryImage intact;
    static KernelMemory kernel;

    @BeforeAll
    static void copyAndAnalyzeTheIntactImage() throws IOException {
        Path plain = DecompressedCache.defaultCache().decompressed(Fixtures.committedTinyImage(), Compression.XZ);
        pristine = dir.resolve("pristine.elf");
        Files.copy(plain, pristine);
        intact = ImageOpener.standard().open(pristine);
        {
            MemoryImage img = intact;
            baseline = ImageAnalyzer.analyze(img, pristine.toString(), ProfileOptions.defaults());
            KernelMemory k = new KernelMemory(KernelProfiles.build(img), img.memory());
            kernel = k;
            tasksOffset = k.profile().offset("task_struct", "tasks");
            nextOffset = k.profile().offset("list_head", "next");
            prevOffset = k.profile().offset("list_head", "prev");
            for (ProcessInfo p : baseline.processes().processes()) {
                long phys = k.space().physicalAddress(p.task() + tasksOffset);
                assertTrue(phys >= 0, "task of pid " + p.pid() + " is mapped");
                tasksPhysical.put(p.pid(), phys);
            }
        }
        listed = baseline.processes().processes();
        assertTrue(baseline.processes().overall().complete(), baseline.processes().overall().reasons().toString());
        assertTrue(listed.size() > 60, "processes: " + listed.size());
        assertEquals(List.of(), kinds(baseline, "hidden-process", "corrupt-process-list"));
        for (ProcessInfo p : listed) {
            assertEquals(List.of("tasks", "pid-idr", "children", "scan"), baseline.processes().viewsOf(p), "pid " + p.pid());
        }
    }

    @AfterAll
    static void close() {
        intact.close();
    }

    @Test
    void aLoopInTheTaskListIsReportedAndEveryProcessIsStillListed() throws IOException {
        ProcessInfo earlier = listed.get(20);
        ProcessInfo looping = listed.get(40);
        Path image = patched("loop", looping.pid(), nextOffset, earlier.task() + tasksOffset);
        AnalysisResult r = ImageAnalyzer.analyze(image, ProfileOptions.defaults());

        assertFalse(r.processes().overall().complete());
        assertTrue(r.processes().completeness().reasons().stream().anyMatch(x -> x.contains("cycle")),
                r.processes().completeness().reasons().toString());
        Finding f = only(r, "corrupt-process-list");
        assertTrue(f.summary().startsWith("the task list is corrupt"), f.summary());
        assertTrue(f.evidence().stream().anyMatch(e -> e.contains("cycle")), f.evidence().toString());
        assertMissedBeyondTheBreak(r, f, 41);
        assertEquals(List.of(), kinds(r, "hidden-process"), "a broken walk is not a hidden process");
    }

    @Test
    void aDanglingPointerInTheTaskListIsReportedAndEveryProcessIsStillListed() throws IOException {
        ProcessInfo dangling = listed.get(30);
        Path image = patched("dangling", dangling.pid(), nextOffset, 0xffff_dead_beef_0000L);
        AnalysisResult r = ImageAnalyzer.analyze(image, ProfileOptions.defaults());

        assertFalse(r.processes().overall().complete());
        Finding f = only(r, "corrupt-process-list");
        assertTrue(f.summary().startsWith("the task list is corrupt"), f.summary());
        assertTrue(f.evidence().stream().anyMatch(e -> e.contains("0xffffdeadbeef0000")), f.evidence().toString());
        assertMissedBeyondTheBreak(r, f, 31);
        assertEquals(List.of(), kinds(r, "hidden-process"));
    }

    @Test
    void aTaskUnlinkedFromTheListButStillInTheIdrIsAHiddenProcess() throws IOException {
        ProcessInfo before = listed.get(49);
        ProcessInfo victim = listed.get(50);
        ProcessInfo after = listed.get(51);
        Path image = copy("unlinked");
        patch(image, tasksPhysical.get(before.pid()) + nextOffset, after.task() + tasksOffset);
        patch(image, tasksPhysical.get(after.pid()) + prevOffset, before.task() + tasksOffset);
        AnalysisResult r = ImageAnalyzer.analyze(image, ProfileOptions.defaults());

        assertTrue(r.processes().completeness().reasons().stream().noneMatch(x -> x.contains("cycle")),
                "the list itself is consistent");
        assertFalse(r.processes().overall().complete());
        assertTrue(r.processes().overall().reasons().stream().anyMatch(x -> x.startsWith("views disagree: pid "
                + victim.pid() + " ")), r.processes().overall().reasons().toString());
        Finding f = only(r, "hidden-process");
        assertEquals(victim.pid(), f.pid());
        assertEquals(victim.comm(), f.comm());
        assertTrue(f.evidence().contains("seen by: pid-idr, children, scan"), f.evidence().toString());
        assertTrue(f.evidence().contains("absent from: tasks"), f.evidence().toString());
        assertTrue(f.evidence().get(0).contains(String.format("0x%x", victim.task())), f.evidence().toString());
        assertEquals(List.of(), kinds(r, "corrupt-process-list"));
        assertEquals(pids(listed), pids(r.processes().processes()), "every process is still listed, the hidden one too");
        ProcessInfo hidden = r.processes().processes().stream().filter(p -> p.pid() == victim.pid()).findFirst().orElseThrow();
        assertEquals(List.of("pid-idr", "children", "scan"), r.processes().viewsOf(hidden));
        assertEquals(victim.exe(), hidden.exe(), "the hidden process is analyzed like the others");
        assertEquals(victim.maps().size(), hidden.maps().size());
    }

    @Test
    void aLiveTaskUnlinkedFromEveryKernelViewIsFoundByTheScanAndHidden() throws IOException {
        ProcessInfo victim = kernelThreadWithSiblings();
        Path image = unlinkedEverywhere("everywhere-live", victim);
        AnalysisResult r = ImageAnalyzer.analyze(image, ProfileOptions.defaults());
        System.out.println("live, unlinked everywhere: " + r.findings().stream().filter(f -> f.kind().equals("hidden-process")).toList());

        Finding f = only(r, "hidden-process");
        assertEquals(victim.pid(), f.pid());
        assertTrue(f.evidence().contains("seen by: scan"), f.evidence().toString());
        assertTrue(f.evidence().contains("absent from: tasks, pid-idr, children"), f.evidence().toString());
        assertTrue(f.evidence().stream().anyMatch(e -> e.startsWith("found at physical 0x")), f.evidence().toString());
        assertFalse(r.processes().overall().complete());
        assertEquals(pids(listed), pids(r.processes().processes()));
    }

    @Test
    void aFreedTaskStructLeftInMemoryIsStaleNotHidden() throws IOException {
        ProcessInfo victim = kernelThreadWithSiblings();
        Path image = unlinkedEverywhere("everywhere-freed", victim);
        // what an exited, released and freed task leaves behind: exit_state EXIT_DEAD, no stack, reference count 0
        patch(image, kernel.space().physicalAddress(victim.task() + kernel.profile().offset("task_struct", "stack")), 0);
        patch32(image, kernel.space().physicalAddress(victim.task() + kernel.profile().offset("task_struct", "exit_state")), 0x10);
        patch32(image, kernel.space().physicalAddress(victim.task() + kernel.profile().offset("task_struct", "usage")), 0);
        AnalysisResult r = ImageAnalyzer.analyze(image, ProfileOptions.defaults());

        assertEquals(List.of(), kinds(r, "hidden-process", "corrupt-process-list"));
        assertTrue(r.processes().overall().complete(), r.processes().overall().reasons().toString());
        Set<Integer> want = pids(listed);
        want.remove(victim.pid());
        assertEquals(want, pids(r.processes().processes()), "a freed task is no process");
    }

    @Test
    void aZombieIsNoHiddenProcess() throws IOException {
        ProcessInfo zombie = listed.stream().filter(p -> !p.kernelThread() && p.pid() > 50).findFirst().orElseThrow();
        Path image = copy("zombie");
        // an exited, unreaped process: exit_state EXIT_ZOMBIE, its stack released, still on every list
        patch32(image, kernel.space().physicalAddress(zombie.task() + kernel.profile().offset("task_struct", "exit_state")), 0x20);
        patch(image, kernel.space().physicalAddress(zombie.task() + kernel.profile().offset("task_struct", "stack")), 0);
        AnalysisResult r = ImageAnalyzer.analyze(image, ProfileOptions.defaults());

        assertEquals(List.of(), kinds(r, "hidden-process", "corrupt-process-list"));
        ProcessInfo z = r.processes().processes().stream().filter(p -> p.pid() == zombie.pid()).findFirst().orElseThrow();
        assertEquals("Z", z.state());
        assertEquals(List.of("tasks", "pid-idr", "children", "scan"), r.processes().viewsOf(z));
    }

    /** A kernel thread without children, single-threaded, between two siblings: easy to unlink everywhere. */
    private static ProcessInfo kernelThreadWithSiblings() {
        return listed.stream().filter(p -> p.kernelThread() && p.ppid() == 2 && p.threads().size() == 1)
                .skip(5).findFirst().orElseThrow();
    }

    /** Unlinks a task from the task list, its parent's children list, and its struct pid (as a DKOM rootkit would). */
    private static Path unlinkedEverywhere(String name, ProcessInfo victim) throws IOException {
        Path image = copy(name);
        unlink(image, victim.task() + tasksOffset);
        unlink(image, victim.task() + kernel.profile().offset("task_struct", "sibling"));
        long pid = kernel.object("task_struct", victim.task()).pointer("thread_pid");
        patch(image, kernel.space().physicalAddress(pid + kernel.profile().offset("pid", "tasks")), 0);
        return image;
    }

    private static void unlink(Path image, long node) throws IOException {
        long next = kernel.space().readU64(node + nextOffset);
        long prev = kernel.space().readU64(node + prevOffset);
        patch(image, kernel.space().physicalAddress(prev + nextOffset), next);
        patch(image, kernel.space().physicalAddress(next + prevOffset), prev);
    }

    /** Every process is listed; those at and beyond list position {@code from} are named in the finding, not in the tasks view. */
    private static void assertMissedBeyondTheBreak(AnalysisResult r, Finding f, int from) {
        assertEquals(pids(listed), pids(r.processes().processes()), "every process is still listed");
        for (int i = 0; i < listed.size(); i++) {
            ProcessInfo p = listed.get(i);
            ProcessInfo now = r.processes().processes().stream().filter(x -> x.pid() == p.pid()).findFirst().orElseThrow();
            List<String> views = r.processes().viewsOf(now);
            if (i < from) {
                assertEquals(List.of("tasks", "pid-idr", "children", "scan"), views, "pid " + p.pid());
            } else {
                assertEquals(List.of("pid-idr", "children", "scan"), views, "pid " + p.pid());
                assertTrue(f.evidence().stream().anyMatch(e -> e.startsWith("pid " + p.pid() + " (")),
                        "pid " + p.pid() + " named in " + f.evidence());
            }
        }
    }

    private static Path patched(String name, int pid, long member, long value) throws IOException {
        Path image = copy(name);
        patch(image, tasksPhysical.get(pid) + member, value);
        return image;
    }

    private static Path copy(String name) throws IOException {
        Path p = dir.resolve(name + ".elf");
        Files.copy(pristine, p);
        return p;
    }

    /** Writes a little-endian u64 at the ELF file offset holding physical address {@code phys}. */
    static void patch(Path elf, long phys, long value) throws IOException {
        try (FileChannel ch = FileChannel.open(elf, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long offset = ElfSegments.fileOffset(ch, phys);
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value);
            assertEquals(8, ch.write(b, offset));
        }
    }

    static void patch32(Path elf, long phys, int value) throws IOException {
        try (FileChannel ch = FileChannel.open(elf, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value);
            assertEquals(4, ch.write(b, ElfSegments.fileOffset(ch, phys)));
        }
    }

    private static Set<Integer> pids(List<ProcessInfo> ps) {
        return ps.stream().map(ProcessInfo::pid).collect(Collectors.toCollection(TreeSet::new));
    }

    private static List<String> kinds(AnalysisResult r, String... kinds) {
        Set<String> want = Set.of(kinds);
        return r.findings().stream().filter(f -> want.contains(f.kind())).map(Finding::toString).toList();
    }

    private static Finding only(AnalysisResult r, String kind) {
        List<Finding> fs = r.findings().stream().filter(f -> f.kind().equals(kind)).toList();
        assertEquals(1, fs.size(), "one " + kind + " finding: " + r.findings());
        return fs.get(0);
    }
}
