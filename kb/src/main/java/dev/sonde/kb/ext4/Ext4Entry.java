package dev.sonde.kb.ext4;

/**
 * One directory entry.
 *
 * @param name  the entry's name
 * @param inode its inode number
 * @param type  the file type from the entry ({@link Ext4Inode} types), 0 when the file system does not record it
 */
public record Ext4Entry(String name, long inode, int type) {
}
