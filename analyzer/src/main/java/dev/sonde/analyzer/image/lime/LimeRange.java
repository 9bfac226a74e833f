package dev.sonde.analyzer.image.lime;

/**
 * One range of a LiME or AVML file, as its header describes it.
 *
 * @param index        position of the header in the file (0 = first)
 * @param headerOffset file offset of the 32-byte header
 * @param compressed   whether the data is a snappy framed stream (AVML, version 2) rather than raw bytes (LiME)
 * @param start        physical address of the first byte
 * @param size         number of bytes the header announces ({@code end - start + 1}; the header's end is inclusive)
 * @param present      number of bytes, from {@code start}, that the file actually holds (less when truncated)
 */
public record LimeRange(int index, long headerOffset, boolean compressed, long start, long size, long present) {

    /** Exclusive end of the announced range. */
    public long end() {
        return start + size;
    }
}
