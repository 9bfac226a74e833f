package dev.sonde.analyzer.linux.crossview;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelProfiles;
import dev.sonde.analyzer.linux.LinuxProcesses;
import dev.sonde.analyzer.linux.ProcessInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * On intact captures every view sees every process: no hidden-process or corrupt-process-list finding (the
 * false-positive count is printed and must be 0), a complete verdict, and every process in all four views. The
 * committed tiny capture always runs; the cached ones (all formats, tiny and debian) when present, skipped with the
 * reason otherwise.
 */
class CrossViewCapturesTest {
    @ParameterizedTest
    @ValueSource(strings = {"committed", "tiny/memory.elf", "tiny/memory.kdump", "tiny/memory.save", "debian/memory.elf",
            "debian/memory.kdump", "debian/memory.save"})
    void everyViewSeesEveryProcessOfAnIntactCapture(String capture) throws IOException {
        Path image;
        if (capture.equals("committed")) {
            image = Fixtures.committedTinyImage();
        } else {
            String guest = capture.substring(0, capture.indexOf('/'));
            image = Fixtures.captureDir(guest).resolve(capture.substring(capture.indexOf('/') + 1));
            if (!Files.isRegularFile(image)) {
                System.out.println("skipped: no " + image + " (build it with fixtures/" + guest + "/capture.sh)");
                assumeTrue(false, "no capture " + image);
            }
        }
        try (MemoryImage img = ImageOpener.standard().open(image)) {
            KernelMemory kernel = new KernelMemory(KernelProfiles.build(img), img.memory());
            LinuxProcesses processes = new LinuxProcesses(kernel, img.memory());
            CrossView.Result r = new CrossView(kernel, img.memory(), processes).check(processes.analyze());
            System.out.println(capture + ": " + r.summary() + "; false positives: " + r.findings().size());
            r.stale().forEach(c -> System.out.println("  stale: " + c));
            assertEquals(List.of(), r.findings());
            assertEquals(List.of(), r.report().completeness().reasons());
            assertTrue(r.report().processes().size() > 60);
            for (ProcessInfo p : r.report().processes()) {
                assertEquals(List.of("tasks", "pid-idr", "children", "scan"), r.report().viewsOf(p),
                        "pid " + p.pid() + " " + p.comm());
            }
            assertTrue(r.scan().orElseThrow().complete());
            assertEquals(TaskScan.Mode.SLAB, r.scan().orElseThrow().mode(), "the profile locates the task_struct slabs");
        }
    }

    @Test
    void theSlabScanFindsWhatTheFullScanFinds() throws IOException {
        try (MemoryImage img = ImageOpener.standard().open(Fixtures.committedTinyImage())) {
            KernelMemory kernel = new KernelMemory(KernelProfiles.build(img), img.memory());
            TaskScan scan = new TaskScan(kernel, img.memory());
            TaskScan.Result slab = scan.scan(TaskScan.Mode.SLAB);
            TaskScan.Result full = scan.scan(TaskScan.Mode.FULL);
            System.out.printf("slab scan: %d candidates in %.1f MiB; full scan: %d in %.1f MiB%n", slab.candidates().size(),
                    slab.bytesScanned() / 1048576.0, full.candidates().size(), full.bytesScanned() / 1048576.0);
            assertEquals(full.candidates(), slab.candidates());
            assertTrue(slab.bytesScanned() * 10 < full.bytesScanned(), "the slab scan reads a fraction of memory");
            assertEquals(TaskScan.Mode.FULL, full.mode());
        }
    }
}
