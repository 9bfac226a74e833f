package dev.sonde.rollback;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The save image header: parsing, the same-length identity rewrite of a copy, and clear errors on bad input. The live
 * tests restore real images rewritten this way; here the byte layout is checked exactly.
 */
class SaveImageTest {
    @TempDir
    Path tmp;

    static byte[] image(String xml, int dataLen, byte[] stream) {
        ByteBuffer b = ByteBuffer.allocate(92 + dataLen + stream.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put("LibvirtQemudSave".getBytes(StandardCharsets.US_ASCII));
        b.putInt(2).putInt(dataLen).putInt(1).putInt(0).putInt(xml.length() + 1);
        b.position(92);
        b.put(xml.getBytes(StandardCharsets.UTF_8));
        b.position(92 + dataLen);
        b.put(stream);
        return b.array();
    }

    @Test
    void copyRewritesNameAndUuidInPlaceAndKeepsEveryOtherByte() throws IOException {
        String xml = "<domain type='qemu'>\n  <name>sonde-debian-1a2b3c4d</name>\n  <uuid>f0cdbe51-4354-48c2-bf1f-e048f7261a1b</uuid>\n</domain>\n";
        byte[] stream = new byte[300_000];
        new java.util.Random(1).nextBytes(stream);
        byte[] orig = image(xml, 4096, stream);
        Path src = tmp.resolve("memory.save");
        Files.write(src, orig);
        SaveImage img = SaveImage.read(src);
        assertEquals("sonde-debian-1a2b3c4d", img.name());
        assertEquals("f0cdbe51-4354-48c2-bf1f-e048f7261a1b", img.uuid());
        assertTrue(img.wasRunning());
        CloneIdentity id = CloneIdentity.forOriginal(img.name(), n -> false);
        assertEquals(img.name().length(), id.name().length());
        Path copy = tmp.resolve("copy.save");
        String sha = SaveImage.copyWithIdentity(src, copy, id.name(), id.uuid());
        assertEquals(dev.sonde.snapshotter.bundle.Sha256.of(src), sha);
        SaveImage c = SaveImage.read(copy);
        assertEquals(id.name(), c.name());
        assertEquals(id.uuid(), c.uuid());
        byte[] out = Files.readAllBytes(copy);
        assertEquals(orig.length, out.length);
        int xmlEnd = 92 + xml.length();
        assertArrayEquals(Arrays.copyOfRange(orig, xmlEnd, orig.length), Arrays.copyOfRange(out, xmlEnd, out.length));
        assertArrayEquals(Arrays.copyOf(orig, 92), Arrays.copyOf(out, 92));
        assertArrayEquals(orig, Files.readAllBytes(src), "the source is never written");
    }

    @Test
    void anotherLengthIsRefused() throws IOException {
        Path src = tmp.resolve("m.save");
        Files.write(src, image("<domain><name>abc</name><uuid>f0cdbe51-4354-48c2-bf1f-e048f7261a1b</uuid></domain>", 512, new byte[10]));
        assertThrows(IllegalArgumentException.class,
                () -> SaveImage.copyWithIdentity(src, tmp.resolve("c"), "abcd", "f0cdbe51-4354-48c2-bf1f-e048f7261a1c"));
    }

    @Test
    void badInputNamesTheFileAndOffset() throws IOException {
        Path partial = tmp.resolve("partial.save");
        byte[] b = image("<domain/>", 64, new byte[0]);
        System.arraycopy("LibvirtQemudPart".getBytes(StandardCharsets.US_ASCII), 0, b, 0, 16);
        Files.write(partial, b);
        IOException e = assertThrows(IOException.class, () -> SaveImage.read(partial));
        assertTrue(e.getMessage().contains(partial + ": offset 0: magic 'LibvirtQemudPart'"), e.getMessage());

        Path huge = tmp.resolve("huge.save");
        byte[] h = image("<domain/>", 64, new byte[0]);
        ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).putInt(20, -1);
        Files.write(huge, h);
        e = assertThrows(IOException.class, () -> SaveImage.read(huge));
        assertTrue(e.getMessage().contains("offset 20: data length 4294967295 out of range"), e.getMessage());

        Path unterminated = tmp.resolve("unterminated.save");
        byte[] u = image("<domain/>", 32, new byte[0]);
        Arrays.fill(u, 92, 92 + 32, (byte) 'x');
        Files.write(unterminated, u);
        e = assertThrows(IOException.class, () -> SaveImage.read(unterminated));
        assertTrue(e.getMessage().contains("not NUL-terminated"), e.getMessage());

        Path shortFile = tmp.resolve("short.save");
        Files.write(shortFile, new byte[10]);
        e = assertThrows(IOException.class, () -> SaveImage.read(shortFile));
        assertTrue(e.getMessage().startsWith(shortFile + ": offset 0: 10 bytes"), e.getMessage());
    }
}
