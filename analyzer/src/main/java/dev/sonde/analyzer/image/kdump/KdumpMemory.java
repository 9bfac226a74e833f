package dev.sonde.analyzer.image.kdump;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.LittleEndian;
import dev.sonde.analyzer.image.kdump.PageLru.Entry;
import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Physical memory of a kdump-compressed file. A page is present when its bit is set in the 2nd (dumpable) bitmap and
 * its data is in the file; its page descriptor is found by rank (the number of dumpable pages before it), the data
 * is decompressed on read, and an LRU cache keeps recently decompressed bytes. Pages the dump level excluded are
 * absent; pages QEMU stored as its shared zero page are present and read as zeros.
 *
 * <p>A zlib page is decompressed only as far as reads need (its first bytes cost a fifth of the whole page), and the
 * cache keeps such prefixes at their size, so it holds {@link #CACHED_PAGES} whole pages or many more prefixes. The
 * compressed bytes are read in place from the mapped file. Reads are thread-safe: the cache and the decoders are split
 * into 16 shards, each behind its own lock, chosen by a hash of the page frame number, so threads reading different
 * pages rarely wait for each other.
 *
 * <p>A page whose data turns out to be corrupt when read is reported as an {@link UncheckedIOException} wrapping a
 * {@link BadImageException} that names the file, the offset of the page data and the page.
 */
public final class KdumpMemory implements PhysicalMemory {
    static final int DESC_SIZE = 24;
    static final int COMPRESSION_MASK = KdumpHeader.COMPRESSED_ZLIB | KdumpHeader.COMPRESSED_LZO
            | KdumpHeader.COMPRESSED_SNAPPY | KdumpHeader.COMPRESSED_ZSTD;
    /** The cache budget in whole pages (1 MiB of 4 KiB pages); short prefixes take less of it. */
    static final int CACHED_PAGES = 256;
    /** log2 of the number of shards (locks, decoders) the page cache is split into; at least 1. */
    static final int SHARD_BITS = 4;
    /** Whole pages' worth of cache per shard. */
    static final int SLOTS = CACHED_PAGES >> SHARD_BITS;
    /** Bytes a cache entry is charged beyond its data (the entry, the array header, its table slot). */
    static final int ENTRY_OVERHEAD = 64;
    /** The shortest prefix of a zlib page decompressed for a read. */
    static final int MIN_PREFIX = 64;
    /** Whole-page arrays kept for reuse per shard. */
    static final int SPARE_PAGES = 4;
    private static final VarHandle LE64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int DESC_BATCH = 4096;
    private static final int MAX_REPORTED_RUNS = 4;

    private final DumpBytes dump;
    private final KdumpHeader header;
    private final int blockSize;
    private final int blockShift;
    private final long maxMapnr;
    /** Dumpable bits (page descriptor order); for a split part only the part's page frames are set. */
    private final long[] dumpable;
    /** Dumpable bit count before each group of 8 words. */
    private final long[] rank8;
    /** Dumpable pages whose data is in the file: {@link #dumpable} minus the pages truncation lost. */
    private long[] present;
    private final long dataOffset;
    private final List<MemoryRange> ranges;
    private final Shard[] shards;

    KdumpMemory(DumpBytes dump, KdumpHeader header, long[] dumpable, long dataOffset, List<String> warnings)
            throws BadImageException {
        this.dump = dump;
        this.header = header;
        this.blockSize = header.blockSize();
        this.blockShift = Integer.numberOfTrailingZeros(blockSize);
        this.maxMapnr = header.maxMapnr();
        this.dumpable = dumpable;
        this.present = dumpable;
        this.dataOffset = dataOffset;
        this.rank8 = new long[(dumpable.length + 7) / 8 + 1];
        long total = 0;
        for (int i = 0; i < dumpable.length; i++) {
            if ((i & 7) == 0) {
                rank8[i >>> 3] = total;
            }
            total += Long.bitCount(dumpable[i]);
        }
        scanDescriptors(total, warnings);
        this.ranges = runs(present, blockShift);
        this.shards = new Shard[1 << SHARD_BITS];
        for (int i = 0; i < shards.length; i++) {
            shards[i] = new Shard();
        }
    }

    /** The headers of the dump. */
    public KdumpHeader header() {
        return header;
    }

    /** Number of page descriptors before {@code pfn}. */
    long rank(long pfn) {
        int w = (int) (pfn >>> 6);
        long r = rank8[w >>> 3];
        for (int i = w & ~7; i < w; i++) {
            r += Long.bitCount(dumpable[i]);
        }
        int bit = (int) (pfn & 63);
        return bit == 0 ? r : r + Long.bitCount(dumpable[w] & (-1L >>> (64 - bit)));
    }

    private static boolean bit(long[] words, long pfn) {
        return (words[(int) (pfn >>> 6)] & (1L << (pfn & 63))) != 0;
    }

    /**
     * Checks every page descriptor once: the flags and sizes must make sense (else the image is malformed), and pages
     * whose data is not in the file (truncated or unfinished dump) become absent, with a warning naming them.
     */
    private void scanDescriptors(long total, List<String> warnings) throws BadImageException {
        long length = dump.length();
        byte[] batch = new byte[DESC_BATCH * DESC_SIZE];
        long index = 0;
        long batchStart = -1;
        int batchCount = 0;
        long lostNoDescriptor = 0;
        long lostNoData = 0;
        long lostIncomplete = 0;
        List<long[]> lostRuns = new ArrayList<>();
        for (int w = 0; w < dumpable.length; w++) {
            long word = dumpable[w];
            while (word != 0) {
                long pfn = ((long) w << 6) + Long.numberOfTrailingZeros(word);
                word &= word - 1;
                long descAt = dataOffset + index * DESC_SIZE;
                if (index >= batchStart + batchCount) {
                    batchStart = index;
                    long fits = Math.max(0, (length - descAt) / DESC_SIZE);
                    batchCount = (int) Math.min(Math.min(DESC_BATCH, total - index), fits);
                    if (batchCount > 0) {
                        dump.read(descAt, batch, 0, batchCount * DESC_SIZE, "page descriptors");
                    }
                }
                index++;
                if (index > batchStart + batchCount) {
                    lostNoDescriptor++;
                    lose(pfn, lostRuns);
                    continue;
                }
                int at = (int) (index - 1 - batchStart) * DESC_SIZE;
                long offset = LittleEndian.u64(batch, at);
                long size = LittleEndian.u32(batch, at + 8);
                int flags = (int) LittleEndian.u32(batch, at + 12);
                int compression = flags & COMPRESSION_MASK;
                if (Integer.bitCount(compression) > 1) {
                    throw dump.bad(descAt, String.format("page descriptor of pfn 0x%x names several compressions (flags 0x%x)",
                            pfn, flags));
                }
                if (compression == KdumpHeader.COMPRESSED_LZO) {
                    throw dump.bad(descAt, String.format("page 0x%x (pfn 0x%x) is lzo-compressed: lzo decompression is not "
                            + "supported (no maintained Java library); re-dump with kdump-zlib, kdump-snappy or kdump-zstd",
                            pfn << blockShift, pfn));
                }
                if (size == 0 || size > blockSize) {
                    throw dump.bad(descAt, String.format("page descriptor of pfn 0x%x claims a %d-byte page (block size %d)",
                            pfn, size, blockSize));
                }
                if (compression == 0 && size != blockSize) {
                    throw dump.bad(descAt, String.format("uncompressed page of pfn 0x%x has %d bytes, not the block size %d",
                            pfn, size, blockSize));
                }
                if (offset == 0) {
                    lostIncomplete++;
                    lose(pfn, lostRuns);
                } else if (offset < 0 || offset > length - size) {
                    lostNoData++;
                    lose(pfn, lostRuns);
                }
            }
        }
        long lost = lostNoDescriptor + lostNoData + lostIncomplete;
        if (lost > 0) {
            StringBuilder s = new StringBuilder();
            s.append(String.format("%d dumpable pages have no data in the file and are absent", lost));
            if (lostNoDescriptor > 0) {
                s.append(String.format("; %d page descriptors lie beyond the end (truncated)", lostNoDescriptor));
            }
            if (lostNoData > 0) {
                s.append(String.format("; %d pages' data lie beyond the end (truncated)", lostNoData));
            }
            if (lostIncomplete > 0) {
                s.append(String.format("; %d descriptors were never filled in (%s)", lostIncomplete,
                        header.incomplete() ? "the dump is marked incomplete" : "unfinished dump"));
            }
            s.append("; absent ranges include");
            for (int i = 0; i < lostRuns.size() && i < MAX_REPORTED_RUNS; i++) {
                long[] r = lostRuns.get(i);
                s.append(String.format(" 0x%x-0x%x", r[0] << blockShift, (r[1] + 1) << blockShift));
            }
            if (lostRuns.size() > MAX_REPORTED_RUNS) {
                s.append(" ...");
            }
            warnings.add(s.toString());
        }
    }

    private void lose(long pfn, List<long[]> runs) {
        if (present == dumpable) {
            present = dumpable.clone();
        }
        present[(int) (pfn >>> 6)] &= ~(1L << (pfn & 63));
        long[] last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
        if (last != null && last[1] + 1 == pfn) {
            last[1] = pfn;
        } else if (runs.size() <= MAX_REPORTED_RUNS) {
            runs.add(new long[] {pfn, pfn});
        }
    }

    /** Runs of set bits as address ranges. */
    static List<MemoryRange> runs(long[] words, int shift) {
        List<MemoryRange> out = new ArrayList<>();
        long start = -1;
        for (int w = 0; w < words.length; w++) {
            long word = words[w];
            long base = (long) w << 6;
            if (start < 0 && word == 0) {
                continue;
            }
            if (start >= 0 && word == -1L) {
                continue;
            }
            for (int b = 0; b < 64; ) {
                if (start < 0) {
                    long rest = word >>> b;
                    if (rest == 0) {
                        break;
                    }
                    b += Long.numberOfTrailingZeros(rest);
                    start = base + b;
                } else {
                    long rest = ~word >>> b;
                    if (rest == 0) {
                        break;
                    }
                    b += Long.numberOfTrailingZeros(rest);
                    out.add(new MemoryRange(start << shift, (base + b - start) << shift));
                    start = -1;
                }
            }
        }
        if (start >= 0) {
            out.add(new MemoryRange(start << shift, ((long) words.length * 64 - start) << shift));
        }
        return List.copyOf(out);
    }

    @Override
    public String name() {
        return dump.path().toString();
    }

    @Override
    public List<MemoryRange> ranges() {
        return ranges;
    }

    @Override
    public int read(long address, byte[] dst, int offset, int length) {
        int done = 0;
        while (done < length) {
            long a = address + done;
            if (a < 0) {
                break;
            }
            long pfn = a >>> blockShift;
            if (pfn >= maxMapnr || !bit(present, pfn)) {
                break;
            }
            int within = (int) (a & (blockSize - 1));
            int n = Math.min(length - done, blockSize - within);
            Shard shard = shard(pfn);
            try {
                synchronized (shard) {
                    shard.copy(pfn, within, dst, offset + done, n);
                }
            } catch (BadImageException e) {
                throw new UncheckedIOException(e);
            }
            done += n;
        }
        return done;
    }

    /** Reads the 8 bytes from the page cache (or the file) without a temporary array when they lie in one page. */
    @Override
    public long readU64OrElse(long address, long absent) {
        int within = (int) (address & (blockSize - 1));
        if (address < 0 || within > blockSize - 8) {
            return PhysicalMemory.super.readU64OrElse(address, absent);
        }
        long pfn = address >>> blockShift;
        if (pfn >= maxMapnr || !bit(present, pfn)) {
            return absent;
        }
        Shard shard = shard(pfn);
        try {
            synchronized (shard) {
                return shard.u64(pfn, within);
            }
        } catch (BadImageException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Shard shard(long pfn) {
        return shards[(int) ((pfn * 0x9E3779B97F4A7C15L) >>> (64 - SHARD_BITS))];
    }

    /**
     * The decompression state behind one lock: a zlib/snappy/zstd decoder and an LRU cache of decompressed bytes.
     * Pages are spread over the shards by a hash of their page frame number, so threads reading different pages mostly
     * decompress in parallel; every field is only used with the shard's monitor held.
     *
     * <p>A cache entry may hold a prefix of its page: {@code bytes[0, filled)} are the page's first bytes (a zlib page
     * is decompressed only as far as reads have needed, rounded up to a power of two). The cache is bounded in bytes,
     * not pages: {@link #CACHED_PAGES} whole pages, or many more short prefixes. A read beyond an entry's prefix
     * continues the zlib stream when this shard's decoder is still on that page ({@link #stream}), else decompresses
     * the page again from its start.
     */
    private final class Shard {
        final PageCodec codec = new PageCodec(blockSize);
        final PageLru cache = new PageLru();
        final long budget = (long) SLOTS * (blockSize + ENTRY_OVERHEAD);
        long cachedBytes;
        /** Whole-page arrays of evicted entries, reused for the next ones. */
        final ArrayDeque<byte[]> spare = new ArrayDeque<>();
        final byte[] desc = new byte[DESC_SIZE];
        /** The entry whose zlib stream the decoder holds, positioned after its {@code filled} bytes; or null. */
        Entry stream;
        /** Where the compressed data of that stream's page is, and its size. */
        long streamAt;
        int streamSize;
        /** Where the page data of the last descriptor read ({@link #describe}) is, its size and compression. */
        long dataAt;
        int size;
        int flags;

        void copy(long pfn, int within, byte[] dst, int at, int n) throws BadImageException {
            Entry e = page(pfn, within + n);
            if (e != null) {
                System.arraycopy(e.bytes, within, dst, at, n);
            } else {
                dump.read(dataAt + within, dst, at, n, "page data");
            }
        }

        long u64(long pfn, int within) throws BadImageException {
            Entry e = page(pfn, within + 8);
            if (e != null) {
                return (long) LE64.get(e.bytes, within);
            }
            dump.read(dataAt + within, desc, 0, 8, "page data");
            return (long) LE64.get(desc, 0);
        }

        /**
         * Makes the first {@code need} bytes of page {@code pfn} available: returns its cache entry, or null for a page
         * stored uncompressed (then {@link #dataAt} is where it is in the dump).
         */
        Entry page(long pfn, int need) throws BadImageException {
            Entry e = cache.get(pfn);
            if (e != null && e.filled >= need) {
                return e;
            }
            if (e != null && e == stream) {
                // The decoder is partway through this very page: go on from where it stopped.
                int target = prefix(need);
                resize(e, target);
                inflate(e, target);
                trim(e);
                return e;
            }
            describe(pfn);
            if (flags == 0) {
                return null;
            }
            int target = flags == KdumpHeader.COMPRESSED_ZLIB ? prefix(need) : blockSize;
            if (e == null) {
                e = new Entry(pfn);
            } else {
                e.filled = 0;
            }
            resize(e, target);
            ByteBuffer in = flags == KdumpHeader.COMPRESSED_ZLIB ? dump.slice(dataAt, size) : null;
            if (in == null) {
                stream = null; // the scratch buffer is about to change under any started stream
                dump.read(dataAt, codec.scratch(), 0, size, "compressed page data");
            }
            if (flags == KdumpHeader.COMPRESSED_ZLIB) {
                if (in != null) {
                    codec.startZlib(in);
                } else {
                    codec.startZlib(codec.scratch(), size);
                }
                stream = e;
                streamAt = dataAt;
                streamSize = size;
                inflate(e, target);
            } else {
                try {
                    codec.decompress(flags, codec.scratch(), size, e.bytes);
                } catch (PageCodec.CorruptPage x) {
                    drop(e);
                    throw corrupt(pfn, dataAt, flags, size, x);
                }
                e.filled = blockSize;
            }
            if (!cache.contains(e)) {
                cache.add(e);
                cachedBytes += e.bytes.length + ENTRY_OVERHEAD;
            }
            trim(e);
            return e;
        }

        /** Bytes to decompress for a read of the first {@code need}: a power of two, at least 64, at most the page. */
        private int prefix(int need) {
            if (need >= blockSize) {
                return blockSize;
            }
            return Math.min(blockSize, Math.max(MIN_PREFIX, Integer.highestOneBit(need - 1) << 1));
        }

        /** Gives {@code e} an array of exactly {@code length} bytes when it has less, keeping its filled bytes. */
        private void resize(Entry e, int length) {
            byte[] old = e.bytes;
            if (old != null && old.length >= length) {
                return;
            }
            byte[] bytes = length == blockSize && !spare.isEmpty() ? spare.pop() : new byte[length];
            if (old != null) {
                System.arraycopy(old, 0, bytes, 0, e.filled);
                if (cache.contains(e)) {
                    cachedBytes += length - old.length;
                }
            }
            e.bytes = bytes;
        }

        /** Continues the started zlib stream of {@code e} until it holds the page's first {@code target} bytes. */
        private void inflate(Entry e, int target) throws BadImageException {
            try {
                e.filled = codec.inflate(e.bytes, e.filled, target, blockSize);
            } catch (PageCodec.CorruptPage x) {
                stream = null;
                drop(e);
                throw corrupt(e.pfn, streamAt, KdumpHeader.COMPRESSED_ZLIB, streamSize, x);
            }
            if (e.filled == blockSize) {
                stream = null; // complete and checked: the stream has nothing more to give
            }
        }

        /** Removes {@code e} (whose bytes are not to be trusted) from the cache. */
        private void drop(Entry e) {
            e.filled = 0;
            if (cache.contains(e)) {
                cache.remove(e);
                cachedBytes -= e.bytes.length + ENTRY_OVERHEAD;
            }
        }

        /** Evicts the least recently used entries other than {@code keep} until the cache fits its budget. */
        private void trim(Entry keep) {
            while (cachedBytes > budget && cache.eldest() != keep) {
                Entry old = cache.eldest();
                cache.remove(old);
                cachedBytes -= old.bytes.length + ENTRY_OVERHEAD;
                if (old == stream) {
                    stream = null;
                }
                if (old.bytes.length == blockSize && spare.size() < SPARE_PAGES) {
                    spare.push(old.bytes);
                }
            }
        }

        private BadImageException corrupt(long pfn, long at, int compression, int bytes, PageCodec.CorruptPage e) {
            return dump.bad(at, String.format("page 0x%x (pfn 0x%x, %s, %d bytes): %s",
                    pfn << blockShift, pfn, PageCodec.name(compression), bytes, e.getMessage()));
        }

        /** Reads the page descriptor of {@code pfn} into {@link #dataAt}, {@link #size} and {@link #flags}. */
        private void describe(long pfn) throws BadImageException {
            long descAt = dataOffset + rank(pfn) * DESC_SIZE;
            dump.read(descAt, desc, 0, DESC_SIZE, "page descriptor");
            dataAt = LittleEndian.u64(desc, 0);
            size = (int) LittleEndian.u32(desc, 8);
            flags = (int) LittleEndian.u32(desc, 12) & COMPRESSION_MASK;
        }

        void close() {
            codec.close();
            cache.clear();
            spare.clear();
            cachedBytes = 0;
            stream = null;
        }
    }

    @Override
    public void close() {
        for (Shard shard : shards) {
            synchronized (shard) {
                shard.close();
            }
        }
        dump.file().close();
    }
}
