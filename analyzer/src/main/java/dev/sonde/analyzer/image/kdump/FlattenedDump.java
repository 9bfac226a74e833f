package dev.sonde.analyzer.image.kdump;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.MappedFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The makedumpfile "flattened" layout, which QEMU and makedumpfile write when the output is a pipe
 * ({@code virsh dump --memory-only --format kdump-*} always produces it): a 4096-byte {@code makedumpfile_header}
 * (signature, type 1, version 1, big-endian), then records of a big-endian {@code (offset, size)} pair followed by
 * {@code size} bytes that belong at {@code offset} of the real dump file, ended by an {@code (-1, -1)} marker.
 *
 * <p>Strategy: one sequential pass over the record headers (the data itself is skipped, never copied) builds an extent
 * index, dump offset to file offset, sorted by dump offset. Reads afterwards are random access: a binary search over
 * the extents and zero-copy slices of the memory-mapped file. Records that overwrite earlier ones are resolved in write
 * order (the later bytes win), as {@code makedumpfile -R} would when rebuilding the file. Ranges no record wrote read
 * as zeros (the holes of that rebuilt, sparse file).
 */
final class FlattenedDump implements DumpBytes {
    static final String SIGNATURE = "makedumpfile";
    static final int HEADER_SIZE = 4096;
    static final long TYPE_FLAT_HEADER = 1;
    /** Dump offsets beyond this (4 PiB) are corruption, not data. */
    static final long MAX_OFFSET = 1L << 52;

    private final MappedFile file;
    private final long[] starts;
    private final long[] ends;
    private final long[] fileOffsets;
    private final long length;
    private final List<String> warnings;

    private FlattenedDump(MappedFile file, long[] starts, long[] ends, long[] fileOffsets, List<String> warnings) {
        this.file = file;
        this.starts = starts;
        this.ends = ends;
        this.fileOffsets = fileOffsets;
        this.length = ends.length == 0 ? 0 : Arrays.stream(ends).max().getAsLong();
        this.warnings = List.copyOf(warnings);
    }

    static long be64(MappedFile f, long offset, String what) throws BadImageException {
        return Long.reverseBytes(f.u64(offset, what));
    }

    /** Indexes a flattened file whose signature the caller has recognised. */
    static FlattenedDump index(MappedFile f) throws BadImageException {
        f.check(0, HEADER_SIZE, "flattened-format header (makedumpfile_header)");
        long type = be64(f, 16, "flattened-format type");
        if (type != TYPE_FLAT_HEADER) {
            throw new BadImageException(f.path(), 16, "makedumpfile header type " + type + " is not the flattened format (1)");
        }
        long version = be64(f, 24, "flattened-format version");
        if (version < 1 || version > 1000) {
            throw new BadImageException(f.path(), 24, "makedumpfile flattened-format version " + version + " is not plausible");
        }
        List<String> warnings = new ArrayList<>();
        LongList recStart = new LongList();
        LongList recSize = new LongList();
        LongList recFile = new LongList();
        long p = HEADER_SIZE;
        long len = f.length();
        boolean ended = false;
        while (p < len) {
            if (len - p < 16) {
                warnings.add(String.format("flattened dump truncated inside a data header at file offset 0x%x; "
                        + "what it would have written is absent", p));
                break;
            }
            long offset = be64(f, p, "flattened data header offset");
            long size = be64(f, p + 8, "flattened data header size");
            if (offset == -1) {
                ended = true;
                p += 16;
                break;
            }
            if (offset < 0 || offset > MAX_OFFSET || size < 0 || size > MAX_OFFSET) {
                throw new BadImageException(f.path(), p, String.format(
                        "flattened data header claims %d bytes at dump offset 0x%x: not plausible", size, offset));
            }
            long data = p + 16;
            long available = Math.min(size, len - data);
            if (available > 0) {
                recStart.add(offset);
                recSize.add(available);
                recFile.add(data);
            }
            if (available < size) {
                warnings.add(String.format("flattened dump truncated: the record at file offset 0x%x holds 0x%x of 0x%x bytes "
                        + "for dump offset 0x%x; the rest is absent", p, available, size, offset));
                p = len;
                break;
            }
            p = data + size;
        }
        if (!ended && warnings.isEmpty()) {
            warnings.add("flattened dump has no end marker: the dump was cut short (truncated?)");
        } else if (ended && p < len) {
            warnings.add(String.format("0x%x bytes after the flattened end marker ignored", len - p));
        }
        return build(f, recStart, recSize, recFile, warnings);
    }

    private static FlattenedDump build(MappedFile f, LongList recStart, LongList recSize, LongList recFile,
                                       List<String> warnings) {
        int n = recStart.size();
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        // Stable sort keeps write order among equal starts.
        Arrays.sort(order, (a, b) -> Long.compare(recStart.get(a), recStart.get(b)));
        boolean overlap = false;
        for (int i = 1; i < n && !overlap; i++) {
            int prev = order[i - 1];
            overlap = recStart.get(order[i]) < recStart.get(prev) + recSize.get(prev);
        }
        if (!overlap) {
            long[] s = new long[n];
            long[] e = new long[n];
            long[] fo = new long[n];
            for (int i = 0; i < n; i++) {
                int r = order[i];
                s[i] = recStart.get(r);
                e[i] = s[i] + recSize.get(r);
                fo[i] = recFile.get(r);
            }
            return new FlattenedDump(f, s, e, fo, warnings);
        }
        // Rewritten ranges: paint the records in write order, later bytes over earlier ones.
        TreeMap<Long, long[]> painted = new TreeMap<>(); // start -> {end, fileOffset}
        for (int r = 0; r < n; r++) {
            long s = recStart.get(r);
            long e = s + recSize.get(r);
            Map.Entry<Long, long[]> before = painted.lowerEntry(s);
            if (before != null && before.getValue()[0] > s) {
                long[] v = before.getValue();
                if (v[0] > e) {
                    painted.put(e, new long[] {v[0], v[1] + (e - before.getKey())});
                }
                painted.put(before.getKey(), new long[] {s, v[1]});
            }
            for (Map.Entry<Long, long[]> in = painted.ceilingEntry(s); in != null && in.getKey() < e;
                 in = painted.ceilingEntry(s)) {
                painted.remove(in.getKey());
                long[] v = in.getValue();
                if (v[0] > e) {
                    painted.put(e, new long[] {v[0], v[1] + (e - in.getKey())});
                }
            }
            painted.put(s, new long[] {e, recFile.get(r)});
        }
        long[] s = new long[painted.size()];
        long[] e = new long[s.length];
        long[] fo = new long[s.length];
        int i = 0;
        for (Map.Entry<Long, long[]> x : painted.entrySet()) {
            s[i] = x.getKey();
            e[i] = x.getValue()[0];
            fo[i] = x.getValue()[1];
            i++;
        }
        return new FlattenedDump(f, s, e, fo, warnings);
    }

    /** Index of the last extent starting at or before {@code offset}, or -1. */
    private int floor(long offset) {
        int i = Arrays.binarySearch(starts, offset);
        return i >= 0 ? i : -i - 2;
    }

    @Override
    public Path path() {
        return file.path();
    }

    @Override
    public long length() {
        return length;
    }

    /** Number of extents in the index. */
    int extents() {
        return starts.length;
    }

    @Override
    public void read(long offset, byte[] dst, int dstOffset, int len, String what) throws BadImageException {
        if (offset < 0 || len < 0 || offset > length || len > length - offset) {
            throw bad(Math.max(offset, 0), what + " needs " + len + " bytes at dump offset 0x" + Long.toHexString(offset)
                    + " but the flattened records describe a dump of only " + length + " bytes (truncated?)");
        }
        int done = 0;
        int i = floor(offset);
        while (done < len) {
            long pos = offset + done;
            while (i + 1 < starts.length && starts[i + 1] <= pos) {
                i++;
            }
            if (i >= 0 && pos < ends[i]) {
                int n = (int) Math.min(len - done, ends[i] - pos);
                file.get(fileOffsets[i] + (pos - starts[i]), dst, dstOffset + done, n);
                done += n;
            } else {
                long next = i + 1 < starts.length ? starts[i + 1] : length;
                int n = (int) Math.min(len - done, next - pos);
                Arrays.fill(dst, dstOffset + done, dstOffset + done + n, (byte) 0);
                done += n;
            }
        }
    }

    @Override
    public ByteBuffer slice(long offset, int len) {
        if (offset < 0 || len < 0 || offset > length || len > length - offset) {
            return null;
        }
        int i = floor(offset);
        return i >= 0 && len <= ends[i] - offset ? file.slice(fileOffsets[i] + (offset - starts[i]), len) : null;
    }

    /** Where the dump byte at {@code offset} is stored in the flattened file, or -1 when no record wrote it. */
    long fileOffset(long offset) {
        int i = floor(offset);
        return i >= 0 && offset < ends[i] ? fileOffsets[i] + (offset - starts[i]) : -1;
    }

    @Override
    public BadImageException bad(long offset, String problem) {
        long at = fileOffset(offset);
        String where = String.format(" (offset 0x%x of the dump the flattened records describe)", offset);
        return at >= 0 ? new BadImageException(file.path(), at, problem + where)
                : new BadImageException(file.path(), HEADER_SIZE, problem + where + "; no record wrote that offset");
    }

    @Override
    public boolean flattened() {
        return true;
    }

    @Override
    public List<String> warnings() {
        return warnings;
    }

    @Override
    public MappedFile file() {
        return file;
    }

    /** A growable list of longs. */
    static final class LongList {
        private long[] a = new long[64];
        private int n;

        void add(long v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        long get(int i) {
            return a[i];
        }

        int size() {
            return n;
        }
    }
}
