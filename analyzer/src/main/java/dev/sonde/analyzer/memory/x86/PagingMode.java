package dev.sonde.analyzer.memory.x86;

import java.util.List;

/**
 * The x86-64 page-table layouts as a table of levels, top first. 4-level and 5-level paging differ only in the
 * table, so one walker serves both.
 */
public enum PagingMode {
    FOUR_LEVEL(List.of(
            new Level("PML4", 39, false),
            new Level("PDPT", 30, true),
            new Level("PD", 21, true),
            new Level("PT", 12, false))),
    FIVE_LEVEL(List.of(
            new Level("PML5", 48, false),
            new Level("PML4", 39, false),
            new Level("PDPT", 30, true),
            new Level("PD", 21, true),
            new Level("PT", 12, false)));

    /**
     * One level of the walk.
     *
     * @param name         the architectural name of the table
     * @param shift        the virtual-address bit where this level's 9-bit index starts
     * @param largeAllowed whether a PS bit here maps a large page (1 GiB at PDPT, 2 MiB at PD)
     */
    public record Level(String name, int shift, boolean largeAllowed) {
        /** Bytes one entry of this level covers. */
        public long span() {
            return 1L << shift;
        }
    }

    private final List<Level> levels;

    PagingMode(List<Level> levels) {
        this.levels = levels;
    }

    public List<Level> levels() {
        return levels;
    }

    /** Number of implemented virtual-address bits: 48 or 57. */
    public int virtualBits() {
        return levels.get(0).shift() + 9;
    }

    /** Whether {@code address} is canonical (bits above the implemented ones copy the top implemented bit). */
    public boolean isCanonical(long address) {
        int bits = virtualBits();
        long top = address >> (bits - 1);
        return top == 0 || top == -1;
    }
}
