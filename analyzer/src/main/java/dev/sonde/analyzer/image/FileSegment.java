package dev.sonde.analyzer.image;

/**
 * A run of physical memory stored contiguously in a file.
 *
 * @param physicalAddress guest physical address of the first byte
 * @param fileOffset      where that byte is in the file
 * @param length          number of bytes
 */
public record FileSegment(long physicalAddress, long fileOffset, long length) {

    public long physicalEnd() {
        return physicalAddress + length;
    }
}
