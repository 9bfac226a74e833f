package dev.sonde.analyzer.image.savefile;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.MappedFile;
import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Guest physical memory of a save image: each physical page resolves through the x86 placement of the RAM blocks to
 * the page index of its block, then to a slice of the memory-mapped migration stream (or a fill byte for a zero page).
 * Reads are random access and copy-free up to the destination array; pages the stream never carried are absent.
 */
public final class SaveImageMemory implements PhysicalMemory {
    private final SaveImageHeader header;
    private final String machineType;
    private final MappedFile stream;
    private final MappedFile image;
    private final X86RamLayout.Placement[] placements;
    private final long[] starts;
    private final int pageShift;
    private final int pageSize;
    private final List<MemoryRange> ranges;
    private final List<RamBlock> blocks;

    SaveImageMemory(SaveImageHeader header, String machineType, MappedFile image, MappedFile stream,
                    List<X86RamLayout.Placement> placements, List<RamBlockIndex> allBlocks, int pageShift) {
        this.header = header;
        this.machineType = machineType;
        this.image = image;
        this.stream = stream;
        this.placements = placements.toArray(X86RamLayout.Placement[]::new);
        this.starts = placements.stream().mapToLong(X86RamLayout.Placement::physical).toArray();
        this.pageShift = pageShift;
        this.pageSize = 1 << pageShift;
        this.ranges = present(this.placements, pageShift);
        List<RamBlock> info = new ArrayList<>();
        for (RamBlockIndex b : allBlocks) {
            List<MemoryRange> where = new ArrayList<>();
            for (X86RamLayout.Placement p : placements) {
                if (p.block() == b) {
                    where.add(new MemoryRange(p.physical(), p.length()));
                }
            }
            info.add(new RamBlock(b.id, b.length, b.sent(), where));
        }
        this.blocks = List.copyOf(info);
    }

    private static List<MemoryRange> present(X86RamLayout.Placement[] placements, int shift) {
        List<MemoryRange> out = new ArrayList<>();
        long runStart = -1;
        long runEnd = -1;
        for (X86RamLayout.Placement p : placements) {
            long first = p.blockOffset() >>> shift;
            long pages = p.length() >>> shift;
            for (long i = 0; i < pages; i++) {
                long phys = p.physical() + (i << shift);
                if (p.block().get(first + i) != 0) {
                    if (phys != runEnd) {
                        if (runStart >= 0) {
                            out.add(new MemoryRange(runStart, runEnd - runStart));
                        }
                        runStart = phys;
                    }
                    runEnd = phys + (1L << shift);
                }
            }
        }
        if (runStart >= 0) {
            out.add(new MemoryRange(runStart, runEnd - runStart));
        }
        return List.copyOf(out);
    }

    /** The libvirt header, with the domain XML. */
    public SaveImageHeader header() {
        return header;
    }

    /** The machine type the stream (or, failing that, the domain XML) names, e.g. {@code pc-i440fx-7.2}. */
    public String machineType() {
        return machineType;
    }

    /** All RAM blocks of the stream; only guest RAM is placed in physical memory. */
    public List<RamBlock> ramBlocks() {
        return blocks;
    }

    @Override
    public String name() {
        return header.file().toString();
    }

    @Override
    public List<MemoryRange> ranges() {
        return ranges;
    }

    @Override
    public int read(long address, byte[] dst, int offset, int length) {
        int done = 0;
        int i = -1;
        while (done < length) {
            long a = address + done;
            if (i < 0 || a < placements[i].physical() || a >= placements[i].physicalEnd()) {
                i = Arrays.binarySearch(starts, a);
                if (i < 0) {
                    i = -i - 2;
                }
                if (i < 0 || a >= placements[i].physicalEnd()) {
                    break;
                }
            }
            X86RamLayout.Placement p = placements[i];
            long inBlock = p.blockOffset() + (a - p.physical());
            long entry = p.block().get(inBlock >>> pageShift);
            if (entry == 0) {
                break;
            }
            int within = (int) (inBlock & (pageSize - 1));
            int n = (int) Math.min(Math.min(length - done, pageSize - within), p.physicalEnd() - a);
            if (entry < 0) {
                Arrays.fill(dst, offset + done, offset + done + n, (byte) (-entry - 1));
            } else {
                stream.get(entry + within, dst, offset + done, n);
            }
            done += n;
        }
        return done;
    }

    /** One lookup and one load from the mapping; values that cross a page or placement end take the general path. */
    @Override
    public long readU64OrElse(long address, long absent) {
        int i = Arrays.binarySearch(starts, address);
        if (i < 0) {
            i = -i - 2;
        }
        if (i < 0 || address >= placements[i].physicalEnd()) {
            return absent;
        }
        X86RamLayout.Placement p = placements[i];
        long inBlock = p.blockOffset() + (address - p.physical());
        int within = (int) (inBlock & (pageSize - 1));
        if (within > pageSize - 8 || address > p.physicalEnd() - 8) {
            return PhysicalMemory.super.readU64OrElse(address, absent);
        }
        long entry = p.block().get(inBlock >>> pageShift);
        if (entry == 0) {
            return absent;
        }
        if (entry < 0) {
            return ((-entry - 1) & 0xff) * 0x0101_0101_0101_0101L;
        }
        try {
            return stream.u64(entry + within, "page data");
        } catch (BadImageException e) {
            throw new UncheckedIOException(e); // page records lie inside the stream
        }
    }

    @Override
    public void close() {
        stream.close();
        if (image != stream) {
            image.close();
        }
    }
}
