package dev.sonde.rollback.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Which guest-disk ranges a qcow2 image itself holds (rather than leaving to its backing file): its L1 and L2 tables,
 * read directly. A clone's overlay starts empty, so these are exactly the ranges the clone wrote (or zeroed).
 *
 * <p>Bounds: the header's L1 size is checked against the virtual size, every table offset against the file length;
 * a violation is an {@link IOException} naming the file, the offset and what was wrong.
 *
 * @param file         the image
 * @param virtualSize  the guest-visible disk size
 * @param clusterSize  bytes per cluster
 * @param backingFile  the backing file name in the header, empty string when none
 * @param ranges       the allocated guest ranges, merged, in order
 */
public record Qcow2Allocation(Path file, long virtualSize, int clusterSize, String backingFile, List<Range> ranges) {
    private static final int MAGIC = 0x514649fb; // "QFI\xfb"
    private static final long OFFSET_MASK = 0x00fffffffffffe00L;
    private static final long COMPRESSED = 1L << 62;

    /** A guest byte range the image holds; {@code zero} when the image records it as reading zeros. */
    public record Range(long offset, long length, boolean zero) {
        public long end() {
            return offset + length;
        }
    }

    /** Total bytes of the allocated ranges. */
    public long allocatedBytes() {
        return ranges.stream().mapToLong(Range::length).sum();
    }

    /** Reads {@code file}'s header and mapping tables. */
    public static Qcow2Allocation read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileLen = ch.size();
            ByteBuffer h = read(ch, file, 0, 104, fileLen);
            if (h.getInt(0) != MAGIC) {
                throw new IOException(file + ": offset 0: not a qcow2 image (magic " + Integer.toHexString(h.getInt(0)) + ")");
            }
            int version = h.getInt(4);
            if (version != 2 && version != 3) {
                throw new IOException(file + ": offset 4: unsupported qcow2 version " + version);
            }
            long backingOff = h.getLong(8);
            int backingLen = h.getInt(16);
            int clusterBits = h.getInt(20);
            if (clusterBits < 9 || clusterBits > 21) {
                throw new IOException(file + ": offset 20: cluster_bits " + clusterBits + " out of range 9..21");
            }
            long size = h.getLong(24);
            if (h.getInt(32) != 0) {
                throw new IOException(file + ": offset 32: encrypted images are not supported");
            }
            int l1Size = h.getInt(36);
            long l1Off = h.getLong(40);
            boolean extendedL2 = version == 3 && (h.getLong(72) & (1L << 4)) != 0;
            int clusterSize = 1 << clusterBits;
            int l2Entries = clusterSize / (extendedL2 ? 16 : 8);
            long perL1 = (long) l2Entries * clusterSize;
            long needed = size <= 0 ? 0 : (size + perL1 - 1) / perL1;
            if (size < 0 || l1Size < 0 || l1Size > needed + 1 || l1Size > (1 << 25)) {
                throw new IOException(file + ": offset 36: L1 size " + l1Size + " does not fit virtual size " + size);
            }
            String backing = "";
            if (backingOff != 0) {
                if (backingLen <= 0 || backingLen > 1023) {
                    throw new IOException(file + ": offset 16: backing file name length " + backingLen + " out of range");
                }
                ByteBuffer b = read(ch, file, backingOff, backingLen, fileLen);
                backing = new String(b.array(), 0, backingLen, java.nio.charset.StandardCharsets.UTF_8);
            }
            List<Range> ranges = new ArrayList<>();
            ByteBuffer l1 = l1Size == 0 ? ByteBuffer.allocate(0) : read(ch, file, l1Off, l1Size * 8L, fileLen);
            for (int i = 0; i < l1Size; i++) {
                long l2Off = l1.getLong(i * 8) & OFFSET_MASK;
                if (l2Off == 0) {
                    continue;
                }
                if (l2Off % clusterSize != 0) {
                    throw new IOException(file + ": offset " + (l1Off + i * 8L) + ": L2 table offset " + l2Off
                            + " not cluster-aligned");
                }
                ByteBuffer l2 = read(ch, file, l2Off, clusterSize, fileLen);
                int stride = extendedL2 ? 16 : 8;
                for (int j = 0; j < l2Entries; j++) {
                    long e = l2.getLong(j * stride);
                    long guest = i * perL1 + (long) j * clusterSize;
                    if (guest >= size) {
                        break;
                    }
                    boolean compressed = (e & COMPRESSED) != 0;
                    long host = compressed ? 1 : e & OFFSET_MASK;
                    boolean zero = !compressed && (extendedL2 ? l2.getLong(j * stride + 8) != 0 && host == 0 : (e & 1) != 0);
                    if (host == 0 && !zero) {
                        continue;
                    }
                    long len = Math.min(clusterSize, size - guest);
                    add(ranges, new Range(guest, len, zero && host == 0));
                }
            }
            return new Qcow2Allocation(file, size, clusterSize, backing, List.copyOf(ranges));
        }
    }

    private static void add(List<Range> ranges, Range r) {
        if (!ranges.isEmpty()) {
            Range last = ranges.get(ranges.size() - 1);
            if (last.end() == r.offset() && last.zero() == r.zero()) {
                ranges.set(ranges.size() - 1, new Range(last.offset(), last.length() + r.length(), last.zero()));
                return;
            }
        }
        ranges.add(r);
    }

    private static ByteBuffer read(FileChannel ch, Path file, long off, long len, long fileLen) throws IOException {
        if (off < 0 || len < 0 || len > (64 << 20) || off + len > fileLen) {
            throw new IOException(file + ": offset " + off + ": " + len + " bytes past the end of the file (" + fileLen + ")");
        }
        ByteBuffer b = ByteBuffer.allocate((int) len);
        while (b.hasRemaining()) {
            if (ch.read(b, off + b.position()) < 0) {
                throw new IOException(file + ": offset " + (off + b.position()) + ": unexpected end of file");
            }
        }
        return b.flip();
    }
}
