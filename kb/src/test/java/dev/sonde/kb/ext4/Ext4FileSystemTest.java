package dev.sonde.kb.ext4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.kb.disk.DiskFormatException;
import dev.sonde.kb.disk.RawImage;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ext4 images made by mkfs.ext4 -d (no mounting): extent trees, htree and inline directories, and damaged ones. */
class Ext4FileSystemTest {
    @TempDir
    Path tmp;

    /** A tree with a fragmented sparse file (over 4 extents: an extent tree of depth 1), a big directory, links. */
    private Path tree() throws Exception {
        Path root = tmp.resolve("root");
        if (Files.isDirectory(root)) {
            return root;
        }
        Files.createDirectories(root);
        byte[] chunk = new byte[8192];
        new Random(7).nextBytes(chunk);
        try (RandomAccessFile f = new RandomAccessFile(root.resolve("sparse.bin").toFile(), "rw")) {
            for (int i = 0; i < 12; i++) {
                f.seek(i * 1_048_576L);
                f.write(chunk);
            }
        }
        Path big = Files.createDirectories(root.resolve("big"));
        for (int i = 0; i < 1500; i++) {
            Files.writeString(big.resolve("entry-with-a-long-name-" + i), "x" + i);
        }
        Files.writeString(root.resolve("small.txt"), "hello");
        Files.writeString(root.resolve("medium.txt"), "m".repeat(100));
        Files.createSymbolicLink(root.resolve("fast"), Path.of("small.txt"));
        Files.createSymbolicLink(root.resolve("slow"), Path.of("big/../" + "a".repeat(80)));
        return root;
    }

    private Path mkfs(Path root, String features) throws Exception {
        Path img = Files.createTempFile(tmp, "fs-", ".img");
        dev.sonde.kb.disk.ToolsAccess.run(tmp, "mkfs.ext4", "-q", "-F", "-b", "4096", "-O", features, "-d", root.toString(), img.toString(), "64M");
        return img;
    }

    @Test
    void readsFilesExtentTreesAndDirectories() throws Exception {
        Path root = tree();
        Path img = mkfs(root, "^inline_data");
        // rebuild directories as hashed (htree) indexes
        dev.sonde.kb.disk.ToolsAccess.run(tmp, "e2fsck", "-fyD", img.toString());
        try (RawImage dev = new RawImage(img)) {
            Ext4FileSystem fs = Ext4FileSystem.open(dev);
            Ext4Inode sparse = fs.resolve("/sparse.bin", true).orElseThrow().inode();
            assertTrue(sparse.hasExtents());
            ByteBuffer b = ByteBuffer.wrap(sparse.raw()).order(ByteOrder.LITTLE_ENDIAN);
            assertTrue(b.getShort(0x28 + 6) > 0, "extent tree of depth > 0");
            assertArrayEquals(Files.readAllBytes(root.resolve("sparse.bin")), fs.readFile(sparse));
            Ext4Inode big = fs.resolve("/big", true).orElseThrow().inode();
            assertTrue((big.flags() & 0x1000) != 0, "an htree-indexed directory");
            Set<String> names = fs.list(big).stream().map(Ext4Entry::name).collect(Collectors.toCollection(TreeSet::new));
            try (var s = Files.list(root.resolve("big"))) {
                assertEquals(s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new)), names);
            }
            assertEquals("x1499", new String(fs.readFile(fs.resolve("/big/entry-with-a-long-name-1499", true).orElseThrow().inode()), StandardCharsets.UTF_8));
            assertEquals("hello", new String(fs.readFile(fs.resolve("/fast", true).orElseThrow().inode()), StandardCharsets.UTF_8));
            assertEquals("big/../" + "a".repeat(80), fs.readLink(fs.resolve("/slow", false).orElseThrow().inode()));
            assertTrue(fs.resolve("/slow", true).isEmpty(), "a dangling symlink resolves to nothing");
        }
    }

    @Test
    void readsInlineData() throws Exception {
        Path root = tree();
        Path img = mkfs(root, "inline_data");
        try (RawImage dev = new RawImage(img)) {
            Ext4FileSystem fs = Ext4FileSystem.open(dev);
            Ext4Inode small = fs.resolve("/small.txt", true).orElseThrow().inode();
            assertTrue(small.hasInlineData());
            assertEquals("hello", new String(fs.readFile(small), StandardCharsets.UTF_8));
            Ext4Inode medium = fs.resolve("/medium.txt", true).orElseThrow().inode();
            assertTrue(medium.hasInlineData(), "100 bytes fit the inode with its system.data attribute");
            assertEquals("m".repeat(100), new String(fs.readFile(medium), StandardCharsets.UTF_8));
        }
    }

    @Test
    void badSuperblockIsAClearError() throws Exception {
        Path img = mkfs(tree(), "^inline_data");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.seek(1024 + 56);
            f.write(new byte[]{0x12, 0x34});
        }
        try (RawImage dev = new RawImage(img)) {
            DiskFormatException e = assertThrows(DiskFormatException.class, () -> Ext4FileSystem.open(dev));
            assertEquals(img + ": offset 0x438: bad superblock: magic 0x3412, not 0xef53 (not an ext2/3/4 file system)", e.getMessage());
        }
        Path img2 = mkfs(tree(), "^inline_data");
        try (RandomAccessFile f = new RandomAccessFile(img2.toFile(), "rw")) {
            f.seek(1024 + 4);
            f.write(new byte[]{(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f});
        }
        try (RawImage dev = new RawImage(img2)) {
            DiskFormatException e = assertThrows(DiskFormatException.class, () -> Ext4FileSystem.open(dev));
            assertTrue(e.getMessage().startsWith(img2 + ": offset 0x404: bad superblock"), e.getMessage());
        }
    }

    @Test
    void loopingExtentTreeIsAClearError() throws Exception {
        Path img = mkfs(tree(), "^inline_data");
        long leaf;
        long inodeOffset;
        try (RawImage dev = new RawImage(img)) {
            Ext4FileSystem fs = Ext4FileSystem.open(dev);
            Ext4Inode sparse = fs.resolve("/sparse.bin", true).orElseThrow().inode();
            ByteBuffer b = ByteBuffer.wrap(sparse.raw()).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(1, b.getShort(0x28 + 6), "depth 1");
            leaf = b.getInt(0x28 + 12 + 4) & 0xffffffffL;
            inodeOffset = sparse.offset();
        }
        // the leaf claims depth 1 and indexes itself
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            ByteBuffer node = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
            node.putShort((short) 0xF30A).putShort((short) 1).putShort((short) 340).putShort((short) 1).putInt(0);
            node.putInt(0).putInt((int) leaf).putShort((short) 0).putShort((short) 0);
            f.seek(leaf * 4096);
            f.write(node.array());
        }
        try (RawImage dev = new RawImage(img)) {
            Ext4FileSystem fs = Ext4FileSystem.open(dev);
            Ext4Inode sparse = fs.resolve("/sparse.bin", true).orElseThrow().inode();
            DiskFormatException e = assertThrows(DiskFormatException.class, () -> fs.readFile(sparse));
            assertTrue(e.getMessage().startsWith(img + ": offset 0x" + Long.toHexString(leaf * 4096 + 6) + ": inode " + sparse.number()),
                    e.getMessage());
            assertTrue(e.getMessage().contains("loop"), e.getMessage());
        }
        assertTrue(inodeOffset > 0);
    }

    @Test
    void directoryEntryPastItsBlockIsAClearError() throws Exception {
        Path img = mkfs(tree(), "^inline_data");
        long block;
        long dirInode;
        try (RawImage dev = new RawImage(img)) {
            Ext4FileSystem fs = Ext4FileSystem.open(dev);
            Ext4Inode root = fs.inode(2);
            ByteBuffer b = ByteBuffer.wrap(root.raw()).order(ByteOrder.LITTLE_ENDIAN);
            block = b.getInt(0x28 + 12 + 8) & 0xffffffffL;
            dirInode = root.number();
        }
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.seek(block * 4096 + 12 + 4); // rec_len of ".."
            f.write(new byte[]{(byte) 0xf0, (byte) 0xff});
        }
        try (RawImage dev = new RawImage(img)) {
            Ext4FileSystem fs = Ext4FileSystem.open(dev);
            DiskFormatException e = assertThrows(DiskFormatException.class, () -> fs.list(fs.inode(2)));
            assertTrue(e.getMessage().contains("directory inode " + dirInode + ": bad entry at byte 12"), e.getMessage());
        }
    }
}
