package dev.sonde.analyzer.memory;

import java.io.Closeable;
import java.util.List;

/**
 * Guest physical memory as an image holds it: sparse ranges, each read saying how much was present.
 * Readers exist per image format; none of them knows which operating system the bytes belong to.
 */
public interface PhysicalMemory extends MemoryView, Closeable {

    /** The present ranges, sorted by start and non-overlapping. */
    List<MemoryRange> ranges();

    /** Total number of present bytes. */
    default long presentBytes() {
        long total = 0;
        for (MemoryRange r : ranges()) {
            total += r.length();
        }
        return total;
    }

    /** One past the highest present address. */
    default long maxAddress() {
        List<MemoryRange> r = ranges();
        return r.isEmpty() ? 0 : r.get(r.size() - 1).end();
    }

    @Override
    void close();
}
