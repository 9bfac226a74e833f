package dev.sonde.analyzer.memory.cache;

import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An LRU cache of 4 KiB pages in front of another {@link PhysicalMemory}, bounded by a page count. Worth it over
 * formats whose reads are expensive (kdump, AVML and other compressed images, where a page costs a decompression);
 * over memory-mapped formats (ELF, LiME, raw) it only adds a copy.
 *
 * <p>Only pages that lie entirely inside one of the {@link #ranges() present ranges} are cached; reads of partly
 * present pages (ranges need not be page aligned) go straight to the underlying memory, so the results are exactly
 * those of the underlying memory. Thread-safe; reads are serialised. Closing closes the underlying memory.
 */
public final class PageCache implements PhysicalMemory {
    public static final int PAGE_SIZE = 4096;
    private static final int PAGE_SHIFT = 12;

    /** Cache counters: {@code hits + misses} pages were looked up; {@code bypassed} reads were not cacheable. */
    public record Stats(long hits, long misses, long evictions, long bypassed, int cachedPages, int capacity) {
        /** Fraction of page lookups served from the cache, 0 when there were none. */
        public double hitRate() {
            long total = hits + misses;
            return total == 0 ? 0 : (double) hits / total;
        }
    }

    private final PhysicalMemory memory;
    private final int capacity;
    private final long[] rangeStarts;
    private final long[] rangeEnds;
    private final Map<Long, byte[]> pages;
    private long hits;
    private long misses;
    private long evictions;
    private long bypassed;

    /**
     * @param memory   the memory to cache (closed by {@link #close()})
     * @param capacity the maximum number of cached pages (each 4 KiB), at least 1
     */
    public PageCache(PhysicalMemory memory, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("page cache capacity must be at least 1, not " + capacity);
        }
        this.memory = memory;
        this.capacity = capacity;
        List<MemoryRange> ranges = memory.ranges();
        this.rangeStarts = ranges.stream().mapToLong(MemoryRange::start).toArray();
        this.rangeEnds = ranges.stream().mapToLong(MemoryRange::end).toArray();
        this.pages = new LinkedHashMap<>(Math.min(capacity, 1 << 16) * 4 / 3 + 1, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, byte[]> eldest) {
                if (size() > PageCache.this.capacity) {
                    evictions++;
                    return true;
                }
                return false;
            }
        };
    }

    /** The memory underneath. */
    public PhysicalMemory underlying() {
        return memory;
    }

    @Override
    public String name() {
        return memory.name();
    }

    @Override
    public List<MemoryRange> ranges() {
        return memory.ranges();
    }

    @Override
    public synchronized int read(long address, byte[] dst, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, dst.length);
        int done = 0;
        while (done < length) {
            long a = address + done;
            if (a < 0) {
                break;
            }
            long pageNumber = a >>> PAGE_SHIFT;
            int within = (int) (a & (PAGE_SIZE - 1));
            int n = Math.min(length - done, PAGE_SIZE - within);
            byte[] page = pages.get(pageNumber);
            if (page != null) {
                hits++;
            } else if (wholePagePresent(pageNumber << PAGE_SHIFT)) {
                misses++;
                page = new byte[PAGE_SIZE];
                int got = memory.read(pageNumber << PAGE_SHIFT, page, 0, PAGE_SIZE);
                if (got == PAGE_SIZE) {
                    pages.put(pageNumber, page);
                } else {
                    page = null; // the memory disagrees with its ranges(); trust the read
                }
            }
            if (page != null) {
                System.arraycopy(page, within, dst, offset + done, n);
                done += n;
            } else {
                bypassed++;
                int got = memory.read(a, dst, offset + done, n);
                done += got;
                if (got < n) {
                    break;
                }
            }
        }
        return done;
    }

    private boolean wholePagePresent(long pageStart) {
        int lo = 0;
        int hi = rangeStarts.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (rangeStarts[mid] <= pageStart) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return hi >= 0 && pageStart + PAGE_SIZE <= rangeEnds[hi];
    }

    /** A snapshot of the counters. */
    public synchronized Stats stats() {
        return new Stats(hits, misses, evictions, bypassed, pages.size(), capacity);
    }

    /** Drops every cached page (the counters stay). */
    public synchronized void clear() {
        pages.clear();
    }

    /** The page numbers currently cached, least recently used first (for tests). */
    synchronized List<Long> cachedPageNumbers() {
        return Collections.unmodifiableList(List.copyOf(pages.keySet()));
    }

    @Override
    public synchronized void close() {
        pages.clear();
        memory.close();
    }
}
