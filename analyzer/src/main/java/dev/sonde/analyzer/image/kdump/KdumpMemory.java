package dev.sonde.analyzer.image.kdump;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.LittleEndian;
import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Physical memory of a kdump-compressed file. A page is present when its bit is set in the 2nd (dumpable) bitmap and
 * its data is in the file; its page descriptor is found by rank (the number of dumpable pages before it), the data
 * is decompressed on read, and a small LRU cache keeps recently decompressed pages. Pages the dump level excluded are
 * absent; pages QEMU stored as its shared zero page are present and read as zeros.
 *
 * <p>A page whose data turns out to be corrupt when read is reported as an {@link UncheckedIOException} wrapping a
 * {@link BadImageException} that names the file, the offset of the page data and the page.
 */
public final class KdumpMemory implements PhysicalMemory {
    static final int DESC_SIZE = 24;
    static final int COMPRESSION_MASK = KdumpHeader.COMPRESSED_ZLIB | KdumpHeader.COMPRESSED_LZO
            | KdumpHeader.COMPRESSED_SNAPPY | KdumpHeader.COMPRESSED_ZSTD;
    static final int CACHED_PAGES = 64;
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
    private final PageCodec codec = new PageCodec();
    private final Map<Long, byte[]> cache = new LinkedHashMap<>(CACHED_PAGES * 2, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, byte[]> eldest) {
            return size() > CACHED_PAGES;
        }
    };

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
    public synchronized int read(long address, byte[] dst, int offset, int length) {
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
            try {
                copyPage(pfn, within, dst, offset + done, n);
            } catch (BadImageException e) {
                throw new UncheckedIOException(e);
            }
            done += n;
        }
        return done;
    }

    private void copyPage(long pfn, int within, byte[] dst, int at, int n) throws BadImageException {
        byte[] cached = cache.get(pfn);
        if (cached != null) {
            System.arraycopy(cached, within, dst, at, n);
            return;
        }
        long descAt = dataOffset + rank(pfn) * DESC_SIZE;
        byte[] desc = dump.bytes(descAt, DESC_SIZE, "page descriptor");
        long dataAt = LittleEndian.u64(desc, 0);
        int size = (int) LittleEndian.u32(desc, 8);
        int flags = (int) LittleEndian.u32(desc, 12) & COMPRESSION_MASK;
        if (flags == 0) {
            dump.read(dataAt + within, dst, at, n, "page data");
            return;
        }
        byte[] compressed = dump.bytes(dataAt, size, "compressed page data");
        byte[] page;
        try {
            page = codec.decompress(flags, compressed, blockSize);
        } catch (PageCodec.CorruptPage e) {
            throw dump.bad(dataAt, String.format("page 0x%x (pfn 0x%x, %s, %d bytes): %s",
                    pfn << blockShift, pfn, PageCodec.name(flags), size, e.getMessage()));
        }
        cache.put(pfn, page);
        System.arraycopy(page, within, dst, at, n);
    }

    @Override
    public synchronized void close() {
        codec.close();
        cache.clear();
        dump.file().close();
    }
}
