package dev.sonde.analyzer.image.savefile;

/**
 * Where each page of one QEMU RAM block is in the migration stream. An entry is 0 for a page never sent, the stream
 * offset of the page data (always &gt; 0) for a {@code PAGE} record, or {@code -(fill + 1)} for a {@code ZERO} record
 * (a page filled with one byte value). Entries are allocated in chunks when the first page of a chunk arrives, so a
 * block's declared length costs nothing until the stream really carries its pages.
 */
final class RamBlockIndex {
    static final int CHUNK_SHIFT = 18; // 2^18 pages = 1 GiB of 4 KiB pages, 2 MiB of index
    static final int CHUNK = 1 << CHUNK_SHIFT;

    final String id;
    final long length;
    final int pageShift;
    private final long[][] chunks;
    private long sent;

    RamBlockIndex(String id, long length, int pageShift) {
        this.id = id;
        this.length = length;
        this.pageShift = pageShift;
        long pages = length >>> pageShift;
        this.chunks = new long[(int) ((pages + CHUNK - 1) >>> CHUNK_SHIFT)][];
    }

    long pages() {
        return length >>> pageShift;
    }

    void set(long page, long entry) {
        int c = (int) (page >>> CHUNK_SHIFT);
        long[] chunk = chunks[c];
        if (chunk == null) {
            long pagesLeft = pages() - ((long) c << CHUNK_SHIFT);
            chunk = new long[(int) Math.min(CHUNK, pagesLeft)];
            chunks[c] = chunk;
        }
        int i = (int) (page & (CHUNK - 1));
        if (chunk[i] == 0) {
            sent++;
        }
        chunk[i] = entry;
    }

    long get(long page) {
        long[] chunk = chunks[(int) (page >>> CHUNK_SHIFT)];
        return chunk == null ? 0 : chunk[(int) (page & (CHUNK - 1))];
    }

    /** Pages the stream carried (each counted once, however often it was resent). */
    long sent() {
        return sent;
    }
}
