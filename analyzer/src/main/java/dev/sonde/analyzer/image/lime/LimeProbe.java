package dev.sonde.analyzer.image.lime;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.FileSegment;
import dev.sonde.analyzer.image.ImageProbe;
import dev.sonde.analyzer.image.MappedFile;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.image.SegmentedMemory;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * LiME ({@code lime.ko}, {@code format=lime}) and AVML (Microsoft's acquirer) images: a sequence of ranges, each a
 * 32-byte little-endian header followed by the range's data:
 *
 * <pre>
 *   u32 magic     0x4C694D45 ("EMiL" on disk) for LiME, 0x4C4D5641 ("AVML" on disk) for AVML
 *   u32 version   1 for LiME, 2 for AVML
 *   u64 start     physical address of the first byte
 *   u64 end       physical address of the LAST byte (inclusive)
 *   u64 reserved  zero
 * </pre>
 *
 * A LiME range is followed by {@code end - start + 1} raw bytes; those are memory-mapped and read zero-copy. An AVML
 * range is followed by a snappy framed stream that decompresses to {@code end - start + 1} bytes, then a u64 with the
 * length of that stream (the layout avml's {@code image.rs} writes and {@code avml-convert} reads); those ranges are
 * indexed chunk by chunk so reads stay random access ({@link AvmlMemory}). A file may mix both kinds of header, as
 * {@code avml-convert} accepts. AVML never writes a range larger than 16 MiB and leaves out all-zero ranges.
 *
 * <p>Malformed headers (wrong version, end below start, addresses beyond the 52-bit physical address space,
 * overlapping ranges, a bad magic where the next header should be) are errors naming the file and offset. A file cut
 * short keeps what it holds: the lost part of the last range is named in a warning.
 */
public final class LimeProbe implements ImageProbe {
    static final int LIME_MAGIC = 0x4C694D45;
    static final int AVML_MAGIC = 0x4C4D5641;
    static final int LIME_VERSION = 1;
    static final int AVML_VERSION = 2;
    static final int HEADER_SIZE = 32;
    /** x86-64 and arm64 physical addresses have at most 52 bits. */
    static final long MAX_PHYSICAL = 1L << 52;

    @Override
    public String name() {
        return "lime/avml";
    }

    @Override
    public Optional<MemoryImage> open(MappedFile f) throws IOException {
        if (f.length() < 4) {
            return Optional.empty();
        }
        int magic0 = (int) f.u32(0, "magic");
        if (magic0 != LIME_MAGIC && magic0 != AVML_MAGIC) {
            return Optional.empty();
        }
        List<AvmlMemory.Block> blocks = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        long length = f.length();
        long pos = 0;
        int index = 0;
        int nonzeroReserved = 0;
        while (pos < length) {
            if (index > 0 && length - pos < HEADER_SIZE) {
                warnings.add(String.format("file truncated: the last %d bytes, at offset 0x%x, are not a complete "
                        + "%d-byte range header; whatever range followed is lost", length - pos, pos, HEADER_SIZE));
                break;
            }
            String h = "range header " + index;
            int magic = (int) f.u32(pos, "magic of " + h);
            boolean compressed;
            if (magic == LIME_MAGIC) {
                compressed = false;
            } else if (magic == AVML_MAGIC) {
                compressed = true;
            } else {
                throw new BadImageException(f.path(), pos, String.format("%s has magic 0x%08x, neither LiME (0x%08x) "
                        + "nor AVML (0x%08x); the size announced by range header %d may be wrong, or the file has "
                        + "trailing garbage", h, magic, LIME_MAGIC, AVML_MAGIC, index - 1));
            }
            long version = f.u32(pos + 4, "version of " + h);
            long expected = compressed ? AVML_VERSION : LIME_VERSION;
            if (version != expected) {
                throw new BadImageException(f.path(), pos + 4, String.format("%s: %s version %d is not supported "
                        + "(expected %d)", h, compressed ? "AVML" : "LiME", version, expected));
            }
            long start = f.u64(pos + 8, "start address of " + h);
            long last = f.u64(pos + 16, "end address of " + h);
            long reserved = f.u64(pos + 24, "reserved field of " + h);
            if (start < 0 || start >= MAX_PHYSICAL) {
                throw new BadImageException(f.path(), pos + 8, String.format("%s: start address 0x%x is beyond the "
                        + "52-bit physical address space", h, start));
            }
            if (last < 0 || last >= MAX_PHYSICAL) {
                throw new BadImageException(f.path(), pos + 16, String.format("%s: end address 0x%x is beyond the "
                        + "52-bit physical address space", h, last));
            }
            if (last < start) {
                throw new BadImageException(f.path(), pos + 16, String.format("%s: end address 0x%x is below the "
                        + "start address 0x%x (the end is inclusive)", h, last, start));
            }
            if (reserved != 0) {
                nonzeroReserved++;
            }
            long size = last - start + 1;
            long data = pos + HEADER_SIZE;
            String what = String.format("%s (0x%x-0x%x)", h, start, last + 1);
            if (!compressed) {
                long present = Math.min(size, length - data);
                if (present < size) {
                    warnings.add(String.format("file truncated: %s holds 0x%x of 0x%x bytes; 0x%x-0x%x absent",
                            what, present, size, start + present, last + 1));
                }
                LimeRange r = new LimeRange(index, pos, false, start, size, present);
                if (present > 0) {
                    blocks.add(new AvmlMemory.Block(r, data, null));
                }
                pos = data + size;
            } else {
                SnappyFrames chunks = SnappyFrames.index(f, data, size, what);
                LimeRange r = new LimeRange(index, pos, true, start, size, chunks.uncompressed);
                if (chunks.uncompressed > 0) {
                    blocks.add(new AvmlMemory.Block(r, data, chunks));
                }
                if (chunks.truncated) {
                    warnings.add(String.format("file truncated: the snappy stream of %s ends inside the chunk at "
                            + "offset 0x%x; it holds 0x%x of 0x%x bytes; 0x%x-0x%x absent", what, chunks.end,
                            chunks.uncompressed, size, start + chunks.uncompressed, last + 1));
                    pos = length;
                } else if (length - chunks.end < 8) {
                    warnings.add(String.format("file truncated: the compressed-length trailer of %s, at offset 0x%x, "
                            + "is missing; the range's data is complete", what, chunks.end));
                    pos = length;
                } else {
                    long trailer = f.u64(chunks.end, "compressed-length trailer of " + h);
                    if (trailer != chunks.end - data) {
                        throw new BadImageException(f.path(), chunks.end, String.format("%s: the compressed-length "
                                + "trailer says %d bytes but the snappy stream is %d bytes", what, trailer,
                                chunks.end - data));
                    }
                    pos = chunks.end + 8;
                }
            }
            index++;
        }
        if (nonzeroReserved > 0) {
            warnings.add(nonzeroReserved + " range headers have a non-zero reserved field (ignored)");
        }
        if (blocks.isEmpty()) {
            throw new BadImageException(f.path(), 0, "the " + (magic0 == LIME_MAGIC ? "LiME" : "AVML")
                    + " file holds no memory data (" + index + " range headers, all data missing)");
        }
        blocks.sort(Comparator.comparingLong(b -> b.range().start()));
        for (int i = 1; i < blocks.size(); i++) {
            LimeRange a = blocks.get(i - 1).range();
            LimeRange b = blocks.get(i).range();
            if (b.start() < a.end()) {
                LimeRange later = a.headerOffset() > b.headerOffset() ? a : b;
                LimeRange other = later == a ? b : a;
                throw new BadImageException(f.path(), later.headerOffset(), String.format("range header %d: range "
                        + "0x%x-0x%x overlaps range 0x%x-0x%x of range header %d (at offset 0x%x)", later.index(),
                        later.start(), later.end(), other.start(), other.end(), other.index(), other.headerOffset()));
            }
        }
        boolean anyCompressed = blocks.stream().anyMatch(b -> b.range().compressed());
        boolean anyRaw = blocks.stream().anyMatch(b -> !b.range().compressed());
        PhysicalMemory memory;
        String format;
        if (!anyCompressed) {
            List<FileSegment> segments = blocks.stream()
                    .map(b -> new FileSegment(b.range().start(), b.dataOffset(), b.range().present())).toList();
            memory = new SegmentedMemory(f, segments);
            format = "LiME";
        } else {
            memory = new AvmlMemory(f, blocks);
            format = anyRaw ? "AVML (with uncompressed LiME ranges)" : "AVML";
        }
        return Optional.of(new MemoryImage(f.path(), format, memory, List.of(), Optional.empty(), warnings));
    }
}
