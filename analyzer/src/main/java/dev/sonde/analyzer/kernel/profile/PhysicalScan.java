package dev.sonde.analyzer.kernel.profile;

import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.util.ArrayList;
import java.util.List;

/**
 * Chunked scanning of physical memory, optionally limited to a window (e.g. around the kernel image when its place is
 * known). Each chunk overlaps the next by {@code overlap} bytes so a pattern on a boundary is seen once, in the chunk
 * where it starts.
 */
public final class PhysicalScan {
    static final int CHUNK = 8 << 20;

    private PhysicalScan() {
    }

    /** Receives one chunk: bytes {@code [0, length)} of {@code buf} are at physical {@code base}; report starts below {@code limit}. */
    public interface ChunkVisitor {
        /** @return false to stop the scan */
        boolean visit(long base, byte[] buf, int length, int limit);
    }

    /** The present ranges clipped to {@code [windowStart, windowEnd)}. */
    public static List<MemoryRange> clip(PhysicalMemory memory, long windowStart, long windowEnd) {
        List<MemoryRange> out = new ArrayList<>();
        for (MemoryRange r : memory.ranges()) {
            long s = Math.max(r.start(), windowStart);
            long e = Math.min(r.end(), windowEnd);
            if (e > s) {
                out.add(new MemoryRange(s, e - s));
            }
        }
        return out;
    }

    public static void scan(PhysicalMemory memory, List<MemoryRange> ranges, int overlap, ChunkVisitor visitor) {
        byte[] buf = new byte[CHUNK + overlap];
        for (MemoryRange range : ranges) {
            for (long base = range.start(); base < range.end(); base += CHUNK) {
                int want = (int) Math.min(buf.length, range.end() - base);
                int n = memory.read(base, buf, 0, want);
                if (n <= 0) {
                    continue;
                }
                int limit = (int) Math.min(Math.min(n, CHUNK), range.end() - base);
                if (!visitor.visit(base, buf, n, limit)) {
                    return;
                }
            }
        }
    }
}
