package dev.sonde.analyzer.image.savefile;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where QEMU's x86 PC machines put guest RAM in the guest physical address space. A migration stream only names RAM
 * blocks; their placement is machine code, reproduced here for the QEMU 2.x-9.x defaults:
 *
 * <ul>
 *   <li>Guest RAM is the block {@code pc.ram} (or, with NUMA, {@code ram-node0}, {@code ram-node1}, ... taken in node
 *       order, which QEMU lays out back to back).</li>
 *   <li>i440fx ({@code pc-i440fx-*}, {@code pc-*}): up to 3.5 GiB of RAM sits below 4 GiB; a bigger guest gets
 *       3 GiB below 4 GiB ({@code gigabyte_align}; machine types before 1.7 kept 3.5 GiB) and the rest from 4 GiB.</li>
 *   <li>q35 ({@code pc-q35-*}): below 2.75 GiB all RAM sits below 4 GiB, otherwise 2 GiB does (before 1.7: 2.75 GiB)
 *       and the rest starts at 4 GiB.</li>
 *   <li>isapc: all RAM below 4 GiB.</li>
 * </ul>
 *
 * The RAM below 4 GiB is placed linearly from physical 0, including the legacy 0xa0000-0xfffff window: QEMU's own dumps
 * show RAM there too unless a VGA device claims 0xa0000-0xbffff. A non-default {@code max-ram-below-4g} machine option
 * is not recorded in the stream and is not honoured. Other blocks (video RAM, option and firmware ROMs, ACPI tables)
 * are not guest RAM and are not placed.
 */
final class X86RamLayout {
    static final long FOUR_GIB = 1L << 32;
    private static final Pattern VERSION = Pattern.compile("(\\d+)\\.(\\d+)");
    private static final Pattern NODE = Pattern.compile("ram-node(\\d+)");

    /** One linear piece of guest RAM: {@code length} bytes of {@code block} from {@code blockOffset}, at {@code physical}. */
    record Placement(long physical, long length, RamBlockIndex block, long blockOffset) {
        long physicalEnd() {
            return physical + length;
        }
    }

    private X86RamLayout() {
    }

    /** The blocks that make up guest RAM, in address order, or empty when none is recognised. */
    static List<RamBlockIndex> ramBlocks(Map<String, RamBlockIndex> blocks) {
        RamBlockIndex pc = blocks.get("pc.ram");
        if (pc != null) {
            return List.of(pc);
        }
        List<RamBlockIndex> nodes = new ArrayList<>();
        for (int i = 0; blocks.containsKey("ram-node" + i); i++) {
            nodes.add(blocks.get("ram-node" + i));
        }
        return nodes;
    }

    static boolean isNodeBlock(String id) {
        return NODE.matcher(id).matches();
    }

    /** Bytes of RAM below 4 GiB for this machine type, or empty when the machine type is not an x86 PC. */
    static Optional<Long> below4g(String machineType, long ramSize) {
        String m = machineType.toLowerCase();
        boolean old = false;
        Matcher v = VERSION.matcher(m);
        if (v.find()) {
            int major = Integer.parseInt(v.group(1));
            int minor = Integer.parseInt(v.group(2));
            old = major < 1 || (major == 1 && minor < 7);
        }
        if (m.equals("isapc")) {
            return Optional.of(ramSize);
        }
        if (m.contains("q35")) {
            long lowmem = ramSize >= 0xb0000000L && !old ? 0x80000000L : 0xb0000000L;
            return Optional.of(Math.min(ramSize, lowmem));
        }
        if (m.equals("pc") || m.startsWith("pc-")) {
            long lowmem = 0xe0000000L;
            if (ramSize >= lowmem && !old) {
                lowmem = 0xc0000000L;
            }
            return Optional.of(Math.min(ramSize, lowmem));
        }
        return Optional.empty();
    }

    /** Places the RAM blocks (concatenated) so that {@code below} bytes sit from 0 and the rest from 4 GiB. */
    static List<Placement> place(List<RamBlockIndex> ram, long below) {
        List<Placement> out = new ArrayList<>();
        long linear = 0;
        for (RamBlockIndex b : ram) {
            long start = linear;
            long end = linear + b.length;
            // the part below 4 GiB
            if (start < below) {
                long e = Math.min(end, below);
                out.add(new Placement(start, e - start, b, 0));
            }
            // the part from 4 GiB
            if (end > below) {
                long s = Math.max(start, below);
                out.add(new Placement(FOUR_GIB + (s - below), end - s, b, s - start));
            }
            linear = end;
        }
        return out;
    }
}
