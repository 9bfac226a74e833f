package dev.sonde.analyzer.memory.cache;

import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts what is read from another {@link PhysicalMemory}: reads, bytes asked for and found, reads that found
 * nothing or less than asked, reads that failed with an exception, and the time spent inside the underlying memory.
 * Thread-safe and lock-free; {@link #metrics()} takes a snapshot. Closing closes the underlying memory.
 *
 * <p>Batched reads are passed down as batches (so the memory underneath can still coalesce them) and counted per
 * request, plus once in {@link Metrics#batches()}.
 */
public final class Metered implements PhysicalMemory {

    /**
     * A snapshot of the counters.
     *
     * @param reads          completed read requests (single reads plus every request of a batch)
     * @param batches        batched reads
     * @param bytesRequested bytes asked for
     * @param bytesPresent   bytes found (the sum of the returned present counts)
     * @param absentReads    reads whose first byte was absent (returned 0)
     * @param shortReads     reads that found some but not all the bytes asked for
     * @param failedReads    reads (or batches) that threw, e.g. on a corrupt compressed page; they count nowhere else
     * @param time           time spent in the underlying memory
     */
    public record Metrics(long reads, long batches, long bytesRequested, long bytesPresent, long absentReads,
                          long shortReads, long failedReads, Duration time) {

        /** The counters accumulated since {@code earlier}. */
        public Metrics since(Metrics earlier) {
            return new Metrics(reads - earlier.reads, batches - earlier.batches,
                    bytesRequested - earlier.bytesRequested, bytesPresent - earlier.bytesPresent,
                    absentReads - earlier.absentReads, shortReads - earlier.shortReads,
                    failedReads - earlier.failedReads, time.minus(earlier.time));
        }

        @Override
        public String toString() {
            return String.format("%d reads (%d batches), %d of %d bytes present, %d absent, %d short, %d failed, %.3f ms",
                    reads, batches, bytesPresent, bytesRequested, absentReads, shortReads, failedReads,
                    time.toNanos() / 1e6);
        }
    }

    private final PhysicalMemory memory;
    private final LongAdder reads = new LongAdder();
    private final LongAdder batches = new LongAdder();
    private final LongAdder bytesRequested = new LongAdder();
    private final LongAdder bytesPresent = new LongAdder();
    private final LongAdder absentReads = new LongAdder();
    private final LongAdder shortReads = new LongAdder();
    private final LongAdder failedReads = new LongAdder();
    private final LongAdder nanos = new LongAdder();

    public Metered(PhysicalMemory memory) {
        this.memory = memory;
    }

    /** The memory underneath. */
    public PhysicalMemory underlying() {
        return memory;
    }

    @Override
    public String name() {
        return memory.name();
    }

    @Override
    public List<MemoryRange> ranges() {
        return memory.ranges();
    }

    @Override
    public int read(long address, byte[] dst, int offset, int length) {
        long t0 = System.nanoTime();
        int n;
        try {
            n = memory.read(address, dst, offset, length);
        } catch (RuntimeException | Error e) {
            failedReads.increment();
            throw e;
        } finally {
            nanos.add(System.nanoTime() - t0);
        }
        count(length, n);
        return n;
    }

    @Override
    public int[] readBatch(List<ReadRequest> requests) {
        long t0 = System.nanoTime();
        int[] present;
        batches.increment();
        try {
            present = memory.readBatch(requests);
        } catch (RuntimeException | Error e) {
            failedReads.increment();
            throw e;
        } finally {
            nanos.add(System.nanoTime() - t0);
        }
        for (int i = 0; i < present.length; i++) {
            count(requests.get(i).length(), present[i]);
        }
        return present;
    }

    private void count(int requested, int present) {
        reads.increment();
        bytesRequested.add(requested);
        bytesPresent.add(present);
        if (present == 0 && requested > 0) {
            absentReads.increment();
        } else if (present < requested) {
            shortReads.increment();
        }
    }

    /** A snapshot of the counters (each counter is exact; the set is not one atomic snapshot under concurrent reads). */
    public Metrics metrics() {
        return new Metrics(reads.sum(), batches.sum(), bytesRequested.sum(), bytesPresent.sum(), absentReads.sum(),
                shortReads.sum(), failedReads.sum(), Duration.ofNanos(nanos.sum()));
    }

    /** Sets every counter back to zero. */
    public void reset() {
        for (LongAdder a : new LongAdder[] {reads, batches, bytesRequested, bytesPresent, absentReads, shortReads,
                failedReads, nanos}) {
            a.reset();
        }
    }

    @Override
    public void close() {
        memory.close();
    }
}
