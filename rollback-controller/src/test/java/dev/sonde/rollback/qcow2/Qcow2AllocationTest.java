package dev.sonde.rollback.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.snapshotter.testing.Host;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Allocated ranges of overlays written by real qemu-io, against what was written. */
class Qcow2AllocationTest {
    @TempDir
    Path tmp;

    @Test
    void overlayHoldsExactlyTheClustersWrittenThroughIt() throws IOException {
        Path base = tmp.resolve("base.qcow2");
        Path top = tmp.resolve("top.qcow2");
        Host.run(List.of("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "64M"));
        Host.run(List.of("qemu-io", "-c", "write -P 0x11 0 1M", base.toString()));
        Host.run(List.of("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base.toString(), top.toString()));
        assertEquals(0, Qcow2Allocation.read(top).ranges().size());
        Host.run(List.of("qemu-io", "-c", "write -P 0x22 128k 64k", "-c", "write -P 0x33 10M 192k",
                "-c", "write -z 20M 64k", "-c", "write -P 0x44 63M 1M", top.toString()));
        Qcow2Allocation a = Qcow2Allocation.read(top);
        assertEquals(64L << 20, a.virtualSize());
        assertEquals(65536, a.clusterSize());
        assertEquals(base.toString(), a.backingFile());
        assertEquals(List.of(new Qcow2Allocation.Range(128 << 10, 64 << 10, false),
                new Qcow2Allocation.Range(10 << 20, 192 << 10, false),
                new Qcow2Allocation.Range(20 << 20, 64 << 10, true),
                new Qcow2Allocation.Range(63 << 20, 1 << 20, false)), a.ranges());
        assertEquals((64 + 192 + 64 + 1024) << 10, a.allocatedBytes());
    }

    @Test
    void corruptTablesAreReportedWithFileAndOffset() throws IOException {
        Path img = tmp.resolve("c.qcow2");
        Host.run(List.of("qemu-img", "create", "-q", "-f", "qcow2", img.toString(), "16M"));
        Host.run(List.of("qemu-io", "-c", "write 0 64k", img.toString()));
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            ByteBuffer l1 = ByteBuffer.allocate(8);
            ch.read(l1, 40);
            long l1Off = l1.flip().getLong();
            ch.write(ByteBuffer.allocate(8).putLong(0, (1L << 63) | (1L << 40)), l1Off); // L2 table far past the end
        }
        IOException e = assertThrows(IOException.class, () -> Qcow2Allocation.read(img));
        assertTrue(e.getMessage().startsWith(img + ": offset "), e.getMessage());
        assertTrue(e.getMessage().contains("past the end of the file"), e.getMessage());

        Path notQcow = tmp.resolve("raw.img");
        Files.write(notQcow, new byte[512]);
        e = assertThrows(IOException.class, () -> Qcow2Allocation.read(notQcow));
        assertTrue(e.getMessage().contains("offset 0: not a qcow2 image"), e.getMessage());
    }
}
