package dev.sonde.rollback;

import dev.sonde.snapshotter.bundle.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The header of a libvirt QEMU save image ({@code memory.save}): magic {@code LibvirtQemudSave}, version, the length
 * of the data block (the domain XML, NUL-terminated, then the cookie, then padding), then QEMU's migration stream.
 *
 * <p>A clone restored beside its still-running original needs a new name and UUID, and libvirt checks the UUID of a
 * replacement XML against the one in the image header; so Sonde writes a <em>copy</em> of the image whose header XML
 * carries the clone's name and UUID, of the same byte length, so every offset after it stays where it was.
 *
 * @param version     the header version (2)
 * @param dataLength  the length of the data block after the 92-byte header
 * @param wasRunning  whether the guest was running when saved
 * @param compressed  the migration stream's compression (0: raw)
 * @param xml         the domain XML of the data block
 */
public record SaveImage(int version, int dataLength, boolean wasRunning, int compressed, String xml) {
    static final int HEADER_SIZE = 16 + 4 * 19;
    static final String MAGIC = "LibvirtQemudSave";
    /** Bounds the data block read from a file Sonde did not write (libvirt pads it to 64 KiB plus the XML). */
    static final int MAX_DATA = 16 << 20;

    /** Reads the header and XML of {@code file}; a clear error naming the file and offset when it is not one. */
    public static SaveImage read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] h = in.readNBytes(HEADER_SIZE);
            if (h.length < HEADER_SIZE) {
                throw new IOException(file + ": offset 0: " + h.length + " bytes, too short for a libvirt save image header");
            }
            String magic = new String(h, 0, 16, StandardCharsets.US_ASCII);
            if (!magic.equals(MAGIC)) {
                throw new IOException(file + ": offset 0: magic '" + printable(magic) + "', not a complete libvirt save image ("
                        + MAGIC + ")");
            }
            ByteBuffer b = ByteBuffer.wrap(h, 16, HEADER_SIZE - 16).order(ByteOrder.LITTLE_ENDIAN);
            int version = b.getInt();
            int dataLen = b.getInt();
            int wasRunning = b.getInt();
            int compressed = b.getInt();
            if (version < 1 || version > 3) {
                throw new IOException(file + ": offset 16: unsupported save image version " + version);
            }
            if (dataLen <= 0 || dataLen > MAX_DATA) {
                throw new IOException(file + ": offset 20: data length " + Integer.toUnsignedString(dataLen)
                        + " out of range (1.." + MAX_DATA + ")");
            }
            byte[] data = in.readNBytes(dataLen);
            if (data.length < dataLen) {
                throw new IOException(file + ": offset " + HEADER_SIZE + ": data block cut short (" + data.length + " of "
                        + dataLen + " bytes)");
            }
            int end = 0;
            while (end < data.length && data[end] != 0) {
                end++;
            }
            if (end == data.length) {
                throw new IOException(file + ": offset " + HEADER_SIZE + ": domain XML not NUL-terminated within "
                        + dataLen + " bytes");
            }
            return new SaveImage(version, dataLen, wasRunning != 0, compressed,
                    new String(data, 0, end, StandardCharsets.UTF_8));
        }
    }

    /** The {@code <name>} of the header XML. */
    public String name() {
        return element("name");
    }

    /** The {@code <uuid>} of the header XML. */
    public String uuid() {
        return element("uuid");
    }

    private String element(String tag) {
        Matcher m = Pattern.compile("<" + tag + ">([^<]*)</" + tag + ">").matcher(xml);
        if (!m.find()) {
            throw new IllegalStateException("save image XML has no <" + tag + ">");
        }
        return m.group(1);
    }

    /**
     * The header XML with the first {@code <name>} and {@code <uuid>} replaced; the result has the same UTF-8 length.
     *
     * @throws IllegalArgumentException when the new name's length differs
     */
    public String xmlWithIdentity(String newName, String newUuid) {
        String oldName = name();
        if (newName.getBytes(StandardCharsets.UTF_8).length != oldName.getBytes(StandardCharsets.UTF_8).length
                || newUuid.length() != uuid().length()) {
            throw new IllegalArgumentException("clone name/UUID must have the original's length (" + oldName + ")");
        }
        String x = xml.replaceFirst("<name>" + Pattern.quote(oldName) + "</name>", Matcher.quoteReplacement("<name>" + newName + "</name>"));
        x = x.replaceFirst("<uuid>" + Pattern.quote(uuid()) + "</uuid>", "<uuid>" + newUuid + "</uuid>");
        if (x.getBytes(StandardCharsets.UTF_8).length != xml.getBytes(StandardCharsets.UTF_8).length) {
            throw new IllegalStateException("rewritten XML changed length");
        }
        return x;
    }

    /**
     * Copies {@code source} to {@code target} (created, must not exist) with the header XML's name and UUID replaced,
     * hashing the source bytes as they are read. Returns the source's SHA-256 (hex), for the caller to check against
     * the bundle's manifest: the clone then provably starts from the evidence's bytes.
     */
    public static String copyWithIdentity(Path source, Path target, String newName, String newUuid) throws IOException {
        SaveImage img = read(source);
        byte[] oldXml = img.xml().getBytes(StandardCharsets.UTF_8);
        byte[] newXml = img.xmlWithIdentity(newName, newUuid).getBytes(StandardCharsets.UTF_8);
        MessageDigest sha = Sha256.newDigest();
        try (InputStream in = Files.newInputStream(source);
             OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            byte[] head = in.readNBytes(HEADER_SIZE + oldXml.length);
            sha.update(head);
            System.arraycopy(newXml, 0, head, HEADER_SIZE, newXml.length);
            out.write(head);
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
                out.write(buf, 0, n);
            }
        }
        return Sha256.hex(sha.digest());
    }

    private static String printable(String s) {
        return s.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
