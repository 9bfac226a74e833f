package dev.sonde.bench;

import dev.sonde.analyzer.fixtures.FixtureIsf;
import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.fixtures.GroundTruth;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.Vmcoreinfo;
import dev.sonde.analyzer.memory.MemoryView;
import dev.sonde.analyzer.memory.x86.PageMapping;
import dev.sonde.analyzer.memory.x86.PagingMode;
import dev.sonde.analyzer.memory.x86.X86AddressSpace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * x86-64 translation on a real guest. Setup finds every process's page-table root the way
 * {@code FixtureTranslationTest} does (kernel DTB from VMCOREINFO, {@code init_task.tasks} walked with the ISF
 * offsets, {@code mm->pgd} translated to physical), then:
 * <ul>
 *   <li>{@link #walkAllProcesses}: for every process, {@code mappings()} over the user half
 *       {@code [0, 0x0000_8000_0000_0000)} and one byte read per mapped page (leaf) at the physical address the walk
 *       gave; one operation = ALL processes.</li>
 *   <li>{@link #walkAllProcessesReadVirtual}: the same, but the byte is read through the address space
 *       ({@code read(virtualAddress)}), which translates each page a second time.</li>
 *   <li>{@link #translateUser} / {@link #translateKernel}: latency of one {@code translate()} of a mapped address
 *       (a fixed random sample of user pages over all processes; kernel addresses of task structs and the banner).</li>
 * </ul>
 * {@code format} selects which capture file provides physical memory (the same instant in all three).
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TranslationBenchmark {
    /** __START_KERNEL_map: the kernel image's virtual base before the KASLR shift. */
    static final long START_KERNEL_MAP = 0xffffffff80000000L;
    static final long USER_END = 0x0000_8000_0000_0000L;
    static final long MAX_LEAVES = 1L << 24;
    static final int SAMPLE = 4096;

    @Param({"debian"})
    public String guest;

    @Param({"elf", "save", "kdump"})
    public String format;

    private MemoryImage image;
    private MemoryView physical;
    private X86AddressSpace[] spaces;
    private X86AddressSpace kernel;
    private int[] sampleSpace;
    private long[] sampleVa;
    private long[] kernelVa;
    private int next;

    @Setup(Level.Trial)
    public void open() throws IOException {
        Path file = Captures.file(guest, format);
        image = ImageOpener.standard().open(file);
        physical = image.memory();
        Vmcoreinfo info = image.vmcoreinfo().orElseThrow(() ->
                new IllegalStateException(file + " has no VMCOREINFO: cannot find the kernel page tables"));
        long dtb = info.symbol("swapper_pg_dir").getAsLong() - START_KERNEL_MAP + info.number("phys_base").getAsLong();
        kernel = new X86AddressSpace(physical, dtb, PagingMode.FOUR_LEVEL);

        FixtureIsf isf = FixtureIsf.load();
        long shift = info.kernelOffset().getAsLong();
        long tasks = isf.offset("task_struct", "tasks");
        long pidOff = isf.offset("task_struct", "pid");
        long mmOff = isf.offset("task_struct", "mm");
        long pgdOff = isf.offset("mm_struct", "pgd");
        long head = isf.symbol("init_task") + shift + tasks;
        Map<Integer, Long> pgdByPid = new LinkedHashMap<>();
        List<Long> kernelAddresses = new ArrayList<>();
        kernelAddresses.add(isf.symbol("linux_banner") + shift);
        long node = kernel.readU64(head);
        for (int i = 0; node != head && i < 100_000; i++) {
            long task = node - tasks;
            kernelAddresses.add(task);
            long mm = kernel.readU64(task + mmOff);
            if (mm != 0) {
                long pgd = kernel.physicalAddress(kernel.readU64(mm + pgdOff));
                if (pgd < 0) {
                    throw new IllegalStateException("pid " + kernel.readU32(task + pidOff) + ": mm->pgd is not mapped");
                }
                pgdByPid.put((int) kernel.readU32(task + pidOff), pgd);
            }
            node = kernel.readU64(node);
        }
        if (node != head) {
            throw new IllegalStateException("the task list does not close on init_task");
        }
        spaces = pgdByPid.values().stream()
                .map(pgd -> new X86AddressSpace(physical, pgd, PagingMode.FOUR_LEVEL))
                .toArray(X86AddressSpace[]::new);
        kernelVa = kernelAddresses.stream().mapToLong(Long::longValue).toArray();

        // One walk to check the workload and draw the translate() sample (reservoir, fixed seed).
        sampleSpace = new int[SAMPLE];
        sampleVa = new long[SAMPLE];
        SplittableRandom random = new SplittableRandom(42);
        long[] seen = {0};
        long[] bySize = new long[3];
        long absentTables = 0;
        for (int s = 0; s < spaces.length; s++) {
            int space = s;
            X86AddressSpace.WalkResult r = spaces[s].mappings(0, USER_END, MAX_LEAVES, m -> {
                bySize[m.size() == 4096 ? 0 : m.size() == 2L << 20 ? 1 : 2]++;
                long va = m.virtualAddress() + random.nextLong(m.size());
                long k = seen[0]++;
                int slot = k < SAMPLE ? (int) k : (int) random.nextLong(k + 1);
                if (slot < SAMPLE) {
                    sampleSpace[slot] = space;
                    sampleVa[slot] = va;
                }
            });
            absentTables += r.absentTables();
            if (r.truncated()) {
                throw new IllegalStateException("walk of " + spaces[s].name() + " hit the leaf limit");
            }
        }
        if (seen[0] < SAMPLE) {
            throw new IllegalStateException("only " + seen[0] + " user pages in " + file);
        }
        for (int i = 0; i < SAMPLE; i++) {
            if (spaces[sampleSpace[i]].translate(sampleVa[i]).isEmpty()) {
                throw new IllegalStateException("sampled address does not translate");
            }
        }
        Path gtFile = Fixtures.captureDir(guest).resolve("groundtruth.jsonl");
        String gt = Files.isRegularFile(gtFile)
                ? ", ground truth: " + GroundTruth.read(gtFile).userProcesses().size() + " user processes" : "";
        Captures.announce("translation " + format, file, String.format(
                "%d processes with an mm%s; %d user leaves (%d 4K, %d 2M, %d 1G), %d absent page-table pages",
                spaces.length, gt, seen[0], bySize[0], bySize[1], bySize[2], absentTables));
    }

    @TearDown(Level.Trial)
    public void close() {
        if (image != null) {
            image.close();
        }
    }

    /** Reads one byte of each visited page at its physical address. */
    static final class OneBytePerPage implements Consumer<PageMapping> {
        final MemoryView memory;
        final byte[] one = new byte[1];
        long pages;
        long sum;
        long unreadable;

        OneBytePerPage(MemoryView memory) {
            this.memory = memory;
        }

        @Override
        public void accept(PageMapping m) {
            pages++;
            if (memory.read(m.physicalAddress(), one, 0, 1) == 1) {
                sum += one[0];
            } else {
                unreadable++;
            }
        }
    }

    /** Reads one byte of each visited page through the address space (a second translation). */
    static final class OneBytePerPageVirtual implements Consumer<PageMapping> {
        final byte[] one = new byte[1];
        X86AddressSpace space;
        long pages;
        long sum;
        long unreadable;

        @Override
        public void accept(PageMapping m) {
            pages++;
            if (space.read(m.virtualAddress(), one, 0, 1) == 1) {
                sum += one[0];
            } else {
                unreadable++;
            }
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public long walkAllProcesses() {
        OneBytePerPage v = new OneBytePerPage(physical);
        for (X86AddressSpace s : spaces) {
            s.mappings(0, USER_END, MAX_LEAVES, v);
        }
        return v.pages + v.sum + v.unreadable;
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public long walkAllProcessesReadVirtual() {
        OneBytePerPageVirtual v = new OneBytePerPageVirtual();
        for (X86AddressSpace s : spaces) {
            v.space = s;
            s.mappings(0, USER_END, MAX_LEAVES, v);
        }
        return v.pages + v.sum + v.unreadable;
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Optional<PageMapping> translateUser() {
        int i = next++ & (SAMPLE - 1);
        return spaces[sampleSpace[i]].translate(sampleVa[i]);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Optional<PageMapping> translateKernel() {
        int i = next++;
        if (i >= kernelVa.length) {
            next = 0;
            i = 0;
        }
        return kernel.translate(kernelVa[i]);
    }
}
