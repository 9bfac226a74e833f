package dev.sonde.analyzer.image.kdump;

import dev.sonde.analyzer.image.CpuNotes;
import dev.sonde.analyzer.image.CpuState;
import dev.sonde.analyzer.image.LittleEndian;
import dev.sonde.analyzer.kernel.Vmcoreinfo;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The ELF notes a kdump-compressed file carries in its sub-header area ({@code offset_note}/{@code size_note}): one
 * {@code NT_PRSTATUS} per CPU, QEMU's CPU-state notes when QEMU wrote the dump, and the kernel's VMCOREINFO note.
 * Notes are 64-bit ELF notes (4-byte header words, 4-byte alignment), little-endian.
 */
final class KdumpNotes {
    static final int MAX_NAME = 256;

    final List<Map<String, Long>> prstatus = new ArrayList<>();
    final List<Map<String, Long>> qemu = new ArrayList<>();
    byte[] vmcoreinfo;

    /**
     * Parses the note area.
     *
     * @return a problem description when a note is malformed (with its offset inside the area), else empty
     */
    Optional<String> parse(byte[] b) {
        int p = 0;
        while (p + 12 <= b.length) {
            long namesz = LittleEndian.u32(b, p);
            long descsz = LittleEndian.u32(b, p + 4);
            long type = LittleEndian.u32(b, p + 8);
            if (namesz == 0 && descsz == 0 && type == 0) {
                break; // zero padding after the last note
            }
            long nameOff = p + 12L;
            long descOff = nameOff + align4(namesz);
            long next = descOff + align4(descsz);
            if (namesz > MAX_NAME || next > b.length) {
                return Optional.of(String.format("ELF note at +0x%x (namesz %d, descsz %d) runs past the %d-byte note area",
                        p, namesz, descsz, b.length));
            }
            String name = cString(b, (int) nameOff, (int) namesz);
            int d = (int) descOff;
            int size = (int) descsz;
            if (name.equals("CORE") && type == CpuNotes.NT_PRSTATUS) {
                if (size < CpuNotes.PRSTATUS_MIN_SIZE) {
                    return Optional.of(String.format("NT_PRSTATUS note at +0x%x has %d bytes, too few for the registers", p, size));
                }
                prstatus.add(CpuNotes.prstatus(b, d));
            } else if (name.equals("QEMU") && type == 0) {
                int need = CpuNotes.QEMU_MIN_SIZE;
                if (size < need) {
                    return Optional.of(String.format("QEMU CPU-state note at +0x%x has %d bytes, expected at least %d", p, size, need));
                }
                qemu.add(CpuNotes.qemuState(b, d, size));
            } else if (name.equals("VMCOREINFO") && vmcoreinfo == null) {
                if (size > Vmcoreinfo.MAX_BYTES) {
                    return Optional.of(String.format("VMCOREINFO note at +0x%x of %d bytes is implausibly large", p, size));
                }
                vmcoreinfo = java.util.Arrays.copyOfRange(b, d, d + size);
            }
            p = (int) next;
        }
        return Optional.empty();
    }

    /** NT_PRSTATUS per CPU, completed with QEMU's control registers when both are present. */
    List<CpuState> cpus() {
        return CpuNotes.merge(prstatus, qemu);
    }

    static String cString(byte[] b, int off, int max) {
        int len = 0;
        while (len < max && off + len < b.length && b[off + len] != 0) {
            len++;
        }
        return new String(b, off, len, StandardCharsets.ISO_8859_1);
    }

    private static long align4(long v) {
        return (v + 3) & ~3L;
    }
}
