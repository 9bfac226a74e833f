package dev.sonde.analyzer.image.elf;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.CpuNotes;
import dev.sonde.analyzer.image.MappedFile;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Walks ELF note segments of a core file and keeps the ones Sonde understands. */
final class ElfNotes {
    static final int MAX_NAME = 256;

    private final MappedFile file;
    private final List<Map<String, Long>> prstatus = new ArrayList<>();
    private final List<Map<String, Long>> qemuStates = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();
    private byte[] vmcoreinfo;

    ElfNotes(MappedFile file) {
        this.file = file;
    }

    void parse(long offset, long size) throws BadImageException {
        long end = offset + size;
        long p = offset;
        while (p + 12 <= end) {
            long namesz = file.u32(p, "note namesz");
            long descsz = file.u32(p + 4, "note descsz");
            long type = file.u32(p + 8, "note type");
            long nameOff = p + 12;
            long descOff = nameOff + align4(namesz);
            long next = descOff + align4(descsz);
            if (namesz > MAX_NAME || next > end) {
                throw new BadImageException(file.path(), p, String.format(
                        "ELF note (namesz %d, descsz %d) runs past its PT_NOTE segment ending at 0x%x", namesz, descsz, end));
            }
            String name = noteName(file.bytes(nameOff, (int) namesz, "note name"));
            if (name.equals("CORE") && type == CpuNotes.NT_PRSTATUS) {
                prstatus.add(prstatus(descOff, descsz));
            } else if (name.equals("QEMU") && type == 0) {
                qemuStates.add(qemuState(descOff, descsz));
            } else if (name.equals("VMCOREINFO")) {
                if (descsz > dev.sonde.analyzer.kernel.Vmcoreinfo.MAX_BYTES) {
                    throw new BadImageException(file.path(), p, "VMCOREINFO note of " + descsz + " bytes is implausibly large");
                }
                vmcoreinfo = file.bytes(descOff, (int) descsz, "VMCOREINFO note");
            }
            p = next;
        }
    }

    private Map<String, Long> prstatus(long off, long size) throws BadImageException {
        if (size < CpuNotes.PRSTATUS_MIN_SIZE) {
            throw new BadImageException(file.path(), off, "NT_PRSTATUS note of " + size + " bytes, expected at least "
                    + CpuNotes.PRSTATUS_MIN_SIZE);
        }
        return CpuNotes.prstatus(file.bytes(off, CpuNotes.PRSTATUS_MIN_SIZE, "NT_PRSTATUS registers"), 0);
    }

    private Map<String, Long> qemuState(long off, long size) throws BadImageException {
        int need = CpuNotes.QEMU_MIN_SIZE;
        if (size < need) {
            throw new BadImageException(file.path(), off, "QEMU CPU state note of " + size + " bytes, expected at least " + need);
        }
        byte[] b = file.bytes(off, (int) Math.min(size, need + 8), "QEMU CPU state");
        return CpuNotes.qemuState(b, 0, b.length);
    }

    private static String noteName(byte[] b) {
        int len = 0;
        while (len < b.length && b[len] != 0) {
            len++;
        }
        return new String(b, 0, len, StandardCharsets.ISO_8859_1);
    }

    private static long align4(long v) {
        return (v + 3) & ~3L;
    }

    List<Map<String, Long>> prstatus() {
        return prstatus;
    }

    List<Map<String, Long>> qemuStates() {
        return qemuStates;
    }

    Optional<byte[]> vmcoreinfo() {
        return Optional.ofNullable(vmcoreinfo);
    }

    List<String> warnings() {
        return warnings;
    }
}
