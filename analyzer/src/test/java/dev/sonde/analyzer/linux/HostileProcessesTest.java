package dev.sonde.analyzer.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.profile.KObject;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelProfile;
import dev.sonde.analyzer.kernel.profile.KernelProfiles;
import dev.sonde.analyzer.memory.PatchedMemory;
import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A hostile guest: corrupted structures give a partial verdict naming what went wrong, never an exception, a hang or
 * an unbounded read; what is intact is still reported.
 */
class HostileProcessesTest {
    private static MemoryImage image;
    private static KernelProfile profile;

    @BeforeAll
    static void open() throws IOException {
        image = ImageOpener.standard().open(Fixtures.committedTinyImage());
        profile = KernelProfiles.build(image);
    }

    @AfterAll
    static void close() {
        image.close();
    }

    private static ProcessInfo byPid(ProcessReport r, int pid) {
        return r.processes().stream().filter(p -> p.pid() == pid).findFirst().orElseThrow();
    }

    private static long phys(KernelMemory k, long virtual) {
        long p = k.space().physicalAddress(virtual);
        assertTrue(p >= 0);
        return p;
    }

    @Test
    void aDentryCycleMakesThosePathsPartialAndLeavesTheOthers() {
        PatchedMemory m = new PatchedMemory(image.memory());
        KernelMemory k = new KernelMemory(profile, m);
        ProcessInfo renamed = byPid(TinyFixture.report(), 102);
        assertEquals("/opt/sonde/bin/renamed", renamed.exe().orElseThrow());
        KObject exe = k.object("task_struct", renamed.task()).deref("mm").orElseThrow().deref("exe_file").orElseThrow();
        long d = exe.field("f_path").pointer("dentry");
        long bin = k.object("dentry", d).pointer("d_parent");
        long sonde = k.object("dentry", bin).pointer("d_parent");
        long opt = k.object("dentry", sonde).pointer("d_parent");
        // opt's parent becomes the file itself: renamed -> bin -> sonde -> opt -> renamed -> ...
        m.patchU64(phys(k, opt + profile.offset("dentry", "d_parent")), d);
        ProcessReport r = new LinuxProcesses(k, m).analyze();
        assertEquals(88, r.processes().size());
        assertTrue(r.completeness().complete(), "the task list itself is intact");
        assertFalse(r.overall().complete());
        ProcessInfo p = byPid(r, 102);
        assertTrue(p.exe().isEmpty());
        assertTrue(p.completeness().reasons().stream().anyMatch(x -> x.contains("deeper than")), p.completeness().reasons().toString());
        assertTrue(p.maps().stream().anyMatch(x -> x.path().isEmpty() && x.problem().isPresent()));
        assertEquals("/bin/busybox", byPid(r, 1).exe().orElseThrow());
        assertTrue(byPid(r, 1).completeness().complete());
    }

    @Test
    void aHugeFdTableIsBoundedAndReported() {
        PatchedMemory m = new PatchedMemory(image.memory());
        KernelMemory k = new KernelMemory(profile, m);
        KObject fdt = k.object("task_struct", byPid(TinyFixture.report(), 95).task()).deref("files").orElseThrow()
                .deref("fdt").orElseThrow();
        long maxFds = fdt.addressOf("max_fds");
        long word = k.space().readU64(maxFds);
        m.patchU64(phys(k, maxFds), (word & ~0xffffffffL) | 0xfffffff0L);
        // a smaller limit than the default 2^20 keeps the test fast on the xz-compressed image
        ProcessInfo p = byPid(new LinuxProcesses(k, m).withFdLimit(4096).analyze(), 95);
        assertFalse(p.completeness().complete());
        assertTrue(p.files().size() >= 4, "the real descriptors are still read: " + p.files());
        assertTrue(p.completeness().reasons().stream().anyMatch(x -> x.contains("above the limit")), p.completeness().reasons().toString());
    }

    @Test
    void aBrokenTaskListGivesAPartialReport() {
        PatchedMemory m = new PatchedMemory(image.memory());
        KernelMemory k = new KernelMemory(profile, m);
        ProcessInfo tenth = TinyFixture.report().processes().get(9);
        m.patchU64(phys(k, tenth.task() + profile.offset("task_struct", "tasks")), 0x1234L);
        ProcessReport r = new LinuxProcesses(k, m).analyze();
        assertEquals(10, r.processes().size());
        assertFalse(r.completeness().complete());
        assertTrue(r.completeness().reasons().get(0).contains("not a kernel address"), r.completeness().reasons().toString());
    }

    @Test
    void aWildArgumentAreaIsBoundedAndReported() {
        PatchedMemory m = new PatchedMemory(image.memory());
        KernelMemory k = new KernelMemory(profile, m);
        KObject mm = k.object("task_struct", byPid(TinyFixture.report(), 105).task()).deref("mm").orElseThrow();
        m.patchU64(phys(k, mm.addressOf("arg_end")), 0x7fff_ffff_f000L);
        m.patchU64(phys(k, mm.addressOf("env_start")), 0x7fff_ffff_f000L);
        ProcessInfo p = byPid(new LinuxProcesses(k, m).analyze(), 105);
        assertTrue(p.cmdline().isEmpty());
        assertTrue(p.completeness().reasons().stream().anyMatch(x -> x.startsWith("cmdline: ")), p.completeness().reasons().toString());
        assertTrue(p.exe().isPresent());
    }
}
