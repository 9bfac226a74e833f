package dev.sonde.kb.disk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** qcow2 images made by qemu-img and qemu-io: contents, compression, backing chains and malformed headers. */
class Qcow2ImageTest {
    @TempDir
    Path tmp;

    private byte[] rawImage(Path raw, int mb) throws Exception {
        byte[] data = new byte[mb << 20];
        Random r = new Random(42);
        for (int i = 0; i < data.length; i += 4096) {
            if ((i / 4096) % 3 != 0) {
                // compressible text-like pages and zero pages mixed
                for (int k = 0; k < 4096; k++) {
                    data[i + k] = (byte) ('a' + r.nextInt(4));
                }
            }
        }
        Files.write(raw, data);
        return data;
    }

    private static byte[] readAll(BlockDevice d) throws Exception {
        return d.read(0, (int) d.size());
    }

    @Test
    void zlibAndZstdCompressedClustersReadAsTheRawImage() throws Exception {
        Path raw = tmp.resolve("disk.raw");
        byte[] data = rawImage(raw, 4);
        Tools.run(tmp, "qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", "disk.raw", "z.qcow2");
        Tools.run(tmp, "qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", "-o", "compression_type=zstd", "disk.raw", "zstd.qcow2");
        Tools.run(tmp, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=4096", "disk.raw", "small.qcow2");
        for (String f : new String[]{"z.qcow2", "zstd.qcow2", "small.qcow2"}) {
            try (Qcow2Image q = Qcow2Image.open(tmp.resolve(f))) {
                assertArrayEquals(data, readAll(q), f);
            }
        }
    }

    @Test
    void backingChainReadsThroughToTheBase() throws Exception {
        Path raw = tmp.resolve("disk.raw");
        byte[] data = rawImage(raw, 2);
        Tools.run(tmp, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", "disk.raw", "base.qcow2");
        Tools.run(tmp, "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "base.qcow2", "mid.qcow2");
        Tools.run(tmp, "qemu-io", "-c", "write -P 0xab 65536 4096", "mid.qcow2");
        Tools.run(tmp, "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "mid.qcow2", "top.qcow2");
        Tools.run(tmp, "qemu-io", "-c", "write -z 131072 65536", "top.qcow2");
        for (int i = 65536; i < 65536 + 4096; i++) {
            data[i] = (byte) 0xab;
        }
        java.util.Arrays.fill(data, 131072, 131072 + 65536, (byte) 0);
        try (Qcow2Image q = Qcow2Image.open(tmp.resolve("top.qcow2"))) {
            assertArrayEquals(data, readAll(q));
        }
    }

    @Test
    void backingFileLoopIsAClearError() throws Exception {
        Tools.run(tmp, "qemu-img", "create", "-q", "-f", "qcow2", "-u", "-F", "qcow2", "-b", "b.qcow2", "a.qcow2", "1M");
        Tools.run(tmp, "qemu-img", "create", "-q", "-f", "qcow2", "-u", "-F", "qcow2", "-b", "a.qcow2", "b.qcow2", "1M");
        DiskFormatException e = assertThrows(DiskFormatException.class, () -> Qcow2Image.open(tmp.resolve("a.qcow2")));
        assertTrue(e.getMessage().contains("b.qcow2") && e.getMessage().contains("offset 0x8") && e.getMessage().contains("loop"), e.getMessage());
    }

    @Test
    void backingFileOutsideTheBundleIsRefused() throws Exception {
        Path outside = tmp.resolve("outside.qcow2");
        Tools.run(tmp, "qemu-img", "create", "-q", "-f", "qcow2", "outside.qcow2", "1M");
        Path bundle = Files.createDirectory(tmp.resolve("bundle"));
        Tools.run(bundle, "qemu-img", "create", "-q", "-f", "qcow2", "-u", "-F", "qcow2", "-b", outside.toString(), "disk-vda.qcow2", "1M");
        Files.writeString(bundle.resolve("manifest.json"), "{\"format\":\"sonde-evidence-bundle\",\"version\":1,"
                + "\"disks\":[{\"target\":\"vda\",\"layers\":[{\"file\":\"disk-vda.qcow2\",\"format\":\"qcow2\"}]}]}");
        DiskFormatException e = assertThrows(DiskFormatException.class, () -> GuestDisk.open(bundle));
        assertTrue(e.getMessage().contains("disk-vda.qcow2") && e.getMessage().contains("outside the bundle")
                && e.getMessage().contains("offset 0x"), e.getMessage());
        // the same through a relative name
        Tools.run(bundle, "qemu-img", "create", "-q", "-f", "qcow2", "-u", "-F", "qcow2", "-b", "../outside.qcow2", "disk-vda.qcow2", "1M");
        DiskFormatException e2 = assertThrows(DiskFormatException.class, () -> GuestDisk.open(bundle));
        assertTrue(e2.getMessage().contains("outside the bundle"), e2.getMessage());
    }

    @Test
    void bundleLayersFollowTheManifestNotTheHostPathsInTheirHeaders() throws Exception {
        Path raw = tmp.resolve("disk.raw");
        byte[] data = rawImage(raw, 1);
        Tools.run(tmp, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", "disk.raw", "base.qcow2");
        Tools.run(tmp, "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", tmp.resolve("base.qcow2").toString(), "top.qcow2");
        Tools.run(tmp, "qemu-io", "-c", "write -P 0x5a 0 4096", "top.qcow2");
        java.util.Arrays.fill(data, 0, 4096, (byte) 0x5a);
        // as the snapshotter copies them: the top layer's header still names the host path of its backing file
        Path bundle = Files.createDirectory(tmp.resolve("bundle"));
        Files.copy(tmp.resolve("top.qcow2"), bundle.resolve("disk-vda.0.qcow2"));
        Files.copy(tmp.resolve("base.qcow2"), bundle.resolve("disk-vda.1.qcow2"));
        Files.delete(tmp.resolve("base.qcow2"));
        Files.writeString(bundle.resolve("manifest.json"), "{\"disks\":[{\"target\":\"vda\",\"layers\":["
                + "{\"file\":\"disk-vda.0.qcow2\",\"format\":\"qcow2\",\"backingFile\":\"disk-vda.1.qcow2\"},"
                + "{\"file\":\"disk-vda.1.qcow2\",\"format\":\"qcow2\"}]}]}");
        try (BlockDevice d = GuestDisk.open(bundle)) {
            assertArrayEquals(data, readAll(d));
        }
    }

    @Test
    void malformedHeadersAreClearErrors() throws Exception {
        Tools.run(tmp, "qemu-img", "create", "-q", "-f", "qcow2", "good.qcow2", "64M");
        byte[] good = Files.readAllBytes(tmp.resolve("good.qcow2"));

        Path l1 = tmp.resolve("l1.qcow2");
        Files.write(l1, good);
        try (RandomAccessFile f = new RandomAccessFile(l1.toFile(), "rw")) {
            f.seek(40);
            f.writeLong(1L << 40); // L1 table far past the end of the file
        }
        DiskFormatException e = assertThrows(DiskFormatException.class, () -> Qcow2Image.open(l1));
        assertTrue(e.getMessage().startsWith(l1 + ": offset 0x28: L1 table"), e.getMessage());

        Path bits = tmp.resolve("bits.qcow2");
        Files.write(bits, good);
        try (RandomAccessFile f = new RandomAccessFile(bits.toFile(), "rw")) {
            f.seek(20);
            f.writeInt(40);
        }
        e = assertThrows(DiskFormatException.class, () -> Qcow2Image.open(bits));
        assertTrue(e.getMessage().startsWith(bits + ": offset 0x14: cluster_bits 40"), e.getMessage());

        Path truncated = tmp.resolve("truncated.qcow2");
        Files.write(truncated, java.util.Arrays.copyOf(good, 50));
        e = assertThrows(DiskFormatException.class, () -> Qcow2Image.open(truncated));
        assertTrue(e.getMessage().contains("too small"), e.getMessage());
    }

    @Test
    void dataClusterOutsideTheFileIsAClearErrorOnRead() throws Exception {
        Path raw = tmp.resolve("disk.raw");
        rawImage(raw, 1);
        Tools.run(tmp, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", "disk.raw", "d.qcow2");
        Path d = tmp.resolve("d.qcow2");
        long l2;
        try (RandomAccessFile f = new RandomAccessFile(d.toFile(), "rw")) {
            f.seek(40);
            long l1 = f.readLong();
            f.seek(l1);
            l2 = f.readLong() & 0x00ff_ffff_ffff_fe00L;
            f.seek(l2);
            f.writeLong((1L << 63) | (1L << 45)); // cluster 0 at 32 TiB
        }
        try (Qcow2Image q = Qcow2Image.open(d)) {
            DiskFormatException e = assertThrows(DiskFormatException.class, () -> q.read(0, 512));
            assertTrue(e.getMessage().startsWith(d + ": offset 0x" + Long.toHexString(l2) + ": L2 entry for guest cluster 0"), e.getMessage());
        }
    }
}
