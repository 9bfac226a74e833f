package dev.sonde.analyzer.memory.x86;

/**
 * One present leaf mapping of a virtual address space: a 4 KiB, 2 MiB or 1 GiB page.
 * Permission bits are the effective ones, combined across all levels of the walk.
 *
 * @param virtualAddress first virtual address of the page
 * @param physicalAddress first physical address of the page
 * @param size           page size in bytes
 * @param writable       RW set at every level
 * @param user           U/S set at every level
 * @param executable     NX clear at every level
 * @param dirty          D bit of the leaf entry
 * @param accessed       A bit of the leaf entry
 */
public record PageMapping(long virtualAddress, long physicalAddress, long size, boolean writable, boolean user,
                          boolean executable, boolean dirty, boolean accessed) {

    public long virtualEnd() {
        return virtualAddress + size;
    }

    /** "rwx"-style permissions, e.g. {@code r-x}. */
    public String permissions() {
        return "r" + (writable ? "w" : "-") + (executable ? "x" : "-");
    }
}
