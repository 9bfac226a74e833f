package dev.sonde.analyzer.image.savefile;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Builds small libvirt save images around a QEMU migration stream shaped like QEMU 7.2 writes it for a paused guest:
 * configuration section, ram START with the block list, ram PART/END with page records, section footers, a few device
 * FULL sections (one of them the vmcoreinfo device), EOF. Offsets of interesting records are kept for tests that break
 * them on purpose.
 */
public final class SaveImageBuilder {
    public static final int PAGE = 4096;

    private final Map<String, Long> blocks = new LinkedHashMap<>();
    private final List<Object[]> pages = new ArrayList<>(); // {block, offset, byte[] data | Integer fill}
    private String machine = "pc-i440fx-7.2";
    private String xml = "<domain type='qemu'>\n  <name>t</name>\n  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>\n</domain>\n";
    private String cookie;
    private boolean footers = true;
    private boolean configuration = true;
    private long vmcoreinfoAddress = -1;
    private int vmcoreinfoSize;
    private int pagesPerPart = 3;
    private int format;

    /** Stream offsets of the last build (relative to the stream start). */
    public final Map<String, Integer> at = new LinkedHashMap<>();

    public SaveImageBuilder block(String id, long length) {
        blocks.put(id, length);
        return this;
    }

    public SaveImageBuilder page(String block, long offset, byte[] data) {
        pages.add(new Object[] {block, offset, data.clone()});
        return this;
    }

    public SaveImageBuilder zero(String block, long offset, int fill) {
        pages.add(new Object[] {block, offset, fill});
        return this;
    }

    public SaveImageBuilder machine(String m) {
        machine = m;
        return this;
    }

    public SaveImageBuilder noConfiguration() {
        configuration = false;
        return this;
    }

    public SaveImageBuilder xml(String x) {
        xml = x;
        return this;
    }

    public SaveImageBuilder cookie(String c) {
        cookie = c;
        return this;
    }

    public SaveImageBuilder footers(boolean f) {
        footers = f;
        return this;
    }

    public SaveImageBuilder pagesPerPart(int n) {
        pagesPerPart = n;
        return this;
    }

    /** The guest's VMCOREINFO note at {@code address}; the caller also puts the note bytes in a page. */
    public SaveImageBuilder vmcoreinfoDevice(long address, int size) {
        vmcoreinfoAddress = address;
        vmcoreinfoSize = size;
        return this;
    }

    /** libvirt's save format number written in the header (the stream is not compressed by this builder). */
    public SaveImageBuilder format(int f) {
        format = f;
        return this;
    }

    /** An ELF note "VMCOREINFO" with the given text, as the kernel lays it out. */
    public static byte[] vmcoreinfoNote(String text) {
        byte[] desc = text.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(12 + 12 + ((desc.length + 3) & ~3)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(11).putInt(desc.length).putInt(0);
        b.put("VMCOREINFO\0\0".getBytes(StandardCharsets.US_ASCII));
        b.put(desc);
        return b.array();
    }

    private static final class Out {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();

        Out u8(int v) {
            b.write(v);
            return this;
        }

        Out be16(int v) {
            return u8(v >>> 8).u8(v);
        }

        Out be32(long v) {
            return be16((int) (v >>> 16)).be16((int) v);
        }

        Out be64(long v) {
            return be32(v >>> 32).be32(v);
        }

        Out str(String s) {
            byte[] x = s.getBytes(StandardCharsets.ISO_8859_1);
            u8(x.length);
            b.writeBytes(x);
            return this;
        }

        int size() {
            return b.size();
        }
    }

    /** The migration stream alone. */
    public byte[] stream() {
        at.clear();
        Out o = new Out();
        o.be32(MigrationStream.QEVM_MAGIC).be32(3);
        if (configuration) {
            at.put("configuration", o.size());
            o.u8(MigrationStream.QEMU_VM_CONFIGURATION).be32(machine.length());
            o.b.writeBytes(machine.getBytes(StandardCharsets.US_ASCII));
        }
        at.put("ram-start", o.size());
        o.u8(MigrationStream.QEMU_VM_SECTION_START).be32(0).str("ram").be32(0).be32(4);
        long total = blocks.values().stream().mapToLong(Long::longValue).sum();
        at.put("mem-size", o.size());
        o.be64(total | MigrationStream.RAM_SAVE_FLAG_MEM_SIZE);
        for (Map.Entry<String, Long> e : blocks.entrySet()) {
            at.put("block:" + e.getKey(), o.size());
            o.str(e.getKey()).be64(e.getValue());
        }
        o.be64(MigrationStream.RAM_SAVE_FLAG_EOS);
        footer(o, 0);
        String last = null;
        for (int i = 0; i < pages.size(); i++) {
            if (i % pagesPerPart == 0) {
                boolean lastPart = i + pagesPerPart >= pages.size();
                if (lastPart) {
                    at.put("ram-end", o.size());
                }
                o.u8(lastPart ? MigrationStream.QEMU_VM_SECTION_END : MigrationStream.QEMU_VM_SECTION_PART).be32(0);
                last = null;
            }
            Object[] pg = pages.get(i);
            String block = (String) pg[0];
            long offset = (Long) pg[1];
            boolean cont = block.equals(last);
            int flags = (pg[2] instanceof Integer ? MigrationStream.RAM_SAVE_FLAG_ZERO : MigrationStream.RAM_SAVE_FLAG_PAGE)
                    | (cont ? MigrationStream.RAM_SAVE_FLAG_CONTINUE : 0);
            at.put("page:" + i, o.size());
            o.be64(offset | flags);
            if (!cont) {
                o.str(block);
            }
            if (pg[2] instanceof Integer fill) {
                o.u8(fill);
            } else {
                at.put("data:" + i, o.size());
                o.b.writeBytes((byte[]) pg[2]);
            }
            last = block;
            if (i % pagesPerPart == pagesPerPart - 1 || i == pages.size() - 1) {
                o.be64(MigrationStream.RAM_SAVE_FLAG_EOS);
                footer(o, 0);
            }
        }
        if (pages.isEmpty()) {
            at.put("ram-end", o.size());
            o.u8(MigrationStream.QEMU_VM_SECTION_END).be32(0).be64(MigrationStream.RAM_SAVE_FLAG_EOS);
            footer(o, 0);
        }
        // device state: a timer-like section, the vmcoreinfo device, an apic-like section
        at.put("devices", o.size());
        o.u8(MigrationStream.QEMU_VM_SECTION_FULL).be32(1).str("timer").be32(0).be32(2);
        o.be64(0x0a0b0c0d0e0f1011L).be64(0x4142434445464748L);
        footer(o, 1);
        if (vmcoreinfoAddress >= 0) {
            at.put("vmcoreinfo", o.size());
            o.u8(MigrationStream.QEMU_VM_SECTION_FULL).be32(2).str("vmcoreinfo").be32(0).be32(1);
            o.u8(1).be16(0).be16(1).be32(vmcoreinfoSize).be64(vmcoreinfoAddress);
            footer(o, 2);
        }
        o.u8(MigrationStream.QEMU_VM_SECTION_FULL).be32(3).str("apic").be32(0).be32(3);
        o.be32(0xfee00900L).u8(0);
        footer(o, 3);
        o.u8(MigrationStream.QEMU_VM_EOF);
        byte[] json = "{\"page_size\":4096,\"devices\":[]}".getBytes(StandardCharsets.US_ASCII);
        o.u8(MigrationStream.QEMU_VM_VMDESCRIPTION).be32(json.length);
        o.b.writeBytes(json);
        return o.b.toByteArray();
    }

    private void footer(Out o, int id) {
        if (footers) {
            o.u8(MigrationStream.QEMU_VM_SECTION_FOOTER).be32(id);
        }
    }

    /** The libvirt header (92 bytes + XML, cookie and 64 KiB padding) for a stream. */
    public byte[] header() {
        byte[] x = (xml + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] c = cookie == null ? new byte[0] : (cookie + "\0").getBytes(StandardCharsets.UTF_8);
        int dataLen = x.length + c.length + 65536;
        ByteBuffer h = ByteBuffer.allocate(SaveImageHeader.HEADER_SIZE + dataLen).order(ByteOrder.LITTLE_ENDIAN);
        h.put(SaveImageHeader.MAGIC.getBytes(StandardCharsets.US_ASCII));
        h.putInt(2).putInt(dataLen).putInt(0).putInt(format).putInt(cookie == null ? 0 : x.length);
        h.position(SaveImageHeader.HEADER_SIZE);
        h.put(x).put(c);
        return h.array();
    }

    public byte[] build() {
        return build(Function.identity());
    }

    /** The image with the stream passed through {@code transform} (e.g. a compressor). */
    public byte[] build(Function<byte[], byte[]> transform) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header());
        out.writeBytes(transform.apply(stream()));
        return out.toByteArray();
    }

    /** Compresses with a commons-compress output stream. */
    public static Function<byte[], byte[]> compressor(IoFunction<OutputStream, OutputStream> wrap) {
        return plain -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (OutputStream c = wrap.apply(out)) {
                c.write(plain);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return out.toByteArray();
        };
    }

    @FunctionalInterface
    public interface IoFunction<A, B> {
        B apply(A a) throws IOException;
    }
}
