package dev.sonde.kb.ext4;

import dev.sonde.kb.disk.BlockDevice;
import dev.sonde.kb.disk.DiskFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An ext4 (or ext2/3 with extents) file system read from a {@link BlockDevice}, with no mounting: superblock, group
 * descriptors (32- and 64-bit), inodes, extent trees of any depth, block-mapped files (ext2/3), directories (linear;
 * htree directories read as linear, their index blocks look like empty entries), fast and slow symlinks and inline
 * data. The guest's file system is hostile input: extent trees are checked for depth and loops, directory entries for
 * their bounds, and every error names the device, the offset and what was wrong.
 */
public final class Ext4FileSystem {
    /** Largest file {@link #readFile} returns. */
    public static final long MAX_FILE = 1L << 30;
    /** Largest directory {@link #list} reads (and never more than the device holds). */
    public static final long MAX_DIRECTORY = 64L << 20;
    static final int ROOT = 2;
    private static final int MAX_DEPTH = 5;
    private static final int MAX_SYMLINKS = 40;
    private static final long INCOMPAT_64BIT = 0x80;
    private static final long INCOMPAT_META_BG = 0x10;
    private static final long INCOMPAT_COMPRESSION = 0x1;

    private final BlockDevice dev;
    private final String name;
    private final int blockSize;
    private final long inodesCount;
    private final long inodesPerGroup;
    private final int inodeSize;
    private final long blocksCount;
    private final long firstDataBlock;
    private final int descSize;
    private final long groups;
    private final long[] inodeTables;
    private final boolean needsRecovery;
    private final Map<Long, Map<String, Ext4Entry>> dirCache = new HashMap<>();

    private Ext4FileSystem(BlockDevice dev) throws IOException {
        this.dev = dev;
        this.name = dev.name();
        if (dev.size() < 2048) {
            throw new DiskFormatException(name, 1024, "device too small (" + dev.size() + " bytes) for an ext4 superblock");
        }
        ByteBuffer sb = ByteBuffer.wrap(dev.read(1024, 1024)).order(ByteOrder.LITTLE_ENDIAN);
        int magic = sb.getShort(56) & 0xffff;
        if (magic != 0xEF53) {
            throw new DiskFormatException(name, 1024 + 56, String.format("bad superblock: magic 0x%04x, not 0xef53 (not an ext2/3/4 file system)", magic));
        }
        int logBlock = sb.getInt(24);
        if (logBlock < 0 || logBlock > 6) {
            throw new DiskFormatException(name, 1024 + 24, "bad superblock: s_log_block_size " + logBlock + " (block size over 64 KiB)");
        }
        blockSize = 1024 << logBlock;
        inodesCount = sb.getInt(0) & 0xffffffffL;
        firstDataBlock = sb.getInt(20) & 0xffffffffL;
        long blocksPerGroup = sb.getInt(32) & 0xffffffffL;
        inodesPerGroup = sb.getInt(40) & 0xffffffffL;
        int rev = sb.getInt(76);
        inodeSize = rev == 0 ? 128 : sb.getShort(88) & 0xffff;
        long incompat = sb.getInt(96) & 0xffffffffL;
        long blocks = sb.getInt(4) & 0xffffffffL;
        boolean is64 = (incompat & INCOMPAT_64BIT) != 0;
        if (is64) {
            blocks |= (sb.getInt(336) & 0xffffffffL) << 32;
        }
        blocksCount = blocks;
        descSize = is64 ? sb.getShort(254) & 0xffff : 32;
        needsRecovery = (incompat & 0x4) != 0;
        if (inodeSize < 128 || inodeSize > blockSize || Integer.bitCount(inodeSize) != 1) {
            throw new DiskFormatException(name, 1024 + 88, "bad superblock: inode size " + inodeSize);
        }
        if (blocksPerGroup == 0 || blocksPerGroup > 8L * blockSize || inodesPerGroup == 0 || inodesPerGroup > 8L * blockSize) {
            throw new DiskFormatException(name, 1024 + 32, "bad superblock: " + blocksPerGroup + " blocks and " + inodesPerGroup + " inodes per group");
        }
        if (is64 && (descSize < 32 || descSize > 1024 || Integer.bitCount(descSize) != 1)) {
            throw new DiskFormatException(name, 1024 + 254, "bad superblock: group descriptor size " + descSize);
        }
        if (blocksCount == 0 || blocksCount > dev.size() / blockSize + 1 || blocksCount <= firstDataBlock) {
            throw new DiskFormatException(name, 1024 + 4, "bad superblock: " + blocksCount + " blocks of " + blockSize
                    + " bytes do not fit the device (" + dev.size() + " bytes)");
        }
        if ((incompat & INCOMPAT_COMPRESSION) != 0) {
            throw new DiskFormatException(name, 1024 + 96, "compressed ext2 file system not supported");
        }
        if ((incompat & INCOMPAT_META_BG) != 0) {
            throw new DiskFormatException(name, 1024 + 96, "meta_bg group descriptor layout not supported");
        }
        groups = (blocksCount - firstDataBlock + blocksPerGroup - 1) / blocksPerGroup;
        if (groups * inodesPerGroup < inodesCount || groups > (1 << 24)) {
            throw new DiskFormatException(name, 1024, "bad superblock: " + groups + " groups for " + inodesCount + " inodes");
        }
        inodeTables = new long[(int) groups];
        long gdt = (firstDataBlock + 1) * blockSize;
        byte[] table = dev.read(gdt, (int) Math.min(Integer.MAX_VALUE - 8, groups * descSize));
        ByteBuffer g = ByteBuffer.wrap(table).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < groups; i++) {
            int at = i * descSize;
            long lo = g.getInt(at + 8) & 0xffffffffL;
            long hi = descSize >= 64 ? g.getInt(at + 0x28) & 0xffffffffL : 0;
            long t = lo | hi << 32;
            if (t == 0 || t >= blocksCount) {
                throw new DiskFormatException(name, gdt + at + 8, "group descriptor " + i + ": inode table at block " + t + " outside the file system");
            }
            inodeTables[i] = t;
        }
    }

    /** Opens the ext2/3/4 file system at the start of {@code dev}. */
    public static Ext4FileSystem open(BlockDevice dev) throws IOException {
        return new Ext4FileSystem(dev);
    }

    /** The journal holds changes not yet written to their place (the guest was running): they are not seen. */
    public boolean needsRecovery() {
        return needsRecovery;
    }

    public int blockSize() {
        return blockSize;
    }

    public String deviceName() {
        return name;
    }

    /** Reads inode {@code number}. */
    public Ext4Inode inode(long number) throws IOException {
        if (number < 1 || number > inodesCount) {
            throw new DiskFormatException(name, 1024, "inode number " + number + " outside 1.." + inodesCount);
        }
        long group = (number - 1) / inodesPerGroup;
        long index = (number - 1) % inodesPerGroup;
        long off = inodeTables[(int) group] * blockSize + index * inodeSize;
        byte[] raw = dev.read(off, inodeSize);
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int mode = b.getShort(0) & 0xffff;
        long size = (b.getInt(4) & 0xffffffffL) | (long) b.getInt(0x6C) << 32;
        long flags = b.getInt(0x20) & 0xffffffffL;
        return new Ext4Inode(number, mode, size, flags, raw, off);
    }

    /** The whole content of a regular file, directory or slow symlink (at most {@link #MAX_FILE} bytes). */
    public byte[] readFile(Ext4Inode ino) throws IOException {
        return readFile(ino, MAX_FILE);
    }

    /** The first {@code limit} bytes of a file (fewer when it is shorter). */
    public byte[] readFile(Ext4Inode ino, long limit) throws IOException {
        if (ino.size() < 0 || ino.size() > MAX_FILE) {
            throw new DiskFormatException(name, ino.offset() + 4, "inode " + ino.number() + ": size " + ino.size() + " over the limit of " + MAX_FILE);
        }
        int size = (int) Math.min(ino.size(), limit);
        if (ino.hasInlineData()) {
            return inlineData(ino, size);
        }
        byte[] out = new byte[size];
        if (ino.hasExtents()) {
            long blocks = (out.length + (long) blockSize - 1) / blockSize;
            extents(ino, blocks, (logical, physical, n) -> {
                long dst = logical * blockSize;
                dev.read(physical * blockSize, out, (int) dst, (int) Math.min(n * blockSize, out.length - dst));
            });
        } else {
            blockMapped(ino, out);
        }
        return out;
    }

    /** A run of initialised blocks of a file: {@code n} blocks from {@code logical} are at {@code physical}. */
    private interface ExtentSink {
        void run(long logical, long physical, long n) throws IOException;
    }

    private void extents(Ext4Inode ino, long blocks, ExtentSink sink) throws IOException {
        byte[] root = Arrays.copyOfRange(ino.raw(), 0x28, 0x28 + 60);
        extents(ino, root, ino.offset() + 0x28, -1, new HashSet<>(), blocks, sink);
    }

    /**
     * Where byte {@code fileOffset} of an extent-mapped file is on the device, or -1 in a hole or an uninitialised
     * extent (for tests that alter a file on a disk image the way a guest would).
     */
    public long deviceOffset(Ext4Inode ino, long fileOffset) throws IOException {
        if (!ino.hasExtents() || fileOffset < 0 || fileOffset >= ino.size()) {
            return -1;
        }
        long want = fileOffset / blockSize;
        long[] found = {-1};
        extents(ino, want + 1, (logical, physical, n) -> {
            if (want >= logical && want < logical + n) {
                found[0] = (physical + want - logical) * blockSize + fileOffset % blockSize;
            }
        });
        return found[0];
    }

    private void extents(Ext4Inode ino, byte[] node, long nodeOffset, int expectDepth, Set<Long> seen, long blocks,
                         ExtentSink sink) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(node).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getShort(0) & 0xffff;
        int entries = b.getShort(2) & 0xffff;
        int depth = b.getShort(6) & 0xffff;
        if (magic != 0xF30A) {
            throw new DiskFormatException(name, nodeOffset, String.format("inode %d: bad extent header magic 0x%04x", ino.number(), magic));
        }
        if (depth > MAX_DEPTH || (expectDepth >= 0 && depth != expectDepth)) {
            throw new DiskFormatException(name, nodeOffset + 6, "inode " + ino.number() + ": extent node depth " + depth
                    + (expectDepth >= 0 ? " where " + expectDepth + " was expected (looping or corrupt extent tree)" : " over " + MAX_DEPTH));
        }
        if (12L + entries * 12L > node.length) {
            throw new DiskFormatException(name, nodeOffset + 2, "inode " + ino.number() + ": " + entries + " extent entries do not fit the node");
        }
        for (int i = 0; i < entries; i++) {
            int e = 12 + i * 12;
            long logical = b.getInt(e) & 0xffffffffL;
            if (depth == 0) {
                int len = b.getShort(e + 4) & 0xffff;
                boolean uninit = len > 32768;
                if (uninit) {
                    len -= 32768;
                }
                long start = (b.getShort(e + 6) & 0xffffL) << 32 | (b.getInt(e + 8) & 0xffffffffL);
                if (start + len > blocksCount) {
                    throw new DiskFormatException(name, nodeOffset + e, "inode " + ino.number() + ": extent at block " + start + " (+" + len + ") outside the file system");
                }
                if (uninit || logical >= blocks) {
                    continue;
                }
                sink.run(logical, start, Math.min(len, blocks - logical));
            } else {
                long leaf = (b.getShort(e + 8) & 0xffffL) << 32 | (b.getInt(e + 4) & 0xffffffffL);
                if (leaf == 0 || leaf >= blocksCount) {
                    throw new DiskFormatException(name, nodeOffset + e, "inode " + ino.number() + ": extent index points to block " + leaf + " outside the file system");
                }
                if (!seen.add(leaf)) {
                    throw new DiskFormatException(name, nodeOffset + e, "inode " + ino.number() + ": extent tree loops (block " + leaf + " visited twice)");
                }
                if (seen.size() > 1 << 20) {
                    throw new DiskFormatException(name, nodeOffset + e, "inode " + ino.number() + ": extent tree over 2^20 nodes");
                }
                extents(ino, dev.read(leaf * blockSize, blockSize), leaf * blockSize, depth - 1, seen, blocks, sink);
            }
        }
    }

    private void blockMapped(Ext4Inode ino, byte[] out) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(ino.raw()).order(ByteOrder.LITTLE_ENDIAN);
        long blocks = (out.length + (long) blockSize - 1) / blockSize;
        long[] logical = {0};
        for (int i = 0; i < 12 && logical[0] < blocks; i++) {
            copyBlock(ino, b.getInt(0x28 + i * 4) & 0xffffffffL, logical[0]++, out);
        }
        for (int level = 1; level <= 3 && logical[0] < blocks; level++) {
            indirect(ino, b.getInt(0x28 + (11 + level) * 4) & 0xffffffffL, level, logical, blocks, out);
        }
    }

    private void indirect(Ext4Inode ino, long block, int level, long[] logical, long blocks, byte[] out) throws IOException {
        long per = blockSize / 4;
        long span = 1;
        for (int i = 0; i < level; i++) {
            span *= per;
        }
        if (block == 0) {
            logical[0] += span;
            return;
        }
        if (block >= blocksCount) {
            throw new DiskFormatException(name, ino.offset() + 0x28, "inode " + ino.number() + ": indirect block " + block + " outside the file system");
        }
        ByteBuffer t = ByteBuffer.wrap(dev.read(block * blockSize, blockSize)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < per && logical[0] < blocks; i++) {
            long child = t.getInt(i * 4) & 0xffffffffL;
            if (level == 1) {
                copyBlock(ino, child, logical[0]++, out);
            } else {
                indirect(ino, child, level - 1, logical, blocks, out);
            }
        }
    }

    private void copyBlock(Ext4Inode ino, long block, long logical, byte[] out) throws IOException {
        if (block == 0) {
            return;
        }
        if (block >= blocksCount) {
            throw new DiskFormatException(name, ino.offset() + 0x28, "inode " + ino.number() + ": block " + block + " outside the file system");
        }
        long dst = logical * blockSize;
        dev.read(block * blockSize, out, (int) dst, (int) Math.min(blockSize, out.length - dst));
    }

    private byte[] inlineData(Ext4Inode ino, int size) throws IOException {
        byte[] out = new byte[size];
        int first = Math.min(size, 60);
        System.arraycopy(ino.raw(), 0x28, out, 0, first);
        if (size > 60) {
            int need = size;
            byte[] more = inodeXattr(ino, 7, "data")
                    .orElseThrow(() -> new DiskFormatException(name, ino.offset(), "inode " + ino.number() + ": inline data of " + size + " bytes but no system.data attribute"));
            if (more.length < need - 60) {
                throw new DiskFormatException(name, ino.offset(), "inode " + ino.number() + ": system.data holds " + more.length + " bytes, " + (size - 60) + " expected");
            }
            System.arraycopy(more, 0, out, 60, size - 60);
        }
        return out;
    }

    /** An extended attribute stored in the inode's extra space. */
    private Optional<byte[]> inodeXattr(Ext4Inode ino, int index, String attr) throws IOException {
        byte[] raw = ino.raw();
        if (raw.length <= 128) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int extra = b.getShort(0x80) & 0xffff;
        int hdr = 128 + extra;
        if (extra < 4 || hdr + 4 > raw.length || b.getInt(hdr) != 0xEA020000) {
            return Optional.empty();
        }
        int first = hdr + 4;
        int p = first;
        while (p + 16 <= raw.length) {
            int nameLen = raw[p] & 0xff;
            if (nameLen == 0 && b.getInt(p) == 0) {
                break;
            }
            int nameIndex = raw[p + 1] & 0xff;
            int valueOffs = b.getShort(p + 2) & 0xffff;
            int valueInum = b.getInt(p + 4);
            int valueSize = b.getInt(p + 8);
            if (p + 16 + nameLen > raw.length) {
                throw new DiskFormatException(name, ino.offset() + p, "inode " + ino.number() + ": extended attribute name runs past the inode");
            }
            String n = new String(raw, p + 16, nameLen, StandardCharsets.UTF_8);
            if (nameIndex == index && n.equals(attr) && valueInum == 0) {
                if (valueSize < 0 || first + valueOffs + (long) valueSize > raw.length) {
                    throw new DiskFormatException(name, ino.offset() + p, "inode " + ino.number() + ": extended attribute value outside the inode");
                }
                return Optional.of(Arrays.copyOfRange(raw, first + valueOffs, first + valueOffs + valueSize));
            }
            p += (16 + nameLen + 3) & ~3;
        }
        return Optional.empty();
    }

    /** The entries of a directory (without "." and ".."), in on-disk order. */
    public List<Ext4Entry> list(Ext4Inode dir) throws IOException {
        if (!dir.isDirectory()) {
            throw new DiskFormatException(name, dir.offset(), "inode " + dir.number() + " is not a directory");
        }
        if (dir.size() > Math.min(MAX_DIRECTORY, dev.size())) {
            throw new DiskFormatException(name, dir.offset() + 4, "directory inode " + dir.number() + ": size " + dir.size()
                    + " larger than the device or the limit of " + MAX_DIRECTORY + " bytes");
        }
        List<Ext4Entry> out = new ArrayList<>();
        if (dir.hasInlineData()) {
            byte[] data = readFile(dir);
            // the first 4 bytes are the parent's inode number, then entries
            parseEntries(dir, data, 4, Math.min(60, data.length), dir.offset() + 0x28, out);
            if (data.length > 60) {
                parseEntries(dir, data, 60, data.length, dir.offset(), out);
            }
            return out;
        }
        byte[] data = readFile(dir);
        for (int blk = 0; blk < data.length; blk += blockSize) {
            parseEntries(dir, data, blk, Math.min(data.length, blk + blockSize), dir.offset(), out);
        }
        return out;
    }

    private void parseEntries(Ext4Inode dir, byte[] data, int from, int to, long where, List<Ext4Entry> out)
            throws DiskFormatException {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int p = from;
        while (p + 8 <= to) {
            long inode = b.getInt(p) & 0xffffffffL;
            int recLen = b.getShort(p + 4) & 0xffff;
            int nameLen = data[p + 6] & 0xff;
            int type = data[p + 7] & 0xff;
            if (recLen == 0 && blockSize == 65536 && p + 65536 == to) {
                recLen = 65536;
            }
            if (recLen < 8 || p + recLen > to || nameLen > recLen - 8) {
                throw new DiskFormatException(name, where, String.format("directory inode %d: bad entry at byte %d of its data (rec_len %d, name_len %d)",
                        dir.number(), p, recLen, nameLen));
            }
            if (inode != 0 && nameLen > 0) {
                String n = new String(data, p + 8, nameLen, StandardCharsets.UTF_8);
                if (!n.equals(".") && !n.equals("..")) {
                    out.add(new Ext4Entry(n, inode, type));
                }
            }
            p += recLen;
        }
    }

    /** The target of a symlink (fast: in the inode; slow: in its data block; or inline data). */
    public String readLink(Ext4Inode link) throws IOException {
        if (!link.isSymlink()) {
            throw new DiskFormatException(name, link.offset(), "inode " + link.number() + " is not a symlink");
        }
        if (link.size() > 4096) {
            throw new DiskFormatException(name, link.offset() + 4, "symlink inode " + link.number() + ": target of " + link.size() + " bytes");
        }
        if (!link.hasExtents() && !link.hasInlineData() && link.size() < 60) {
            return new String(link.raw(), 0x28, (int) link.size(), StandardCharsets.UTF_8);
        }
        return new String(readFile(link), StandardCharsets.UTF_8);
    }

    private Map<String, Ext4Entry> entries(Ext4Inode dir) throws IOException {
        Map<String, Ext4Entry> m = dirCache.get(dir.number());
        if (m == null) {
            m = new HashMap<>();
            for (Ext4Entry e : list(dir)) {
                m.put(e.name(), e);
            }
            if (dirCache.size() > 4096) {
                dirCache.clear();
            }
            dirCache.put(dir.number(), m);
        }
        return m;
    }

    /** A resolved path: its canonical form (no symlinks, no "." or "..") and its inode. */
    public record Resolved(String path, Ext4Inode inode) {
    }

    /**
     * Resolves an absolute path as the guest's kernel would (from the root, following symlinks in every component,
     * and in the last one when {@code followLast}). Empty when a component does not exist.
     */
    public Optional<Resolved> resolve(String path, boolean followLast) throws IOException {
        Deque<String> todo = new ArrayDeque<>(components(path));
        List<String> canon = new ArrayList<>();
        List<Ext4Inode> stack = new ArrayList<>();
        Ext4Inode cur = inode(ROOT);
        stack.add(cur);
        int links = 0;
        while (!todo.isEmpty()) {
            String c = todo.pollFirst();
            if (c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                if (!canon.isEmpty()) {
                    canon.remove(canon.size() - 1);
                    stack.remove(stack.size() - 1);
                    cur = stack.get(stack.size() - 1);
                }
                continue;
            }
            if (!cur.isDirectory()) {
                return Optional.empty();
            }
            Ext4Entry e = entries(cur).get(c);
            if (e == null) {
                return Optional.empty();
            }
            Ext4Inode next = inode(e.inode());
            if (next.isSymlink() && (followLast || !todo.isEmpty())) {
                if (++links > MAX_SYMLINKS) {
                    throw new DiskFormatException(name, next.offset(), "too many levels of symbolic links resolving " + path);
                }
                String target = readLink(next);
                List<String> t = components(target);
                for (int i = t.size() - 1; i >= 0; i--) {
                    todo.addFirst(t.get(i));
                }
                if (target.startsWith("/")) {
                    canon.clear();
                    stack.subList(1, stack.size()).clear();
                    cur = stack.get(0);
                }
                continue;
            }
            canon.add(c);
            stack.add(next);
            cur = next;
        }
        return Optional.of(new Resolved("/" + String.join("/", canon), cur));
    }

    private static List<String> components(String p) {
        List<String> out = new ArrayList<>();
        for (String s : p.split("/")) {
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }

    /** Visitor of {@link #walk}. */
    public interface Visitor {
        void file(String path, Ext4Inode inode) throws IOException;
    }

    /**
     * Visits every inode reachable from the root by directory entries, depth first, each directory once (a directory
     * linked twice, a loop, is visited once), symlinks not followed. Bounded in depth and in the number of entries.
     */
    public void walk(Visitor v) throws IOException {
        Set<Long> dirs = new HashSet<>();
        walk("", inode(ROOT), v, dirs, 0, new long[]{0});
    }

    private void walk(String prefix, Ext4Inode dir, Visitor v, Set<Long> dirs, int depth, long[] count) throws IOException {
        if (!dirs.add(dir.number())) {
            return;
        }
        if (depth > 256) {
            throw new DiskFormatException(name, dir.offset(), "directory tree deeper than 256 at " + prefix);
        }
        for (Ext4Entry e : list(dir)) {
            if (++count[0] > 50_000_000L) {
                throw new DiskFormatException(name, dir.offset(), "over 50 million directory entries");
            }
            String p = prefix + "/" + e.name();
            Ext4Inode ino = inode(e.inode());
            if (ino.isDirectory()) {
                walk(p, ino, v, dirs, depth + 1, count);
            } else {
                v.file(p, ino);
            }
        }
    }
}
