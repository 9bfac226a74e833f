package dev.sonde.analyzer.image.savefile;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.MappedFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One sequential pass over a QEMU migration stream (version 3, as QEMU 2.x to 9.x write it) that indexes where every
 * RAM page is, without copying page data.
 *
 * <p>Stream layout: big-endian {@code QEVM} magic and version 3; an optional {@code QEMU_VM_CONFIGURATION} section
 * (machine type, then subsections: target page bits, validated capabilities, UUID); then sections, each a type byte,
 * a section id, for START/FULL the id string, instance id and version, then the section's data and, on machine types
 * that enable it, a footer ({@code 0x7e} + section id). The "ram" section (version 4) is iterative: START carries the
 * RAM block list ({@code RAM_SAVE_FLAG_MEM_SIZE}: total, then per block a length-prefixed name and a length), then
 * START/PART/END carry page records: a big-endian 64-bit word of page offset | flags, the block name unless
 * {@code CONTINUE}, then a fill byte ({@code ZERO}) or a page of data ({@code PAGE}), until {@code EOS}.
 *
 * <p>Device state is not self-delimiting: its layout is only described by the JSON at the end of the stream. QEMU
 * sends all iterative sections (ram) before the non-iterative device sections, and for a save the last RAM END comes
 * before any device FULL section, so the pass stops at the first device section after RAM ended. It then only looks
 * for the {@code vmcoreinfo} device's section (a fixed 17-byte layout) to find the guest's VMCOREINFO note. A device
 * section before the end of RAM, an iterative section other than ram, or a page encoding a file cannot hold (XBZRLE,
 * compressed pages, RDMA hooks) is an error.
 */
final class MigrationStream {
    static final int QEVM_MAGIC = 0x5145564D;
    static final int QEVM_VERSION = 3;

    static final int QEMU_VM_EOF = 0x00;
    static final int QEMU_VM_SECTION_START = 0x01;
    static final int QEMU_VM_SECTION_PART = 0x02;
    static final int QEMU_VM_SECTION_END = 0x03;
    static final int QEMU_VM_SECTION_FULL = 0x04;
    static final int QEMU_VM_SUBSECTION = 0x05;
    static final int QEMU_VM_VMDESCRIPTION = 0x06;
    static final int QEMU_VM_CONFIGURATION = 0x07;
    static final int QEMU_VM_COMMAND = 0x08;
    static final int QEMU_VM_SECTION_FOOTER = 0x7e;

    static final int RAM_SAVE_FLAG_FULL = 0x01;
    static final int RAM_SAVE_FLAG_ZERO = 0x02;
    static final int RAM_SAVE_FLAG_MEM_SIZE = 0x04;
    static final int RAM_SAVE_FLAG_PAGE = 0x08;
    static final int RAM_SAVE_FLAG_EOS = 0x10;
    static final int RAM_SAVE_FLAG_CONTINUE = 0x20;
    static final int RAM_SAVE_FLAG_XBZRLE = 0x40;
    static final int RAM_SAVE_FLAG_HOOK = 0x80;
    static final int RAM_SAVE_FLAG_COMPRESS_PAGE = 0x100;
    static final int RAM_SAVE_FLAG_MULTIFD_FLUSH = 0x200;
    static final int RAM_SECTION_VERSION = 4;

    /** 64 TiB: more guest RAM than that is corruption. */
    static final long MAX_RAM = 1L << 46;
    /** How far after the RAM section to look for the vmcoreinfo device's state. */
    static final int DEVICE_SCAN = 16 << 20;
    static final byte[] VMCOREINFO_ID = "\nvmcoreinfo".getBytes(StandardCharsets.US_ASCII);

    /** The data ran out: truncation, reported as an error or a warning depending on how far the pass got. */
    private static final class Truncated extends Exception {
        final long at;
        final String what;

        Truncated(long at, String what) {
            super(what, null, false, false);
            this.at = at;
            this.what = what;
        }
    }

    private final Path reportFile;
    private final String offsetNote;
    private final MappedFile s;
    private final long end;
    private final byte[] buf = new byte[256];
    private long p;

    String machineType;
    int pageShift = 12;
    boolean ignoreShared;
    final List<String> capabilities = new ArrayList<>();
    final Map<String, RamBlockIndex> blocks = new LinkedHashMap<>();
    private RamBlockIndex last;
    private long ramSectionId = -1;
    private boolean blockListComplete;
    boolean ramEnded;
    /** Guest physical address and size of the VMCOREINFO note, from the vmcoreinfo device; -1 when unknown. */
    long vmcoreinfoAddress = -1;
    long vmcoreinfoSize;
    final List<String> warnings = new ArrayList<>();

    private MigrationStream(Path reportFile, String offsetNote, MappedFile s, long base) {
        this.reportFile = reportFile;
        this.offsetNote = offsetNote;
        this.s = s;
        this.end = s.length();
        this.p = base;
    }

    /**
     * Indexes the stream starting at {@code base} of {@code stream}.
     *
     * @param reportFile the file to name in errors (the image the user opened)
     * @param offsetNote appended to error messages to say what the offsets refer to (empty for a raw stream, whose
     *                   offsets are file offsets)
     */
    static MigrationStream index(Path reportFile, String offsetNote, MappedFile stream, long base)
            throws BadImageException {
        MigrationStream m = new MigrationStream(reportFile, offsetNote, stream, base);
        m.run();
        return m;
    }

    private BadImageException bad(long at, String problem) {
        return new BadImageException(reportFile, at, problem + offsetNote);
    }

    private void run() throws BadImageException {
        try {
            long magic = be32("migration stream magic");
            if (magic != QEVM_MAGIC) {
                throw bad(p - 4, String.format("no QEMU migration stream here (magic 0x%08x, expected QEVM 0x%08x)",
                        magic, QEVM_MAGIC));
            }
            long version = be32("migration stream version");
            if (version != QEVM_VERSION) {
                throw bad(p - 4, "migration stream version " + version + " is not supported (3 expected)");
            }
            sections();
        } catch (Truncated t) {
            if (!blockListComplete) {
                throw bad(t.at, "migration stream truncated in " + t.what + " (it ends at 0x" + Long.toHexString(end) + ")");
            }
            warnings.add(String.format("migration stream truncated at offset 0x%x in %s%s: RAM pages after that "
                    + "point are absent", t.at, t.what, offsetNote));
        }
        for (RamBlockIndex b : blocks.values()) {
            long missing = b.pages() - b.sent();
            if (missing > 0) {
                warnings.add(String.format("RAM block '%s': %d of %d pages not in the stream (absent)",
                        b.id, missing, b.pages()));
            }
        }
    }

    private void sections() throws BadImageException, Truncated {
        while (true) {
            long at = p;
            int type = u8("section type");
            switch (type) {
                case QEMU_VM_EOF -> {
                    if (ramSectionId < 0) {
                        throw bad(at, "the migration stream ends without a RAM section");
                    }
                    if (!ramEnded) {
                        warnings.add("the migration stream ends before the end of its RAM section");
                    }
                    return;
                }
                case QEMU_VM_CONFIGURATION -> configuration();
                case QEMU_VM_SECTION_START, QEMU_VM_SECTION_FULL -> {
                    long id = be32("section id");
                    String name = idstr("section name");
                    long instance = be32("section instance id");
                    long version = be32("section version id");
                    if (name.equals("ram") && type == QEMU_VM_SECTION_START && instance == 0) {
                        if (ramSectionId >= 0) {
                            throw bad(at, "a second RAM section starts");
                        }
                        if (version != RAM_SECTION_VERSION) {
                            throw bad(at, "RAM section version " + version + " is not supported (4 expected)");
                        }
                        ramSectionId = id;
                        ramData();
                        footer(id);
                    } else if (type == QEMU_VM_SECTION_FULL && ramEnded) {
                        deviceState(at);
                        return;
                    } else if (type == QEMU_VM_SECTION_FULL) {
                        throw bad(at, "device section '" + name + "' comes before the end of the RAM section; device state "
                                + "has no recorded length, so the RAM after it cannot be reached");
                    } else {
                        throw bad(at, "iterative section '" + name + "' (not RAM) is not supported: its data cannot be skipped");
                    }
                }
                case QEMU_VM_SECTION_PART, QEMU_VM_SECTION_END -> {
                    long id = be32("section id");
                    if (id != ramSectionId) {
                        throw bad(at, "section " + id + " continues, but only the RAM section (" + ramSectionId
                                + ") can be followed");
                    }
                    ramData();
                    footer(id);
                    if (type == QEMU_VM_SECTION_END) {
                        ramEnded = true;
                    }
                }
                case QEMU_VM_COMMAND -> {
                    be16("command");
                    int len = be16("command length");
                    need(len, "command data");
                    p += len;
                }
                default -> throw bad(at, String.format("unknown migration section type 0x%02x", type));
            }
        }
    }

    private void configuration() throws BadImageException, Truncated {
        long at = p;
        long len = be32("machine type length");
        if (len == 0 || len > 255) {
            throw bad(at, "configuration section machine type of " + len + " bytes is not plausible");
        }
        machineType = string((int) len, "machine type");
        while (peek() == QEMU_VM_SUBSECTION) {
            long sub = p;
            p++;
            String name = idstr("configuration subsection name");
            be32("subsection version");
            switch (name) {
                case "configuration/target-page-bits" -> {
                    long bits = be32("target page bits");
                    if (bits < 10 || bits > 16) {
                        throw bad(sub, "target page bits " + bits + " is not plausible");
                    }
                    pageShift = (int) bits;
                }
                case "configuration/capabilities" -> {
                    long n = be32("capability count");
                    if (n > 256) {
                        throw bad(sub, n + " migration capabilities is not plausible");
                    }
                    for (long i = 0; i < n; i++) {
                        String cap = idstr("capability name");
                        capabilities.add(cap);
                        if (cap.equals("x-ignore-shared")) {
                            ignoreShared = true;
                        } else if (cap.equals("mapped-ram")) {
                            throw bad(sub, "mapped-ram migration streams (libvirt 'sparse' save format) are not supported");
                        }
                    }
                }
                case "configuration/uuid" -> {
                    need(16, "UUID");
                    p += 16;
                }
                default -> throw bad(sub, "unknown configuration subsection '" + name
                        + "': its layout is unknown, so the stream cannot be followed");
            }
        }
    }

    private void ramData() throws BadImageException, Truncated {
        long pageSize = 1L << pageShift;
        long pageMask = pageSize - 1;
        while (true) {
            long at = p;
            long record = be64("RAM record header");
            int flags = (int) (record & pageMask);
            long offset = record & ~pageMask;
            int kind = flags & ~RAM_SAVE_FLAG_CONTINUE;
            switch (kind) {
                case RAM_SAVE_FLAG_MEM_SIZE -> blockList(offset, at);
                case RAM_SAVE_FLAG_ZERO, RAM_SAVE_FLAG_PAGE -> {
                    RamBlockIndex b;
                    if ((flags & RAM_SAVE_FLAG_CONTINUE) != 0) {
                        if (last == null) {
                            throw bad(at, "RAM page continues a block, but no block was named before");
                        }
                        b = last;
                    } else {
                        String id = idstr("RAM block name");
                        b = blocks.get(id);
                        if (b == null) {
                            throw bad(at, "page of RAM block '" + id + "', which the RAM block list does not announce");
                        }
                        last = b;
                    }
                    if (offset < 0 || offset >= b.length) {
                        throw bad(at, String.format("page at offset 0x%x lies beyond the end of RAM block '%s' (0x%x bytes)",
                                offset, b.id, b.length));
                    }
                    if (kind == RAM_SAVE_FLAG_ZERO) {
                        int fill = u8("zero page fill byte");
                        b.set(offset >>> pageShift, -(fill + 1L));
                    } else {
                        need(pageSize, "RAM page data");
                        b.set(offset >>> pageShift, p);
                        p += pageSize;
                    }
                }
                case RAM_SAVE_FLAG_EOS -> {
                    return;
                }
                case RAM_SAVE_FLAG_MULTIFD_FLUSH -> {
                    // a synchronisation point without data
                }
                case RAM_SAVE_FLAG_XBZRLE -> throw bad(at, "XBZRLE-encoded RAM page (a delta against an earlier copy): "
                        + "not supported, and a save image should not contain one");
                case RAM_SAVE_FLAG_COMPRESS_PAGE -> throw bad(at, "compressed RAM page (migration 'compress' capability): "
                        + "not supported");
                case RAM_SAVE_FLAG_HOOK -> throw bad(at, "RAM hook record (RDMA migration): not supported");
                default -> throw bad(at, String.format("unknown RAM record flags 0x%x", flags));
            }
        }
    }

    private void blockList(long total, long at) throws BadImageException, Truncated {
        if (!blocks.isEmpty()) {
            throw bad(at, "the RAM block list appears twice");
        }
        if (total <= 0 || total > MAX_RAM) {
            throw bad(at, String.format("RAM total of 0x%x bytes is not plausible", total));
        }
        long pageMask = (1L << pageShift) - 1;
        long remaining = total;
        while (remaining > 0) {
            long b = p;
            String id = idstr("RAM block name");
            long length = be64("RAM block length");
            if (ignoreShared) {
                be64("RAM block address");
            }
            if (length <= 0 || (length & pageMask) != 0 || length > remaining) {
                throw bad(b, String.format("RAM block '%s' claims 0x%x bytes, but the RAM total leaves 0x%x: not plausible",
                        id, length, remaining));
            }
            if (blocks.containsKey(id)) {
                throw bad(b, "RAM block '" + id + "' is listed twice");
            }
            blocks.put(id, new RamBlockIndex(id, length, pageShift));
            remaining -= length;
        }
        blockListComplete = true;
    }

    private void footer(long id) throws BadImageException, Truncated {
        if (p < end && peek() == QEMU_VM_SECTION_FOOTER) {
            long at = p;
            p++;
            long read = be32("section footer");
            if (read != id) {
                throw bad(at, "section footer names section " + read + " but section " + id + " ends here");
            }
        }
    }

    /**
     * Looks for the vmcoreinfo device's section after the RAM: FULL section header with id string "vmcoreinfo",
     * instance 0, version 1, then {@code has_vmcoreinfo} (bool), host format, guest format (big-endian 16 bits),
     * size (32 bits) and guest physical address (64 bits) of the ELF note.
     */
    private void deviceState(long from) throws BadImageException {
        int n = (int) Math.min(DEVICE_SCAN, end - from);
        byte[] b = s.bytes(from, n, "device state");
        for (int i = 5; i + VMCOREINFO_ID.length + 8 + 17 <= n; i++) {
            if (b[i] != VMCOREINFO_ID[0] || b[i - 5] != QEMU_VM_SECTION_FULL || !matches(b, i, VMCOREINFO_ID)) {
                continue;
            }
            int f = i + VMCOREINFO_ID.length;
            long instance = be32(b, f);
            long version = be32(b, f + 4);
            if (instance != 0 || version != 1) {
                continue;
            }
            f += 8;
            boolean has = b[f] != 0;
            int guestFormat = ((b[f + 3] & 0xff) << 8) | (b[f + 4] & 0xff);
            long size = be32(b, f + 5);
            long paddr = 0;
            for (int k = 0; k < 8; k++) {
                paddr = (paddr << 8) | (b[f + 9 + k] & 0xff);
            }
            if (!has) {
                warnings.add("the vmcoreinfo device holds no VMCOREINFO: the guest never published it");
            } else if (guestFormat != 1) {
                warnings.add("the vmcoreinfo device holds a note of unknown format " + guestFormat);
            } else {
                vmcoreinfoAddress = paddr;
                vmcoreinfoSize = size;
            }
            return;
        }
    }

    private static boolean matches(byte[] b, int at, byte[] what) {
        for (int k = 0; k < what.length; k++) {
            if (b[at + k] != what[k]) {
                return false;
            }
        }
        return true;
    }

    private static long be32(byte[] b, int at) {
        return ((b[at] & 0xffL) << 24) | ((b[at + 1] & 0xffL) << 16) | ((b[at + 2] & 0xffL) << 8) | (b[at + 3] & 0xffL);
    }

    // ---- stream primitives (big-endian) ----

    private void need(long n, String what) throws Truncated {
        if (n > end - p) {
            throw new Truncated(p, what);
        }
    }

    private int peek() throws Truncated {
        need(1, "section type");
        s.get(p, buf, 0, 1);
        return buf[0] & 0xff;
    }

    private int u8(String what) throws Truncated {
        need(1, what);
        s.get(p, buf, 0, 1);
        p++;
        return buf[0] & 0xff;
    }

    private int be16(String what) throws Truncated {
        need(2, what);
        s.get(p, buf, 0, 2);
        p += 2;
        return ((buf[0] & 0xff) << 8) | (buf[1] & 0xff);
    }

    private long be32(String what) throws Truncated {
        need(4, what);
        s.get(p, buf, 0, 4);
        p += 4;
        return be32(buf, 0);
    }

    private long be64(String what) throws Truncated, BadImageException {
        need(8, what);
        long v = Long.reverseBytes(s.u64(p, what));
        p += 8;
        return v;
    }

    private String string(int len, String what) throws Truncated {
        need(len, what);
        s.get(p, buf, 0, len);
        p += len;
        return new String(buf, 0, len, StandardCharsets.ISO_8859_1);
    }

    /** A string with a one-byte length prefix. */
    private String idstr(String what) throws Truncated {
        int len = u8(what);
        return string(len, what);
    }
}
