package dev.sonde.bench;

import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Opening and indexing: {@code ImageOpener.standard().open(file)} (format detection, headers, the index of the
 * format: PT_LOAD segments, kdump bitmaps and page descriptors, the one-pass index of the QEMU migration stream),
 * then close. The file is in the page cache; the JIT is warm (the first, cold open is part of the whole-command
 * {@code sonde info} comparison instead).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class OpenBenchmark {
    @Param({"debian"})
    public String guest;

    @Param({"elf", "kdump", "save"})
    public String format;

    private Path file;

    @Setup(Level.Trial)
    public void find() throws IOException {
        file = Captures.file(guest, format);
        try (MemoryImage img = ImageOpener.standard().open(file)) {
            Captures.announce("open " + format, file, img.format() + ", " + img.memory().presentBytes()
                    + " present bytes, warnings " + img.warnings());
        }
    }

    @Benchmark
    public long open() throws IOException {
        try (MemoryImage img = ImageOpener.standard().open(file)) {
            return img.memory().ranges().size() + img.cpus().size() + (img.vmcoreinfo().isPresent() ? 1 : 0);
        }
    }
}
