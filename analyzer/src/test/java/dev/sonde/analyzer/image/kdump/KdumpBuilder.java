package dev.sonde.analyzer.image.kdump;

import com.github.luben.zstd.Zstd;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.Deflater;
import org.xerial.snappy.Snappy;

/**
 * Builds small, well-formed kdump-compressed dumps (header version 6, 64-bit little-endian, like QEMU writes them) in
 * memory, in the plain or the flattened layout, for tests that then break them on purpose. Offsets of interesting
 * fields are exposed so tests can corrupt them.
 */
public final class KdumpBuilder {
    public static final int BS = 4096;

    private final TreeMap<Long, byte[]> pages = new TreeMap<>();
    private final TreeSet<Long> excluded = new TreeSet<>();
    private long maxMapnr = 64;
    private int compression = KdumpHeader.COMPRESSED_ZLIB;
    private boolean sharedZeroPage = true;
    private String vmcoreinfo;
    private final List<long[]> cpus = new ArrayList<>(); // {rip, cr3}
    private long splitStart = -1;
    private long splitEnd = -1;

    // Layout of the last plain build.
    public long bitmapOffset;
    public long bitmapBytes;
    public long descOffset;
    public long noteOffset;
    public int subHdrBlocks;
    public final TreeMap<Long, Long> descOf = new TreeMap<>(); // pfn -> descriptor offset
    public final TreeMap<Long, Long> dataOf = new TreeMap<>(); // pfn -> page data offset

    public KdumpBuilder maxMapnr(long n) {
        maxMapnr = n;
        return this;
    }

    public KdumpBuilder page(long pfn, byte[] data) {
        pages.put(pfn, data.clone());
        return this;
    }

    /** A page present in the 1st bitmap (RAM) but excluded from the 2nd (dump level). */
    public KdumpBuilder excluded(long pfn) {
        excluded.add(pfn);
        return this;
    }

    /** One of the {@code KdumpHeader.COMPRESSED_*} flags, or 0 for raw pages. */
    public KdumpBuilder compression(int flag) {
        compression = flag;
        return this;
    }

    public KdumpBuilder sharedZeroPage(boolean shared) {
        sharedZeroPage = shared;
        return this;
    }

    public KdumpBuilder vmcoreinfo(String text) {
        vmcoreinfo = text;
        return this;
    }

    public KdumpBuilder cpu(long rip, long cr3) {
        cpus.add(new long[] {rip, cr3});
        return this;
    }

    public KdumpBuilder split(long startPfn, long endPfn) {
        splitStart = startPfn;
        splitEnd = endPfn;
        return this;
    }

    private byte[] notes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (long[] c : cpus) {
            ByteBuffer pr = ByteBuffer.allocate(336).order(ByteOrder.LITTLE_ENDIAN);
            pr.putLong(dev.sonde.analyzer.image.CpuNotes.PRSTATUS_REG_OFFSET + 16 * 8, c[0]);
            note(out, "CORE", dev.sonde.analyzer.image.CpuNotes.NT_PRSTATUS, pr.array());
        }
        for (long[] c : cpus) {
            ByteBuffer q = ByteBuffer.allocate(440).order(ByteOrder.LITTLE_ENDIAN);
            q.putInt(0, 1).putInt(4, 440);
            q.putLong(8 + 16 * 8, c[0]);
            q.putLong(dev.sonde.analyzer.image.CpuNotes.QEMU_CR_OFFSET + 3 * 8, c[1]);
            note(out, "QEMU", 0, q.array());
        }
        if (vmcoreinfo != null) {
            note(out, "VMCOREINFO", 0, vmcoreinfo.getBytes(StandardCharsets.US_ASCII));
        }
        return out.toByteArray();
    }

    private int vmcoreinfoDescOffsetInNotes() {
        int off = cpus.size() * (12 + 8 + 336) + cpus.size() * (12 + 8 + 440);
        return off + 12 + 12; // header + "VMCOREINFO\0" padded to 12
    }

    private static void note(ByteArrayOutputStream out, String name, int type, byte[] desc) {
        byte[] n = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer h = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(n.length).putInt(desc.length).putInt(type);
        out.writeBytes(h.array());
        out.writeBytes(Arrays.copyOf(n, (n.length + 3) & ~3));
        out.writeBytes(Arrays.copyOf(desc, (desc.length + 3) & ~3));
    }

    static byte[] compress(int flag, byte[] page) {
        try {
            return switch (flag) {
                case KdumpHeader.COMPRESSED_ZLIB -> {
                    Deflater d = new Deflater(Deflater.BEST_SPEED);
                    d.setInput(page);
                    d.finish();
                    byte[] out = new byte[page.length * 2 + 64];
                    int n = d.deflate(out);
                    d.end();
                    yield Arrays.copyOf(out, n);
                }
                case KdumpHeader.COMPRESSED_SNAPPY -> Snappy.compress(page);
                case KdumpHeader.COMPRESSED_ZSTD -> Zstd.compress(page);
                case KdumpHeader.COMPRESSED_LZO -> Arrays.copyOf(page, page.length / 2); // never decoded
                default -> page;
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The plain layout. */
    public byte[] build() {
        byte[] notes = notes();
        subHdrBlocks = (KdumpProbe.SUB_HEADER_SIZE + notes.length + BS - 1) / BS;
        long perBitmap = ((maxMapnr + 7) / 8 + BS - 1) / BS * BS;
        bitmapOffset = (1L + subHdrBlocks) * BS;
        bitmapBytes = 2 * perBitmap;
        descOffset = bitmapOffset + bitmapBytes;
        noteOffset = BS + KdumpProbe.SUB_HEADER_SIZE;
        List<Long> dumped = new ArrayList<>();
        for (long pfn : pages.keySet()) {
            if (!excluded.contains(pfn) && (splitStart < 0 || (pfn >= splitStart && pfn < splitEnd))) {
                dumped.add(pfn);
            }
        }
        long dataStart = descOffset + (long) dumped.size() * KdumpMemory.DESC_SIZE;
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        ByteBuffer descs = ByteBuffer.allocate(dumped.size() * KdumpMemory.DESC_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        long zeroAt = -1;
        if (sharedZeroPage) {
            zeroAt = dataStart;
            data.writeBytes(new byte[BS]);
        }
        descOf.clear();
        dataOf.clear();
        for (long pfn : dumped) {
            byte[] page = pages.get(pfn);
            long at;
            int size;
            int flags;
            if (sharedZeroPage && isZero(page)) {
                at = zeroAt;
                size = BS;
                flags = 0;
            } else {
                byte[] c = compress(compression, page);
                if (compression != 0 && c.length < BS) {
                    flags = compression;
                } else {
                    c = page;
                    flags = 0;
                }
                at = dataStart + data.size();
                size = c.length;
                data.writeBytes(c);
            }
            descOf.put(pfn, descOffset + descs.position());
            dataOf.put(pfn, at);
            descs.putLong(at).putInt(size).putInt(flags).putLong(0);
        }
        ByteBuffer out = ByteBuffer.allocate((int) (dataStart + data.size())).order(ByteOrder.LITTLE_ENDIAN);
        out.put(0, "KDUMP   ".getBytes(StandardCharsets.US_ASCII));
        out.putInt(KdumpProbe.OFF_VERSION, 6);
        out.put(KdumpProbe.OFF_UTSNAME + 2 * 65, "6.1.0-test".getBytes(StandardCharsets.US_ASCII));
        out.put(KdumpProbe.OFF_UTSNAME + 4 * 65, "x86_64".getBytes(StandardCharsets.US_ASCII));
        out.putInt(KdumpProbe.OFF_STATUS, compression);
        out.putInt(KdumpProbe.OFF_BLOCK_SIZE, BS);
        out.putInt(KdumpProbe.OFF_SUB_HDR_SIZE, subHdrBlocks);
        out.putInt(KdumpProbe.OFF_BITMAP_BLOCKS, (int) (bitmapBytes / BS));
        out.putInt(KdumpProbe.OFF_MAX_MAPNR, (int) Math.min(maxMapnr, 0xffffffffL));
        out.putInt(KdumpProbe.OFF_NR_CPUS, cpus.size());
        // sub header
        out.putLong(BS, 0x1000000); // phys_base
        out.putInt(BS + 8, 1); // dump_level
        if (splitStart >= 0) {
            out.putInt(BS + 12, 1);
            out.putLong(BS + 80, splitStart);
            out.putLong(BS + 88, splitEnd);
        }
        if (vmcoreinfo != null) {
            out.putLong(BS + 32, noteOffset + vmcoreinfoDescOffsetInNotes());
            out.putLong(BS + 40, vmcoreinfo.length());
        }
        out.putLong(BS + 48, noteOffset);
        out.putLong(BS + 56, notes.length);
        out.putLong(BS + 96, maxMapnr);
        out.put((int) noteOffset, notes);
        // bitmaps
        for (long pfn : pages.keySet()) {
            setBit(out, bitmapOffset, pfn);
        }
        for (long pfn : dumped) {
            setBit(out, bitmapOffset + perBitmap, pfn);
        }
        out.put((int) descOffset, descs.array());
        out.put((int) dataStart, data.toByteArray());
        return out.array();
    }

    private static void setBit(ByteBuffer b, long bitmap, long pfn) {
        int at = (int) (bitmap + pfn / 8);
        b.put(at, (byte) (b.get(at) | (1 << (pfn % 8))));
    }

    private static boolean isZero(byte[] page) {
        for (byte x : page) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * The flattened layout of a plain dump: records of at most {@code chunk} bytes, written in shuffled order, plus a
     * rewrite of the main header whose first copy is garbage (the later record must win), then the end marker.
     */
    public static byte[] flatten(byte[] plain, int chunk, long seed) {
        List<long[]> records = new ArrayList<>();
        for (long off = 0; off < plain.length; off += chunk) {
            records.add(new long[] {off, Math.min(chunk, plain.length - off)});
        }
        Collections.shuffle(records, new Random(seed));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer h = ByteBuffer.allocate(FlattenedDump.HEADER_SIZE);
        h.put("makedumpfile".getBytes(StandardCharsets.US_ASCII));
        h.putLong(16, 1).putLong(24, 1);
        out.writeBytes(h.array());
        // garbage first, overwritten by the real header record later
        byte[] garbage = new byte[64];
        Arrays.fill(garbage, (byte) 0x5a);
        record(out, 8, garbage, 0, garbage.length);
        for (long[] r : records) {
            record(out, r[0], plain, (int) r[0], (int) r[1]);
        }
        record(out, 0, plain, 0, Math.min(plain.length, 512));
        ByteBuffer end = ByteBuffer.allocate(16);
        end.putLong(-1).putLong(-1);
        out.writeBytes(end.array());
        return out.toByteArray();
    }

    public static void record(ByteArrayOutputStream out, long offset, byte[] src, int from, int len) {
        ByteBuffer r = ByteBuffer.allocate(16);
        r.putLong(offset).putLong(len);
        out.writeBytes(r.array());
        out.write(src, from, len);
    }

    /** Rebuilds the plain layout from a flattened dump, like {@code makedumpfile -R}. */
    public static byte[] unflatten(byte[] flat) {
        ByteBuffer b = ByteBuffer.wrap(flat);
        int p = FlattenedDump.HEADER_SIZE;
        long size = 0;
        List<long[]> recs = new ArrayList<>();
        while (p + 16 <= flat.length) {
            long off = b.getLong(p);
            long len = b.getLong(p + 8);
            if (off == -1) {
                break;
            }
            recs.add(new long[] {off, len, p + 16});
            size = Math.max(size, off + len);
            p += 16 + (int) len;
        }
        byte[] out = new byte[(int) size];
        for (long[] r : recs) {
            System.arraycopy(flat, (int) r[2], out, (int) r[0], (int) r[1]);
        }
        return out;
    }
}
