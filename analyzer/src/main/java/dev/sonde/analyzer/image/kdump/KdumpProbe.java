package dev.sonde.analyzer.image.kdump;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.ImageProbe;
import dev.sonde.analyzer.image.LittleEndian;
import dev.sonde.analyzer.image.MappedFile;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.Vmcoreinfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * kdump-compressed dumps ({@code makedumpfile -c/-l/-p/-z}, QEMU {@code dump-guest-memory -z/-l/-s},
 * {@code virsh dump --memory-only --format kdump-zlib}), in the plain layout or in makedumpfile's flattened layout.
 *
 * <p>Layout, all little-endian for the 64-bit architectures read here: block 0 holds {@code disk_dump_header}
 * (signature {@code "KDUMP   "}, {@code header_version}, {@code utsname}, {@code status}, {@code block_size},
 * {@code sub_hdr_size}, {@code bitmap_blocks}, {@code max_mapnr}, {@code nr_cpus}); block 1 {@code kdump_sub_header}
 * ({@code phys_base}, {@code dump_level}, {@code split}, VMCOREINFO and ELF-note offsets, 64-bit pfn fields from
 * version 6) followed by the notes; then the 1st bitmap (pages that exist) and the 2nd bitmap (pages dumped); then one
 * 24-byte {@code page_desc} (offset, size, flags, page_flags) per dumped page in pfn order; then the page data.
 */
public final class KdumpProbe implements ImageProbe {
    static final byte[] KDUMP_SIGNATURE = "KDUMP   ".getBytes(StandardCharsets.US_ASCII);
    static final byte[] DISKDUMP_SIGNATURE = "DISKDUMP".getBytes(StandardCharsets.US_ASCII);
    static final byte[] FLAT_SIGNATURE = (FlattenedDump.SIGNATURE + "\0").getBytes(StandardCharsets.US_ASCII);
    static final int MAIN_HEADER_SIZE = 464;
    static final int SUB_HEADER_SIZE = 104;
    /** 2^32 page frames: 16 TiB with 4 KiB pages. Bigger claims are corruption, and would not fit in memory here. */
    static final long MAX_MAPNR = 1L << 32;
    static final int MAX_NOTES = 64 << 20;

    // disk_dump_header field offsets (64-bit layout: struct timeval aligned to 8 after the 390-byte utsname)
    static final int OFF_VERSION = 8;
    static final int OFF_UTSNAME = 12;
    static final int OFF_STATUS = 424;
    static final int OFF_BLOCK_SIZE = 428;
    static final int OFF_SUB_HDR_SIZE = 432;
    static final int OFF_BITMAP_BLOCKS = 436;
    static final int OFF_MAX_MAPNR = 440;
    static final int OFF_NR_CPUS = 460;

    @Override
    public String name() {
        return "kdump";
    }

    @Override
    public Optional<MemoryImage> open(MappedFile f) throws IOException {
        if (f.length() < 16) {
            return Optional.empty();
        }
        byte[] head = f.bytes(0, 16, "signature");
        boolean flat = startsWith(head, FLAT_SIGNATURE);
        if (startsWith(head, DISKDUMP_SIGNATURE)) {
            throw new BadImageException(f.path(), 0, "Red Hat diskdump (DISKDUMP signature) is not supported; "
                    + "only kdump-compressed dumps (KDUMP signature) are");
        }
        if (!flat && !startsWith(head, KDUMP_SIGNATURE)) {
            return Optional.empty();
        }
        DumpBytes dump = flat ? FlattenedDump.index(f) : DumpBytes.direct(f);
        if (flat) {
            byte[] inner = dump.length() >= 8 ? dump.bytes(0, 8, "signature") : new byte[0];
            if (!startsWith(inner, KDUMP_SIGNATURE)) {
                String what = inner.length >= 4 && inner[0] == 0x7f && inner[1] == 'E' && inner[2] == 'L' && inner[3] == 'F'
                        ? "an ELF vmcore (rebuild it with makedumpfile -R, then open the ELF file)"
                        : "not a kdump-compressed dump";
                throw dump.bad(0, "the flattened records describe " + what);
            }
        }
        return Optional.of(open(dump));
    }

    private static MemoryImage open(DumpBytes dump) throws IOException {
        List<String> warnings = new ArrayList<>(dump.warnings());
        byte[] h = dump.bytes(0, MAIN_HEADER_SIZE, "kdump main header (disk_dump_header)");
        int version = (int) LittleEndian.u32(h, OFF_VERSION);
        if (version < 1 || version > 64) {
            throw dump.bad(OFF_VERSION, "kdump header_version " + version + " is not plausible (64-bit little-endian dump expected)");
        }
        if (version > 6) {
            warnings.add("kdump header_version " + version + " is newer than 6, the latest known; read as version 6");
        }
        String machine = KdumpNotes.cString(h, OFF_UTSNAME + 4 * 65, 65);
        String release = KdumpNotes.cString(h, OFF_UTSNAME + 2 * 65, 65);
        long status = LittleEndian.u32(h, OFF_STATUS);
        long blockSize = LittleEndian.u32(h, OFF_BLOCK_SIZE);
        if (blockSize < 1024 || blockSize > (1 << 20) || Long.bitCount(blockSize) != 1) {
            throw dump.bad(OFF_BLOCK_SIZE, "block_size " + blockSize
                    + " is not a plausible page size (a 64-bit little-endian dump is expected)");
        }
        int bs = (int) blockSize;
        long subHdrBlocks = LittleEndian.u32(h, OFF_SUB_HDR_SIZE);
        long bitmapBlocks = LittleEndian.u32(h, OFF_BITMAP_BLOCKS);
        if (subHdrBlocks < 1 || subHdrBlocks > (1 << 20)) {
            throw dump.bad(OFF_SUB_HDR_SIZE, "sub_hdr_size of " + subHdrBlocks + " blocks is not plausible");
        }
        if (bitmapBlocks < 1) {
            throw dump.bad(OFF_BITMAP_BLOCKS, "bitmap_blocks is 0: the dump has no page bitmap");
        }
        int nrCpus = (int) LittleEndian.u32(h, OFF_NR_CPUS);

        byte[] sub = new byte[SUB_HEADER_SIZE];
        int subLen = version >= 6 ? SUB_HEADER_SIZE : version >= 5 ? 80 : version >= 4 ? 64 : version >= 3 ? 48
                : version >= 2 ? 32 : 12;
        dump.read(bs, sub, 0, subLen, "kdump sub header (kdump_sub_header)");
        long physBase = LittleEndian.u64(sub, 0);
        int dumpLevel = (int) LittleEndian.u32(sub, 8);
        boolean split = version >= 2 && LittleEndian.u32(sub, 12) != 0;
        long maxMapnr = version >= 6 ? LittleEndian.u64(sub, 96) : LittleEndian.u32(h, OFF_MAX_MAPNR);
        long maxMapnrAt = version >= 6 ? bs + 96 : OFF_MAX_MAPNR;
        if (maxMapnr <= 0 || maxMapnr > MAX_MAPNR) {
            throw dump.bad(maxMapnrAt, String.format("max_mapnr 0x%x (%s of memory) is not plausible", maxMapnr,
                    humanBytes(maxMapnr, bs)));
        }
        long startPfn = 0;
        long endPfn = maxMapnr;
        if (split) {
            startPfn = version >= 6 ? LittleEndian.u64(sub, 80) : LittleEndian.u64(sub, 16);
            endPfn = version >= 6 ? LittleEndian.u64(sub, 88) : LittleEndian.u64(sub, 24);
            if (startPfn < 0 || endPfn <= startPfn || endPfn > maxMapnr) {
                throw dump.bad(bs + (version >= 6 ? 80 : 16), String.format(
                        "split dump part claims page frames 0x%x-0x%x outside 0-0x%x", startPfn, endPfn, maxMapnr));
            }
        }

        // Bitmaps: two halves of bitmap_blocks when there is room for two (current formats), else a single one.
        long bitmapOffset = (1 + subHdrBlocks) * bs;
        long bitmapBytes = bitmapBlocks * bs;
        long perBitmap = (maxMapnr + 7) / 8;
        long perBitmapBlocks = (perBitmap + bs - 1) / bs * bs;
        boolean two = bitmapBytes >= 2 * perBitmapBlocks;
        if (bitmapBytes < perBitmap) {
            throw dump.bad(OFF_BITMAP_BLOCKS, String.format("bitmap of %d blocks (%d bytes) cannot cover max_mapnr 0x%x "
                    + "(needs %d bytes)", bitmapBlocks, bitmapBytes, maxMapnr, perBitmap));
        }
        if (bitmapOffset + bitmapBytes > dump.length()) {
            throw dump.bad(OFF_BITMAP_BLOCKS, String.format("the bitmaps (%d bytes at dump offset 0x%x) end beyond the "
                    + "end of the dump (%d bytes): truncated, or max_mapnr/bitmap_blocks are corrupt",
                    bitmapBytes, bitmapOffset, dump.length()));
        }
        long[] dumpable = bitmap(dump, two ? bitmapOffset + bitmapBytes / 2 : bitmapOffset, maxMapnr, "2nd bitmap");
        if (split) {
            clearOutside(dumpable, startPfn, endPfn);
            warnings.add(String.format("part of a split dump: holds page frames 0x%x-0x%x only (physical 0x%x-0x%x)",
                    startPfn, endPfn, startPfn * bs, endPfn * bs));
        }
        long dumpablePages = count(dumpable);
        long excluded = 0;
        if (two) {
            long[] ram = bitmap(dump, bitmapOffset, maxMapnr, "1st bitmap");
            if (split) {
                clearOutside(ram, startPfn, endPfn);
            }
            for (int i = 0; i < ram.length; i++) {
                excluded += Long.bitCount(ram[i] & ~dumpable[i]);
            }
            if (excluded > 0) {
                warnings.add(String.format("%d pages (%s) excluded by dump level %d are absent", excluded,
                        humanBytes(excluded, bs), dumpLevel));
            }
        }
        KdumpHeader header = new KdumpHeader(dump.flattened(), version, machine, release, status, bs, maxMapnr,
                dumpLevel, physBase, nrCpus, split, startPfn, endPfn, dumpablePages, excluded);
        if (header.incomplete()) {
            warnings.add("the dump header says the dump is incomplete (DUMP_DH_COMPRESSED_INCOMPLETE)");
        }

        // Notes and VMCOREINFO.
        KdumpNotes notes = new KdumpNotes();
        if (version >= 4) {
            long noteOffset = LittleEndian.u64(sub, 48);
            long noteSize = LittleEndian.u64(sub, 56);
            if (noteSize > 0) {
                if (noteSize > MAX_NOTES || noteOffset < 0) {
                    throw dump.bad(bs + 56, "ELF note area of " + noteSize + " bytes at 0x" + Long.toHexString(noteOffset)
                            + " is not plausible");
                }
                byte[] area = dump.bytes(noteOffset, (int) noteSize, "ELF notes");
                Optional<String> problem = notes.parse(area);
                if (problem.isPresent()) {
                    throw dump.bad(noteOffset, problem.get());
                }
            }
        }
        byte[] vmcoreinfo = notes.vmcoreinfo;
        if (version >= 3) {
            long viOffset = LittleEndian.u64(sub, 32);
            long viSize = LittleEndian.u64(sub, 40);
            if (viSize > 0) {
                if (viSize > Vmcoreinfo.MAX_BYTES || viOffset < 0) {
                    throw dump.bad(bs + 40, "VMCOREINFO of " + viSize + " bytes is implausibly large");
                }
                vmcoreinfo = dump.bytes(viOffset, (int) viSize, "VMCOREINFO");
            }
        }

        long dataOffset = (1 + subHdrBlocks + bitmapBlocks) * bs;
        KdumpMemory memory = new KdumpMemory(dump, header, dumpable, dataOffset, warnings);
        return new MemoryImage(dump.path(), header.format(), memory, notes.cpus(),
                Optional.ofNullable(vmcoreinfo).map(Vmcoreinfo::parse), warnings);
    }

    /** Reads a bitmap of {@code bits} bits (LSB first) into words, clearing the bits beyond. */
    private static long[] bitmap(DumpBytes dump, long offset, long bits, String what) throws BadImageException {
        long[] words = new long[(int) ((bits + 63) >>> 6)];
        long bytes = (bits + 7) >>> 3;
        byte[] chunk = new byte[1 << 20];
        for (long done = 0; done < bytes; ) {
            int n = (int) Math.min(chunk.length, bytes - done);
            dump.read(offset + done, chunk, 0, n, what);
            int padded = (n + 7) & ~7;
            Arrays.fill(chunk, n, padded, (byte) 0);
            ByteBuffer.wrap(chunk, 0, padded).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer()
                    .get(words, (int) (done >>> 3), padded >>> 3);
            done += n;
        }
        if ((bits & 63) != 0) {
            words[words.length - 1] &= -1L >>> (64 - (bits & 63));
        }
        return words;
    }

    private static void clearOutside(long[] words, long start, long end) {
        for (int w = 0; w < words.length; w++) {
            long base = (long) w << 6;
            if (base + 64 <= start || base >= end) {
                words[w] = 0;
            } else {
                if (start > base) {
                    words[w] &= -1L << (start - base);
                }
                if (end < base + 64) {
                    words[w] &= -1L >>> (64 - (end - base));
                }
            }
        }
    }

    private static long count(long[] words) {
        long n = 0;
        for (long w : words) {
            n += Long.bitCount(w);
        }
        return n;
    }

    static String humanBytes(long pages, long pageSize) {
        double bytes = (double) pages * pageSize;
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        int u = 0;
        while (bytes >= 1024 && u < units.length - 1) {
            bytes /= 1024;
            u++;
        }
        return String.format("%.1f %s", bytes, units[u]);
    }

    private static boolean startsWith(byte[] b, byte[] prefix) {
        return b.length >= prefix.length && Arrays.equals(b, 0, prefix.length, prefix, 0, prefix.length);
    }
}
