package dev.sonde.analyzer.image.savefile;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.ImageProbe;
import dev.sonde.analyzer.image.LittleEndian;
import dev.sonde.analyzer.image.MappedFile;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.image.compressed.Compression;
import dev.sonde.analyzer.image.compressed.DecompressedCache;
import dev.sonde.analyzer.kernel.Vmcoreinfo;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * libvirt save images: {@code virsh save}/{@code managedsave} files and the memory files of external snapshots
 * ({@code virsh snapshot-create-as --memspec file=...,snapshot=external}). See {@link SaveImageHeader} for the libvirt
 * header and {@link MigrationStream} for the QEMU migration stream after it.
 *
 * <p>Strategies: a raw (uncompressed) image is indexed in one sequential pass over the memory-mapped file (page
 * records only; page data is skipped), after which reads are random access into the mapping. A stream libvirt
 * compressed as a whole (gzip, bzip2, xz, zstd) is decompressed once into the decompressed-image cache and the copy is
 * indexed the same way; lzop (no Java decoder) and the mapped-ram "sparse" format are refused with a clear message.
 * Physical placement of the RAM blocks follows {@link X86RamLayout}. The image carries no CPU registers that Sonde
 * reads (they are in the device state); the VMCOREINFO note is read from guest memory where the vmcoreinfo device
 * says the guest put it.
 */
public final class SaveImageProbe implements ImageProbe {
    private static final long MAX_UNPLACED_QUIET = 128L << 20;

    private final DecompressedCache cache;

    /** Compressed streams are decompressed into the default cache ({@code $SONDE_CACHE/decompressed}). */
    public SaveImageProbe() {
        this(DecompressedCache.defaultCache());
    }

    /** Compressed streams are decompressed into {@code cacheDirectory}, at most {@code maxBytes} each. */
    public SaveImageProbe(Path cacheDirectory, long maxBytes) {
        this(new DecompressedCache(cacheDirectory, maxBytes));
    }

    private SaveImageProbe(DecompressedCache cache) {
        this.cache = cache;
    }

    @Override
    public String name() {
        return "libvirt-save";
    }

    @Override
    public Optional<MemoryImage> open(MappedFile f) throws IOException {
        Optional<SaveImageHeader> found = SaveImageHeader.read(f);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        SaveImageHeader header = found.get();
        MappedFile stream = f;
        long base = header.streamOffset();
        String note = "";
        String wrapper = "";
        if (header.compressed()) {
            Compression c = switch (header.formatName()) {
                case "gzip" -> Compression.GZIP;
                case "bzip2" -> Compression.BZIP2;
                case "xz" -> Compression.XZ;
                case "zstd" -> Compression.ZSTD;
                case "lzop" -> throw new BadImageException(f.path(), header.streamOffset(), "the migration stream is "
                        + "lzop-compressed, which Sonde cannot decompress (no Java decoder); decompress it with: tail -c +"
                        + (header.streamOffset() + 1) + " FILE | lzop -dc > stream, or re-save with another format");
                default -> throw new BadImageException(f.path(), 28, "save image format '" + header.formatName()
                        + "' (mapped-ram) is not supported");
            };
            Path plain = cache.decompressed(f.path(), header.streamOffset(), c, "migration stream");
            stream = MappedFile.open(plain);
            base = 0;
            note = " (offset in the " + c.label() + "-decompressed migration stream)";
            wrapper = ", " + c.label() + "-compressed";
        }
        try {
            return Optional.of(open(f, header, stream, base, note, wrapper));
        } catch (IOException | RuntimeException e) {
            if (stream != f) {
                stream.close();
            }
            throw e;
        }
    }

    private static MemoryImage open(MappedFile f, SaveImageHeader header, MappedFile stream, long base, String note,
                                    String wrapper) throws IOException {
        MigrationStream m = MigrationStream.index(f.path(), note, stream, base);
        List<String> warnings = new ArrayList<>(m.warnings);
        String machine = m.machineType;
        if (machine == null) {
            machine = header.machineType().orElseThrow(() -> new BadImageException(f.path(), header.streamOffset(),
                    "neither the migration stream nor the domain XML names the machine type, so the RAM layout is unknown"));
        }
        List<RamBlockIndex> ram = X86RamLayout.ramBlocks(m.blocks);
        if (ram.isEmpty()) {
            throw new BadImageException(f.path(), header.streamOffset(), "no guest RAM block (pc.ram, or ram-node0...) "
                    + "in the migration stream; blocks: " + String.join(", ", m.blocks.keySet()));
        }
        long ramSize = ram.stream().mapToLong(b -> b.length).sum();
        String machineName = machine;
        long below = X86RamLayout.below4g(machine, ramSize).orElseThrow(() -> new BadImageException(f.path(),
                header.streamOffset(), "machine type '" + machineName + "' is not an x86 PC machine (pc, q35, isapc): "
                + "where it places RAM is unknown"));
        List<X86RamLayout.Placement> placements = X86RamLayout.place(ram, below);
        for (RamBlockIndex b : m.blocks.values()) {
            if (!ram.contains(b) && (b.length >= MAX_UNPLACED_QUIET || X86RamLayout.isNodeBlock(b.id))) {
                warnings.add(String.format("RAM block '%s' (0x%x bytes) is not placed in physical memory: where the "
                        + "machine maps it is not recorded in the stream", b.id, b.length));
            }
        }
        SaveImageMemory memory = new SaveImageMemory(header, machine, f, stream, placements,
                List.copyOf(m.blocks.values()), m.pageShift);
        Optional<Vmcoreinfo> vmcoreinfo = Optional.empty();
        if (m.vmcoreinfoAddress >= 0) {
            vmcoreinfo = vmcoreinfo(memory, m.vmcoreinfoAddress, m.vmcoreinfoSize, warnings);
        }
        String format = "libvirt save image" + wrapper + " (QEMU migration stream v3)";
        return new MemoryImage(f.path(), format, memory, List.of(), vmcoreinfo, warnings);
    }

    /** Reads the VMCOREINFO ELF note ({@code Elf64_Nhdr}, "VMCOREINFO", text) from guest memory. */
    static Optional<Vmcoreinfo> vmcoreinfo(PhysicalMemory memory, long address, long size, List<String> warnings) {
        byte[] head = new byte[24];
        if (size < head.length || memory.read(address, head, 0, head.length) < head.length) {
            warnings.add(String.format("VMCOREINFO note at 0x%x (%d bytes) is not in the image", address, size));
            return Optional.empty();
        }
        long namesz = LittleEndian.u32(head, 0);
        long descsz = LittleEndian.u32(head, 4);
        String name = new String(head, 12, (int) Math.min(10, namesz), StandardCharsets.ISO_8859_1);
        long descAt = 12 + ((namesz + 3) & ~3L);
        if (!name.equals("VMCOREINFO") || namesz != 11 || descsz > Vmcoreinfo.MAX_BYTES || descAt + descsz > size) {
            warnings.add(String.format("the note at 0x%x the vmcoreinfo device points to is not a VMCOREINFO note", address));
            return Optional.empty();
        }
        byte[] desc = new byte[(int) descsz];
        if (memory.read(address + descAt, desc, 0, desc.length) < desc.length) {
            warnings.add(String.format("VMCOREINFO note at 0x%x is only partly in the image", address));
            return Optional.empty();
        }
        return Optional.of(Vmcoreinfo.parse(desc));
    }
}
