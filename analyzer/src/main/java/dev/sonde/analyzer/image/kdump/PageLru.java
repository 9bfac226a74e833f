package dev.sonde.analyzer.image.kdump;

/**
 * The entries of one page cache in least-recently-used order, found by page frame number without boxing it: an
 * open-addressing table (linear probing, backward-shift deletion) over the entries, which are also linked in use order.
 * Not thread-safe.
 */
final class PageLru {
    /** Decompressed bytes of one page: {@code bytes[0, filled)} are its first {@code filled} bytes. */
    static final class Entry {
        final long pfn;
        byte[] bytes;
        int filled;
        private Entry older;
        private Entry newer;
        private boolean cached;

        Entry(long pfn) {
            this.pfn = pfn;
        }
    }

    private Entry[] table = new Entry[64];
    private int size;
    /** Least and most recently used entries. */
    private Entry eldest;
    private Entry newest;

    private int home(long pfn) {
        return (int) ((pfn * 0xff51afd7ed558ccdL) >>> 32) & (table.length - 1);
    }

    /** The entry of {@code pfn}, now the most recently used, or null. */
    Entry get(long pfn) {
        int mask = table.length - 1;
        for (int i = home(pfn); ; i = (i + 1) & mask) {
            Entry e = table[i];
            if (e == null) {
                return null;
            }
            if (e.pfn == pfn) {
                unlink(e);
                append(e);
                return e;
            }
        }
    }

    boolean contains(Entry e) {
        return e.cached;
    }

    /** Adds {@code e}, whose page has no entry yet, as the most recently used. */
    void add(Entry e) {
        if (e.cached) {
            throw new IllegalStateException("pfn 0x" + Long.toHexString(e.pfn) + " is cached already");
        }
        if ((size + 1) * 2 > table.length) {
            Entry[] old = table;
            table = new Entry[old.length * 2];
            for (Entry x : old) {
                if (x != null) {
                    place(x);
                }
            }
        }
        place(e);
        size++;
        e.cached = true;
        append(e);
    }

    private void place(Entry e) {
        int mask = table.length - 1;
        int i = home(e.pfn);
        while (table[i] != null) {
            i = (i + 1) & mask;
        }
        table[i] = e;
    }

    /** Removes {@code e} when it is cached. */
    void remove(Entry e) {
        if (!e.cached) {
            return;
        }
        int mask = table.length - 1;
        int i = home(e.pfn);
        while (table[i] != e) {
            i = (i + 1) & mask;
        }
        // Backward-shift deletion: move later entries of the probe run into the hole when their home allows.
        table[i] = null;
        for (int j = (i + 1) & mask; table[j] != null; j = (j + 1) & mask) {
            int k = home(table[j].pfn);
            boolean stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (!stays) {
                table[i] = table[j];
                table[j] = null;
                i = j;
            }
        }
        size--;
        e.cached = false;
        unlink(e);
    }

    /** The least recently used entry, or null. */
    Entry eldest() {
        return eldest;
    }

    int size() {
        return size;
    }

    void clear() {
        for (Entry e = eldest; e != null; e = e.newer) {
            e.cached = false;
        }
        table = new Entry[64];
        size = 0;
        eldest = null;
        newest = null;
    }

    private void unlink(Entry e) {
        if (e.older != null) {
            e.older.newer = e.newer;
        } else {
            eldest = e.newer;
        }
        if (e.newer != null) {
            e.newer.older = e.older;
        } else {
            newest = e.older;
        }
        e.older = null;
        e.newer = null;
    }

    private void append(Entry e) {
        e.older = newest;
        e.newer = null;
        if (newest != null) {
            newest.newer = e;
        } else {
            eldest = e;
        }
        newest = e;
    }
}
