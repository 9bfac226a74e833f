package dev.sonde.analyzer.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelProfiles;
import dev.sonde.analyzer.kernel.profile.UsedByAnalyzer;
import dev.sonde.analyzer.linux.crossview.CrossView;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Every member, type and symbol the whole analysis (processes, maps, files, sockets, binaries, clock) reads is in
 * {@link UsedByAnalyzer}'s catalogue, so profiles are cross-checked on it.
 */
class CatalogueTest {
    static final Set<String> NOT_YET_CATALOGUED = Set.of();

    @Test
    void everythingReadIsCatalogued() throws Exception {
        Set<String> accessed;
        try (MemoryImage image = ImageOpener.standard().open(Fixtures.committedTinyImage())) {
            KernelMemory kernel = new KernelMemory(KernelProfiles.build(image), image.memory());
            LinuxProcesses processes = new LinuxProcesses(kernel, image.memory());
            ProcessReport report = new CrossView(kernel, image.memory(), processes).check(processes.analyze()).report();
            new MappedBinaries(kernel, image.memory()).of(report);
            BootClock.read(kernel).orElseThrow();
            accessed = kernel.accessed();
        }
        Set<String> missing = new TreeSet<>();
        for (String a : accessed) {
            if (a.startsWith("symbol ")) {
                if (!UsedByAnalyzer.SYMBOLS.contains(a.substring(7))) {
                    missing.add(a);
                }
                continue;
            }
            int dot = a.indexOf('.');
            String type = dot < 0 ? a : a.substring(0, dot);
            List<String> members = UsedByAnalyzer.MEMBERS.get(type);
            boolean ok = members != null && (dot < 0 || members.contains(a.substring(dot + 1)));
            if (!ok && !NOT_YET_CATALOGUED.contains(a)) {
                missing.add(a);
            }
        }
        System.out.println("accessed: " + accessed);
        assertEquals(Set.of(), missing);
    }
}
