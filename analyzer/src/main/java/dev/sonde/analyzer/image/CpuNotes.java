package dev.sonde.analyzer.image;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The x86-64 CPU-state notes that ELF cores and kdump files both carry: one {@code NT_PRSTATUS} per CPU (general
 * registers) and, when QEMU wrote the dump, one QEMU CPU-state note per CPU (adds segments and control registers).
 * Callers check a note's size against {@link #PRSTATUS_MIN_SIZE} / {@link #QEMU_MIN_SIZE} before decoding it.
 */
public final class CpuNotes {
    public static final int NT_PRSTATUS = 1;
    /** Offset of {@code pr_reg} in x86-64 {@code struct elf_prstatus}. */
    public static final int PRSTATUS_REG_OFFSET = 112;
    static final String[] USER_REGS = {"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
        "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "rflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"};
    public static final int PRSTATUS_MIN_SIZE = PRSTATUS_REG_OFFSET + USER_REGS.length * 8;
    /** QEMU's QEMUCPUState (target/i386): version, size, 18 GPRs, 10 segments of 24 bytes, cr[5], kernel_gs_base. */
    static final String[] QEMU_GPRS = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8", "r9", "r10", "r11",
        "r12", "r13", "r14", "r15", "rip", "rflags"};
    static final String[] QEMU_SEGMENTS = {"cs", "ds", "es", "fs", "gs", "ss", "ldt", "tr", "gdt", "idt"};
    public static final int QEMU_CR_OFFSET = 8 + 18 * 8 + 10 * 24;
    /** Bytes up to and including cr[4]; kernel_gs_base follows when the note's declared size says so. */
    public static final int QEMU_MIN_SIZE = QEMU_CR_OFFSET + 5 * 8;

    private CpuNotes() {
    }

    /** The general registers of an {@code NT_PRSTATUS} descriptor starting at {@code off}. */
    public static Map<String, Long> prstatus(byte[] b, int off) {
        Map<String, Long> regs = new LinkedHashMap<>();
        for (int i = 0; i < USER_REGS.length; i++) {
            regs.put(USER_REGS[i], LittleEndian.u64(b, off + PRSTATUS_REG_OFFSET + i * 8));
        }
        return regs;
    }

    /** The registers of a QEMU CPU-state descriptor of {@code size} bytes starting at {@code off}. */
    public static Map<String, Long> qemuState(byte[] b, int off, int size) {
        Map<String, Long> regs = new LinkedHashMap<>();
        for (int i = 0; i < QEMU_GPRS.length; i++) {
            regs.put(QEMU_GPRS[i], LittleEndian.u64(b, off + 8 + i * 8));
        }
        for (int i = 0; i < QEMU_SEGMENTS.length; i++) {
            int s = off + 8 + QEMU_GPRS.length * 8 + i * 24;
            regs.put(QEMU_SEGMENTS[i] + ".selector", LittleEndian.u32(b, s));
            regs.put(QEMU_SEGMENTS[i] + ".base", LittleEndian.u64(b, s + 16));
        }
        for (int i = 0; i < 5; i++) {
            regs.put("cr" + i, LittleEndian.u64(b, off + QEMU_CR_OFFSET + i * 8));
        }
        long declared = LittleEndian.u32(b, off + 4);
        if (declared >= QEMU_MIN_SIZE + 8 && size >= QEMU_MIN_SIZE + 8) {
            regs.put("kernel_gs_base", LittleEndian.u64(b, off + QEMU_MIN_SIZE));
        }
        return regs;
    }

    /** One CpuState per CPU: NT_PRSTATUS completed with QEMU's registers when both are present. */
    public static List<CpuState> merge(List<Map<String, Long>> prstatus, List<Map<String, Long>> qemu) {
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
}
