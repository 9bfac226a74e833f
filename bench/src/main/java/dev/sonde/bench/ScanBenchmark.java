package dev.sonde.bench;

import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Sequential scan: every present byte of physical memory read once in 1 MiB {@code read} calls, one thread, the file
 * in the page cache (the warm-up iterations put it there). The primary score is whole scans per second; the
 * {@code bytes} secondary score is the throughput in bytes per second.
 *
 * <p>{@code raw} is a raw copy of the ELF capture's memory (file offset = physical address, written once into a sparse
 * temporary file) opened with {@link ImageOpener#openRaw}; it is scanned over the ELF capture's present ranges (the
 * raw file also "holds" the holes between them, e.g. up to the BIOS ROM below 4 GiB, which are not guest RAM). The
 * others are the capture files themselves, scanned over their own present ranges.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Threads(1)
public class ScanBenchmark {
    static final int READ = 1 << 20;

    @Param({"debian"})
    public String guest;

    @Param({"raw", "elf", "kdump", "save"})
    public String format;

    private MemoryImage image;
    private PhysicalMemory memory;
    private Path rawCopy;
    private long[] starts;
    private long[] ends;
    private final byte[] buf = new byte[READ];

    /** Bytes read, reported by JMH as a rate (bytes/s). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        public long bytes;

        @Setup(Level.Iteration)
        public void reset() {
            bytes = 0;
        }
    }

    @Setup(Level.Trial)
    public void open() throws IOException {
        List<MemoryRange> ranges;
        if (format.equals("raw")) {
            Path elf = Captures.file(guest, "elf");
            try (MemoryImage source = ImageOpener.standard().open(elf)) {
                ranges = source.memory().ranges();
            }
            rawCopy = writeRawCopy(elf);
            image = ImageOpener.standard().openRaw(rawCopy);
            Captures.announce("scan raw", elf, "raw copy of its memory in " + rawCopy);
        } else {
            Path file = Captures.file(guest, format);
            image = ImageOpener.standard().open(file);
            ranges = image.memory().ranges();
            Captures.announce("scan " + format, file, image.format());
        }
        memory = image.memory();
        starts = ranges.stream().mapToLong(MemoryRange::start).toArray();
        ends = ranges.stream().mapToLong(MemoryRange::end).toArray();
        System.err.printf("[sonde-bench] scan %s: %d present bytes in %d ranges%n", format,
                ranges.stream().mapToLong(MemoryRange::length).sum(), ranges.size());
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        if (image != null) {
            image.close();
        }
        if (rawCopy != null) {
            Files.deleteIfExists(rawCopy);
        }
    }

    @Benchmark
    public long scan(Bytes counter, Blackhole bh) {
        long total = 0;
        for (int r = 0; r < starts.length; r++) {
            long end = ends[r];
            for (long a = starts[r]; a < end; ) {
                int n = memory.read(a, buf, 0, (int) Math.min(READ, end - a));
                if (n <= 0) {
                    throw new IllegalStateException("present range " + a + " read nothing");
                }
                bh.consume(buf[n - 1]);
                a += n;
                total += n;
            }
        }
        counter.bytes += total;
        return total;
    }

    /** Writes the ELF capture's physical memory as a raw (sparse) file: file offset = physical address. */
    static Path writeRawCopy(Path elf) throws IOException {
        Path out = Files.createTempFile("sonde-bench-raw-", ".img");
        try (MemoryImage img = ImageOpener.standard().open(elf);
             FileChannel ch = FileChannel.open(out, StandardOpenOption.WRITE)) {
            byte[] chunk = new byte[READ];
            for (MemoryRange r : img.memory().ranges()) {
                for (long a = r.start(); a < r.end(); ) {
                    int n = (int) Math.min(READ, r.end() - a);
                    img.memory().readFully(a, chunk, 0, n);
                    ByteBuffer bb = ByteBuffer.wrap(chunk, 0, n);
                    long pos = a;
                    while (bb.hasRemaining()) {
                        pos += ch.write(bb, pos);
                    }
                    a += n;
                }
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(out);
            throw e;
        }
        return out;
    }
}
