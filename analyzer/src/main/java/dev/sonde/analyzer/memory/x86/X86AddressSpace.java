package dev.sonde.analyzer.memory.x86;

import dev.sonde.analyzer.memory.MemoryView;
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

    private final MemoryView physical;
    private final long dtb;
    private final PagingMode mode;
    private final String name;

    public X86AddressSpace(MemoryView physical, long dtb, PagingMode mode) {
        this.physical = physical;
        this.dtb = dtb & ADDRESS_MASK;
        this.mode = mode;
        this.name = String.format("%s [dtb 0x%x]", physical.name(), this.dtb);
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

    /** The mapping holding {@code virtualAddress}, or empty when it is not mapped (or a table is absent). */
    public Optional<PageMapping> translate(long virtualAddress) {
        if (!mode.isCanonical(virtualAddress)) {
            return Optional.empty();
        }
        long table = dtb;
        boolean writable = true;
        boolean user = true;
        boolean noExecute = false;
        List<PagingMode.Level> levels = mode.levels();
        byte[] buf = new byte[8];
        for (int i = 0; i < levels.size(); i++) {
            PagingMode.Level level = levels.get(i);
            long entryAddress = table + ((virtualAddress >>> level.shift()) & 511) * 8;
            if (physical.read(entryAddress, buf, 0, 8) != 8) {
                return Optional.empty();
            }
            long entry = le64(buf);
            if ((entry & PRESENT) == 0) {
                return Optional.empty();
            }
            writable &= (entry & WRITABLE) != 0;
            user &= (entry & USER) != 0;
            noExecute |= (entry & NO_EXECUTE) != 0;
            boolean leaf = i == levels.size() - 1 || (level.largeAllowed() && (entry & PAGE_SIZE_BIT) != 0);
            if (leaf) {
                long size = level.span();
                long base = entry & ADDRESS_MASK & ~(size - 1);
                return Optional.of(new PageMapping(virtualAddress & ~(size - 1), base, size, writable, user, !noExecute,
                        (entry & DIRTY) != 0, (entry & ACCESSED) != 0));
            }
            table = entry & ADDRESS_MASK;
        }
        throw new AssertionError("unreachable");
    }

    /** The physical address of {@code virtualAddress}, or -1 when unmapped. */
    public long physicalAddress(long virtualAddress) {
        return translate(virtualAddress)
                .map(m -> m.physicalAddress() + (virtualAddress - m.virtualAddress()))
                .orElse(-1L);
    }

    @Override
    public int read(long address, byte[] dst, int offset, int length) {
        int done = 0;
        while (done < length) {
            long va = address + done;
            Optional<PageMapping> m = translate(va);
            if (m.isEmpty()) {
                break;
            }
            PageMapping page = m.get();
            long within = va - page.virtualAddress();
            int n = (int) Math.min(length - done, page.size() - within);
            int got = physical.read(page.physicalAddress() + within, dst, offset + done, n);
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
        long leaves;
        long absentTables;

        Walk(long start, long end, long maxLeaves, Consumer<PageMapping> visitor) {
            this.start = start;
            this.end = end;
            this.maxLeaves = maxLeaves;
            this.visitor = visitor;
        }

        void table(long tableAddress, int depth, long base, boolean writable, boolean user, boolean noExecute) {
            List<PagingMode.Level> levels = mode.levels();
            PagingMode.Level level = levels.get(depth);
            byte[] t = new byte[4096];
            if (physical.read(tableAddress, t, 0, 4096) != 4096) {
                absentTables++;
                return;
            }
            for (int idx = 0; idx < 512 && leaves < maxLeaves; idx++) {
                long va = signExtend(base | ((long) idx << level.shift()));
                long vaEnd = va + level.span();
                if (Long.compareUnsigned(vaEnd - 1, start) < 0 || Long.compareUnsigned(va, end) >= 0) {
                    continue;
                }
                long entry = le64(t, idx * 8);
                if ((entry & PRESENT) == 0) {
                    continue;
                }
                boolean w = writable && (entry & WRITABLE) != 0;
                boolean u = user && (entry & USER) != 0;
                boolean nx = noExecute || (entry & NO_EXECUTE) != 0;
                boolean leaf = depth == levels.size() - 1 || (level.largeAllowed() && (entry & PAGE_SIZE_BIT) != 0);
                if (leaf) {
                    long size = level.span();
                    visitor.accept(new PageMapping(va, entry & ADDRESS_MASK & ~(size - 1), size, w, u, !nx,
                            (entry & DIRTY) != 0, (entry & ACCESSED) != 0));
                    leaves++;
                } else {
                    table(entry & ADDRESS_MASK, depth + 1, base | ((long) idx << level.shift()), w, u, nx);
                }
            }
        }

        private long signExtend(long va) {
            int shift = 64 - mode.virtualBits();
            return (va << shift) >> shift;
        }
    }

    private static long le64(byte[] b) {
        return le64(b, 0);
    }

    private static long le64(byte[] b, int off) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return v;
    }
}
