package dev.sonde.analyzer.image.savefile;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.MappedFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The libvirt header of a QEMU save image ({@code virsh save}, {@code virsh managedsave}, or the memory file of an
 * external snapshot): {@code virQEMUSaveHeader}, 92 bytes in the host's byte order (little-endian here; big-endian
 * headers are recognised by their version), then {@code data_len} bytes holding the domain XML (NUL-terminated), an
 * optional save cookie at {@code cookieOffset}, and zero padding. The QEMU migration stream follows, possibly
 * compressed as a whole by the program {@code format} names.
 *
 * <pre>
 *   0  char     magic[16]     "LibvirtQemudSave" ("LibvirtQemudPart" while libvirt is still writing)
 *  16  uint32   version       2 (1 in images from before libvirt 0.9.x: never compressed)
 *  20  uint32   data_len      XML + cookie + padding (libvirt pads 64 KiB so the XML can be edited in place)
 *  24  uint32   was_running   the domain was running when saved
 *  28  uint32   format        0 raw, 1 gzip, 2 bzip2, 3 xz, 4 lzop, 5 zstd, 6 sparse (mapped-ram)
 *  32  uint32   cookieOffset  offset of the cookie in the data, 0 when none
 *  36  uint32   unused[14]
 * </pre>
 *
 * @param file          the image
 * @param bigEndian     true when the header was written by a big-endian host
 * @param version       header version
 * @param dataLength    {@code data_len}
 * @param wasRunning    {@code was_running}
 * @param format        {@code format}, see {@link #formatName()}
 * @param cookieOffset  {@code cookieOffset}
 * @param domainXml     the domain XML libvirt stored
 * @param cookie        the save cookie (libvirt's XML of CPU and other migratable details), when present
 * @param streamOffset  where the QEMU migration stream starts in the file
 */
public record SaveImageHeader(Path file, boolean bigEndian, int version, long dataLength, boolean wasRunning, int format,
                              long cookieOffset, String domainXml, Optional<String> cookie, long streamOffset) {
    public static final String MAGIC = "LibvirtQemudSave";
    public static final String PARTIAL_MAGIC = "LibvirtQemudPart";
    public static final int HEADER_SIZE = 92;
    /** Real headers hold some KiB of XML plus 64 KiB of padding; more than this is corruption. */
    public static final long MAX_DATA_LENGTH = 64L << 20;
    static final String[] FORMATS = {"raw", "gzip", "bzip2", "xz", "lzop", "zstd", "sparse"};
    private static final Pattern MACHINE = Pattern.compile("<type\\b[^>]*\\bmachine\\s*=\\s*['\"]([^'\"]+)['\"]");

    /** The name libvirt gives {@link #format}, e.g. {@code "gzip"}. */
    public String formatName() {
        return format >= 0 && format < FORMATS.length ? FORMATS[format] : "unknown format " + format;
    }

    /** True when the migration stream is compressed as a whole. */
    public boolean compressed() {
        return version >= 2 && format != 0;
    }

    /** The machine type the domain XML names, e.g. {@code pc-i440fx-7.2}. */
    public Optional<String> machineType() {
        Matcher m = MACHINE.matcher(domainXml);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** Reads the header of a save image, without indexing the memory (e.g. to print the domain XML). */
    public static SaveImageHeader read(Path file) throws IOException {
        try (MappedFile f = MappedFile.open(file)) {
            return read(f).orElseThrow(() -> new BadImageException(file, 0, "not a libvirt save image (no "
                    + MAGIC + " magic)"));
        }
    }

    /** The header, or empty when the file does not start with a libvirt save magic. */
    static Optional<SaveImageHeader> read(MappedFile f) throws BadImageException {
        if (f.length() < 16) {
            return Optional.empty();
        }
        String magic = new String(f.bytes(0, 16, "magic"), StandardCharsets.ISO_8859_1);
        if (magic.equals(PARTIAL_MAGIC)) {
            throw new BadImageException(f.path(), 0, "incomplete save image (magic " + PARTIAL_MAGIC
                    + "): libvirt did not finish writing it, so the memory in it cannot be trusted");
        }
        if (!magic.equals(MAGIC)) {
            return Optional.empty();
        }
        f.check(0, HEADER_SIZE, "libvirt save header (virQEMUSaveHeader)");
        boolean big = false;
        long version = f.u32(16, "version");
        if (version > 2 && Integer.toUnsignedLong(Integer.reverseBytes((int) version)) <= 2) {
            big = true;
            version = Integer.toUnsignedLong(Integer.reverseBytes((int) version));
        }
        if (version < 1 || version > 2) {
            throw new BadImageException(f.path(), 16, "save image version " + version + " is not supported (1 or 2 expected)");
        }
        long dataLength = u32(f, 20, big, "data_len");
        long wasRunning = u32(f, 24, big, "was_running");
        long format = u32(f, 28, big, "format");
        long cookieOffset = u32(f, 32, big, "cookieOffset");
        if (dataLength == 0 || dataLength > MAX_DATA_LENGTH) {
            throw new BadImageException(f.path(), 20, "data_len " + dataLength + " (domain XML and cookie) is not plausible");
        }
        f.check(HEADER_SIZE, dataLength, "domain XML of data_len " + dataLength);
        if (format >= FORMATS.length) {
            throw new BadImageException(f.path(), 28, "unknown save image format " + format);
        }
        if (cookieOffset >= dataLength) {
            throw new BadImageException(f.path(), 32, "cookieOffset " + cookieOffset + " lies beyond data_len " + dataLength);
        }
        long xmlLength = cookieOffset > 0 ? cookieOffset : dataLength;
        byte[] xmlBytes = f.bytes(HEADER_SIZE, (int) xmlLength, "domain XML");
        String xml = cString(xmlBytes);
        if (!xml.stripLeading().startsWith("<")) {
            throw new BadImageException(f.path(), HEADER_SIZE, "the domain XML area does not hold XML");
        }
        Optional<String> cookie = Optional.empty();
        if (cookieOffset > 0) {
            byte[] c = f.bytes(HEADER_SIZE + cookieOffset, (int) (dataLength - cookieOffset), "save cookie");
            String s = cString(c);
            cookie = s.isEmpty() ? Optional.empty() : Optional.of(s);
        }
        return Optional.of(new SaveImageHeader(f.path(), big, (int) version, dataLength, wasRunning != 0, (int) format,
                cookieOffset, xml, cookie, HEADER_SIZE + dataLength));
    }

    private static long u32(MappedFile f, long offset, boolean big, String what) throws BadImageException {
        long v = f.u32(offset, what);
        return big ? Integer.toUnsignedLong(Integer.reverseBytes((int) v)) : v;
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(Arrays.copyOf(b, n), StandardCharsets.UTF_8);
    }
}
