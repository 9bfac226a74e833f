package dev.sonde.analyzer.kernel.profile;

import dev.sonde.analyzer.memory.x86.PagingMode;
import java.util.List;

/**
 * Where the running kernel is: its KASLR shifts and its page tables.
 *
 * @param virtualShift how far the kernel image's virtual addresses moved from their link-time values (KERNELOFFSET)
 * @param physBase     the kernel's {@code phys_base}: a kernel-image virtual address {@code v} is at physical
 *                     {@code v - START_KERNEL_MAP + physBase}
 * @param dtb          physical address of the kernel's top-level page table ({@code init_top_pgt}/{@code swapper_pg_dir})
 * @param pagingMode   4- or 5-level paging
 * @param method       how the values were found, e.g. {@code VMCOREINFO} or {@code kallsyms + BTF anchor}
 * @param notes        assumptions and checks made on the way
 */
public record KernelLayout(long virtualShift, long physBase, long dtb, PagingMode pagingMode, String method,
                           List<String> notes) {
    /** {@code __START_KERNEL_map}: the base of the kernel image mapping on x86-64. */
    public static final long START_KERNEL_MAP = 0xffffffff80000000L;
    /** The default link address of {@code _text} ({@code __START_KERNEL_map + CONFIG_PHYSICAL_START}, 16 MiB). */
    public static final long DEFAULT_TEXT_LINK_ADDRESS = 0xffffffff81000000L;

    public KernelLayout {
        notes = List.copyOf(notes);
    }

    /** Physical address of a kernel-image virtual address (text, data, bss), without walking page tables. */
    public long imagePhysical(long virtualAddress) {
        return virtualAddress - START_KERNEL_MAP + physBase;
    }

    /** The physical KASLR shift: how far the image moved physically from {@code _text}'s link-time physical address. */
    public long physicalShift() {
        return physBase + virtualShift;
    }
}
