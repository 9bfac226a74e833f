package dev.sonde.kb.ext4;

/**
 * The parts of an ext4 inode a reader needs.
 *
 * @param number inode number
 * @param mode   {@code i_mode} (type and permissions)
 * @param size   file size in bytes
 * @param flags  {@code i_flags}
 * @param raw    the on-disk inode (at least 128 bytes), for the block map, inline data and in-inode attributes
 * @param offset where the inode sits on the disk (for errors)
 */
public record Ext4Inode(long number, int mode, long size, long flags, byte[] raw, long offset) {
    public static final int S_IFMT = 0xF000;
    public static final int S_IFREG = 0x8000;
    public static final int S_IFDIR = 0x4000;
    public static final int S_IFLNK = 0xA000;
    static final long EXTENTS_FL = 0x80000;
    static final long INLINE_DATA_FL = 0x10000000;

    public boolean isRegular() {
        return (mode & S_IFMT) == S_IFREG;
    }

    public boolean isDirectory() {
        return (mode & S_IFMT) == S_IFDIR;
    }

    public boolean isSymlink() {
        return (mode & S_IFMT) == S_IFLNK;
    }

    public boolean hasExtents() {
        return (flags & EXTENTS_FL) != 0;
    }

    public boolean hasInlineData() {
        return (flags & INLINE_DATA_FL) != 0;
    }
}
