package dev.sonde.analyzer.memory.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.FixtureIsf;
import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.fixtures.GroundTruth;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.Vmcoreinfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Translation on the committed tiny capture: kernel virtual addresses from VMCOREINFO and from the ISF map to the right
 * physical bytes (the kernel image sits in 2 MiB pages), and each planted process's heap, stack and RWX markers read
 * back through that process's own page tables with the bytes the ground truth recorded.
 */
class FixtureTranslationTest {
    /** __START_KERNEL_map: the kernel image's virtual base before the KASLR shift. */
    static final long START_KERNEL_MAP = 0xffffffff80000000L;

    static MemoryImage image;
    static Vmcoreinfo info;
    static X86AddressSpace kernel;
    static GroundTruth gt;

    @BeforeAll
    static void open() throws IOException {
        image = ImageOpener.standard().open(Fixtures.committedTinyImage());
        info = image.vmcoreinfo().orElseThrow();
        gt = GroundTruth.read(Fixtures.committedTinyGroundTruth());
        long swapper = info.symbol("swapper_pg_dir").getAsLong();
        long dtb = swapper - START_KERNEL_MAP + info.number("phys_base").getAsLong();
        kernel = new X86AddressSpace(image.memory(), dtb, PagingMode.FOUR_LEVEL);
    }

    @AfterAll
    static void close() {
        image.close();
    }

    @Test
    void kernelPageTablesMapThemselvesWhereVmcoreinfoSays() {
        long swapper = info.symbol("swapper_pg_dir").getAsLong();
        assertEquals(kernel.dtb(), kernel.physicalAddress(swapper), "swapper_pg_dir maps to its own physical address");
        // The CPU's CR3 maps the kernel half the same way.
        long cr3 = image.cpus().get(0).cr3().orElseThrow();
        X86AddressSpace viaCr3 = new X86AddressSpace(image.memory(), cr3, PagingMode.FOUR_LEVEL);
        assertEquals(kernel.dtb(), viaCr3.physicalAddress(swapper));
    }

    @Test
    void initUtsNamespaceFromVmcoreinfoHoldsTheRelease() {
        long uts = info.symbol("init_uts_ns").getAsLong() + info.offset("uts_namespace.name").getAsLong();
        assertEquals("Linux", kernel.readCString(uts, 65));
        assertEquals(gt.header().path("release").asText(), kernel.readCString(uts + 65 * 2, 65));
        assertEquals(gt.header().path("version").asText(), kernel.readCString(uts + 65 * 3, 65));
    }

    @Test
    void isfSymbolPlusKaslrShiftIsTheBannerInATwoMegabytePage() {
        FixtureIsf isf = FixtureIsf.load();
        long shift = info.kernelOffset().getAsLong();
        long banner = isf.symbol("linux_banner") + shift;
        PageMapping page = kernel.translate(banner).orElseThrow();
        assertEquals(2L << 20, page.size(), "the kernel's read-only data is mapped with 2 MiB pages");
        assertFalse(page.user());
        assertFalse(page.writable());
        String text = kernel.readCString(banner, 512);
        assertTrue(text.startsWith("Linux version " + gt.header().path("release").asText() + " "), text);
        assertTrue(text.contains(gt.header().path("version").asText()), text);
        // Translation and a direct physical read agree.
        long phys = kernel.physicalAddress(banner);
        assertEquals(text, image.memory().readCString(phys, 512));
        // VMCOREINFO and the ISF agree on a symbol both carry.
        assertEquals(info.symbol("init_uts_ns").getAsLong(), isf.symbol("init_uts_ns") + shift);
    }

    @Test
    void plantedMarkersReadBackThroughEachProcessPageTables() {
        FixtureIsf isf = FixtureIsf.load();
        Map<Integer, Long> pgdByPid = userPageTables(isf);
        List<String> checked = new ArrayList<>();
        for (GroundTruth.Process p : gt.userProcesses()) {
            for (GroundTruth.Marker m : p.markers()) {
                Long pgd = pgdByPid.get(p.pid());
                assertTrue(pgd != null, "no task with an mm for pid " + p.pid() + " (" + p.comm() + ")");
                X86AddressSpace user = new X86AddressSpace(image.memory(), kernel.physicalAddress(pgd), PagingMode.FOUR_LEVEL);
                byte[] bytes = user.readBytes(m.address(), m.value().getBytes(StandardCharsets.UTF_8).length);
                assertEquals(m.value(), new String(bytes, StandardCharsets.UTF_8), p.comm() + " " + m.kind());
                PageMapping page = user.translate(m.address()).orElseThrow();
                assertTrue(page.user(), "user page");
                if (m.kind().equals("rwx")) {
                    assertEquals("rwx", page.permissions(), "the injected region is writable and executable");
                }
                checked.add(p.comm() + ":" + m.kind());
            }
        }
        assertTrue(checked.size() >= 10, "markers checked: " + checked);
        assertTrue(checked.stream().anyMatch(c -> c.endsWith(":rwx")), checked.toString());
    }

    /** pid to mm->pgd (a kernel virtual address) by walking init_task.tasks with ISF offsets, bounded. */
    private static Map<Integer, Long> userPageTables(FixtureIsf isf) {
        long shift = info.kernelOffset().getAsLong();
        long tasks = isf.offset("task_struct", "tasks");
        long pidOff = isf.offset("task_struct", "pid");
        long mmOff = isf.offset("task_struct", "mm");
        long pgdOff = isf.offset("mm_struct", "pgd");
        long head = isf.symbol("init_task") + shift + tasks;
        Map<Integer, Long> out = new HashMap<>();
        long node = kernel.readU64(head);
        for (int i = 0; node != head && i < 100_000; i++) {
            long task = node - tasks;
            long mm = kernel.readU64(task + mmOff);
            if (mm != 0) {
                out.put((int) kernel.readU32(task + pidOff), kernel.readU64(mm + pgdOff));
            }
            node = kernel.readU64(node);
        }
        assertEquals(head, node, "the task list closes on init_task");
        return out;
    }
}
