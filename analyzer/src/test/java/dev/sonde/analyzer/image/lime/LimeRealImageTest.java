package dev.sonde.analyzer.image.lime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tiny guest's real capture rewritten as LiME (one range per present range, like {@code lime.ko}) and as AVML
 * (ranges split into 16 MiB blocks, all-zero blocks left out, like avml), under misleading file names: both must be
 * recognised by content and read back every page identically through {@link ImageOpener#standard()}.
 */
class LimeRealImageTest {
    static final int PAGE = 4096;

    @TempDir
    Path dir;

    /** The committed capture when it is there, else the one in the fixture cache; skipped when neither is. */
    static Path realImage() {
        Path committed = Fixtures.committedTinyImage();
        if (Files.isReadable(committed)) {
            return committed;
        }
        Path cached = Fixtures.captureDir("tiny").resolve("memory.elf");
        if (!Files.isReadable(cached)) {
            String reason = "neither " + committed + " nor " + cached + " exists: build the tiny guest and capture it";
            System.err.println("SKIPPED: " + reason);
            assumeTrue(false, reason);
        }
        return cached;
    }

    private static void writeLime(PhysicalMemory src, Path file) throws IOException {
        byte[] buf = new byte[1 << 20];
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            LimeBuilder b = new LimeBuilder(out);
            for (MemoryRange r : src.ranges()) {
                b.limeHeader(r.start(), r.length());
                for (long a = r.start(); a < r.end(); a += buf.length) {
                    int n = (int) Math.min(buf.length, r.end() - a);
                    src.readFully(a, buf, 0, n);
                    b.data(buf, 0, n);
                }
            }
        }
    }

    /** @return the number of all-zero blocks left out */
    private static int writeAvml(PhysicalMemory src, Path file) throws IOException {
        int skipped = 0;
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            LimeBuilder b = new LimeBuilder(out);
            for (MemoryRange r : src.ranges()) {
                for (long a = r.start(); a < r.end(); a += LimeBuilder.AVML_MAX_BLOCK) {
                    int n = (int) Math.min(LimeBuilder.AVML_MAX_BLOCK, r.end() - a);
                    byte[] block = src.readBytes(a, n);
                    if (allZero(block, 0, n)) {
                        skipped++;
                        continue;
                    }
                    b.avml(a, block);
                }
            }
        }
        return skipped;
    }

    private static boolean allZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    @Test
    void limeAndAvmlRewritesOfTheRealCaptureReadBackEveryPage() throws IOException {
        try (MemoryImage elf = ImageOpener.standard().open(realImage())) {
            PhysicalMemory src = elf.memory();
            Path lime = dir.resolve("memory.elf");        // misleading on purpose
            Path avml = dir.resolve("memory.kdump.xz");   // misleading on purpose
            writeLime(src, lime);
            int skipped = writeAvml(src, avml);
            assertTrue(Files.size(avml) < Files.size(lime) / 2, "AVML compresses: " + Files.size(avml));

            try (MemoryImage l = ImageOpener.standard().open(lime); MemoryImage a = ImageOpener.standard().open(avml)) {
                assertEquals("LiME", l.format());
                assertEquals("AVML", a.format());
                assertEquals(List.of(), l.warnings());
                assertEquals(List.of(), a.warnings());
                assertEquals(src.ranges(), l.memory().ranges());
                assertEquals(src.presentBytes(), l.memory().presentBytes());
                long absentInAvml = src.presentBytes() - a.memory().presentBytes();
                assertEquals((long) skipped * LimeBuilder.AVML_MAX_BLOCK, absentInAvml,
                        "AVML leaves out exactly the all-zero blocks");

                byte[] x = new byte[PAGE];
                byte[] y = new byte[PAGE];
                byte[] z = new byte[PAGE];
                long pages = 0;
                for (MemoryRange r : src.ranges()) {
                    for (long addr = r.start(); addr < r.end(); addr += PAGE) {
                        int n = (int) Math.min(PAGE, r.end() - addr);
                        src.readFully(addr, x, 0, n);
                        l.memory().readFully(addr, y, 0, n);
                        assertArrayEquals(Arrays.copyOf(x, n), Arrays.copyOf(y, n), "LiME page 0x" + Long.toHexString(addr));
                        int got = a.memory().read(addr, z, 0, n);
                        assertTrue(got == 0 || got == n, "AVML blocks are page aligned here: " + got);
                        if (got == n) {
                            assertArrayEquals(Arrays.copyOf(x, n), Arrays.copyOf(z, n), "AVML page 0x" + Long.toHexString(addr));
                        } else {
                            assertTrue(allZero(x, 0, n), "a page AVML left out is zero: 0x" + Long.toHexString(addr));
                        }
                        pages++;
                    }
                }
                assertTrue(pages > 10_000, "pages compared: " + pages);
            }
        }
    }
}
