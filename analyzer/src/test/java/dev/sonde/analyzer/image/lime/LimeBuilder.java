package dev.sonde.analyzer.image.lime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.xerial.snappy.Snappy;

/**
 * Writes LiME and AVML images for tests: LiME ranges as header + raw bytes, AVML ranges as header + a snappy framed
 * stream (written here, chunk by chunk, like the Rust {@code snap} crate's {@code FrameEncoder} that avml uses) + the
 * u64 length of that stream. Offsets of what was written are kept so tests can break them on purpose.
 */
public final class LimeBuilder {
    public static final int LIME_MAGIC = LimeProbe.LIME_MAGIC;
    public static final int AVML_MAGIC = LimeProbe.AVML_MAGIC;
    /** avml splits ranges into blocks of at most this size and leaves out all-zero blocks. */
    public static final int AVML_MAX_BLOCK = 0x1000 * 0x1000;

    private final OutputStream out;
    private long position;

    /** File offsets of every header written. */
    public final List<Long> headers = new ArrayList<>();
    /** File offsets of every snappy data chunk header written. */
    public final List<Long> chunks = new ArrayList<>();
    /** File offsets of every compressed-length trailer written. */
    public final List<Long> trailers = new ArrayList<>();

    public LimeBuilder(OutputStream out) {
        this.out = out;
    }

    /** Builds in memory: {@code build.accept(builder)}, then the bytes. */
    public static byte[] bytes(java.util.function.Consumer<LimeBuilder> build) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        build.accept(new LimeBuilder(b));
        return b.toByteArray();
    }

    public long position() {
        return position;
    }

    private void write(byte[] b, int off, int len) {
        try {
            out.write(b, off, len);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        position += len;
    }

    private void write(byte[] b) {
        write(b, 0, b.length);
    }

    public static byte[] header(int magic, int version, long start, long endInclusive, long reserved) {
        return ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(magic).putInt(version).putLong(start).putLong(endInclusive).putLong(reserved).array();
    }

    /** Any header, as is. */
    public LimeBuilder rawHeader(int magic, int version, long start, long endInclusive, long reserved) {
        headers.add(position);
        write(header(magic, version, start, endInclusive, reserved));
        return this;
    }

    /** A LiME range: header, then the bytes. */
    public LimeBuilder lime(long start, byte[] data) {
        return lime(start, data, 0, data.length);
    }

    public LimeBuilder lime(long start, byte[] data, int off, int len) {
        rawHeader(LIME_MAGIC, 1, start, start + len - 1, 0);
        write(data, off, len);
        return this;
    }

    /** A LiME header for {@code size} bytes; the caller writes the data with {@link #data}. */
    public LimeBuilder limeHeader(long start, long size) {
        return rawHeader(LIME_MAGIC, 1, start, start + size - 1, 0);
    }

    public LimeBuilder data(byte[] data, int off, int len) {
        write(data, off, len);
        return this;
    }

    /** An AVML range: header, snappy framed stream of the bytes, u64 length of the stream. */
    public LimeBuilder avml(long start, byte[] data) {
        return avml(start, data, 0, data.length);
    }

    public LimeBuilder avml(long start, byte[] data, int off, int len) {
        rawHeader(AVML_MAGIC, 2, start, start + len - 1, 0);
        long begin = position;
        frame(data, off, len);
        return trailer(position - begin);
    }

    /** An AVML range whose stream is given as is (e.g. written by another framer). */
    public LimeBuilder avmlStream(long start, long size, byte[] stream) {
        rawHeader(AVML_MAGIC, 2, start, start + size - 1, 0);
        write(stream);
        return trailer(stream.length);
    }

    public LimeBuilder trailer(long length) {
        trailers.add(position);
        write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(length).array());
        return this;
    }

    /**
     * Writes a snappy framed stream: the stream identifier, then chunks of at most 64 KiB, compressed unless that saves
     * less than 1/8 (then stored uncompressed), each with the masked CRC-32C of its uncompressed bytes.
     */
    public LimeBuilder frame(byte[] data, int off, int len) {
        chunk(0xff, "sNaPpY".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        for (int at = off; at < off + len; at += 65536) {
            int n = Math.min(65536, off + len - at);
            byte[] piece = Arrays.copyOfRange(data, at, at + n);
            byte[] compressed;
            try {
                compressed = Snappy.compress(piece);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            boolean useCompressed = compressed.length < n - n / 8;
            byte[] payload = useCompressed ? compressed : piece;
            byte[] body = new byte[4 + payload.length];
            ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN).putInt(maskedCrc(piece));
            System.arraycopy(payload, 0, body, 4, payload.length);
            chunks.add(position);
            chunk(useCompressed ? 0x00 : 0x01, body);
        }
        return this;
    }

    /** One chunk of the framing format: type, 3-byte length, body. */
    public LimeBuilder chunk(int type, byte[] body) {
        write(new byte[] {(byte) type, (byte) body.length, (byte) (body.length >>> 8), (byte) (body.length >>> 16)});
        write(body);
        return this;
    }

    public static int maskedCrc(byte[] data) {
        CRC32C c = new CRC32C();
        c.update(data);
        return Integer.rotateRight((int) c.getValue(), 15) + 0xa282ead8;
    }
}
