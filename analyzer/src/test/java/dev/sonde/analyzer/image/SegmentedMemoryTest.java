package dev.sonde.analyzer.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sonde.analyzer.memory.MemoryView;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentedMemoryTest {
    @TempDir
    Path dir;

    /** The fast {@code readU64OrElse} gives what 8 bytes through {@code read} give, at every address. */
    @Test
    void readU64OrElseAgreesWithRead() throws IOException {
        byte[] bytes = new byte[0x4000];
        new Random(3).nextBytes(bytes);
        Path p = dir.resolve("raw");
        Files.write(p, bytes);
        try (MappedFile f = MappedFile.open(p);
             SegmentedMemory m = new SegmentedMemory(f, List.of(
                     new FileSegment(0x1000, 0x3000, 0x800), // adjacent to the next, elsewhere in the file
                     new FileSegment(0x0, 0x0, 0x1000),
                     new FileSegment(0x5000, 0x2000, 3), // shorter than a value
                     new FileSegment(0x6000, 0x1800, 0x1800)))) {
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
            for (long a = -9; a < 0x8010; a++) {
                assertEquals(plain.readU64OrElse(a, 0x1234), m.readU64OrElse(a, 0x1234), "at 0x" + Long.toHexString(a));
            }
            assertEquals(m.readU64(0xffc), m.readU64OrElse(0xffc, 0), "across two adjacent segments");
        }
    }
}
