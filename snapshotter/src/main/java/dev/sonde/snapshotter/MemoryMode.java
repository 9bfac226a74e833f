package dev.sonde.snapshotter;

import dev.sonde.snapshotter.libvirt.LibvirtNative;

/** How a checkpoint captures memory. */
public enum MemoryMode {
    /**
     * Live external memory snapshot (the default): libvirt migrates the running guest's memory to a libvirt save image,
     * QEMU stops the vCPUs only for the last dirty pages, and libvirt takes the disk snapshots in that same stop.
     */
    LIVE("live", "memory.save", "libvirt-save", -1),
    /** Memory-only ELF core dump (virDomainCoreDumpWithFormat); the guest stays paused for the whole dump. */
    ELF("elf", "memory.elf", "elf-core", LibvirtNative.VIR_DOMAIN_CORE_DUMP_FORMAT_RAW),
    /** Memory-only kdump-compressed dump, zlib (flattened makedumpfile format as QEMU writes it). */
    KDUMP_ZLIB("kdump-zlib", "memory.kdump", "kdump-flattened-zlib", LibvirtNative.VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_ZLIB),
    KDUMP_LZO("kdump-lzo", "memory.kdump", "kdump-flattened-lzo", LibvirtNative.VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_LZO),
    KDUMP_SNAPPY("kdump-snappy", "memory.kdump", "kdump-flattened-snappy",
            LibvirtNative.VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_SNAPPY);

    private final String label;
    private final String fileName;
    private final String format;
    private final int dumpFormat;

    MemoryMode(String label, String fileName, String format, int dumpFormat) {
        this.label = label;
        this.fileName = fileName;
        this.format = format;
        this.dumpFormat = dumpFormat;
    }

    public String label() {
        return label;
    }

    public String fileName() {
        return fileName;
    }

    public String format() {
        return format;
    }

    int dumpFormat() {
        return dumpFormat;
    }

    public boolean live() {
        return this == LIVE;
    }

    public static MemoryMode parse(String s) {
        for (MemoryMode m : values()) {
            if (m.label.equalsIgnoreCase(s)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown memory mode '" + s + "' (live, elf, kdump-zlib, kdump-lzo, kdump-snappy)");
    }
}
