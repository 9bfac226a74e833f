package dev.sonde.analyzer.memory.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.memory.ByteArrayMemory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class X86AddressSpaceTest {
    static final long P = 1, RW = 2, US = 4, D = 1L << 6, PS = 1L << 7, NX = 1L << 63;

    /** 8 MiB of memory: tables at 0x1000.., a 2 MiB page frame at 0x200000, 4 KiB frames at 0x400000.. */
    private final ByteArrayMemory mem = new ByteArrayMemory(new byte[8 << 20]);

    private X86AddressSpace fourLevel() {
        // user address 0x0000_7f00_0000_0000 + ...: PML4[254] -> PDPT 0x2000, PDPT[0] -> PD 0x3000
        long va = 0x7f00_0000_0000L;
        mem.putU64(0x1000 + ((va >>> 39) & 511) * 8, 0x2000 | P | RW | US);
        mem.putU64(0x2000, 0x3000 | P | RW | US);
        // PD[0]: 2 MiB page at 0x200000, read-only, executable
        mem.putU64(0x3000, 0x200000 | P | US | PS | D);
        // PD[1] -> PT 0x4000; PT[0] -> 0x400000 rw nx, PT[3] -> 0x401000 rw x
        mem.putU64(0x3000 + 8, 0x4000 | P | RW | US);
        mem.putU64(0x4000, 0x400000 | P | RW | US | NX);
        mem.putU64(0x4000 + 3 * 8, 0x401000 | P | RW | US);
        return new X86AddressSpace(mem, 0x1000, PagingMode.FOUR_LEVEL);
    }

    @Test
    void translatesSmallAndLargePagesWithEffectivePermissions() {
        X86AddressSpace as = fourLevel();
        long base = 0x7f00_0000_0000L;
        PageMapping large = as.translate(base + 0x12345).orElseThrow();
        assertEquals(2 << 20, large.size());
        assertEquals(0x200000, large.physicalAddress());
        assertEquals("r-x", large.permissions());
        assertTrue(large.dirty());
        assertEquals(0x212345, as.physicalAddress(base + 0x12345));

        PageMapping small = as.translate(base + 0x200000 + 0x10).orElseThrow();
        assertEquals(4096, small.size());
        assertEquals("rw-", small.permissions());
        assertEquals(0x401000 + 0x20, as.physicalAddress(base + 0x200000 + 3 * 4096 + 0x20));
        assertTrue(as.translate(base + 0x200000 + 4096).isEmpty(), "PT[1] is not present");
        assertTrue(as.translate(0x0000_8000_0000_0000L).isEmpty(), "non-canonical");
    }

    @Test
    void readsAcrossPagesAndStopsAtTheFirstHole() {
        X86AddressSpace as = fourLevel();
        long va = 0x7f00_0000_0000L + 0x200000 + 3 * 4096;
        mem.bytes()[0x401000] = 'S';
        mem.bytes()[0x401001] = 0;
        assertEquals("S", as.readCString(va, 16));
        byte[] buf = new byte[8192];
        assertEquals(4096, as.read(va, buf, 0, 8192), "the next page is unmapped");
    }

    @Test
    void enumeratesLeavesInOrderAndBoundsTheWalk() {
        X86AddressSpace as = fourLevel();
        List<PageMapping> seen = new ArrayList<>();
        X86AddressSpace.WalkResult r = as.mappings(0, -1L, 1000, seen::add);
        assertEquals(3, seen.size());
        assertEquals(3, r.leaves());
        assertFalse(r.truncated());
        assertEquals(0x7f00_0000_0000L, seen.get(0).virtualAddress());
        assertEquals(0x7f00_0020_0000L, seen.get(1).virtualAddress());

        // A hostile guest aliases every PDPT entry to the same PD: the walk must stop at the leaf limit.
        for (int i = 0; i < 512; i++) {
            mem.putU64(0x2000 + i * 8, 0x3000 | P | RW | US);
        }
        for (int i = 0; i < 512; i++) {
            mem.putU64(0x3000 + i * 8, 0x4000 | P | RW | US);
            mem.putU64(0x4000 + i * 8, 0x400000 | P | RW | US);
        }
        List<PageMapping> many = new ArrayList<>();
        X86AddressSpace.WalkResult bounded = as.mappings(0, -1L, 10_000, many::add);
        assertTrue(bounded.truncated());
        assertEquals(10_000, many.size());
    }

    @Test
    void fiveLevelPagingAddsOneTableOnTop() {
        fourLevel();
        // PML5 at 0x5000, entry 0 -> the PML4 at 0x1000
        mem.putU64(0x5000, 0x1000 | P | RW | US);
        X86AddressSpace as = new X86AddressSpace(mem, 0x5000, PagingMode.FIVE_LEVEL);
        assertEquals(0x212345, as.physicalAddress(0x7f00_0000_0000L + 0x12345));
        assertEquals(57, PagingMode.FIVE_LEVEL.virtualBits());
    }

    @Test
    void oneGigabytePage() {
        mem.putU64(0x1000 + 511 * 8, 0x6000 | P | RW);
        mem.putU64(0x6000 + 510 * 8, 0x40000000L | P | RW | PS); // 0xffffffff80000000 -> 1 GiB at 1 GiB
        X86AddressSpace as = new X86AddressSpace(mem, 0x1000, PagingMode.FOUR_LEVEL);
        PageMapping m = as.translate(0xffff_ffff_8123_4567L).orElseThrow();
        assertEquals(1L << 30, m.size());
        assertEquals(0x40000000L + 0x1234567, as.physicalAddress(0xffff_ffff_8123_4567L));
        assertFalse(m.user());
    }
}
