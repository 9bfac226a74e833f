package dev.sonde.analyzer.memory.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.image.lime.LimeRealImageTestAccess;
import dev.sonde.analyzer.memory.AbsentMemoryException;
import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.MemoryView.ReadRequest;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MeteredTest {

    @Test
    void countsReadsBytesAbsentShortAndFailedReads() {
        SparseMemory sparse = new SparseMemory(new MemoryRange(0x1000, 0x1000));
        Metered m = new Metered(sparse);
        byte[] buf = new byte[0x2000];
        assertEquals(0x100, m.read(0x1000, buf, 0, 0x100)); // whole
        assertEquals(0x10, m.read(0x1ff0, buf, 0, 0x100)); // short
        assertEquals(0, m.read(0x5000, buf, 0, 0x100)); // absent
        assertThrows(AbsentMemoryException.class, () -> m.readU64(0x1ffc)); // short, then readFully gives up
        assertThrows(IndexOutOfBoundsException.class, () -> m.read(0x1000, buf, 0x1f80, 0x100)); // failed
        Metered.Metrics x = m.metrics();
        assertEquals(5, x.reads(), x.toString());
        assertEquals(0, x.batches());
        assertEquals(0x100 * 3 + 8 + 4, x.bytesRequested(), "failed reads are only counted as failed");
        assertEquals(0x100 + 0x10 + 4, x.bytesPresent());
        assertEquals(2, x.absentReads(), "the read at 0x5000 and readFully's second try at 0x2000");
        assertEquals(2, x.shortReads());
        assertEquals(1, x.failedReads());
        assertTrue(x.time().compareTo(Duration.ZERO) > 0);

        List<ReadRequest> batch = List.of(ReadRequest.of(0x1000, 16), ReadRequest.of(0x0, 16), ReadRequest.of(0x1ff8, 16));
        assertArrayEquals(new int[] {16, 0, 8}, m.readBatch(batch));
        Metered.Metrics y = m.metrics().since(x);
        assertEquals(new Metered.Metrics(3, 1, 48, 24, 1, 1, 0, y.time()), y);
        assertTrue(y.toString().contains("3 reads (1 batches), 24 of 48 bytes present"), y.toString());

        m.reset();
        assertEquals(new Metered.Metrics(0, 0, 0, 0, 0, 0, 0, Duration.ZERO), m.metrics());
        m.close();
        assertTrue(sparse.closed);
    }

    @Test
    void batchesReachTheUnderlyingMemoryAsBatches() {
        List<Integer> sizes = new ArrayList<>();
        SparseMemory sparse = new SparseMemory(new MemoryRange(0, 0x10000));
        PhysicalMemory batching = new PhysicalMemory() {
            @Override
            public List<MemoryRange> ranges() {
                return sparse.ranges();
            }

            @Override
            public void close() {
            }

            @Override
            public String name() {
                return "batching";
            }

            @Override
            public int read(long address, byte[] dst, int offset, int length) {
                return sparse.read(address, dst, offset, length);
            }

            @Override
            public int[] readBatch(List<ReadRequest> requests) {
                sizes.add(requests.size());
                return PhysicalMemory.super.readBatch(requests);
            }
        };
        Metered m = new Metered(batching);
        List<ReadRequest> batch = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            batch.add(ReadRequest.of(i * 100L, 50));
        }
        m.readBatch(batch);
        assertEquals(List.of(10), sizes);
        for (ReadRequest q : batch) {
            for (int i = 0; i < 50; i++) {
                assertEquals(SparseMemory.valueAt(q.address() + i), q.dst()[i]);
            }
        }
    }

    @Test
    void defaultBatchedReadFillsEachRequestLikeRead() {
        SparseMemory sparse = new SparseMemory(new MemoryRange(0x100, 0x100), new MemoryRange(0x1000, 0x1000));
        byte[] shared = new byte[64];
        List<ReadRequest> batch = List.of(new ReadRequest(0x1f8, shared, 0, 32), new ReadRequest(0x1000, shared, 32, 32),
                new ReadRequest(0x800, new byte[4], 0, 4));
        assertArrayEquals(new int[] {8, 32, 0}, sparse.readBatch(batch));
        for (int i = 0; i < 8; i++) {
            assertEquals(SparseMemory.valueAt(0x1f8 + i), shared[i]);
        }
        for (int i = 0; i < 32; i++) {
            assertEquals(SparseMemory.valueAt(0x1000 + i), shared[32 + i]);
        }
        assertThrows(IndexOutOfBoundsException.class, () -> new ReadRequest(0, new byte[4], 2, 3));
    }

    @Test
    void meteredReadsOfTheRealCaptureAreTheDirectReads() throws IOException {
        try (MemoryImage img = ImageOpener.standard().open(LimeRealImageTestAccess.realImage())) {
            PhysicalMemory direct = img.memory();
            Metered m = new Metered(direct);
            Random r = new Random(1);
            long present = 0;
            long requested = 0;
            for (int i = 0; i < 2000; i++) {
                long at = (long) (r.nextDouble() * direct.maxAddress() * 1.1);
                int len = 1 + r.nextInt(9000);
                byte[] a = new byte[len];
                byte[] b = new byte[len];
                int n = m.read(at, a, 0, len);
                assertEquals(direct.read(at, b, 0, len), n);
                assertArrayEquals(b, a);
                present += n;
                requested += len;
            }
            Metered.Metrics x = m.metrics();
            assertEquals(2000, x.reads());
            assertEquals(present, x.bytesPresent());
            assertEquals(requested, x.bytesRequested());
            assertTrue(x.absentReads() > 0, "some reads fall past the end: " + x);
        }
    }
}
