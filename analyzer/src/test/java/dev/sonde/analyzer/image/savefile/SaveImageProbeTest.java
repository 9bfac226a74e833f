package dev.sonde.analyzer.image.savefile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.image.compressed.DecompressedCache;
import dev.sonde.analyzer.image.elf.ElfCoreProbe;
import dev.sonde.analyzer.memory.AbsentMemoryException;
import dev.sonde.analyzer.memory.MemoryRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SaveImageProbeTest {
    static final int PAGE = SaveImageBuilder.PAGE;
    static final long MIB = 1 << 20;
    static final String VMCOREINFO = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff82a12340\n";

    @TempDir
    Path dir;

    private ImageOpener opener() {
        return new ImageOpener(List.of(new ElfCoreProbe(), new SaveImageProbe(dir.resolve("cache"), 1 << 30)),
                new DecompressedCache(dir.resolve("wholefile"), 1 << 30));
    }

    static byte[] page(int seed) {
        byte[] b = new byte[PAGE];
        for (int i = 0; i < PAGE; i++) {
            b[i] = (byte) (i * 13 + seed);
        }
        return b;
    }

    private Path write(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(dir, "save", ".img");
        Files.write(p, bytes);
        return p;
    }

    /** 8 pages of pc.ram: 0-2 data, 3 zero, 4 filled with 0x5a, 5 data holding the VMCOREINFO note, 6 resent, 7 unsent. */
    static SaveImageBuilder sample() {
        byte[] notePage = new byte[PAGE];
        byte[] note = SaveImageBuilder.vmcoreinfoNote(VMCOREINFO);
        System.arraycopy(note, 0, notePage, 0x100, note.length);
        return new SaveImageBuilder()
                .block("pc.ram", 8 * PAGE).block("vga.vram", 2 * PAGE).block("/rom@etc/acpi/tables", PAGE)
                .page("pc.ram", 0, page(1)).page("pc.ram", PAGE, page(2)).page("pc.ram", 2 * PAGE, page(3))
                .zero("pc.ram", 3 * PAGE, 0).zero("pc.ram", 4 * PAGE, 0x5a)
                .page("vga.vram", 0, page(50)).page("/rom@etc/acpi/tables", 0, page(60))
                .page("pc.ram", 5 * PAGE, notePage)
                .page("pc.ram", 6 * PAGE, page(70)).page("pc.ram", 6 * PAGE, page(71))
                .vmcoreinfoDevice(5 * PAGE + 0x100, note.length)
                .cookie("<cookie>\n  <cpu mode='custom'/>\n</cookie>\n");
    }

    private static void checkSample(MemoryImage img) {
        assertEquals(List.of(new MemoryRange(0, 7 * PAGE)), img.memory().ranges());
        assertArrayEquals(page(1), img.memory().readBytes(0, PAGE));
        assertArrayEquals(page(3), img.memory().readBytes(2 * PAGE, PAGE));
        assertArrayEquals(new byte[PAGE], img.memory().readBytes(3 * PAGE, PAGE));
        byte[] fill = new byte[PAGE];
        Arrays.fill(fill, (byte) 0x5a);
        assertArrayEquals(fill, img.memory().readBytes(4 * PAGE, PAGE));
        assertArrayEquals(page(71), img.memory().readBytes(6 * PAGE, PAGE), "a resent page: the later copy wins");
        byte[] cross = img.memory().readBytes(PAGE - 10, 20);
        assertArrayEquals(Arrays.copyOfRange(page(1), PAGE - 10, PAGE), Arrays.copyOf(cross, 10));
        assertArrayEquals(Arrays.copyOf(page(2), 10), Arrays.copyOfRange(cross, 10, 20));
        byte[] buf = new byte[3 * PAGE];
        assertEquals(PAGE + 7, img.memory().read(6 * PAGE - 7, buf, 0, buf.length), "page 7 was never sent");
        assertThrows(AbsentMemoryException.class, () -> img.memory().readBytes(7 * PAGE, 1));
        assertEquals(0, img.memory().read(8 * PAGE, buf, 0, 1), "beyond RAM");
        assertEquals("6.1.0-test", img.vmcoreinfo().orElseThrow().osRelease().orElseThrow());
        assertEquals(0xffffffff82a12340L, img.vmcoreinfo().get().symbol("init_uts_ns").getAsLong());
        assertTrue(img.cpus().isEmpty());
        SaveImageMemory m = (SaveImageMemory) img.memory();
        assertEquals("pc-i440fx-7.2", m.machineType());
        assertTrue(m.header().domainXml().startsWith("<domain type='qemu'>"), m.header().domainXml());
        assertEquals("<cookie>\n  <cpu mode='custom'/>\n</cookie>\n", m.header().cookie().orElseThrow());
        assertEquals(List.of("pc.ram", "vga.vram", "/rom@etc/acpi/tables"), m.ramBlocks().stream().map(RamBlock::id).toList());
        assertEquals(List.of(new MemoryRange(0, 8 * PAGE)), m.ramBlocks().get(0).physical());
        assertFalse(m.ramBlocks().get(1).guestRam(), "video RAM is not physical memory");
        assertEquals(7, m.ramBlocks().get(0).pagesSent());
        assertTrue(img.warnings().stream().anyMatch(w -> w.contains("'pc.ram': 1 of 8 pages not in the stream")),
                img.warnings().toString());
    }

    @Test
    void readsRawSaveImage() throws IOException {
        Path p = write(sample().build());
        try (MemoryImage img = opener().open(p)) {
            assertEquals("libvirt save image (QEMU migration stream v3)", img.format());
            checkSample(img);
        }
    }

    @Test
    void readsStreamsWithoutFootersOrConfiguration() throws IOException {
        try (MemoryImage img = opener().open(write(sample().footers(false).pagesPerPart(1).build()))) {
            checkSample(img);
        }
        // Machine types that do not send the configuration section: the machine comes from the domain XML.
        try (MemoryImage img = opener().open(write(sample().noConfiguration().build()))) {
            checkSample(img);
        }
    }

    @Test
    void headerCanBeReadAloneForTheDomainXml() throws IOException {
        Path p = write(sample().build());
        SaveImageHeader h = SaveImageHeader.read(p);
        assertEquals(2, h.version());
        assertEquals("raw", h.formatName());
        assertFalse(h.wasRunning());
        assertEquals("pc-i440fx-7.2", h.machineType().orElseThrow());
        assertTrue(h.domainXml().contains("<name>t</name>"));
        assertEquals(SaveImageHeader.HEADER_SIZE + h.dataLength(), h.streamOffset());
    }

    @Test
    void compressedStreamsAreDecompressedOnceIntoTheCache() throws IOException {
        Map<Integer, Function<byte[], byte[]>> formats = Map.of(
                1, SaveImageBuilder.compressor(GzipCompressorOutputStream::new),
                2, SaveImageBuilder.compressor(BZip2CompressorOutputStream::new),
                3, SaveImageBuilder.compressor(XZCompressorOutputStream::new),
                5, SaveImageBuilder.compressor(ZstdCompressorOutputStream::new));
        for (Map.Entry<Integer, Function<byte[], byte[]>> f : formats.entrySet()) {
            Path p = write(sample().format(f.getKey()).build(f.getValue()));
            String label = SaveImageHeader.FORMATS[f.getKey()];
            try (MemoryImage img = opener().open(p)) {
                assertEquals("libvirt save image, " + label + "-compressed (QEMU migration stream v3)", img.format());
                checkSample(img);
            }
            try (MemoryImage again = opener().open(p)) {
                checkSample(again);
            }
        }
        try (var cached = Files.list(dir.resolve("cache"))) {
            assertEquals(4, cached.count(), "one decompressed stream per image, no partial files left");
        }
    }

    @Test
    void lzopAndMappedRamAreRefusedClearly() throws IOException {
        Path lzop = write(sample().format(4).build());
        BadImageException e = assertThrows(BadImageException.class, () -> opener().open(lzop));
        assertTrue(e.getMessage().contains("lzop"), e.getMessage());
        assertTrue(e.getMessage().startsWith(lzop.toString()), e.getMessage());
        Path sparse = write(sample().format(6).build());
        e = assertThrows(BadImageException.class, () -> opener().open(sparse));
        assertTrue(e.getMessage().contains("mapped-ram"), e.getMessage());
    }

    @Test
    void corruptCompressedStreamIsAnError() throws IOException {
        byte[] img = sample().format(1).build(SaveImageBuilder.compressor(GzipCompressorOutputStream::new));
        int streamAt = sample().header().length;
        img[streamAt + (img.length - streamAt) / 2] ^= 0x55;
        Path p = write(img);
        BadImageException e = assertThrows(BadImageException.class, () -> opener().open(p));
        assertTrue(e.getMessage().contains("corrupt gzip migration stream") || e.getMessage().contains("decompressed"),
                e.getMessage());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        try (var cached = Files.list(dir.resolve("cache"))) {
            assertTrue(cached.noneMatch(f -> f.getFileName().toString().startsWith("partial-")), "no partial copy remains");
        }
    }

    @Test
    void partialImageIsReportedAsIncomplete() throws IOException {
        byte[] b = sample().build();
        System.arraycopy(SaveImageHeader.PARTIAL_MAGIC.getBytes(), 0, b, 0, 16);
        assertMessage(b, "incomplete save image", 0);
    }

    @Test
    void truncationInTheHeaderOrBeforeTheRamIsAnErrorNamingFileAndOffset() throws IOException {
        SaveImageBuilder s = sample();
        byte[] b = s.build();
        int stream = s.header().length;
        int[] cuts = {20, 40, 91, 92, 200, stream - 1, stream, stream + 3, stream + 6, stream + s.at.get("ram-start") + 5,
            stream + s.at.get("mem-size") + 4, stream + s.at.get("block:vga.vram") + 3};
        for (int len : cuts) {
            Path p = write(Arrays.copyOf(b, len));
            BadImageException e = assertThrows(BadImageException.class, () -> opener().open(p), "length " + len);
            assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("at offset 0x"), e.getMessage());
        }
    }

    @Test
    void truncationInsideTheRamKeepsWhatArrived() throws IOException {
        SaveImageBuilder s = sample();
        byte[] b = s.build();
        int stream = s.header().length;
        int cut = stream + s.at.get("data:2") + 100; // inside the third page's data
        try (MemoryImage img = opener().open(write(Arrays.copyOf(b, cut)))) {
            assertEquals(List.of(new MemoryRange(0, 2 * PAGE)), img.memory().ranges());
            assertArrayEquals(page(2), img.memory().readBytes(PAGE, PAGE));
            assertTrue(img.warnings().get(0).contains("migration stream truncated"), img.warnings().toString());
            assertTrue(img.vmcoreinfo().isEmpty());
        }
    }

    @Test
    void absurdSizesAreRejected() throws IOException {
        SaveImageBuilder s = sample();
        byte[] good = s.build();
        int stream = s.header().length;

        byte[] dataLen = good.clone();
        ByteBuffer.wrap(dataLen).order(ByteOrder.LITTLE_ENDIAN).putInt(20, Integer.MIN_VALUE); // 2 GiB
        assertMessage(dataLen, "data_len 2147483648", 20);

        byte[] beyond = good.clone();
        ByteBuffer.wrap(beyond).order(ByteOrder.LITTLE_ENDIAN).putInt(20, good.length);
        assertMessage(beyond, "domain XML of data_len", SaveImageHeader.HEADER_SIZE);

        byte[] version = good.clone();
        ByteBuffer.wrap(version).order(ByteOrder.LITTLE_ENDIAN).putInt(16, 7);
        assertMessage(version, "version 7", 16);

        byte[] format = good.clone();
        ByteBuffer.wrap(format).order(ByteOrder.LITTLE_ENDIAN).putInt(28, 99);
        assertMessage(format, "unknown save image format 99", 28);

        byte[] cookie = good.clone();
        ByteBuffer.wrap(cookie).order(ByteOrder.LITTLE_ENDIAN).putInt(32, 1 << 30);
        assertMessage(cookie, "cookieOffset", 32);

        int block = stream + s.at.get("block:vga.vram");
        byte[] blockLength = good.clone();
        ByteBuffer.wrap(blockLength).putLong(block + 1 + "vga.vram".length(), 1L << 50);
        assertMessage(blockLength, "RAM block 'vga.vram' claims 0x4000000000000 bytes", block);

        int mem = stream + s.at.get("mem-size");
        byte[] total = good.clone();
        ByteBuffer.wrap(total).putLong(mem, (1L << 52) | MigrationStream.RAM_SAVE_FLAG_MEM_SIZE);
        assertMessage(total, "RAM total", mem);

        int pageRecord = stream + s.at.get("page:1");
        byte[] pageBeyond = good.clone();
        ByteBuffer.wrap(pageBeyond).putLong(pageRecord, (64L * PAGE) | MigrationStream.RAM_SAVE_FLAG_PAGE
                | MigrationStream.RAM_SAVE_FLAG_CONTINUE);
        assertMessage(pageBeyond, "lies beyond the end of RAM block 'pc.ram'", pageRecord);
    }

    @Test
    void unsupportedStreamContentIsNamed() throws IOException {
        SaveImageBuilder s = sample();
        byte[] good = s.build();
        int stream = s.header().length;
        int pageRecord = stream + s.at.get("page:1");

        byte[] xbzrle = good.clone();
        ByteBuffer.wrap(xbzrle).putLong(pageRecord, PAGE | MigrationStream.RAM_SAVE_FLAG_XBZRLE
                | MigrationStream.RAM_SAVE_FLAG_CONTINUE);
        assertMessage(xbzrle, "XBZRLE", pageRecord);

        byte[] compressed = good.clone();
        ByteBuffer.wrap(compressed).putLong(pageRecord, PAGE | MigrationStream.RAM_SAVE_FLAG_COMPRESS_PAGE
                | MigrationStream.RAM_SAVE_FLAG_CONTINUE);
        assertMessage(compressed, "compressed RAM page", pageRecord);

        byte[] unknownFlags = good.clone();
        ByteBuffer.wrap(unknownFlags).putLong(pageRecord, PAGE | 0x800);
        assertMessage(unknownFlags, "unknown RAM record flags 0x800", pageRecord);

        int page0 = stream + s.at.get("page:0");
        byte[] unknownBlock = good.clone();
        unknownBlock[page0 + 8 + 1] = 'x'; // "pc.ram" -> "xc.ram"
        assertMessage(unknownBlock, "'xc.ram', which the RAM block list does not announce", page0);

        byte[] magic = good.clone();
        magic[stream] = 'X';
        assertMessage(magic, "no QEMU migration stream", stream);

        int ramStart = stream + s.at.get("ram-start");
        byte[] ramVersion = good.clone();
        ByteBuffer.wrap(ramVersion).putInt(ramStart + 1 + 4 + 4 + 4, 5);
        assertMessage(ramVersion, "RAM section version 5", ramStart);

        // a device section before the RAM has ended: its length is unknown
        byte[] early = good.clone();
        int end = stream + s.at.get("ram-end");
        early[end] = MigrationStream.QEMU_VM_SECTION_FULL;
        assertMessage(early, "comes before the end of the RAM section", end);

        byte[] section = good.clone();
        section[end] = 0x33;
        assertMessage(section, "unknown migration section type 0x33", end);

        int config = stream + s.at.get("configuration");
        byte[] machine = good.clone();
        System.arraycopy("virt-7.2-abcd".getBytes(), 0, machine, config + 5, 13);
        assertMessage(machine, "machine type 'virt-7.2-abcd' is not an x86 PC machine", stream);
    }

    @Test
    void unknownConfigurationSubsectionIsAnError() throws IOException {
        SaveImageBuilder s = sample();
        byte[] good = s.build();
        int stream = s.header().length;
        int ramStart = stream + s.at.get("ram-start");
        byte[] sub = {MigrationStream.QEMU_VM_SUBSECTION, 9, 'c', 'o', 'n', 'f', '/', 'x', 'y', 'z', 'w', 0, 0, 0, 1};
        byte[] b = new byte[good.length + sub.length];
        System.arraycopy(good, 0, b, 0, ramStart);
        System.arraycopy(sub, 0, b, ramStart, sub.length);
        System.arraycopy(good, ramStart, b, ramStart + sub.length, good.length - ramStart);
        assertMessage(b, "unknown configuration subsection 'conf/xyzw'", ramStart);
    }

    @Test
    void ramAbove4GiBIsPlacedAt4GiB() throws IOException {
        // q35 with 3 GiB: 2 GiB below 4 GiB, 1 GiB from 4 GiB. Only a few pages are sent (the index is sparse).
        long ram = 3L << 30;
        SaveImageBuilder s = new SaveImageBuilder().machine("pc-q35-7.2").block("pc.ram", ram)
                .page("pc.ram", 0, page(1))
                .page("pc.ram", (2L << 30) - PAGE, page(2))
                .page("pc.ram", 2L << 30, page(3))
                .page("pc.ram", ram - PAGE, page(4));
        try (MemoryImage img = opener().open(write(s.build()))) {
            assertArrayEquals(page(1), img.memory().readBytes(0, PAGE));
            assertArrayEquals(page(2), img.memory().readBytes((2L << 30) - PAGE, PAGE));
            assertArrayEquals(page(3), img.memory().readBytes(1L << 32, PAGE));
            assertArrayEquals(page(4), img.memory().readBytes((1L << 32) + (1L << 30) - PAGE, PAGE));
            assertEquals(0, img.memory().read(2L << 30, new byte[8], 0, 8), "the PCI hole");
            assertEquals(List.of(new MemoryRange(0, PAGE), new MemoryRange((2L << 30) - PAGE, PAGE),
                    new MemoryRange(1L << 32, PAGE), new MemoryRange((1L << 32) + (1L << 30) - PAGE, PAGE)),
                    img.memory().ranges());
            SaveImageMemory m = (SaveImageMemory) img.memory();
            assertEquals(List.of(new MemoryRange(0, 2L << 30), new MemoryRange(1L << 32, 1L << 30)),
                    m.ramBlocks().get(0).physical());
        }
    }

    @Test
    void x86LayoutRules() {
        long g = 1L << 30;
        assertEquals(128 * MIB, X86RamLayout.below4g("pc-i440fx-7.2", 128 * MIB).orElseThrow());
        assertEquals(0xe0000000L - 1, X86RamLayout.below4g("pc", 0xe0000000L - 1).orElseThrow());
        assertEquals(3 * g, X86RamLayout.below4g("pc-i440fx-7.2", 4 * g).orElseThrow());
        assertEquals(0xe0000000L, X86RamLayout.below4g("pc-1.6", 4 * g).orElseThrow(), "before gigabyte alignment");
        assertEquals(0xb0000000L - 1, X86RamLayout.below4g("pc-q35-7.2", 0xb0000000L - 1).orElseThrow());
        assertEquals(2 * g, X86RamLayout.below4g("pc-q35-7.2", 0xb0000000L).orElseThrow());
        assertEquals(2 * g, X86RamLayout.below4g("pc-q35-rhel9.2.0", 8 * g).orElseThrow());
        assertEquals(5 * g, X86RamLayout.below4g("isapc", 5 * g).orElseThrow());
        assertTrue(X86RamLayout.below4g("virt-7.2", g).isEmpty());
    }

    @Test
    void numaNodeBlocksAreLaidOutInNodeOrder() throws IOException {
        SaveImageBuilder s = new SaveImageBuilder().machine("pc-q35-7.2")
                .block("ram-node1", 4 * PAGE).block("ram-node0", 4 * PAGE)
                .page("ram-node0", 3 * PAGE, page(1)).page("ram-node1", 0, page(2));
        try (MemoryImage img = opener().open(write(s.build()))) {
            assertEquals(List.of(new MemoryRange(3 * PAGE, 2 * PAGE)), img.memory().ranges());
            assertArrayEquals(page(1), img.memory().readBytes(3 * PAGE, PAGE));
            assertArrayEquals(page(2), img.memory().readBytes(4 * PAGE, PAGE));
        }
    }

    @Test
    void noGuestRamBlockIsAnError() throws IOException {
        SaveImageBuilder s = new SaveImageBuilder().block("mach-virt.ram", 4 * PAGE).page("mach-virt.ram", 0, page(1));
        assertMessage(s.build(), "no guest RAM block", s.header().length);
    }

    @Test
    void deviceSectionWithoutVmcoreinfoLeavesItAbsent() throws IOException {
        SaveImageBuilder s = new SaveImageBuilder().block("pc.ram", 2 * PAGE).page("pc.ram", 0, page(1))
                .page("pc.ram", PAGE, page(2));
        try (MemoryImage img = opener().open(write(s.build()))) {
            assertTrue(img.vmcoreinfo().isEmpty());
            assertEquals(List.of(new MemoryRange(0, 2 * PAGE)), img.memory().ranges());
            assertEquals(List.of(), img.warnings());
        }
    }

    private void assertMessage(byte[] bytes, String expected, long offset) throws IOException {
        Path p = write(bytes);
        BadImageException e = assertThrows(BadImageException.class, () -> opener().open(p), expected);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        assertEquals(offset, e.offset(), e.getMessage());
    }
}
