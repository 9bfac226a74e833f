package dev.sonde.analyzer.image.elf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.image.compressed.DecompressedCache;
import dev.sonde.analyzer.memory.AbsentMemoryException;
import dev.sonde.analyzer.memory.MemoryRange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ElfCoreProbeTest {
    @TempDir
    Path dir;

    private ImageOpener opener() {
        return new ImageOpener(List.of(new ElfCoreProbe()), new DecompressedCache(dir.resolve("cache"), 1 << 30));
    }

    private static byte[] pattern(int size, int seed) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    private Path write(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(dir, "core", ".bin");
        Files.write(p, bytes);
        return p;
    }

    @Test
    void readsSegmentsByPhysicalAddressNotesAndVmcoreinfo() throws IOException {
        byte[] low = pattern(8192, 1);
        byte[] high = pattern(4096, 7);
        byte[] core = new ElfCoreBuilder()
                .load(0x100000, high).load(0, low)
                .prstatus(0xffffffff81000000L).qemuCpu(0xffffffff81000000L, 0x1234000)
                .vmcoreinfo("OSRELEASE=6.1.0-test\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff82a12340\nOFFSET(list_head.next)=0\n")
                .build();
        try (MemoryImage img = opener().open(write(core))) {
            assertEquals("ELF64 core (QEMU)", img.format());
            assertEquals(List.of(new MemoryRange(0, 8192), new MemoryRange(0x100000, 4096)), img.memory().ranges());
            assertArrayEquals(Arrays.copyOfRange(low, 100, 200), img.memory().readBytes(100, 100));
            assertArrayEquals(high, img.memory().readBytes(0x100000, 4096));
            assertEquals(1, img.cpus().size());
            assertEquals(0x1234000L, img.cpus().get(0).cr3().getAsLong());
            assertEquals(0xffffffff81000000L, img.cpus().get(0).registers().get("rip"));
            assertEquals("6.1.0-test", img.vmcoreinfo().orElseThrow().osRelease().orElseThrow());
            assertEquals(0xffffffff82a12340L, img.vmcoreinfo().get().symbol("init_uts_ns").getAsLong());
            assertEquals(0L, img.vmcoreinfo().get().offset("list_head.next").getAsLong());
            // A read that crosses into a gap returns what was present and stops.
            byte[] buf = new byte[64];
            assertEquals(32, img.memory().read(8192 - 32, buf, 0, 64));
            assertThrows(AbsentMemoryException.class, () -> img.memory().readBytes(8192 - 32, 64));
        }
    }

    @Test
    void opensXzWrappedCoreThroughTheDecompressedCache() throws IOException {
        byte[] core = new ElfCoreBuilder().load(0, pattern(65536, 3)).build();
        Path xz = dir.resolve("core.xz");
        try (OutputStream out = new XZCompressorOutputStream(Files.newOutputStream(xz))) {
            out.write(core);
        }
        try (MemoryImage img = opener().open(xz)) {
            assertEquals("ELF64 core in xz", img.format());
            assertEquals(xz, img.file());
            assertArrayEquals(pattern(65536, 3), img.memory().readBytes(0, 65536));
        }
    }

    @Test
    void truncatedSegmentStillOpensWithTheLostRangeReported() throws IOException {
        byte[] core = new ElfCoreBuilder().load(0, pattern(8192, 1)).build();
        byte[] cut = Arrays.copyOf(core, core.length - 4096);
        try (MemoryImage img = opener().open(write(cut))) {
            assertEquals(List.of(new MemoryRange(0, 4096)), img.memory().ranges());
            assertTrue(img.warnings().get(0).contains("truncated"), img.warnings().toString());
            assertTrue(img.warnings().get(0).contains("0x1000-0x2000"), img.warnings().toString());
        }
    }

    @Test
    void truncationInsideTheHeadersIsAnErrorNamingTheOffset() throws IOException {
        byte[] core = new ElfCoreBuilder().load(0, pattern(4096, 1)).vmcoreinfo("OSRELEASE=x\n").build();
        for (int len : new int[] {8, 17, 20, 40, 60, 64 + 20, 64 + 56 + 10}) {
            Path p = write(Arrays.copyOf(core, len));
            BadImageException e = assertThrows(BadImageException.class, () -> opener().open(p), "length " + len);
            assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("offset"), e.getMessage());
        }
    }

    @Test
    void absurdAndMalformedHeadersAreRejected() throws IOException {
        byte[] good = new ElfCoreBuilder().load(0, pattern(4096, 1)).load(4096, pattern(4096, 2)).build();

        byte[] notCore = good.clone();
        ByteBuffer.wrap(notCore).order(ByteOrder.LITTLE_ENDIAN).putShort(16, (short) 2);
        assertMessage(notCore, "not a core file");

        byte[] class32 = good.clone();
        class32[4] = 1;
        assertMessage(class32, "ELFCLASS64");

        byte[] manyHeaders = good.clone();
        ByteBuffer.wrap(manyHeaders).order(ByteOrder.LITTLE_ENDIAN).putShort(56, (short) 0xfff0);
        assertMessage(manyHeaders, "program headers");

        byte[] overlap = good.clone();
        ByteBuffer.wrap(overlap).order(ByteOrder.LITTLE_ENDIAN).putLong(64 + 56 + 24, 2048);
        assertMessage(overlap, "overlaps");

        byte[] hugeAddress = good.clone();
        ByteBuffer.wrap(hugeAddress).order(ByteOrder.LITTLE_ENDIAN).putLong(64 + 24, 0x7fffffffffffff00L);
        assertMessage(hugeAddress, "impossible range");
    }

    @Test
    void oversizedNoteIsRejected() throws IOException {
        byte[] core = new ElfCoreBuilder().load(0, pattern(4096, 1)).vmcoreinfo("OSRELEASE=x\n").build();
        // The note header is the first thing after the two program headers.
        ByteBuffer.wrap(core).order(ByteOrder.LITTLE_ENDIAN).putInt(64 + 2 * 56 + 4, 0x7fffffff);
        assertMessage(core, "runs past its PT_NOTE segment");
    }

    @Test
    void unknownContentIsNotGuessedAsRaw() throws IOException {
        assertMessage(pattern(4096, 9), "unrecognised memory image format");
    }

    @Test
    void malformedContentOfACompressedFileNamesTheUsersFile() throws IOException {
        byte[] core = new ElfCoreBuilder().load(0, pattern(4096, 1)).build();
        core[4] = 1; // ELFCLASS32
        Path xz = dir.resolve("broken.xz");
        try (OutputStream out = new XZCompressorOutputStream(Files.newOutputStream(xz))) {
            out.write(core);
        }
        BadImageException e = assertThrows(BadImageException.class, () -> opener().open(xz));
        assertTrue(e.getMessage().startsWith(xz + ": in its decompressed xz content at offset 0x4"), e.getMessage());
        assertTrue(e.getMessage().contains("ELFCLASS64"), e.getMessage());
    }

    @Test
    void corruptCompressedDataIsAnError() throws IOException {
        byte[] core = new ElfCoreBuilder().load(0, pattern(65536, 3)).build();
        Path xz = dir.resolve("bad.xz");
        try (OutputStream out = new XZCompressorOutputStream(Files.newOutputStream(xz))) {
            out.write(core);
        }
        byte[] b = Files.readAllBytes(xz);
        b[b.length / 2] ^= 0x55;
        Files.write(xz, b);
        BadImageException e = assertThrows(BadImageException.class, () -> opener().open(xz));
        assertTrue(e.getMessage().contains("corrupt xz data"), e.getMessage());
        try (var files = Files.list(dir.resolve("cache"))) {
            assertEquals(0, files.count(), "no partial decompressed copy may remain");
        }
    }

    private void assertMessage(byte[] bytes, String expected) throws IOException {
        Path p = write(bytes);
        BadImageException e = assertThrows(BadImageException.class, () -> opener().open(p));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    }
}
