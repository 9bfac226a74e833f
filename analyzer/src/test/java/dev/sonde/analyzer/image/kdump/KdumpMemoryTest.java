package dev.sonde.analyzer.image.kdump;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.image.compressed.DecompressedCache;
import dev.sonde.analyzer.memory.MemoryView;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The page cache of {@link KdumpMemory}: zlib pages decompressed only as far as reads need, prefixes grown or
 * decompressed again later, many pages through a small cache, and several threads at once. Every read is checked
 * against the page contents the dump was built from.
 */
class KdumpMemoryTest {
    static final int BS = KdumpBuilder.BS;
    /** More pages than the cache holds whole, so entries are evicted and decompressed again. */
    static final int PAGES = KdumpMemory.CACHED_PAGES * 3 + 17;

    @TempDir
    Path dir;

    private MemoryImage open(byte[] dump) throws IOException {
        Path p = Files.createTempFile(dir, "dump", ".kdump");
        Files.write(p, dump);
        return new ImageOpener(List.of(new KdumpProbe()), new DecompressedCache(dir.resolve("cache"), 1 << 30)).open(p);
    }

    /** Page {@code pfn} of the test dumps: different in every page and every 8 bytes, and compressible. */
    static byte[] content(long pfn) {
        byte[] b = new byte[BS];
        Random r = new Random(pfn);
        for (int i = 0; i < BS; i += 8) {
            int word = r.nextInt(64);
            for (int j = 0; j < 8; j++) {
                b[i + j] = (byte) (word + j * 3 + (int) pfn);
            }
        }
        return b;
    }

    static KdumpBuilder many(int compression) {
        KdumpBuilder b = new KdumpBuilder().maxMapnr(PAGES + 8).compression(compression);
        for (long pfn = 0; pfn < PAGES; pfn++) {
            b.page(pfn, content(pfn));
        }
        return b;
    }

    static byte[] expected(long address, int length) {
        byte[] out = new byte[length];
        for (int done = 0; done < length; ) {
            long a = address + done;
            int within = (int) (a % BS);
            int n = Math.min(length - done, BS - within);
            System.arraycopy(content(a / BS), within, out, done, n);
            done += n;
        }
        return out;
    }

    /** Short reads at random places (mostly near page starts, where prefixes are short), then longer ones. */
    private static void randomReads(MemoryView m, long seed, int count) {
        Random r = new Random(seed);
        for (int i = 0; i < count; i++) {
            long pfn = r.nextInt(PAGES);
            int within = r.nextInt(4) == 0 ? r.nextInt(BS) : r.nextInt(200);
            int length = 1 + (r.nextBoolean() ? r.nextInt(16) : r.nextInt(2 * BS));
            long address = pfn * BS + within;
            length = (int) Math.min(length, (long) PAGES * BS - address);
            byte[] got = new byte[length];
            assertEquals(length, m.read(address, got, 0, length), "read at 0x" + Long.toHexString(address));
            assertArrayEquals(expected(address, length), got, "read of " + length + " at 0x" + Long.toHexString(address));
            long u64 = m.readU64OrElse(address, 0x5a5a5a5aL);
            if (address + 8 <= (long) PAGES * BS) {
                assertEquals(m.readU64(address), u64, "u64 at 0x" + Long.toHexString(address));
            } else {
                assertEquals(0x5a5a5a5aL, u64);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {KdumpHeader.COMPRESSED_ZLIB, KdumpHeader.COMPRESSED_SNAPPY, KdumpHeader.COMPRESSED_ZSTD, 0})
    void partialAndWholeReadsOfManyPagesReturnThePages(int compression) throws IOException {
        try (MemoryImage img = open(many(compression).build())) {
            randomReads(img.memory(), compression, 6000);
            // every page whole, after the prefixes
            for (long pfn = 0; pfn < PAGES; pfn++) {
                assertArrayEquals(content(pfn), img.memory().readBytes(pfn * BS, BS), "pfn " + pfn);
            }
            assertEquals(0x77L, img.memory().readU64OrElse((long) (PAGES + 3) * BS, 0x77L), "absent");
        }
    }

    @Test
    void prefixesGrowOnTheSameStreamAndAfterOtherPages() throws IOException {
        try (MemoryImage img = open(many(KdumpHeader.COMPRESSED_ZLIB).build())) {
            PhysicalMemory m = img.memory();
            // growing reads of one page: the decoder goes on where it stopped
            for (int n : new int[] {1, 8, 63, 64, 65, 300, 1000, 2049, BS}) {
                assertArrayEquals(expected(7 * BS, n), m.readBytes(7 * BS, n), n + " bytes");
            }
            // a prefix of page 1, then another page in between, then more of page 1 (decompressed again)
            for (long other = 2; other < PAGES; other += 3) {
                assertArrayEquals(expected(BS, 16), m.readBytes(BS, 16));
                assertArrayEquals(expected(other * BS + 5, 3), m.readBytes(other * BS + 5, 3));
                assertArrayEquals(expected(BS + 100, 3000), m.readBytes(BS + 100, 3000));
            }
            assertArrayEquals(expected(BS - 3, 6), m.readBytes(BS - 3, 6), "across two pages");
            assertEquals(m.readU64(BS - 3), m.readU64OrElse(BS - 3, 0));
        }
    }

    @Test
    void flattenedRecordsSplittingCompressedPagesReadTheSame() throws IOException {
        // 700-byte records: most compressed pages lie in two or more records and are copied, not read in place
        byte[] flat = KdumpBuilder.flatten(many(KdumpHeader.COMPRESSED_ZLIB).build(), 700, 11);
        try (MemoryImage img = open(flat)) {
            randomReads(img.memory(), 5, 3000);
        }
    }

    /**
     * Corruption at the end of a zlib page (its Adler-32 checksum): the first bytes decompress right and may be
     * returned; reading the whole page fails as it always did, whether the decoder goes on from a prefix or starts over.
     */
    @Test
    void corruptionBeyondAPrefixIsReportedWhenTheWholePageIsRead() throws IOException {
        KdumpBuilder b = many(KdumpHeader.COMPRESSED_ZLIB);
        byte[] dump = b.build();
        long at = b.dataOf.get(2L);
        int size = (int) (b.dataOf.get(3L) - at);
        for (int i = size - 4; i < size; i++) {
            dump[(int) at + i] ^= (byte) 0xa5;
        }
        Path p = Files.createTempFile(dir, "dump", ".kdump");
        Files.write(p, dump);
        try (MemoryImage img = new ImageOpener(List.of(new KdumpProbe()),
                new DecompressedCache(dir.resolve("cache"), 1 << 30)).open(p)) {
            PhysicalMemory m = img.memory();
            assertArrayEquals(expected(2 * BS, 16), m.readBytes(2 * BS, 16), "a prefix before the corruption");
            String first = wholePageError(m, p, at);
            // again, with the decoder on other pages in between: the page is decompressed from its start
            for (long other = 10; other < PAGES; other++) {
                m.readBytes(other * BS, 8);
            }
            assertArrayEquals(expected(2 * BS, 16), m.readBytes(2 * BS, 16));
            m.readBytes(40 * BS, 8);
            assertEquals(first, wholePageError(m, p, at));
            assertArrayEquals(content(1), m.readBytes(BS, BS), "other pages still read");
        }
    }

    private static String wholePageError(PhysicalMemory m, Path file, long at) {
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> m.readBytes(2 * BS, BS));
        BadImageException bad = assertInstanceOf(BadImageException.class, e.getCause());
        assertEquals(file, bad.file());
        assertEquals(at, bad.offset());
        assertTrue(bad.getMessage().contains("pfn 0x2") && bad.getMessage().contains("zlib"), bad.getMessage());
        return bad.getMessage();
    }

    @Test
    void concurrentReadersSeeThePages() throws Exception {
        try (MemoryImage img = open(many(KdumpHeader.COMPRESSED_ZLIB).build())) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    long seed = 100 + t;
                    done.add(pool.submit(() -> randomReads(img.memory(), seed, 1500)));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void readU64OrElseAgreesWithReadAtEveryOffsetOfAPage() throws IOException {
        try (MemoryImage img = open(many(KdumpHeader.COMPRESSED_ZLIB).build())) {
            PhysicalMemory m = img.memory();
            for (long a = 5L * BS - 16; a < 6L * BS + 16; a++) {
                assertEquals(new ByteCopy(m).readU64OrElse(a, -7), m.readU64OrElse(a, -7),
                        "at 0x" + Long.toHexString(a));
            }
            long end = (long) PAGES * BS;
            for (long a = end - 7; a < end + 2; a++) {
                assertEquals(-7L, m.readU64OrElse(a, -7), "runs into absent memory at 0x" + Long.toHexString(a));
            }
            assertEquals(-7L, m.readU64OrElse(-3, -7));
        }
    }

    /** A view that only has {@link MemoryView#read}, so it gets the default readU64OrElse. */
    private record ByteCopy(MemoryView m) implements MemoryView {
        @Override
        public String name() {
            return m.name();
        }

        @Override
        public int read(long address, byte[] dst, int offset, int length) {
            return m.read(address, dst, offset, length);
        }
    }
}
