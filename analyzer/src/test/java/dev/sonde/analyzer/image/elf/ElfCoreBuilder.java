package dev.sonde.analyzer.image.elf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Builds small, well-formed x86-64 ELF core files in memory, for tests that then break them on purpose. */
public final class ElfCoreBuilder {
    private record Load(long paddr, byte[] data) {
    }

    private record Note(String name, int type, byte[] desc) {
    }

    private final List<Load> loads = new ArrayList<>();
    private final List<Note> notes = new ArrayList<>();

    public ElfCoreBuilder load(long paddr, byte[] data) {
        loads.add(new Load(paddr, data));
        return this;
    }

    public ElfCoreBuilder note(String name, int type, byte[] desc) {
        notes.add(new Note(name, type, desc));
        return this;
    }

    public ElfCoreBuilder vmcoreinfo(String text) {
        return note("VMCOREINFO", 0, text.getBytes(StandardCharsets.US_ASCII));
    }

    /** A QEMU CPU-state note with the given rip and cr3. */
    public ElfCoreBuilder qemuCpu(long rip, long cr3) {
        ByteBuffer b = ByteBuffer.allocate(440).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 1).putInt(4, 440);
        b.putLong(8 + 16 * 8, rip);
        b.putLong(dev.sonde.analyzer.image.CpuNotes.QEMU_CR_OFFSET + 3 * 8, cr3);
        return note("QEMU", 0, b.array());
    }

    /** An NT_PRSTATUS note with the given rip. */
    public ElfCoreBuilder prstatus(long rip) {
        ByteBuffer b = ByteBuffer.allocate(336).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(dev.sonde.analyzer.image.CpuNotes.PRSTATUS_REG_OFFSET + 16 * 8, rip);
        return note("CORE", dev.sonde.analyzer.image.CpuNotes.NT_PRSTATUS, b.array());
    }

    public byte[] build() {
        ByteArrayOutputStream noteBytes = new ByteArrayOutputStream();
        for (Note n : notes) {
            byte[] name = (n.name + "\0").getBytes(StandardCharsets.US_ASCII);
            ByteBuffer h = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            h.putInt(name.length).putInt(n.desc.length).putInt(n.type);
            noteBytes.writeBytes(h.array());
            noteBytes.writeBytes(pad(name));
            noteBytes.writeBytes(pad(n.desc));
        }
        int phnum = loads.size() + (notes.isEmpty() ? 0 : 1);
        long offset = 64 + (long) phnum * 56;
        ByteBuffer out = ByteBuffer.allocate((int) (offset + noteBytes.size()
                + loads.stream().mapToInt(l -> l.data.length).sum())).order(ByteOrder.LITTLE_ENDIAN);
        out.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
        out.position(16);
        out.putShort((short) 4).putShort((short) 62).putInt(1);
        out.putLong(0).putLong(64).putLong(0).putInt(0);
        out.putShort((short) 64).putShort((short) 56).putShort((short) phnum).putShort((short) 64).putShort((short) 0).putShort((short) 0);
        long data = offset;
        int ph = 64;
        if (!notes.isEmpty()) {
            phdr(out, ph, 4, data, 0, noteBytes.size());
            out.put((int) data, noteBytes.toByteArray());
            data += noteBytes.size();
            ph += 56;
        }
        for (Load l : loads) {
            phdr(out, ph, 1, data, l.paddr, l.data.length);
            out.put((int) data, l.data);
            data += l.data.length;
            ph += 56;
        }
        return out.array();
    }

    private static void phdr(ByteBuffer out, int at, int type, long offset, long paddr, long size) {
        out.putInt(at, type).putInt(at + 4, 0).putLong(at + 8, offset).putLong(at + 16, 0)
                .putLong(at + 24, paddr).putLong(at + 32, size).putLong(at + 40, size).putLong(at + 48, 0);
    }

    private static byte[] pad(byte[] b) {
        byte[] p = new byte[(b.length + 3) & ~3];
        System.arraycopy(b, 0, p, 0, b.length);
        return p;
    }
}
