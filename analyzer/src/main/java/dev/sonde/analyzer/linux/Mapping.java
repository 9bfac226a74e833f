package dev.sonde.analyzer.linux;

import java.util.Optional;

/**
 * One memory mapping (VMA) as /proc/PID/maps shows it.
 *
 * @param start  first address
 * @param end    end address (exclusive)
 * @param perms  {@code rwxp}/{@code rwxs} from {@code vm_flags}
 * @param offset file offset ({@code vm_pgoff << 12}), 0 for anonymous mappings
 * @param dev    device of the backing file as {@code MAJOR:MINOR} in hex ({@code 00:00} when anonymous)
 * @param inode  inode number of the backing file, 0 when anonymous
 * @param path   backing file path (d_path), a special name ({@code [heap]}, {@code [stack]}, {@code [vdso]} ...), or
 *               empty for an unnamed anonymous mapping; a path that could not be read is empty and explained in
 *               {@code problem}
 * @param flags  raw {@code vm_flags}
 * @param problem why a part of this mapping could not be read
 */
public record Mapping(long start, long end, String perms, long offset, String dev, long inode, Optional<String> path,
                      long flags, Optional<String> problem) {
    public static final long VM_READ = 0x1;
    public static final long VM_WRITE = 0x2;
    public static final long VM_EXEC = 0x4;
    public static final long VM_MAYSHARE = 0x80;

    public boolean anonymous() {
        return inode == 0 && dev.equals("00:00");
    }

    public boolean writableAndExecutable() {
        return (flags & VM_WRITE) != 0 && (flags & VM_EXEC) != 0;
    }
}
