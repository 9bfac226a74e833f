package dev.sonde.analyzer.image.elf;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.LittleEndian;
import dev.sonde.analyzer.image.MappedFile;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Walks ELF note segments of a core file and keeps the ones Sonde understands. */
final class ElfNotes {
    static final int NT_PRSTATUS = 1;
    /** Offset of pr_reg inside x86-64 {@code struct elf_prstatus}. */
    static final int PRSTATUS_REG_OFFSET = 112;
    static final String[] USER_REGS = {"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
        "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "rflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"};
    /** QEMU's QEMUCPUState (target/i386): version, size, 18 GPRs, 10 segments of 24 bytes, cr[5], kernel_gs_base. */
    static final String[] QEMU_GPRS = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8", "r9", "r10", "r11",
        "r12", "r13", "r14", "r15", "rip", "rflags"};
    static final String[] QEMU_SEGMENTS = {"cs", "ds", "es", "fs", "gs", "ss", "ldt", "tr", "gdt", "idt"};
    static final int QEMU_CR_OFFSET = 8 + 18 * 8 + 10 * 24;
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
            if (name.equals("CORE") && type == NT_PRSTATUS) {
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
        long need = PRSTATUS_REG_OFFSET + USER_REGS.length * 8L;
        if (size < need) {
            throw new BadImageException(file.path(), off, "NT_PRSTATUS note of " + size + " bytes, expected at least " + need);
        }
        byte[] b = file.bytes(off + PRSTATUS_REG_OFFSET, USER_REGS.length * 8, "NT_PRSTATUS registers");
        Map<String, Long> regs = new LinkedHashMap<>();
        for (int i = 0; i < USER_REGS.length; i++) {
            regs.put(USER_REGS[i], LittleEndian.u64(b, i * 8));
        }
        return regs;
    }

    private Map<String, Long> qemuState(long off, long size) throws BadImageException {
        long need = QEMU_CR_OFFSET + 5 * 8L;
        if (size < need) {
            throw new BadImageException(file.path(), off, "QEMU CPU state note of " + size + " bytes, expected at least " + need);
        }
        byte[] b = file.bytes(off, (int) Math.min(size, need + 8), "QEMU CPU state");
        long declared = LittleEndian.u32(b, 4);
        Map<String, Long> regs = new LinkedHashMap<>();
        for (int i = 0; i < QEMU_GPRS.length; i++) {
            regs.put(QEMU_GPRS[i], LittleEndian.u64(b, 8 + i * 8));
        }
        for (int i = 0; i < QEMU_SEGMENTS.length; i++) {
            int s = 8 + QEMU_GPRS.length * 8 + i * 24;
            regs.put(QEMU_SEGMENTS[i] + ".selector", LittleEndian.u32(b, s));
            regs.put(QEMU_SEGMENTS[i] + ".base", LittleEndian.u64(b, s + 16));
        }
        for (int i = 0; i < 5; i++) {
            regs.put("cr" + i, LittleEndian.u64(b, QEMU_CR_OFFSET + i * 8));
        }
        if (declared >= need + 8 && b.length >= need + 8) {
            regs.put("kernel_gs_base", LittleEndian.u64(b, (int) need));
        }
        return regs;
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
