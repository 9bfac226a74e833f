package dev.sonde.analyzer.image.lime;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.LittleEndian;
import dev.sonde.analyzer.image.MappedFile;
import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xerial.snappy.Snappy;

/**
 * Physical memory of an AVML image (ranges stored as snappy framed streams), with true random access: every snappy
 * chunk (at most 64 KiB uncompressed) is indexed by physical address when the image is opened, and a read decompresses
 * only the chunks it touches, keeping the most recent ones in a small LRU cache. Uncompressed LiME ranges in the same
 * file are read straight from the mapping.
 *
 * <p>A chunk's CRC-32C is checked when it is first decompressed. A corrupt chunk is reported as an
 * {@link UncheckedIOException} wrapping a {@link BadImageException} that names the file and the chunk's offset.
 */
public final class AvmlMemory implements PhysicalMemory {
    static final int CACHED_CHUNKS = 32;
    private static final byte RAW = 2;

    private final MappedFile file;
    /** Per piece (a snappy data chunk, or a whole uncompressed LiME range), sorted by physical address. */
    private final long[] starts;
    private final long[] lengths;
    /** Snappy chunks: offset of the chunk header; raw pieces: offset of the data. */
    private final long[] fileOffsets;
    private final byte[] kinds;
    private final int[] rangeOfPiece;
    private final List<LimeRange> rangeList;
    private final List<MemoryRange> ranges;
    private final Map<Integer, byte[]> cache = new LinkedHashMap<>(CACHED_CHUNKS * 2, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, byte[]> eldest) {
            return size() > CACHED_CHUNKS;
        }
    };
    private final byte[] chunkBuffer = new byte[4 + SnappyFrames.MAX_COMPRESSED];

    /** A range and where its data is. */
    record Block(LimeRange range, long dataOffset, SnappyFrames chunks) {
    }

    /** @param sorted the ranges, sorted by start and not overlapping, each with at least one present byte */
    AvmlMemory(MappedFile file, List<Block> sorted) {
        this.file = file;
        this.rangeList = sorted.stream().map(Block::range).toList();
        int n = 0;
        for (Block b : sorted) {
            n += b.range().compressed() ? b.chunks().count : 1;
        }
        starts = new long[n];
        lengths = new long[n];
        fileOffsets = new long[n];
        kinds = new byte[n];
        rangeOfPiece = new int[n];
        int i = 0;
        for (int ri = 0; ri < sorted.size(); ri++) {
            LimeRange r = sorted.get(ri).range();
            if (r.compressed()) {
                SnappyFrames c = sorted.get(ri).chunks();
                long address = r.start();
                for (int k = 0; k < c.count; k++) {
                    starts[i] = address;
                    lengths[i] = c.uncompressedLengths[k];
                    fileOffsets[i] = c.chunkOffsets[k];
                    kinds[i] = c.types[k];
                    rangeOfPiece[i] = ri;
                    address += c.uncompressedLengths[k];
                    i++;
                }
            } else {
                starts[i] = r.start();
                lengths[i] = r.present();
                fileOffsets[i] = sorted.get(ri).dataOffset();
                kinds[i] = RAW;
                rangeOfPiece[i] = ri;
                i++;
            }
        }
        List<MemoryRange> merged = new ArrayList<>();
        for (LimeRange r : rangeList) {
            MemoryRange last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (last != null && last.end() == r.start()) {
                merged.set(merged.size() - 1, new MemoryRange(last.start(), last.length() + r.present()));
            } else {
                merged.add(new MemoryRange(r.start(), r.present()));
            }
        }
        ranges = List.copyOf(merged);
    }

    @Override
    public String name() {
        return file.path().toString();
    }

    @Override
    public List<MemoryRange> ranges() {
        return ranges;
    }

    /** The ranges as the file's headers describe them, in address order. */
    public List<LimeRange> limeRanges() {
        return rangeList;
    }

    /** Number of indexed snappy data chunks. */
    public int chunkCount() {
        int n = 0;
        for (byte k : kinds) {
            n += k == RAW ? 0 : 1;
        }
        return n;
    }

    @Override
    public synchronized int read(long address, byte[] dst, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, dst.length);
        int done = 0;
        int i = -1;
        while (done < length) {
            long a = address + done;
            if (a < 0) {
                break;
            }
            if (i < 0 || i + 1 >= starts.length || starts[i + 1] != a) {
                i = Arrays.binarySearch(starts, a);
                if (i < 0) {
                    i = -i - 2;
                }
            } else {
                i++;
            }
            if (i < 0 || a - starts[i] >= lengths[i]) {
                break;
            }
            long within = a - starts[i];
            int n = (int) Math.min(length - done, lengths[i] - within);
            if (kinds[i] == RAW) {
                file.get(fileOffsets[i] + within, dst, offset + done, n);
            } else {
                System.arraycopy(chunk(i), (int) within, dst, offset + done, n);
            }
            done += n;
        }
        return done;
    }

    /** Serves the requests in address order, so requests into the same chunk decompress it once. */
    @Override
    public int[] readBatch(List<ReadRequest> requests) {
        Integer[] order = new Integer[requests.size()];
        for (int k = 0; k < order.length; k++) {
            order[k] = k;
        }
        Arrays.sort(order, (x, y) -> Long.compare(requests.get(x).address(), requests.get(y).address()));
        int[] present = new int[order.length];
        synchronized (this) {
            for (int k : order) {
                ReadRequest r = requests.get(k);
                present[k] = read(r.address(), r.dst(), r.offset(), r.length());
            }
        }
        return present;
    }

    private byte[] chunk(int i) {
        byte[] data = cache.get(i);
        if (data == null) {
            try {
                data = decompress(i);
            } catch (BadImageException e) {
                throw new UncheckedIOException(e);
            }
            cache.put(i, data);
        }
        return data;
    }

    private byte[] decompress(int i) throws BadImageException {
        long at = fileOffsets[i];
        int size = (int) lengths[i];
        byte[] head = new byte[4];
        file.get(at, head, 0, 4);
        int len = (head[1] & 0xff) | (head[2] & 0xff) << 8 | (head[3] & 0xff) << 16;
        file.check(at + 4, len, "snappy chunk");
        file.get(at + 4, chunkBuffer, 0, len);
        int stored = (int) LittleEndian.u32(chunkBuffer, 0);
        LimeRange range = rangeList.get(rangeOfPiece[i]);
        String where = String.format("snappy %s chunk holding 0x%x-0x%x (range %d, 0x%x-0x%x)",
                kinds[i] == SnappyFrames.TYPE_COMPRESSED ? "compressed" : "uncompressed", starts[i], starts[i] + size,
                range.index(), range.start(), range.end());
        byte[] out = new byte[size];
        if (kinds[i] == SnappyFrames.TYPE_UNCOMPRESSED) {
            System.arraycopy(chunkBuffer, 4, out, 0, size);
        } else {
            int n;
            try {
                int announced = Snappy.uncompressedLength(chunkBuffer, 4, len - 4);
                if (announced != size) {
                    throw new BadImageException(file.path(), at, where + ": announces " + announced + " bytes");
                }
                n = Snappy.uncompress(chunkBuffer, 4, len - 4, out, 0);
            } catch (BadImageException e) {
                throw e;
            } catch (IOException | RuntimeException e) {
                throw new BadImageException(file.path(), at, where + ": corrupt snappy data: " + e.getMessage());
            }
            if (n != size) {
                throw new BadImageException(file.path(), at, where + ": decompresses to " + n + " bytes, not " + size);
            }
        }
        int actual = SnappyFrames.maskedCrc32c(out, 0, size);
        if (actual != stored) {
            throw new BadImageException(file.path(), at, String.format(
                    "%s: CRC-32C mismatch (stored 0x%08x, computed 0x%08x)", where, stored, actual));
        }
        return out;
    }

    @Override
    public synchronized void close() {
        cache.clear();
        file.close();
    }
}
