package dev.sonde.analyzer.image.lime;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.MappedFile;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The chunk index of one stream in the snappy framing format (github.com/google/snappy, framing_format.txt), built by
 * walking the chunk headers without decompressing anything, so that any chunk can later be decompressed on its own.
 *
 * <p>A stream is a sequence of chunks, each a 1-byte type and a 3-byte little-endian length followed by that many
 * bytes: {@code 0xff} stream identifier ({@code "sNaPpY"}, required first, may repeat), {@code 0x00} compressed data
 * and {@code 0x01} uncompressed data (both a masked CRC-32C of the uncompressed bytes, then the data; at most 65536
 * uncompressed bytes per chunk), {@code 0xfe} padding and {@code 0x80-0xfd} skippable chunks (ignored), and
 * {@code 0x02-0x7f} reserved unskippable chunks (an error). A compressed chunk's uncompressed length is the varint
 * preamble of its raw snappy data, so the index knows every chunk's size without decompressing.
 */
final class SnappyFrames {
    static final int TYPE_COMPRESSED = 0x00;
    static final int TYPE_UNCOMPRESSED = 0x01;
    static final int TYPE_PADDING = 0xfe;
    static final int TYPE_STREAM_IDENTIFIER = 0xff;
    static final int MAX_UNCOMPRESSED = 65536;
    /** snappy's MaxCompressedLength(65536) = 32 + n + n / 6. */
    static final int MAX_COMPRESSED = 32 + MAX_UNCOMPRESSED + MAX_UNCOMPRESSED / 6;
    static final byte[] IDENTIFIER = "sNaPpY".getBytes(StandardCharsets.US_ASCII);

    /** File offsets of the data chunks' headers. */
    long[] chunkOffsets = new long[16];
    /** Uncompressed length of each data chunk. */
    int[] uncompressedLengths = new int[16];
    /** Chunk type of each data chunk ({@link #TYPE_COMPRESSED} or {@link #TYPE_UNCOMPRESSED}). */
    byte[] types = new byte[16];
    int count;
    /** Uncompressed bytes the indexed chunks hold. */
    long uncompressed;
    /** File offset just past the last chunk read. */
    long end;
    /** Whether the file ended before the stream held the expected number of bytes. */
    boolean truncated;

    private SnappyFrames() {
    }

    /**
     * Indexes the stream at {@code offset} until it has produced exactly {@code expected} uncompressed bytes, or the
     * file ends (then {@link #truncated} is set and the index holds the complete chunks before the end).
     *
     * @param what names the stream in error messages
     * @throws BadImageException for a malformed chunk, naming its file offset
     */
    static SnappyFrames index(MappedFile f, long offset, long expected, String what) throws BadImageException {
        SnappyFrames s = new SnappyFrames();
        long length = f.length();
        long at = offset;
        byte[] head = new byte[4 + 4 + 5];
        boolean first = true;
        while (s.uncompressed < expected) {
            if (length - at < 4) {
                s.truncated = true;
                break;
            }
            f.get(at, head, 0, 4);
            int type = head[0] & 0xff;
            int len = (head[1] & 0xff) | (head[2] & 0xff) << 8 | (head[3] & 0xff) << 16;
            if (first && type != TYPE_STREAM_IDENTIFIER) {
                throw new BadImageException(f.path(), at, String.format(
                        "%s: the snappy stream does not start with a stream identifier chunk (chunk type 0x%02x)",
                        what, type));
            }
            first = false;
            long body = at + 4;
            switch (type) {
                case TYPE_STREAM_IDENTIFIER -> {
                    if (len != IDENTIFIER.length) {
                        throw new BadImageException(f.path(), at, String.format(
                                "%s: snappy stream identifier chunk has length %d, not %d", what, len, IDENTIFIER.length));
                    }
                    if (length - body < len) {
                        s.truncated = true;
                        break;
                    }
                    byte[] id = f.bytes(body, len, "snappy stream identifier");
                    if (!Arrays.equals(id, IDENTIFIER)) {
                        throw new BadImageException(f.path(), at, what + ": snappy stream identifier chunk does not "
                                + "hold \"sNaPpY\"");
                    }
                }
                case TYPE_COMPRESSED, TYPE_UNCOMPRESSED -> {
                    int max = type == TYPE_COMPRESSED ? 4 + MAX_COMPRESSED : 4 + MAX_UNCOMPRESSED;
                    int min = type == TYPE_COMPRESSED ? 5 : 4;
                    if (len < min || len > max) {
                        throw new BadImageException(f.path(), at, String.format(
                                "%s: snappy %s chunk has an impossible length %d (allowed %d-%d)",
                                what, type == TYPE_COMPRESSED ? "compressed" : "uncompressed", len, min, max));
                    }
                    if (length - body < len) {
                        s.truncated = true;
                        break;
                    }
                    int size;
                    if (type == TYPE_UNCOMPRESSED) {
                        size = len - 4;
                    } else {
                        int n = Math.min(len, 4 + 5);
                        f.get(body, head, 4, n);
                        size = varint(head, 8, 4 + n);
                        if (size < 0 || size > MAX_UNCOMPRESSED) {
                            throw new BadImageException(f.path(), at, String.format(
                                    "%s: snappy compressed chunk announces %s uncompressed bytes (at most %d allowed)",
                                    what, size < 0 ? "an unreadable number of" : Integer.toString(size),
                                    MAX_UNCOMPRESSED));
                        }
                    }
                    if (size > expected - s.uncompressed) {
                        throw new BadImageException(f.path(), at, String.format(
                                "%s: the snappy stream holds more than the range's %d bytes (this chunk adds %d to %d)",
                                what, expected, size, s.uncompressed));
                    }
                    if (size > 0) {
                        s.add(at, size, (byte) type);
                    }
                }
                default -> {
                    if (type < 0x80) {
                        throw new BadImageException(f.path(), at, String.format(
                                "%s: reserved unskippable snappy chunk type 0x%02x", what, type));
                    }
                    // padding (0xfe) and skippable chunks (0x80-0xfd)
                    if (length - body < len) {
                        s.truncated = true;
                    }
                }
            }
            if (s.truncated) {
                break;
            }
            at = body + len;
        }
        s.end = at;
        return s;
    }

    private void add(long at, int size, byte type) {
        if (count == chunkOffsets.length) {
            int n = count * 2;
            chunkOffsets = Arrays.copyOf(chunkOffsets, n);
            uncompressedLengths = Arrays.copyOf(uncompressedLengths, n);
            types = Arrays.copyOf(types, n);
        }
        chunkOffsets[count] = at;
        uncompressedLengths[count] = size;
        types[count] = type;
        count++;
        uncompressed += size;
    }

    /** A little-endian base-128 varint of at most 5 bytes (snappy's length preamble), or -1 if malformed. */
    static int varint(byte[] b, int from, int to) {
        long v = 0;
        for (int i = 0; i < 5 && from + i < to; i++) {
            int x = b[from + i] & 0xff;
            v |= (long) (x & 0x7f) << (7 * i);
            if ((x & 0x80) == 0) {
                return v > Integer.MAX_VALUE ? -1 : (int) v;
            }
        }
        return -1;
    }

    /** The CRC as the framing format stores it: CRC-32C rotated right by 15 bits plus a constant. */
    static int maskedCrc32c(byte[] data, int off, int len) {
        CRC32C crc = new CRC32C();
        crc.update(data, off, len);
        int c = (int) crc.getValue();
        return Integer.rotateRight(c, 15) + 0xa282ead8;
    }
}
