package dev.sonde.analyzer.memory;

/**
 * A contiguous run of present physical memory, {@code [start, start + length)}.
 */
public record MemoryRange(long start, long length) implements Comparable<MemoryRange> {

    public MemoryRange {
        if (start < 0 || length <= 0 || start + length < start) {
            throw new IllegalArgumentException("bad range start=0x" + Long.toHexString(start) + " length=" + length);
        }
    }

    /** Exclusive end address. */
    public long end() {
        return start + length;
    }

    public boolean contains(long address) {
        return address >= start && address < end();
    }

    @Override
    public int compareTo(MemoryRange o) {
        return Long.compare(start, o.start);
    }

    @Override
    public String toString() {
        return String.format("0x%012x-0x%012x", start, end());
    }
}
