package dev.sonde.analyzer.image.savefile;

import dev.sonde.analyzer.memory.MemoryRange;
import java.util.List;

/**
 * One QEMU RAM block of a save image.
 *
 * @param id        QEMU's block name, e.g. {@code pc.ram}, {@code vga.vram}, {@code /rom@etc/acpi/tables}
 * @param length    block size in bytes
 * @param pagesSent pages the migration stream carried for it
 * @param physical  where the block sits in guest physical memory; empty for blocks that are not guest RAM (video RAM,
 *                  ROMs, firmware tables), which Sonde does not expose as physical memory
 */
public record RamBlock(String id, long length, long pagesSent, List<MemoryRange> physical) {

    public RamBlock {
        physical = List.copyOf(physical);
    }

    /** True when the block is placed in guest physical memory. */
    public boolean guestRam() {
        return !physical.isEmpty();
    }
}
