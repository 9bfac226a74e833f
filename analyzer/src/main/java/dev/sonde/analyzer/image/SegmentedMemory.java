package dev.sonde.analyzer.image;

import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Physical memory held as segments of one memory-mapped file (raw, ELF PT_LOAD, LiME ranges).
 * Reads are zero-copy slices of the mapping; lookups are a binary search over the sorted segments.
 */
public final class SegmentedMemory implements PhysicalMemory {
    private final MappedFile file;
    private final FileSegment[] segments;
    private final long[] starts;
    private final List<MemoryRange> ranges;

    /**
     * @param segments must not overlap in physical address (checked); need not be sorted
     * @throws BadImageException when two segments overlap
     */
    public SegmentedMemory(MappedFile file, List<FileSegment> segments) throws BadImageException {
        this.file = file;
        FileSegment[] sorted = segments.stream()
                .filter(s -> s.length() > 0)
                .sorted(Comparator.comparingLong(FileSegment::physicalAddress))
                .toArray(FileSegment[]::new);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i].physicalAddress() < sorted[i - 1].physicalEnd()) {
                throw new BadImageException(file.path(), sorted[i].fileOffset(), String.format(
                        "memory range 0x%x-0x%x overlaps 0x%x-0x%x", sorted[i].physicalAddress(), sorted[i].physicalEnd(),
                        sorted[i - 1].physicalAddress(), sorted[i - 1].physicalEnd()));
            }
        }
        this.segments = sorted;
        this.starts = Arrays.stream(sorted).mapToLong(FileSegment::physicalAddress).toArray();
        this.ranges = mergeAdjacent(sorted);
    }

    private static List<MemoryRange> mergeAdjacent(FileSegment[] sorted) {
        List<MemoryRange> out = new ArrayList<>();
        long start = -1;
        long end = -1;
        for (FileSegment s : sorted) {
            if (s.physicalAddress() == end) {
                end = s.physicalEnd();
            } else {
                if (start >= 0) {
                    out.add(new MemoryRange(start, end - start));
                }
                start = s.physicalAddress();
                end = s.physicalEnd();
            }
        }
        if (start >= 0) {
            out.add(new MemoryRange(start, end - start));
        }
        return List.copyOf(out);
    }

    @Override
    public String name() {
        return file.path().toString();
    }

    @Override
    public List<MemoryRange> ranges() {
        return ranges;
    }

    public List<FileSegment> segments() {
        return List.of(segments);
    }

    @Override
    public int read(long address, byte[] dst, int offset, int length) {
        int done = 0;
        while (done < length) {
            long a = address + done;
            int i = Arrays.binarySearch(starts, a);
            if (i < 0) {
                i = -i - 2;
            }
            if (i < 0 || a >= segments[i].physicalEnd()) {
                break;
            }
            FileSegment s = segments[i];
            long within = a - s.physicalAddress();
            int n = (int) Math.min(length - done, s.length() - within);
            file.get(s.fileOffset() + within, dst, offset + done, n);
            done += n;
        }
        return done;
    }

    /** One binary search and one load from the mapping; values that cross a segment end take the general path. */
    @Override
    public long readU64OrElse(long address, long absent) {
        int i = Arrays.binarySearch(starts, address);
        if (i < 0) {
            i = -i - 2;
        }
        if (i < 0 || address >= segments[i].physicalEnd()) {
            return absent;
        }
        FileSegment s = segments[i];
        long within = address - s.physicalAddress();
        if (within > s.length() - 8) {
            return PhysicalMemory.super.readU64OrElse(address, absent);
        }
        try {
            return file.u64(s.fileOffset() + within, "memory segment");
        } catch (BadImageException e) {
            throw new UncheckedIOException(e); // segments lie inside the file
        }
    }

    @Override
    public void close() {
        file.close();
    }
}
