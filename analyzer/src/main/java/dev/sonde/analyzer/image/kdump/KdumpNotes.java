package dev.sonde.analyzer.image.kdump;

import dev.sonde.analyzer.image.CpuState;
import dev.sonde.analyzer.image.LittleEndian;
import dev.sonde.analyzer.kernel.Vmcoreinfo;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The ELF notes a kdump-compressed file carries in its sub-header area ({@code offset_note}/{@code size_note}): one
 * {@code NT_PRSTATUS} per CPU, QEMU's CPU-state notes when QEMU wrote the dump, and the kernel's VMCOREINFO note.
 * Notes are 64-bit ELF notes (4-byte header words, 4-byte alignment), little-endian.
 */
final class KdumpNotes {
    static final int NT_PRSTATUS = 1;
    /** Offset of {@code pr_reg} in x86-64 {@code struct elf_prstatus}. */
    static final int PRSTATUS_REG_OFFSET = 112;
    static final String[] USER_REGS = {"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
        "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "rflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"};
    /** QEMU's x86 QEMUCPUState: version, size, 18 general registers, 10 segment caches of 24 bytes, cr[5], ... */
    static final String[] QEMU_GPRS = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8", "r9", "r10", "r11",
        "r12", "r13", "r14", "r15", "rip", "rflags"};
    static final String[] QEMU_SEGMENTS = {"cs", "ds", "es", "fs", "gs", "ss", "ldt", "tr", "gdt", "idt"};
    static final int QEMU_CR_OFFSET = 8 + 18 * 8 + 10 * 24;
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
            if (name.equals("CORE") && type == NT_PRSTATUS) {
                if (size < PRSTATUS_REG_OFFSET + USER_REGS.length * 8) {
                    return Optional.of(String.format("NT_PRSTATUS note at +0x%x has %d bytes, too few for the registers", p, size));
                }
                Map<String, Long> regs = new LinkedHashMap<>();
                for (int i = 0; i < USER_REGS.length; i++) {
                    regs.put(USER_REGS[i], LittleEndian.u64(b, d + PRSTATUS_REG_OFFSET + i * 8));
                }
                prstatus.add(regs);
            } else if (name.equals("QEMU") && type == 0) {
                int need = QEMU_CR_OFFSET + 5 * 8;
                if (size < need) {
                    return Optional.of(String.format("QEMU CPU-state note at +0x%x has %d bytes, expected at least %d", p, size, need));
                }
                Map<String, Long> regs = new LinkedHashMap<>();
                for (int i = 0; i < QEMU_GPRS.length; i++) {
                    regs.put(QEMU_GPRS[i], LittleEndian.u64(b, d + 8 + i * 8));
                }
                for (int i = 0; i < QEMU_SEGMENTS.length; i++) {
                    int s = d + 8 + QEMU_GPRS.length * 8 + i * 24;
                    regs.put(QEMU_SEGMENTS[i] + ".selector", LittleEndian.u32(b, s));
                    regs.put(QEMU_SEGMENTS[i] + ".base", LittleEndian.u64(b, s + 16));
                }
                for (int i = 0; i < 5; i++) {
                    regs.put("cr" + i, LittleEndian.u64(b, d + QEMU_CR_OFFSET + i * 8));
                }
                long declared = LittleEndian.u32(b, d + 4);
                if (declared >= need + 8 && size >= need + 8) {
                    regs.put("kernel_gs_base", LittleEndian.u64(b, d + need));
                }
                qemu.add(regs);
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
        List<CpuState> out = new ArrayList<>();
        int n = Math.max(prstatus.size(), qemu.size());
        for (int i = 0; i < n; i++) {
            CpuState cpu = i < prstatus.size()
                    ? new CpuState(i, "NT_PRSTATUS", prstatus.get(i))
                    : new CpuState(i, "QEMU CPU state", qemu.get(i));
            if (i < prstatus.size() && i < qemu.size()) {
                cpu = cpu.with("QEMU CPU state", qemu.get(i));
            }
            out.add(cpu);
        }
        return out;
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
