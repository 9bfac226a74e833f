package dev.sonde.rollback.probe;

import dev.sonde.kb.disk.BlockDevice;
import dev.sonde.kb.disk.Qcow2Image;
import dev.sonde.kb.ext4.Ext4Entry;
import dev.sonde.kb.ext4.Ext4FileSystem;
import dev.sonde.kb.ext4.Ext4Inode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Maps guest disk byte ranges to the ext4 files, directories and journal whose blocks they hold: every inode reachable
 * from the root (directories included) and the journal inode, their extent trees read from the disk image (the kb
 * module's qcow2 and ext4 readers). The file system is read as it is on the disk, without replaying its journal.
 * Bounded: at most {@link #MAX_ENTRIES} directory entries, extent trees of depth 5.
 */
final class Ext4FileMap {
    static final int MAX_ENTRIES = 2_000_000;
    private static final int EXT4_MAGIC = 0xEF53;
    private static final long JOURNAL_INODE = 8;

    private final Ext4FileSystem fs;
    private final BlockDevice dev;
    private final long[] starts;
    private final long[] ends;
    private final Map<String, Long> hits = new TreeMap<>();
    private long entries;

    private Ext4FileMap(Ext4FileSystem fs, BlockDevice dev, List<ProbeResult.Range> ranges) {
        this.fs = fs;
        this.dev = dev;
        this.starts = ranges.stream().mapToLong(ProbeResult.Range::offset).toArray();
        this.ends = ranges.stream().mapToLong(r -> r.offset() + r.length()).toArray();
    }

    /** Whether the disk holds an ext2/3/4 file system at offset 0 (no partition table). */
    static boolean isExt4(BlockDevice dev) throws IOException {
        if (dev.size() < 2048) {
            return false;
        }
        byte[] sb = dev.read(1024 + 0x38, 2);
        return ((sb[0] & 0xff) | (sb[1] & 0xff) << 8) == EXT4_MAGIC;
    }

    /**
     * The paths (with the bytes of {@code ranges} they hold) of the ext4 file system on the disk whose top image is
     * {@code image}; empty with a reason when there is none at offset 0.
     */
    static Map<String, Long> map(Path image, List<ProbeResult.Range> ranges) throws IOException {
        try (Qcow2Image dev = Qcow2Image.open(image)) {
            if (!isExt4(dev)) {
                throw new IOException(image + ": no ext4 file system at offset 0 of the disk (partitioned disks are not mapped)");
            }
            Ext4FileMap m = new Ext4FileMap(Ext4FileSystem.open(dev), dev, ranges);
            m.inode("<ext4 journal>", m.fs.inode(JOURNAL_INODE));
            m.walk("", m.fs.inode(2), new HashSet<>(), 0);
            return m.hits;
        }
    }

    private void walk(String prefix, Ext4Inode dir, Set<Long> seen, int depth) throws IOException {
        if (!seen.add(dir.number()) || depth > 256) {
            return;
        }
        inode(prefix.isEmpty() ? "/" : prefix + "/", dir);
        for (Ext4Entry e : fs.list(dir)) {
            if (++entries > MAX_ENTRIES) {
                throw new IOException(fs.deviceName() + ": over " + MAX_ENTRIES + " directory entries");
            }
            if (e.name().equals(".") || e.name().equals("..")) {
                continue;
            }
            Ext4Inode ino = fs.inode(e.inode());
            String p = prefix + "/" + e.name();
            if (ino.isDirectory()) {
                walk(p, ino, seen, depth + 1);
            } else if (ino.isRegular() || ino.isSymlink()) {
                inode(p, ino);
            }
        }
    }

    private void inode(String path, Ext4Inode ino) throws IOException {
        if (!ino.hasExtents() || ino.hasInlineData()) {
            return; // block-mapped (ext2/3 style) or inline: not mapped
        }
        node(path, ino, ByteBuffer.wrap(ino.raw(), 0x28, 60).slice().order(ByteOrder.LITTLE_ENDIAN), 5, new int[]{0});
    }

    private void node(String path, Ext4Inode ino, ByteBuffer b, int maxDepth, int[] nodes) throws IOException {
        if ((b.getShort(0) & 0xffff) != 0xF30A || ++nodes[0] > 65_536) {
            return; // not an extent node (or a looping tree): nothing mapped for this inode
        }
        int count = b.getShort(2) & 0xffff;
        int depth = b.getShort(6) & 0xffff;
        if (depth > maxDepth || 12 + count * 12 > b.capacity()) {
            return;
        }
        long bs = fs.blockSize();
        for (int i = 0; i < count; i++) {
            int at = 12 + i * 12;
            if (depth == 0) {
                int len = b.getShort(at + 4) & 0xffff;
                if (len > 32768) {
                    len -= 32768; // uninitialised extent: allocated all the same
                }
                long start = (long) (b.getShort(at + 6) & 0xffff) << 32 | (b.getInt(at + 8) & 0xffffffffL);
                hit(path, start * bs, len * bs);
            } else {
                long leaf = (long) (b.getShort(at + 8) & 0xffff) << 32 | (b.getInt(at + 4) & 0xffffffffL);
                if (leaf == 0 || (leaf + 1) * bs > dev.size()) {
                    continue;
                }
                hit(path, leaf * bs, bs); // the extent tree block itself
                node(path, ino, ByteBuffer.wrap(dev.read(leaf * bs, (int) bs)).order(ByteOrder.LITTLE_ENDIAN), depth - 1, nodes);
            }
        }
    }

    private void hit(String path, long off, long len) {
        long end = off + len;
        int lo = 0;
        int hi = starts.length;
        while (lo < hi) { // first range ending after off
            int mid = (lo + hi) >>> 1;
            if (ends[mid] <= off) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        long bytes = 0;
        for (int i = lo; i < starts.length && starts[i] < end; i++) {
            bytes += Math.min(end, ends[i]) - Math.max(off, starts[i]);
        }
        if (bytes > 0) {
            hits.merge(path, bytes, Long::sum);
        }
    }
}
