package dev.sonde.analyzer.image.savefile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.image.compressed.DecompressedCache;
import dev.sonde.analyzer.memory.MemoryView;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SaveImageMemoryTest {
    static final int PAGE = SaveImageBuilder.PAGE;

    @TempDir
    Path dir;

    /** The fast {@code readU64OrElse} gives what 8 bytes through {@code read} give: data, zero and fill pages, holes. */
    @Test
    void readU64OrElseAgreesWithRead() throws IOException {
        Path p = dir.resolve("save.img");
        Files.write(p, SaveImageProbeTest.sample().build());
        ImageOpener opener = new ImageOpener(List.of(new SaveImageProbe(dir.resolve("cache"), 1 << 30)),
                new DecompressedCache(dir.resolve("wholefile"), 1 << 30));
        try (MemoryImage img = opener.open(p)) {
            PhysicalMemory m = img.memory();
            MemoryView plain = new MemoryView() {
                @Override
                public String name() {
                    return m.name();
                }

                @Override
                public int read(long address, byte[] dst, int offset, int length) {
                    return m.read(address, dst, offset, length);
                }
            };
            for (long a = -9; a < 9L * PAGE; a++) {
                assertEquals(plain.readU64OrElse(a, 0x1234), m.readU64OrElse(a, 0x1234), "at 0x" + Long.toHexString(a));
            }
            assertEquals(0x5a5a_5a5a_5a5a_5a5aL, m.readU64OrElse(4 * PAGE + 8, 0), "a page filled with 0x5a");
        }
    }
}
