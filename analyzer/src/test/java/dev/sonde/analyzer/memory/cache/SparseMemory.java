package dev.sonde.analyzer.memory.cache;

import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.util.List;

/** Test memory with arbitrary (not page-aligned) present ranges; byte at address a is {@code (a * 7 + a / 4096)}. */
final class SparseMemory implements PhysicalMemory {
    private final List<MemoryRange> ranges;
    int reads;
    boolean closed;

    SparseMemory(MemoryRange... ranges) {
        this.ranges = List.of(ranges);
    }

    static byte valueAt(long a) {
        return (byte) (a * 7 + a / 4096);
    }

    @Override
    public String name() {
        return "sparse test memory";
    }

    @Override
    public List<MemoryRange> ranges() {
        return ranges;
    }

    @Override
    public int read(long address, byte[] dst, int offset, int length) {
        reads++;
        int done = 0;
        for (MemoryRange r : ranges) { // sorted; adjacent ranges are contiguous
            long a = address + done;
            if (done < length && r.contains(a)) {
                int n = (int) Math.min(length - done, r.end() - a);
                for (int i = 0; i < n; i++) {
                    dst[offset + done + i] = valueAt(a + i);
                }
                done += n;
            }
        }
        return done;
    }

    @Override
    public void close() {
        closed = true;
    }
}
