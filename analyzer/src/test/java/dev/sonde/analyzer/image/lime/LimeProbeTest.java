package dev.sonde.analyzer.image.lime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.image.SegmentedMemory;
import dev.sonde.analyzer.image.compressed.DecompressedCache;
import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.MemoryView.ReadRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xerial.snappy.SnappyFramedInputStream;
import org.xerial.snappy.SnappyFramedOutputStream;

class LimeProbeTest {
    @TempDir
    Path dir;

    private ImageOpener opener() {
        return new ImageOpener(List.of(new LimeProbe()), new DecompressedCache(dir.resolve("cache"), 1 << 30));
    }

    static byte[] pattern(int size, int seed) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (i * 31 + seed + (i >>> 12));
        }
        return b;
    }

    /** Half compressible text-like bytes, half random: gives both compressed and uncompressed snappy chunks. */
    static byte[] mixed(int size, long seed) {
        byte[] b = new byte[size];
        Random r = new Random(seed);
        for (int i = 0; i < size; i += 4096) {
            int n = Math.min(4096, size - i);
            if ((i / 4096) % 3 == 2) {
                byte[] x = new byte[n];
                r.nextBytes(x);
                System.arraycopy(x, 0, b, i, n);
            } else {
                String word = String.format("pg%05d ", i / 4096);
                for (int k = 0; k < n; k++) {
                    b[i + k] = (byte) word.charAt(k % 8);
                }
            }
        }
        return b;
    }

    private Path write(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(dir, "image", ".bin");
        Files.write(p, bytes);
        return p;
    }

    @Test
    void headerLayoutMatchesAvmlsOwnEncodingTests() throws IOException {
        // The expected bytes of avml's image.rs tests encode_header_lime / encode_header_avml (range 0x1000..0x20001).
        assertEquals("454d694c01000000" + "0010000000000000" + "0000020000000000" + "0000000000000000",
                HexFormat.of().formatHex(LimeBuilder.header(LimeBuilder.LIME_MAGIC, 1, 0x1000, 0x20000, 0)));
        assertEquals("41564d4c02000000" + "0010000000000000" + "0000020000000000" + "0000000000000000",
                HexFormat.of().formatHex(LimeBuilder.header(LimeBuilder.AVML_MAGIC, 2, 0x1000, 0x20000, 0)));
        byte[] data = pattern(0x1f001, 5);
        byte[] lime = LimeBuilder.bytes(b -> b.lime(0x1000, data));
        try (MemoryImage img = opener().open(write(lime))) {
            assertEquals("LiME", img.format());
            assertEquals(List.of(new MemoryRange(0x1000, 0x1f001)), img.memory().ranges());
            assertEquals(0x20001, img.memory().maxAddress());
            assertArrayEquals(data, img.memory().readBytes(0x1000, data.length));
            assertEquals(List.of(), img.warnings());
            assertTrue(img.cpus().isEmpty());
            assertTrue(img.vmcoreinfo().isEmpty());
        }
    }

    @Test
    void limeRangesAreMappedZeroCopyInAddressOrder() throws IOException {
        byte[] a = pattern(8192, 1);
        byte[] b = pattern(4096, 2);
        byte[] c = pattern(100, 3);
        byte[] lime = LimeBuilder.bytes(x -> x.lime(0x100000, a).lime(0, b).lime(0x1000, c));
        try (MemoryImage img = opener().open(write(lime))) {
            assertInstanceOf(SegmentedMemory.class, img.memory());
            assertEquals(List.of(new MemoryRange(0, 0x1000 + 100), new MemoryRange(0x100000, 8192)),
                    img.memory().ranges());
            assertArrayEquals(b, img.memory().readBytes(0, 4096));
            assertArrayEquals(c, img.memory().readBytes(0x1000, 100));
            assertArrayEquals(a, img.memory().readBytes(0x100000, 8192));
            byte[] buf = new byte[200];
            assertEquals(4096 + 100 - 4000, img.memory().read(4000, buf, 0, 200), "stops at the gap");
            assertEquals(0, img.memory().read(0x1000 + 100, buf, 0, 10));
        }
    }

    @Test
    void avmlRangesDecompressChunkByChunk() throws IOException {
        byte[] big = mixed(300_000, 7); // 5 chunks, the last one partial
        byte[] small = pattern(4096, 9);
        byte[] avml = LimeBuilder.bytes(x -> x.avml(0x200000, big).avml(0x1000, small));
        try (MemoryImage img = opener().open(write(avml))) {
            assertEquals("AVML", img.format());
            AvmlMemory m = assertInstanceOf(AvmlMemory.class, img.memory());
            assertEquals(5 + 1, m.chunkCount());
            assertEquals(List.of(new MemoryRange(0x1000, 4096), new MemoryRange(0x200000, 300_000)), m.ranges());
            assertEquals(2, m.limeRanges().size());
            assertTrue(m.limeRanges().get(0).compressed());
            assertArrayEquals(small, m.readBytes(0x1000, 4096));
            assertArrayEquals(big, m.readBytes(0x200000, big.length));
            // Reads across chunk boundaries, and single bytes at both ends of every chunk.
            for (int at : new int[] {65536 - 3, 2 * 65536 - 1, 4 * 65536 - 100, 300_000 - 1, 0}) {
                int n = Math.min(200, 300_000 - at);
                assertArrayEquals(Arrays.copyOfRange(big, at, at + n), m.readBytes(0x200000 + at, n), "at " + at);
            }
            byte[] buf = new byte[64];
            assertEquals(10, m.read(0x200000 + 300_000 - 10, buf, 0, 64));
            assertEquals(0, m.read(0x2000, buf, 0, 64));
            assertEquals(0, m.read(-1, buf, 0, 64));
        }
    }

    @Test
    void avmlStreamsFromAnotherFramerAndToAnotherDeframerAgree() throws IOException {
        // snappy-java's own framing implementation writes the stream; our index must read it identically ...
        byte[] data = mixed(200_000, 3);
        ByteArrayOutputStream framed = new ByteArrayOutputStream();
        try (SnappyFramedOutputStream out = new SnappyFramedOutputStream(framed)) {
            out.write(data);
        }
        byte[] avml = LimeBuilder.bytes(x -> x.avmlStream(0x40000, data.length, framed.toByteArray()));
        try (MemoryImage img = opener().open(write(avml))) {
            assertArrayEquals(data, img.memory().readBytes(0x40000, data.length));
        }
        // ... and snappy-java's deframer (which checks the CRCs) must accept what our test framer writes.
        ByteArrayOutputStream ours = new ByteArrayOutputStream();
        new LimeBuilder(ours).frame(data, 0, data.length);
        try (InputStream in = new SnappyFramedInputStream(new java.io.ByteArrayInputStream(ours.toByteArray()), true)) {
            assertArrayEquals(data, in.readAllBytes());
        }
    }

    @Test
    void paddingSkippableChunksAndRepeatedIdentifiersAreSkipped() throws IOException {
        byte[] data = mixed(70_000, 4);
        ByteArrayOutputStream s = new ByteArrayOutputStream();
        LimeBuilder f = new LimeBuilder(s);
        f.frame(data, 0, 65536);
        f.chunk(0xfe, new byte[10]).chunk(0x80, new byte[3]).chunk(0xfd, new byte[0]);
        f.frame(data, 65536, data.length - 65536); // a second stream identifier, then the rest
        byte[] avml = LimeBuilder.bytes(x -> x.avmlStream(0, data.length, s.toByteArray()));
        try (MemoryImage img = opener().open(write(avml))) {
            assertArrayEquals(data, img.memory().readBytes(0, data.length));
        }
    }

    @Test
    void mixedLimeAndAvmlRangesOpenTogether() throws IOException {
        byte[] a = pattern(4096, 1);
        byte[] b = mixed(8192, 2);
        byte[] img = LimeBuilder.bytes(x -> x.lime(0, a).avml(0x10000, b));
        try (MemoryImage m = opener().open(write(img))) {
            assertEquals("AVML (with uncompressed LiME ranges)", m.format());
            assertArrayEquals(a, m.memory().readBytes(0, 4096));
            assertArrayEquals(b, m.memory().readBytes(0x10000, 8192));
        }
    }

    @Test
    void batchedReadsMatchSingleReads() throws IOException {
        byte[] data = mixed(400_000, 11);
        byte[] avml = LimeBuilder.bytes(x -> x.avml(0, data).lime(0x100000, pattern(4096, 1)));
        try (MemoryImage img = opener().open(write(avml))) {
            Random r = new Random(5);
            List<ReadRequest> requests = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                long at = r.nextInt(3) == 0 ? 0x100000 + r.nextInt(5000) : r.nextInt(410_000);
                requests.add(ReadRequest.of(at, 1 + r.nextInt(9000)));
            }
            int[] present = img.memory().readBatch(requests);
            for (int i = 0; i < requests.size(); i++) {
                ReadRequest q = requests.get(i);
                byte[] one = new byte[q.length()];
                int n = img.memory().read(q.address(), one, 0, one.length);
                assertEquals(n, present[i], "request " + i);
                assertArrayEquals(Arrays.copyOf(one, n), Arrays.copyOf(q.dst(), n), "request " + i);
            }
        }
    }

    // ---- truncation ----

    @Test
    void truncationInsideTheFirstHeaderNamesTheFieldAndOffset() throws IOException {
        byte[] lime = LimeBuilder.bytes(x -> x.lime(0x1000, pattern(4096, 1)));
        String[] fields = {"version", "version", "start address", "end address", "reserved field"};
        int[] cuts = {4, 7, 12, 20, 31};
        long[] offsets = {4, 4, 8, 16, 24};
        for (int i = 0; i < cuts.length; i++) {
            BadImageException e = assertBad(Arrays.copyOf(lime, cuts[i]), fields[i] + " of range header 0", offsets[i]);
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
        // Three bytes are not even a magic: nothing recognises the file.
        assertBad(Arrays.copyOf(lime, 3), "unrecognised memory image format", 0);
        // The header alone: no data at all.
        assertBad(Arrays.copyOf(lime, 32), "holds no memory data", 0);
    }

    @Test
    void truncatedLimeDataKeepsWhatIsThereAndNamesTheLostRange() throws IOException {
        byte[] lime = LimeBuilder.bytes(x -> x.lime(0, pattern(4096, 1)).lime(0x10000, pattern(8192, 2)));
        byte[] cut = Arrays.copyOf(lime, lime.length - 5000);
        try (MemoryImage img = opener().open(write(cut))) {
            assertEquals(List.of(new MemoryRange(0, 4096), new MemoryRange(0x10000, 8192 - 5000)), img.memory().ranges());
            assertEquals(1, img.warnings().size(), img.warnings().toString());
            assertTrue(img.warnings().get(0).contains("truncated"), img.warnings().toString());
            assertTrue(img.warnings().get(0).contains("0x10c78-0x12000 absent"), img.warnings().toString());
            assertArrayEquals(Arrays.copyOf(pattern(8192, 2), 8192 - 5000), img.memory().readBytes(0x10000, 8192 - 5000));
        }
        // Cut inside the second header: the first range is whole, the rest is lost, with a warning naming the offset.
        byte[] inHeader = Arrays.copyOf(lime, 32 + 4096 + 20);
        try (MemoryImage img = opener().open(write(inHeader))) {
            assertEquals(List.of(new MemoryRange(0, 4096)), img.memory().ranges());
            assertTrue(img.warnings().get(0).contains("offset 0x1020"), img.warnings().toString());
        }
    }

    @Test
    void truncatedAvmlKeepsTheCompleteChunks() throws IOException {
        byte[] data = mixed(200_000, 8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LimeBuilder b = new LimeBuilder(out);
        b.avml(0, data);
        byte[] avml = out.toByteArray();
        long thirdChunk = b.chunks.get(2);
        byte[] cut = Arrays.copyOf(avml, (int) thirdChunk + 10);
        try (MemoryImage img = opener().open(write(cut))) {
            assertEquals(List.of(new MemoryRange(0, 2 * 65536)), img.memory().ranges());
            String w = img.warnings().toString();
            assertTrue(w.contains("offset 0x" + Long.toHexString(thirdChunk)), w);
            assertTrue(w.contains("0x20000-0x30d40 absent"), w);
            assertArrayEquals(Arrays.copyOf(data, 2 * 65536), img.memory().readBytes(0, 2 * 65536));
        }
        // All data there, only the length trailer cut off.
        byte[] noTrailer = Arrays.copyOf(avml, avml.length - 3);
        try (MemoryImage img = opener().open(write(noTrailer))) {
            assertEquals(List.of(new MemoryRange(0, data.length)), img.memory().ranges());
            assertTrue(img.warnings().toString().contains("trailer"), img.warnings().toString());
        }
    }

    // ---- malformed headers ----

    @Test
    void badMagicVersionAndAddressesAreErrorsAtTheirOffsets() throws IOException {
        byte[] page = pattern(4096, 1);
        int second = 32 + 4096;
        assertBad(LimeBuilder.bytes(x -> x.lime(0, page).rawHeader(0x12345678, 1, 0x2000, 0x2fff, 0).data(page, 0, 4096)),
                "range header 1 has magic 0x12345678", second);
        assertBad(LimeBuilder.bytes(x -> x.rawHeader(LimeBuilder.LIME_MAGIC, 2, 0, 0xfff, 0).data(page, 0, 4096)),
                "LiME version 2 is not supported", 4);
        assertBad(LimeBuilder.bytes(x -> x.rawHeader(LimeBuilder.AVML_MAGIC, 1, 0, 0xfff, 0).data(page, 0, 4096)),
                "AVML version 1 is not supported", 4);
        assertBad(LimeBuilder.bytes(x -> x.lime(0, page).rawHeader(LimeBuilder.LIME_MAGIC, 1, 0x5000, 0x4fff, 0)
                .data(page, 0, 4096)), "end address 0x4fff is below the start address 0x5000", second + 16);
        assertBad(LimeBuilder.bytes(x -> x.rawHeader(LimeBuilder.LIME_MAGIC, 1, 1L << 52, (1L << 52) + 0xfff, 0)
                .data(page, 0, 4096)), "start address 0x10000000000000 is beyond", 8);
        assertBad(LimeBuilder.bytes(x -> x.rawHeader(LimeBuilder.LIME_MAGIC, 1, 0, -1L, 0).data(page, 0, 4096)),
                "end address 0xffffffffffffffff is beyond", 16);
        assertBad(LimeBuilder.bytes(x -> x.rawHeader(LimeBuilder.LIME_MAGIC, 1, -4096, -1L, 0).data(page, 0, 4096)),
                "start address 0xfffffffffffff000 is beyond", 8);
    }

    @Test
    void absurdSizeIsTruncationNotAnAllocation() throws IOException {
        byte[] page = pattern(4096, 1);
        byte[] img = LimeBuilder.bytes(x -> x.rawHeader(LimeBuilder.LIME_MAGIC, 1, 0, (1L << 52) - 1, 0)
                .data(page, 0, 4096));
        try (MemoryImage m = opener().open(write(img))) {
            assertEquals(List.of(new MemoryRange(0, 4096)), m.memory().ranges());
            assertTrue(m.warnings().get(0).contains("0x1000-0x10000000000000 absent"), m.warnings().toString());
        }
    }

    @Test
    void overlappingRangesAreAnErrorNamingBothHeaders() throws IOException {
        byte[] page = pattern(4096, 1);
        long third = 2 * (32 + 4096);
        BadImageException e = assertBad(LimeBuilder.bytes(x -> x.lime(0, page).lime(0x10000, page).lime(0x800, page)),
                "range header 2: range 0x800-0x1800 overlaps range 0x0-0x1000 of range header 0", third);
        assertTrue(e.getMessage().contains("(at offset 0x0)"), e.getMessage());
        // Same for AVML ranges.
        byte[] avml = LimeBuilder.bytes(x -> x.avml(0x1000, page).avml(0x1fff, page));
        assertBad(avml, "overlaps", LimeBuilder.bytes(x -> x.avml(0x1000, page)).length);
    }

    @Test
    void nonZeroReservedFieldIsOnlyAWarning() throws IOException {
        byte[] page = pattern(4096, 1);
        byte[] img = LimeBuilder.bytes(x -> x.rawHeader(LimeBuilder.LIME_MAGIC, 1, 0, 0xfff, 42).data(page, 0, 4096));
        try (MemoryImage m = opener().open(write(img))) {
            assertTrue(m.warnings().get(0).contains("reserved"), m.warnings().toString());
        }
    }

    // ---- malformed snappy streams ----

    private record Built(byte[] bytes, LimeBuilder builder) {
    }

    private static Built avml(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LimeBuilder b = new LimeBuilder(out);
        b.avml(0, data);
        return new Built(out.toByteArray(), b);
    }

    @Test
    void corruptCompressedChunkIsReportedOnReadWithItsOffset() throws IOException {
        byte[] data = mixed(3 * 65536, 1);
        Built b = avml(data);
        int second = (int) (long) b.builder.chunks.get(1);
        assertEquals(0x00, b.bytes[second], "the second chunk is compressed");
        byte[] corrupt = b.bytes.clone();
        for (int i = second + 4 + 4 + 5; i < second + 4 + 4 + 200; i++) {
            corrupt[i] ^= 0x5a;
        }
        Path p = write(corrupt);
        try (MemoryImage img = opener().open(p)) {
            assertArrayEquals(Arrays.copyOf(data, 65536), img.memory().readBytes(0, 65536), "other chunks read fine");
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> img.memory().readBytes(65536, 10));
            BadImageException bad = assertInstanceOf(BadImageException.class, e.getCause());
            assertEquals(second, bad.offset(), bad.getMessage());
            assertTrue(bad.getMessage().startsWith(p.toString()), bad.getMessage());
            assertTrue(bad.getMessage().contains("0x10000-0x20000"), bad.getMessage());
        }
    }

    @Test
    void crcMismatchIsReportedOnReadWithTheChunkOffset() throws IOException {
        byte[] data = mixed(3 * 65536, 1);
        for (int k = 0; k < 3; k++) {
            Built b = avml(data);
            int chunk = (int) (long) b.builder.chunks.get(k);
            byte[] corrupt = b.bytes.clone();
            corrupt[chunk + 4] ^= 1; // the stored CRC
            Path p = write(corrupt);
            try (MemoryImage img = opener().open(p)) {
                long addr = k * 65536L + 100;
                UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> img.memory().readBytes(addr, 1));
                BadImageException bad = (BadImageException) e.getCause();
                assertEquals(chunk, bad.offset());
                assertTrue(bad.getMessage().contains("CRC-32C mismatch"), bad.getMessage());
                assertTrue(bad.getMessage().startsWith(p.toString()), bad.getMessage());
            }
        }
        // An uncompressed (stored) chunk whose data changed: random bytes do not compress.
        byte[] random = new byte[4096];
        new Random(1).nextBytes(random);
        Built b = avml(random);
        int chunk = (int) (long) b.builder.chunks.get(0);
        assertEquals(0x01, b.bytes[chunk], "random data is stored uncompressed");
        byte[] corrupt = b.bytes.clone();
        corrupt[chunk + 8 + 100] ^= 1;
        Path p = write(corrupt);
        try (MemoryImage img = opener().open(p)) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> img.memory().readBytes(0, 1));
            assertEquals(chunk, ((BadImageException) e.getCause()).offset());
            assertTrue(e.getCause().getMessage().contains("uncompressed chunk"), e.getCause().getMessage());
        }
    }

    @Test
    void malformedChunkHeadersAreErrorsAtTheChunkOffset() throws IOException {
        byte[] data = mixed(2 * 65536, 1);
        Built b = avml(data);
        int stream = 32;
        int first = (int) (long) b.builder.chunks.get(0);
        int second = (int) (long) b.builder.chunks.get(1);

        byte[] noIdentifier = b.bytes.clone();
        noIdentifier[stream] = 0x00;
        assertBad(noIdentifier, "does not start with a stream identifier", stream);

        byte[] badIdentifier = b.bytes.clone();
        badIdentifier[stream + 4] = 'x';
        assertBad(badIdentifier, "does not hold \"sNaPpY\"", stream);

        byte[] identifierLength = b.bytes.clone();
        identifierLength[stream + 1] = 7;
        assertBad(identifierLength, "stream identifier chunk has length 7", stream);

        byte[] reserved = b.bytes.clone();
        reserved[second] = 0x05;
        assertBad(reserved, "reserved unskippable snappy chunk type 0x05", second);

        byte[] hugeChunk = b.bytes.clone();
        hugeChunk[second + 3] = (byte) 0xff;
        assertBad(hugeChunk, "impossible length", second);

        byte[] hugeVarint = b.bytes.clone();
        assertEquals(0x00, hugeVarint[first]);
        // 65537 as a varint in place of 65536 (0x80 0x80 0x04): one byte more than a chunk may hold.
        assertEquals((byte) 0x80, hugeVarint[first + 8]);
        hugeVarint[first + 8] = (byte) 0x81;
        assertBad(hugeVarint, "announces 65537 uncompressed bytes", first);

        // The header announces less than the stream holds.
        byte[] tooMuch = b.bytes.clone();
        ByteBuffer.wrap(tooMuch).order(ByteOrder.LITTLE_ENDIAN).putLong(16, 65536 + 100 - 1);
        assertBad(tooMuch, "holds more than the range's 65636 bytes", second);

        // The trailer disagrees with the stream length.
        long trailer = b.builder.trailers.get(0);
        byte[] badTrailer = b.bytes.clone();
        badTrailer[(int) trailer] ^= 1;
        assertBad(badTrailer, "compressed-length trailer says", trailer);
    }

    private BadImageException assertBad(byte[] bytes, String expected, long offset) throws IOException {
        Path p = write(bytes);
        BadImageException e = assertThrows(BadImageException.class, () -> {
            try (MemoryImage ignored = opener().open(p)) {
                // must not open
            }
        }, expected);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        assertEquals(offset, e.offset(), e.getMessage());
        assertTrue(e.getMessage().contains(String.format("offset 0x%x", offset)), e.getMessage());
        return e;
    }
}
