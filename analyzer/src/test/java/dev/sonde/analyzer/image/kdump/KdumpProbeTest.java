package dev.sonde.analyzer.image.kdump;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.image.compressed.DecompressedCache;
import dev.sonde.analyzer.image.elf.ElfCoreProbe;
import dev.sonde.analyzer.memory.AbsentMemoryException;
import dev.sonde.analyzer.memory.MemoryRange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

class KdumpProbeTest {
    static final int BS = KdumpBuilder.BS;

    @TempDir
    Path dir;

    private ImageOpener opener() {
        return new ImageOpener(List.of(new ElfCoreProbe(), new KdumpProbe()),
                new DecompressedCache(dir.resolve("cache"), 1 << 30));
    }

    /** Compressible but not trivial page content. */
    static byte[] page(int seed) {
        byte[] b = new byte[BS];
        for (int i = 0; i < BS; i++) {
            b[i] = (byte) ((i / 16) * 7 + seed);
        }
        return b;
    }

    /** Incompressible page content (stored raw even in a compressed dump). */
    static byte[] noise(int seed) {
        byte[] b = new byte[BS];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    private Path write(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(dir, "dump", ".kdump");
        Files.write(p, bytes);
        return p;
    }

    /** pfns 0-3 data, 4 zero (shared zero page), 5 excluded, 6 raw noise, 9-10 data; 7-8 absent holes. */
    static KdumpBuilder sample(int compression) {
        return new KdumpBuilder().maxMapnr(100).compression(compression)
                .page(0, page(1)).page(1, page(2)).page(2, page(3)).page(3, page(4))
                .page(4, new byte[BS]).page(5, page(6)).excluded(5).page(6, noise(7))
                .page(9, page(10)).page(10, page(11))
                .vmcoreinfo("OSRELEASE=6.1.0-test\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff82a12340\n")
                .cpu(0xffffffff81000000L, 0x1234000);
    }

    private void checkSample(MemoryImage img) {
        assertEquals(List.of(new MemoryRange(0, 5 * BS), new MemoryRange(6 * BS, BS), new MemoryRange(9 * BS, 2 * BS)),
                img.memory().ranges());
        assertArrayEquals(page(1), img.memory().readBytes(0, BS));
        assertArrayEquals(page(4), img.memory().readBytes(3 * BS, BS));
        assertArrayEquals(new byte[BS], img.memory().readBytes(4 * BS, BS), "the shared zero page reads as zeros");
        assertArrayEquals(noise(7), img.memory().readBytes(6 * BS, BS));
        assertArrayEquals(page(11), img.memory().readBytes(10 * BS, BS));
        // a read across pages and into the excluded page stops there
        byte[] buf = new byte[3 * BS];
        assertEquals(2 * BS - 100, img.memory().read(3 * BS + 100, buf, 0, buf.length));
        assertArrayEquals(Arrays.copyOfRange(page(4), 100, BS), Arrays.copyOfRange(buf, 0, BS - 100));
        assertThrows(AbsentMemoryException.class, () -> img.memory().readBytes(5 * BS, 8));
        assertEquals(0, img.memory().read(8 * BS, buf, 0, 8));
        assertEquals(0, img.memory().read(200L * BS, buf, 0, 8), "beyond max_mapnr");
        assertEquals("6.1.0-test", img.vmcoreinfo().orElseThrow().osRelease().orElseThrow());
        assertEquals(0xffffffff82a12340L, img.vmcoreinfo().get().symbol("init_uts_ns").getAsLong());
        assertEquals(1, img.cpus().size());
        assertEquals(0xffffffff81000000L, img.cpus().get(0).registers().get("rip"));
        assertEquals(0x1234000L, img.cpus().get(0).cr3().getAsLong());
        assertTrue(img.warnings().stream().anyMatch(w -> w.contains("1 pages") && w.contains("excluded by dump level 1")),
                img.warnings().toString());
        KdumpHeader h = ((KdumpMemory) img.memory()).header();
        assertEquals(6, h.headerVersion());
        assertEquals("x86_64", h.machine());
        assertEquals(100, h.maxMapnr());
        assertEquals(8, h.dumpablePages());
        assertEquals(1, h.excludedPages());
        assertEquals(0x1000000, h.physBase());
    }

    @ParameterizedTest
    @ValueSource(ints = {KdumpHeader.COMPRESSED_ZLIB, KdumpHeader.COMPRESSED_SNAPPY, KdumpHeader.COMPRESSED_ZSTD, 0})
    void readsPlainLayoutWithEachPageCompression(int compression) throws IOException {
        Path p = write(sample(compression).build());
        try (MemoryImage img = opener().open(p)) {
            String expected = compression == 0 ? "uncompressed" : PageCodec.name(compression);
            assertEquals("kdump-compressed (" + expected + ")", img.format());
            checkSample(img);
        }
    }

    @Test
    void readsFlattenedLayoutWithShuffledAndRewrittenRecords() throws IOException {
        byte[] plain = sample(KdumpHeader.COMPRESSED_ZLIB).build();
        for (int chunk : new int[] {100, 4096, 16384}) {
            Path p = write(KdumpBuilder.flatten(plain, chunk, chunk));
            try (MemoryImage img = opener().open(p)) {
                assertEquals("flattened kdump-compressed (zlib)", img.format());
                checkSample(img);
                assertTrue(((KdumpMemory) img.memory()).header().flattened());
            }
        }
    }

    @Test
    void flattenedRecordsLeaveHolesThatReadAsZeros() throws IOException {
        byte[] plain = sample(KdumpHeader.COMPRESSED_ZLIB).build();
        // Drop the records of an all-zero stretch (the sub-header padding after the notes): still a valid dump.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(Arrays.copyOf(KdumpBuilder.flatten(new byte[0], 1, 0), FlattenedDump.HEADER_SIZE));
        KdumpBuilder.record(out, 0, plain, 0, 2 * BS - 512);
        KdumpBuilder.record(out, 2 * BS, plain, 2 * BS, plain.length - 2 * BS);
        out.writeBytes(ByteBuffer.allocate(16).putLong(-1).putLong(-1).array());
        try (MemoryImage img = opener().open(write(out.toByteArray()))) {
            checkSample(img);
            assertTrue(img.warnings().stream().noneMatch(w -> w.contains("truncated")), img.warnings().toString());
        }
    }

    @Test
    void opensXzWrappedKdump() throws IOException {
        byte[] plain = sample(KdumpHeader.COMPRESSED_ZLIB).build();
        Path xz = dir.resolve("dump.kdump.xz");
        try (OutputStream out = new XZCompressorOutputStream(Files.newOutputStream(xz))) {
            out.write(KdumpBuilder.flatten(plain, 4096, 1));
        }
        try (MemoryImage img = opener().open(xz)) {
            assertEquals("flattened kdump-compressed (zlib) in xz", img.format());
            checkSample(img);
        }
    }

    @Test
    void lzoPagesAreRefusedNamingLzoAndThePage() throws IOException {
        KdumpBuilder b = sample(KdumpHeader.COMPRESSED_LZO);
        Path p = write(b.build());
        BadImageException e = assertThrows(BadImageException.class, () -> opener().open(p));
        assertTrue(e.getMessage().contains("lzo"), e.getMessage());
        assertTrue(e.getMessage().contains("pfn 0x0"), e.getMessage());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        assertEquals(b.descOf.get(0L), e.offset(), "the offset of the page descriptor");
    }

    @ParameterizedTest
    @ValueSource(ints = {KdumpHeader.COMPRESSED_ZLIB, KdumpHeader.COMPRESSED_SNAPPY, KdumpHeader.COMPRESSED_ZSTD})
    void corruptCompressedPageIsAnErrorNamingFileOffsetAndPage(int compression) throws IOException {
        KdumpBuilder b = sample(compression);
        byte[] dump = b.build();
        long at = b.dataOf.get(2L);
        for (int i = 0; i < 8; i++) {
            dump[(int) at + i] ^= (byte) 0xa5;
        }
        Path p = write(dump);
        try (MemoryImage img = opener().open(p)) {
            assertArrayEquals(page(1), img.memory().readBytes(0, BS), "other pages still read");
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> img.memory().readBytes(2 * BS, 16));
            BadImageException bad = assertInstanceOf(BadImageException.class, e.getCause());
            assertEquals(p, bad.file());
            assertEquals(at, bad.offset());
            assertTrue(bad.getMessage().contains("pfn 0x2"), bad.getMessage());
            assertTrue(bad.getMessage().contains(PageCodec.name(compression)), bad.getMessage());
        }
    }

    @Test
    void corruptPageInFlattenedDumpNamesItsPlaceInTheFlattenedFile() throws IOException {
        KdumpBuilder b = sample(KdumpHeader.COMPRESSED_ZLIB);
        byte[] plain = b.build();
        long at = b.dataOf.get(2L);
        for (int i = 0; i < 8; i++) {
            plain[(int) at + i] ^= (byte) 0xa5;
        }
        byte[] flat = KdumpBuilder.flatten(plain, 4096, 3);
        Path p = write(flat);
        try (MemoryImage img = opener().open(p)) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> img.memory().readBytes(2 * BS, 16));
            BadImageException bad = (BadImageException) e.getCause();
            byte[] expected = Arrays.copyOfRange(plain, (int) at, (int) at + 8);
            assertArrayEquals(expected, Arrays.copyOfRange(flat, (int) bad.offset(), (int) bad.offset() + 8),
                    "the reported offset is where the corrupt bytes are in the flattened file");
            assertTrue(bad.getMessage().contains("of the dump the flattened records describe"), bad.getMessage());
        }
    }

    @Test
    void truncatedPageDataMakesThosePagesAbsentWithAWarning() throws IOException {
        KdumpBuilder b = sample(KdumpHeader.COMPRESSED_ZLIB);
        byte[] dump = b.build();
        Path p = write(Arrays.copyOf(dump, (int) (long) b.dataOf.get(9L) + 10));
        try (MemoryImage img = opener().open(p)) {
            assertEquals(List.of(new MemoryRange(0, 5 * BS), new MemoryRange(6 * BS, BS)), img.memory().ranges());
            assertTrue(img.warnings().stream().anyMatch(w -> w.contains("2 dumpable pages have no data")
                    && w.contains("0x9000-0xb000")), img.warnings().toString());
        }
        // cut inside the descriptor table: the pages whose descriptors are lost are absent too
        Path q = write(Arrays.copyOf(dump, (int) (b.descOffset + 3 * KdumpMemory.DESC_SIZE + 5)));
        try (MemoryImage img = opener().open(q)) {
            assertEquals(List.of(), img.memory().ranges(), "descriptors 0-2 survive but their data does not");
            assertTrue(img.warnings().get(img.warnings().size() - 1).contains("descriptors lie beyond the end"),
                    img.warnings().toString());
        }
    }

    @Test
    void flattenedDumpWithoutEndMarkerWarns() throws IOException {
        byte[] flat = KdumpBuilder.flatten(sample(KdumpHeader.COMPRESSED_ZLIB).build(), 4096, 5);
        try (MemoryImage img = opener().open(write(Arrays.copyOf(flat, flat.length - 16)))) {
            checkSample(img);
            assertTrue(img.warnings().get(0).contains("no end marker"), img.warnings().toString());
        }
    }

    @Test
    void splitDumpPartHoldsItsRangeOnly() throws IOException {
        Path p = write(sample(KdumpHeader.COMPRESSED_ZLIB).split(2, 10).build());
        try (MemoryImage img = opener().open(p)) {
            assertEquals(List.of(new MemoryRange(2 * BS, 3 * BS), new MemoryRange(6 * BS, BS), new MemoryRange(9 * BS, BS)),
                    img.memory().ranges());
            assertArrayEquals(page(3), img.memory().readBytes(2 * BS, BS));
            assertArrayEquals(page(10), img.memory().readBytes(9 * BS, BS));
            assertTrue(img.warnings().stream().anyMatch(w -> w.contains("split dump")), img.warnings().toString());
        }
    }

    @Test
    void truncationInsideTheHeadersIsAnErrorNamingFileAndOffset() throws IOException {
        KdumpBuilder b = sample(KdumpHeader.COMPRESSED_ZLIB);
        byte[] dump = b.build();
        int[] cuts = {16, 100, KdumpProbe.OFF_BLOCK_SIZE + 2, 400, BS + 10, BS + 100, (int) b.noteOffset + 50,
            (int) b.bitmapOffset + 3, (int) (b.bitmapOffset + b.bitmapBytes - 1)};
        for (int len : cuts) {
            Path p = write(Arrays.copyOf(dump, len));
            BadImageException e = assertThrows(BadImageException.class, () -> opener().open(p), "length " + len);
            assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("at offset 0x"), e.getMessage());
        }
        byte[] flat = KdumpBuilder.flatten(dump, 4096, 9);
        for (int len : new int[] {40, 4096, 4100, 4096 + 16 + 64 + 16 + 100}) {
            Path p = write(Arrays.copyOf(flat, len));
            BadImageException e = assertThrows(BadImageException.class, () -> opener().open(p), "flattened length " + len);
            assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("at offset 0x"), e.getMessage());
        }
    }

    @Test
    void absurdHeaderFieldsAreRejected() throws IOException {
        KdumpBuilder b = sample(KdumpHeader.COMPRESSED_ZLIB);
        byte[] good = b.build();

        byte[] terabytes = good.clone();
        ByteBuffer.wrap(terabytes).order(ByteOrder.LITTLE_ENDIAN).putLong(BS + 96, 1L << 40); // 4 PiB of pages
        assertMessage(terabytes, "max_mapnr 0x10000000000", BS + 96);

        byte[] bigButPlausible = good.clone();
        ByteBuffer.wrap(bigButPlausible).order(ByteOrder.LITTLE_ENDIAN).putLong(BS + 96, 1L << 28); // 1 TiB
        assertMessage(bigButPlausible, "cannot cover max_mapnr", KdumpProbe.OFF_BITMAP_BLOCKS);

        byte[] blockSize = good.clone();
        ByteBuffer.wrap(blockSize).order(ByteOrder.LITTLE_ENDIAN).putInt(KdumpProbe.OFF_BLOCK_SIZE, 0x01000000);
        assertMessage(blockSize, "block_size", KdumpProbe.OFF_BLOCK_SIZE);

        byte[] version = good.clone();
        ByteBuffer.wrap(version).order(ByteOrder.LITTLE_ENDIAN).putInt(KdumpProbe.OFF_VERSION, 0x06000000);
        assertMessage(version, "header_version", KdumpProbe.OFF_VERSION);

        byte[] bitmaps = good.clone();
        ByteBuffer.wrap(bitmaps).order(ByteOrder.LITTLE_ENDIAN).putInt(KdumpProbe.OFF_BITMAP_BLOCKS, 0x7fffffff);
        assertMessage(bitmaps, "bitmaps", KdumpProbe.OFF_BITMAP_BLOCKS);

        byte[] noBitmap = good.clone();
        ByteBuffer.wrap(noBitmap).order(ByteOrder.LITTLE_ENDIAN).putInt(KdumpProbe.OFF_BITMAP_BLOCKS, 0);
        assertMessage(noBitmap, "no page bitmap", KdumpProbe.OFF_BITMAP_BLOCKS);

        byte[] notes = good.clone();
        ByteBuffer.wrap(notes).order(ByteOrder.LITTLE_ENDIAN).putLong(BS + 56, 1L << 40);
        assertMessage(notes, "ELF note area", BS + 56);

        byte[] note = good.clone();
        ByteBuffer.wrap(note).order(ByteOrder.LITTLE_ENDIAN).putInt((int) b.noteOffset + 4, 1 << 20);
        assertMessage(note, "runs past", b.noteOffset);

        byte[] vmcoreinfo = good.clone();
        ByteBuffer.wrap(vmcoreinfo).order(ByteOrder.LITTLE_ENDIAN).putLong(BS + 40, 1L << 31);
        assertMessage(vmcoreinfo, "VMCOREINFO", BS + 40);

        byte[] descSize = good.clone();
        long d = b.descOf.get(1L);
        ByteBuffer.wrap(descSize).order(ByteOrder.LITTLE_ENDIAN).putInt((int) d + 8, 70000);
        assertMessage(descSize, "pfn 0x1 claims a 70000-byte page", d);

        byte[] flags = good.clone();
        ByteBuffer.wrap(flags).order(ByteOrder.LITTLE_ENDIAN).putInt((int) d + 12, 0x21);
        assertMessage(flags, "several compressions", d);

        byte[] diskdump = good.clone();
        System.arraycopy("DISKDUMP".getBytes(), 0, diskdump, 0, 8);
        assertMessage(diskdump, "diskdump", 0);
    }

    @Test
    void malformedFlattenedRecordsAreRejected() throws IOException {
        byte[] flat = KdumpBuilder.flatten(sample(KdumpHeader.COMPRESSED_ZLIB).build(), 4096, 1);

        byte[] type = flat.clone();
        ByteBuffer.wrap(type).putLong(16, 2);
        assertMessage(type, "not the flattened format", 16);

        byte[] size = flat.clone();
        ByteBuffer.wrap(size).putLong(FlattenedDump.HEADER_SIZE + 8, 1L << 60);
        assertMessage(size, "not plausible", FlattenedDump.HEADER_SIZE);

        byte[] negative = flat.clone();
        ByteBuffer.wrap(negative).putLong(FlattenedDump.HEADER_SIZE, -5);
        assertMessage(negative, "not plausible", FlattenedDump.HEADER_SIZE);

        ByteArrayOutputStream elf = new ByteArrayOutputStream();
        elf.writeBytes(Arrays.copyOf(flat, FlattenedDump.HEADER_SIZE));
        KdumpBuilder.record(elf, 0, new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0}, 0, 8);
        elf.writeBytes(ByteBuffer.allocate(16).putLong(-1).putLong(-1).array());
        assertMessage(elf.toByteArray(), "ELF vmcore", FlattenedDump.HEADER_SIZE + 16);
    }

    private void assertMessage(byte[] bytes, String expected, long offset) throws IOException {
        Path p = write(bytes);
        BadImageException e = assertThrows(BadImageException.class, () -> opener().open(p), expected);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        assertEquals(offset, e.offset(), e.getMessage());
    }

    @Test
    void realCaptureReadsTheSameInFlattenedAndRebuiltLayouts() throws IOException {
        Path flat = dev.sonde.analyzer.fixtures.Fixtures.captureDir("tiny").resolve("memory.kdump");
        if (!Files.isReadable(flat)) {
            String reason = "capture " + flat + " is absent: build the tiny guest and run its capture script first";
            System.err.println("SKIPPED: " + reason);
            org.junit.jupiter.api.Assumptions.assumeTrue(false, reason);
        }
        Path plain = write(KdumpBuilder.unflatten(Files.readAllBytes(flat)));
        try (MemoryImage a = ImageOpener.standard().open(flat); MemoryImage b = opener().open(plain)) {
            assertEquals("flattened kdump-compressed (zlib)", a.format());
            assertEquals("kdump-compressed (zlib)", b.format());
            assertEquals(List.of(), a.warnings());
            assertEquals(a.memory().ranges(), b.memory().ranges());
            assertEquals("6.1.0-57-amd64", a.vmcoreinfo().orElseThrow().osRelease().orElseThrow());
            assertEquals(a.vmcoreinfo(), b.vmcoreinfo());
            assertFalse(a.cpus().isEmpty());
            assertTrue(a.cpus().get(0).cr3().isPresent());
            byte[] x = new byte[BS];
            byte[] y = new byte[BS];
            for (MemoryRange r : a.memory().ranges()) {
                for (long addr = r.start(); addr < r.end(); addr += BS) {
                    a.memory().readFully(addr, x, 0, BS);
                    b.memory().readFully(addr, y, 0, BS);
                    assertArrayEquals(x, y, "page 0x" + Long.toHexString(addr));
                }
            }
        }
    }

    @Test
    void rankAndRunsHandleWordBoundaries() throws IOException {
        KdumpBuilder b = new KdumpBuilder().maxMapnr(300);
        long[] pfns = {0, 62, 63, 64, 65, 127, 128, 191, 192, 193, 255, 256, 299};
        for (long pfn : pfns) {
            b.page(pfn, page((int) pfn));
        }
        for (long pfn = 130; pfn < 190; pfn++) {
            b.page(pfn, page((int) pfn));
        }
        try (MemoryImage img = opener().open(write(b.build()))) {
            for (long pfn : pfns) {
                assertArrayEquals(page((int) pfn), img.memory().readBytes(pfn * BS, BS), "pfn " + pfn);
            }
            for (long pfn = 130; pfn < 190; pfn++) {
                assertArrayEquals(page((int) pfn), img.memory().readBytes(pfn * BS, BS), "pfn " + pfn);
            }
            assertEquals(13 + 60, img.memory().presentBytes() / BS);
            long[][] runs = {{0, 1}, {62, 66}, {127, 129}, {130, 190}, {191, 194}, {255, 257}, {299, 300}};
            assertEquals(Arrays.stream(runs).map(r -> new MemoryRange(r[0] * BS, (r[1] - r[0]) * BS)).toList(),
                    img.memory().ranges());
            assertEquals(300L * BS, img.memory().maxAddress());
        }
    }
}
