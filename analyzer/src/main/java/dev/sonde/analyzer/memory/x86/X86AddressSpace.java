package dev.sonde.analyzer.memory.x86;

import dev.sonde.analyzer.memory.MemoryView;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One x86-64 virtual address space: a page-table root (DTB, the CR3 value) over physical memory.
 * Translation is one loop over the {@link PagingMode} level table. The guest controls the tables, so every walk is
 * bounded: a single translation by the depth of the table, an enumeration by a maximum number of leaves.
 */
public final class X86AddressSpace implements MemoryView {
    static final long PRESENT = 1L;
    static final long WRITABLE = 1L << 1;
    static final long USER = 1L << 2;
    static final long ACCESSED = 1L << 5;
    static final long DIRTY = 1L << 6;
    static final long PAGE_SIZE_BIT = 1L << 7;
    static final long NO_EXECUTE = 1L << 63;
    /** Physical-address bits 12..51 of an entry. */
    static final long ADDRESS_MASK = 0x000f_ffff_ffff_f000L;
    static final long PAGE = 4096;

    private static final VarHandle LE64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    /** Returned by {@link #leaf} for an unmapped address. */
    private static final long UNMAPPED = -1;

    private final MemoryView physical;
    private final long dtb;
    private final PagingMode mode;
    private final String name;
    /** The level table of {@link #mode}, unpacked: index shift per level and whether a PS bit there maps a page. */
    private final int[] shifts;
    private final boolean[] largeAllowed;
    private final int virtualBits;

    public X86AddressSpace(MemoryView physical, long dtb, PagingMode mode) {
        this.physical = physical;
        this.dtb = dtb & ADDRESS_MASK;
        this.mode = mode;
        this.name = String.format("%s [dtb 0x%x]", physical.name(), this.dtb);
        List<PagingMode.Level> levels = mode.levels();
        this.shifts = levels.stream().mapToInt(PagingMode.Level::shift).toArray();
        this.largeAllowed = new boolean[levels.size()];
        for (int i = 0; i < levels.size(); i++) {
            largeAllowed[i] = levels.get(i).largeAllowed();
        }
        this.virtualBits = mode.virtualBits();
    }

    public long dtb() {
        return dtb;
    }

    public PagingMode mode() {
        return mode;
    }

    @Override
    public String name() {
        return name;
    }

    private boolean canonical(long address) {
        long top = address >> (virtualBits - 1);
        return top == 0 || top == -1;
    }

    /**
     * The mapping holding {@code virtualAddress}, or empty when it is not mapped (or a table is absent). For the
     * physical address alone, {@link #physicalAddress} does the same walk without allocating.
     */
    public Optional<PageMapping> translate(long virtualAddress) {
        if (!canonical(virtualAddress)) {
            return Optional.empty();
        }
        long table = dtb;
        boolean writable = true;
        boolean user = true;
        boolean noExecute = false;
        int last = shifts.length - 1;
        for (int i = 0; i <= last; i++) {
            int shift = shifts[i];
            // An absent table reads as 0: not present, like a not-present entry.
            long entry = physical.readU64OrElse(table + ((virtualAddress >>> shift) & 511) * 8, 0);
            if ((entry & PRESENT) == 0) {
                return Optional.empty();
            }
            writable &= (entry & WRITABLE) != 0;
            user &= (entry & USER) != 0;
            noExecute |= (entry & NO_EXECUTE) != 0;
            if (i == last || (largeAllowed[i] && (entry & PAGE_SIZE_BIT) != 0)) {
                long size = 1L << shift;
                long base = entry & ADDRESS_MASK & ~(size - 1);
                return Optional.of(new PageMapping(virtualAddress & ~(size - 1), base, size, writable, user, !noExecute,
                        (entry & DIRTY) != 0, (entry & ACCESSED) != 0));
            }
            table = entry & ADDRESS_MASK;
        }
        throw new AssertionError("unreachable");
    }

    /**
     * The leaf mapping {@code virtualAddress}: the physical base of its page with the level index of the leaf in the
     * low 12 bits (a page base is 4 KiB-aligned), or {@link #UNMAPPED}. The same walk as {@link #translate}, without
     * the permissions and without allocating.
     */
    private long leaf(long virtualAddress) {
        if (!canonical(virtualAddress)) {
            return UNMAPPED;
        }
        long table = dtb;
        int last = shifts.length - 1;
        for (int i = 0; i <= last; i++) {
            int shift = shifts[i];
            long entry = physical.readU64OrElse(table + ((virtualAddress >>> shift) & 511) * 8, 0);
            if ((entry & PRESENT) == 0) {
                return UNMAPPED;
            }
            if (i == last || (largeAllowed[i] && (entry & PAGE_SIZE_BIT) != 0)) {
                return (entry & ADDRESS_MASK & ~((1L << shift) - 1)) | i;
            }
            table = entry & ADDRESS_MASK;
        }
        throw new AssertionError("unreachable");
    }

    /** The physical address of {@code virtualAddress}, or -1 when unmapped. Does not allocate. */
    public long physicalAddress(long virtualAddress) {
        long leaf = leaf(virtualAddress);
        if (leaf == UNMAPPED) {
            return -1;
        }
        long size = 1L << shifts[(int) (leaf & (PAGE - 1))];
        return (leaf & ~(PAGE - 1)) + (virtualAddress & (size - 1));
    }

    @Override
    public int read(long address, byte[] dst, int offset, int length) {
        int done = 0;
        while (done < length) {
            long va = address + done;
            long leaf = leaf(va);
            if (leaf == UNMAPPED) {
                break;
            }
            long size = 1L << shifts[(int) (leaf & (PAGE - 1))];
            long within = va & (size - 1);
            int n = (int) Math.min(length - done, size - within);
            int got = physical.read((leaf & ~(PAGE - 1)) + within, dst, offset + done, n);
            done += got;
            if (got < n) {
                break;
            }
        }
        return done;
    }

    /**
     * Visits the present leaf mappings with virtual addresses in {@code [start, end)}, in address order.
     *
     * @param maxLeaves stop after this many leaves (a hostile guest can alias tables to describe billions of pages)
     */
    public WalkResult mappings(long start, long end, long maxLeaves, Consumer<PageMapping> visitor) {
        Walk walk = new Walk(start, end, maxLeaves, visitor);
        walk.table(dtb, 0, 0, true, true, false);
        return new WalkResult(walk.leaves, walk.absentTables, walk.leaves >= maxLeaves);
    }

    /**
     * What an enumeration saw.
     *
     * @param leaves       present leaf mappings visited
     * @param absentTables page-table pages referenced but not present in the image
     * @param truncated    the walk stopped at the leaf limit
     */
    public record WalkResult(long leaves, long absentTables, boolean truncated) {
    }

    private final class Walk {
        final long start;
        final long end;
        final long maxLeaves;
        final Consumer<PageMapping> visitor;
        /** One table buffer per depth: a table's children are read into the next one while it is being visited. */
        final byte[][] tables = new byte[shifts.length][4096];
        long leaves;
        long absentTables;

        Walk(long start, long end, long maxLeaves, Consumer<PageMapping> visitor) {
            this.start = start;
            this.end = end;
            this.maxLeaves = maxLeaves;
            this.visitor = visitor;
        }

        void table(long tableAddress, int depth, long base, boolean writable, boolean user, boolean noExecute) {
            byte[] t = tables[depth];
            if (physical.read(tableAddress, t, 0, 4096) != 4096) {
                absentTables++;
                return;
            }
            int shift = shifts[depth];
            long span = 1L << shift;
            boolean last = depth == shifts.length - 1;
            boolean large = largeAllowed[depth];
            // The entries whose span meets [start, end): their virtual addresses grow with the index (unsigned, also
            // across the sign extension of the top level), so they are one run, found by two binary searches.
            int from = firstEndingAtOrAfter(base, shift, span);
            int to = firstStartingAtOrAfter(base, shift);
            for (int idx = from; idx < to && leaves < maxLeaves; idx++) {
                long entry = (long) LE64.get(t, idx * 8);
                if ((entry & PRESENT) == 0) {
                    continue;
                }
                boolean w = writable && (entry & WRITABLE) != 0;
                boolean u = user && (entry & USER) != 0;
                boolean nx = noExecute || (entry & NO_EXECUTE) != 0;
                long prefix = base | ((long) idx << shift);
                if (last || (large && (entry & PAGE_SIZE_BIT) != 0)) {
                    visitor.accept(new PageMapping(signExtend(prefix), entry & ADDRESS_MASK & ~(span - 1), span, w, u,
                            !nx, (entry & DIRTY) != 0, (entry & ACCESSED) != 0));
                    leaves++;
                } else {
                    table(entry & ADDRESS_MASK, depth + 1, prefix, w, u, nx);
                }
            }
        }

        /** The first index whose span does not end before {@code start} (512 when none). */
        private int firstEndingAtOrAfter(long base, int shift, long span) {
            int lo = 0;
            int hi = 512;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                long va = signExtend(base | ((long) mid << shift));
                if (Long.compareUnsigned(va + span - 1, start) < 0) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }

        /** The first index whose span starts at or after {@code end} (512 when none). */
        private int firstStartingAtOrAfter(long base, int shift) {
            int lo = 0;
            int hi = 512;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                long va = signExtend(base | ((long) mid << shift));
                if (Long.compareUnsigned(va, end) < 0) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }
    }

    private long signExtend(long va) {
        int shift = 64 - virtualBits;
        return (va << shift) >> shift;
    }
}
