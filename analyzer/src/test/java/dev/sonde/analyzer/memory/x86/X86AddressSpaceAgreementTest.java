package dev.sonde.analyzer.memory.x86;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.memory.ByteArrayMemory;
import dev.sonde.analyzer.memory.MemoryView;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The optimised walks of {@link X86AddressSpace} against a plain reference (the straightforward per-entry walk):
 * random page tables with large pages, aliased and absent tables, both halves of the address space, random ranges and
 * leaf limits. {@code mappings}, {@code translate}, {@code physicalAddress} and {@code read} must agree exactly.
 */
class X86AddressSpaceAgreementTest {
    static final long P = 1, RW = 2, US = 4, A = 1L << 5, D = 1L << 6, PS = 1L << 7, NX = 1L << 63;
    static final int TABLES = 48;
    static final long MEMORY = 8 << 20;

    /** Random tables at 0x1000..; entries point at other tables, at frames, or beyond memory (absent). */
    private static ByteArrayMemory randomTables(long seed) {
        ByteArrayMemory mem = new ByteArrayMemory(new byte[(int) MEMORY]);
        Random r = new Random(seed);
        for (int t = 1; t <= TABLES; t++) {
            long table = (long) t << 12;
            int present = t == 1 ? 12 : 6;
            for (int k = 0; k < present; k++) {
                int idx = t == 1 && k < 4 ? 256 + r.nextInt(256) : r.nextInt(512); // some kernel-half entries
                long flags = P | (r.nextBoolean() ? RW : 0) | (r.nextInt(4) != 0 ? US : 0) | (r.nextInt(5) == 0 ? NX : 0)
                        | (r.nextBoolean() ? A : 0) | (r.nextBoolean() ? D : 0);
                long target;
                int kind = r.nextInt(10);
                if (kind == 0) {
                    target = 0x7f00_0000L; // beyond memory: an absent table
                } else if (kind <= 2) {
                    target = (0x40_0000L + r.nextInt(1 << 20)) & ~0xfffL | PS; // large page here, frame elsewhere
                } else {
                    target = (1L + r.nextInt(TABLES)) << 12; // another table (maybe itself: aliasing)
                }
                mem.putU64(table + idx * 8L, target | flags);
            }
            // a few not-present entries with other bits set
            mem.putU64(table + r.nextInt(512) * 8L, 0x2000 | RW | US);
        }
        // data in the frames, so reads through the space have something to compare; taken for a table (a large-page
        // bit where none is allowed), its entries are not present
        for (int i = 0x40_0000; i < MEMORY; i++) {
            mem.bytes()[i] = (byte) ((i * 31 + (i >>> 12)) & (i % 8 == 0 ? ~P : -1));
        }
        return mem;
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void walksAgreeWithTheReference(long seed) {
        ByteArrayMemory mem = randomTables(seed);
        for (PagingMode mode : PagingMode.values()) {
            X86AddressSpace as = new X86AddressSpace(mem, 0x1000, mode);
            Random r = new Random(seed * 31);
            List<PageMapping> all = new ArrayList<>();
            X86AddressSpace.WalkResult whole = as.mappings(0, -1L, 1 << 20, all::add);
            assertEquals(reference(mem, 0x1000, mode, 0, -1L, 1 << 20), new Walked(all, whole));
            assertTrue(all.size() > 100, "the random tables map something: " + all.size());

            List<long[]> ranges = new ArrayList<>();
            ranges.add(new long[] {0, 0x0000_8000_0000_0000L});
            ranges.add(new long[] {0xffff_8000_0000_0000L, -1L});
            ranges.add(new long[] {5, 3});
            ranges.add(new long[] {-1L, 0});
            for (int i = 0; i < 40; i++) {
                PageMapping a = all.get(r.nextInt(all.size()));
                PageMapping b = all.get(r.nextInt(all.size()));
                long s = a.virtualAddress() + (r.nextBoolean() ? 0 : r.nextInt(3) - 1 + (r.nextBoolean() ? a.size() / 2 : 0));
                long e = b.virtualAddress() + (r.nextBoolean() ? b.size() : r.nextInt(3) - 1);
                ranges.add(new long[] {s, e});
                ranges.add(new long[] {r.nextLong(), r.nextLong()});
            }
            for (long[] range : ranges) {
                long limit = r.nextInt(4) == 0 ? r.nextInt(50) : 1 << 20;
                List<PageMapping> got = new ArrayList<>();
                X86AddressSpace.WalkResult result = as.mappings(range[0], range[1], limit, got::add);
                assertEquals(reference(mem, 0x1000, mode, range[0], range[1], limit), new Walked(got, result),
                        String.format("%s [0x%x, 0x%x) limit %d", mode, range[0], range[1], limit));
            }

            // translate, physicalAddress and read at mapped, unmapped and non-canonical addresses
            List<Long> addresses = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                PageMapping m = all.get(r.nextInt(all.size()));
                addresses.add(m.virtualAddress() + (r.nextLong() & (m.size() - 1)));
                addresses.add(m.virtualEnd() - 1 - r.nextInt(16));
                addresses.add(r.nextLong());
                addresses.add(r.nextLong() & 0x0000_7fff_ffff_ffffL);
            }
            for (long va : addresses) {
                Optional<PageMapping> expected = referenceTranslate(mem, 0x1000, mode, va);
                assertEquals(expected, as.translate(va), "translate 0x" + Long.toHexString(va));
                assertEquals(expected.map(m -> m.physicalAddress() + (va - m.virtualAddress())).orElse(-1L),
                        as.physicalAddress(va), "physicalAddress 0x" + Long.toHexString(va));
                int length = 1 + r.nextInt(40);
                byte[] want = new byte[length];
                byte[] got = new byte[length];
                assertEquals(referenceRead(mem, 0x1000, mode, va, want), as.read(va, got, 0, length));
                assertArrayEquals(want, got, "read 0x" + Long.toHexString(va));
            }
        }
    }

    record Walked(List<PageMapping> leaves, X86AddressSpace.WalkResult result) {
    }

    // ---- the reference: the walk as first written, one entry at a time -------------------------------------------

    private static long le64(MemoryView m, long address, boolean[] present) {
        byte[] b = new byte[8];
        present[0] = m.read(address, b, 0, 8) == 8;
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }

    static Optional<PageMapping> referenceTranslate(MemoryView m, long dtb, PagingMode mode, long va) {
        if (!mode.isCanonical(va)) {
            return Optional.empty();
        }
        long table = dtb;
        boolean w = true;
        boolean u = true;
        boolean nx = false;
        boolean[] present = new boolean[1];
        List<PagingMode.Level> levels = mode.levels();
        for (int i = 0; i < levels.size(); i++) {
            PagingMode.Level level = levels.get(i);
            long entry = le64(m, table + ((va >>> level.shift()) & 511) * 8, present);
            if (!present[0] || (entry & P) == 0) {
                return Optional.empty();
            }
            w &= (entry & RW) != 0;
            u &= (entry & US) != 0;
            nx |= (entry & NX) != 0;
            if (i == levels.size() - 1 || (level.largeAllowed() && (entry & PS) != 0)) {
                long size = level.span();
                return Optional.of(new PageMapping(va & ~(size - 1), entry & X86AddressSpace.ADDRESS_MASK & ~(size - 1),
                        size, w, u, !nx, (entry & D) != 0, (entry & A) != 0));
            }
            table = entry & X86AddressSpace.ADDRESS_MASK;
        }
        throw new AssertionError();
    }

    static int referenceRead(MemoryView m, long dtb, PagingMode mode, long va, byte[] dst) {
        int done = 0;
        while (done < dst.length) {
            Optional<PageMapping> page = referenceTranslate(m, dtb, mode, va + done);
            if (page.isEmpty()) {
                break;
            }
            long within = va + done - page.get().virtualAddress();
            int n = (int) Math.min(dst.length - done, page.get().size() - within);
            int got = m.read(page.get().physicalAddress() + within, dst, done, n);
            done += got;
            if (got < n) {
                break;
            }
        }
        return done;
    }

    static Walked reference(MemoryView m, long dtb, PagingMode mode, long start, long end, long maxLeaves) {
        List<PageMapping> out = new ArrayList<>();
        long[] counts = new long[2]; // leaves, absent tables
        referenceTable(m, mode, dtb, 0, 0, true, true, false, start, end, maxLeaves, out::add, counts);
        return new Walked(out, new X86AddressSpace.WalkResult(counts[0], counts[1], counts[0] >= maxLeaves));
    }

    private static void referenceTable(MemoryView m, PagingMode mode, long tableAddress, int depth, long base,
                                       boolean writable, boolean user, boolean noExecute, long start, long end,
                                       long maxLeaves, Consumer<PageMapping> visitor, long[] counts) {
        List<PagingMode.Level> levels = mode.levels();
        PagingMode.Level level = levels.get(depth);
        byte[] t = new byte[4096];
        if (m.read(tableAddress, t, 0, 4096) != 4096) {
            counts[1]++;
            return;
        }
        for (int idx = 0; idx < 512 && counts[0] < maxLeaves; idx++) {
            int shift = 64 - mode.virtualBits();
            long va = ((base | ((long) idx << level.shift())) << shift) >> shift;
            long vaEnd = va + level.span();
            if (Long.compareUnsigned(vaEnd - 1, start) < 0 || Long.compareUnsigned(va, end) >= 0) {
                continue;
            }
            long entry = 0;
            for (int i = 7; i >= 0; i--) {
                entry = (entry << 8) | (t[idx * 8 + i] & 0xff);
            }
            if ((entry & P) == 0) {
                continue;
            }
            boolean w = writable && (entry & RW) != 0;
            boolean u = user && (entry & US) != 0;
            boolean nx = noExecute || (entry & NX) != 0;
            if (depth == levels.size() - 1 || (level.largeAllowed() && (entry & PS) != 0)) {
                long size = level.span();
                visitor.accept(new PageMapping(va, entry & X86AddressSpace.ADDRESS_MASK & ~(size - 1), size, w, u, !nx,
                        (entry & D) != 0, (entry & A) != 0));
                counts[0]++;
            } else {
                referenceTable(m, mode, entry & X86AddressSpace.ADDRESS_MASK, depth + 1,
                        base | ((long) idx << level.shift()), w, u, nx, start, end, maxLeaves, visitor, counts);
            }
        }
    }
}
