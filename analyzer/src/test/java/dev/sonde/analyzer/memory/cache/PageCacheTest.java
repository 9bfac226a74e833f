package dev.sonde.analyzer.memory.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.image.lime.LimeRealImageTestAccess;
import dev.sonde.analyzer.memory.ByteArrayMemory;
import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PageCacheTest {
    static final int PAGE = PageCache.PAGE_SIZE;

    private static byte[] pattern(int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (i * 13 + i / PAGE);
        }
        return b;
    }

    @Test
    void missesReadThroughHitsDoNotAndTheLeastRecentlyUsedPageGoes() {
        byte[] bytes = pattern(16 * PAGE);
        Metered under = new Metered(new ByteArrayMemory(bytes));
        PageCache cache = new PageCache(under, 4);

        assertArrayEquals(Arrays.copyOfRange(bytes, 10, 20), cache.readBytes(10, 10));
        assertEquals(new PageCache.Stats(0, 1, 0, 0, 1, 4), cache.stats());
        assertEquals(1, under.metrics().reads());
        assertEquals(PAGE, under.metrics().bytesRequested(), "a miss reads the whole page");

        assertArrayEquals(Arrays.copyOfRange(bytes, 100, 4096), cache.readBytes(100, 4096 - 100));
        assertEquals(new PageCache.Stats(1, 1, 0, 0, 1, 4), cache.stats());
        assertEquals(1, under.metrics().reads(), "a hit does not touch the memory underneath");

        // Pages 1-3 fill the cache; page 0 was used least recently, so page 4 evicts it.
        cache.readBytes(PAGE, 3 * PAGE);
        assertEquals(List.of(0L, 1L, 2L, 3L), cache.cachedPageNumbers());
        cache.readBytes(2 * PAGE, 1); // page 2 becomes the most recent
        cache.readBytes(4 * PAGE + 5, 1);
        assertEquals(List.of(1L, 3L, 2L, 4L), cache.cachedPageNumbers());
        PageCache.Stats s = cache.stats();
        assertEquals(2, s.hits());
        assertEquals(5, s.misses());
        assertEquals(1, s.evictions());
        assertEquals(4, s.cachedPages());
        assertEquals(2.0 / 7, s.hitRate(), 1e-9);
        assertEquals(5, under.metrics().reads());

        // A read spanning cached and uncached pages is exact.
        assertArrayEquals(Arrays.copyOfRange(bytes, PAGE - 7, 6 * PAGE + 3), cache.readBytes(PAGE - 7, 5 * PAGE + 10));
    }

    @Test
    void partlyPresentPagesBypassTheCacheAndGiveTheSameCounts() {
        // Ranges deliberately not page aligned.
        SparseMemory sparse = new SparseMemory(new MemoryRange(0x100, 0x1e00), new MemoryRange(0x3000, 0x2000),
                new MemoryRange(0x5000, 0x10), new MemoryRange(0x8800, 0x3000));
        PageCache cache = new PageCache(sparse, 3);
        byte[] buf = new byte[0x4000];
        byte[] ref = new byte[0x4000];
        assertEquals(0x1e00, cache.read(0x100, buf, 0, 0x4000));
        assertEquals(0, cache.stats().hits() + cache.stats().misses(), "page 0 and 1 are only partly present");
        assertEquals(0x2010, cache.read(0x3000, buf, 0, 0x4000), "0x3000-0x5010 is contiguous");
        assertEquals(2, cache.stats().misses(), "pages 3 and 4 are cached, page 5 is partial");

        Random r = new Random(3);
        for (int i = 0; i < 5000; i++) {
            long at = r.nextInt(0xc000);
            int len = 1 + r.nextInt(r.nextBoolean() ? 64 : 0x4000);
            Arrays.fill(buf, (byte) 0);
            Arrays.fill(ref, (byte) 0);
            int n = cache.read(at, buf, 0, len);
            int m = sparse.read(at, ref, 0, len);
            assertEquals(m, n, "read 0x" + Long.toHexString(at) + "+" + len);
            assertArrayEquals(ref, buf, "read 0x" + Long.toHexString(at) + "+" + len);
        }
        assertTrue(cache.stats().hits() > 1000, cache.stats().toString());
        assertTrue(cache.stats().bypassed() > 100, cache.stats().toString());
        cache.close();
        assertTrue(sparse.closed, "close reaches the memory underneath");
        assertEquals(sparse.ranges(), cache.ranges());
        assertEquals(sparse.name(), cache.name());
    }

    @Test
    void capacityMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new PageCache(new ByteArrayMemory(new byte[1]), 0));
    }

    @Test
    void cachedReadsOfTheRealCaptureEqualDirectReads() throws IOException {
        try (MemoryImage img = ImageOpener.standard().open(LimeRealImageTestAccess.realImage())) {
            PhysicalMemory direct = img.memory();
            PageCache cache = new PageCache(direct, 256);
            List<MemoryRange> ranges = direct.ranges();
            Random r = new Random(42);
            byte[] a = new byte[3 * PAGE];
            byte[] b = new byte[3 * PAGE];
            // A working set of 200 pages (fits) mixed with reads all over the image (misses, evictions).
            long[] hot = new long[200];
            for (int i = 0; i < hot.length; i++) {
                MemoryRange range = ranges.get(r.nextInt(ranges.size()));
                hot[i] = range.start() + (long) r.nextInt((int) Math.min(Integer.MAX_VALUE, range.length() / PAGE)) * PAGE;
            }
            for (int i = 0; i < 20_000; i++) {
                long at;
                if (r.nextInt(4) > 0) {
                    at = hot[r.nextInt(hot.length)] + r.nextInt(PAGE);
                } else {
                    MemoryRange range = ranges.get(r.nextInt(ranges.size()));
                    at = range.start() + (long) (r.nextDouble() * range.length());
                }
                int len = 1 + r.nextInt(a.length);
                int n = cache.read(at, a, 0, len);
                int m = direct.read(at, b, 0, len);
                assertEquals(m, n, "0x" + Long.toHexString(at));
                assertArrayEquals(Arrays.copyOf(b, m), Arrays.copyOf(a, n), "0x" + Long.toHexString(at));
            }
            PageCache.Stats s = cache.stats();
            assertTrue(s.hitRate() > 0.5, s.toString());
            assertTrue(s.evictions() > 0, s.toString());
            assertEquals(256, s.cachedPages());
        }
    }
}
