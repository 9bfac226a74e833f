package dev.sonde.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.VerboseMode;

/** The JMH annotation processor ran and registered every benchmark (none is run here: bench/run.sh runs them). */
class BenchmarkListTest {

    @Test
    void everyBenchmarkIsRegistered() {
        Set<String> found = new TreeSet<>();
        for (BenchmarkListEntry e : BenchmarkList.defaultList()
                .getAll(OutputFormatFactory.createFormatInstance(System.out, VerboseMode.SILENT), List.of())) {
            found.add(e.getUsername());
        }
        assertEquals(new TreeSet<>(List.of(
                "dev.sonde.bench.OpenBenchmark.open",
                "dev.sonde.bench.ScanBenchmark.scan",
                "dev.sonde.bench.TranslationBenchmark.translateKernel",
                "dev.sonde.bench.TranslationBenchmark.translateUser",
                "dev.sonde.bench.TranslationBenchmark.walkAllProcesses",
                "dev.sonde.bench.TranslationBenchmark.walkAllProcessesReadVirtual")), found);
    }
}
