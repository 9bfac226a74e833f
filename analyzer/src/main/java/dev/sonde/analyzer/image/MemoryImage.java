package dev.sonde.analyzer.image;

import dev.sonde.analyzer.kernel.Vmcoreinfo;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.Closeable;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * An opened memory image: its physical memory plus whatever machine state the format carried.
 *
 * @param file       the file as the user named it
 * @param format     the format as detected from content, e.g. {@code "ELF64 core (QEMU)"}; wrappers are included,
 *                   e.g. {@code "ELF64 core (QEMU) in xz"}
 * @param memory     guest physical memory
 * @param cpus       CPU states recorded in the image (empty when the format has none, e.g. raw or LiME)
 * @param vmcoreinfo the kernel's VMCOREINFO when the image carried it
 * @param warnings   what was wrong but did not stop the image from opening (e.g. truncation, with the lost ranges)
 */
public record MemoryImage(Path file, String format, PhysicalMemory memory, List<CpuState> cpus,
                          Optional<Vmcoreinfo> vmcoreinfo, List<String> warnings) implements Closeable {

    public MemoryImage {
        cpus = List.copyOf(cpus);
        warnings = List.copyOf(warnings);
    }

    /** The same image described as held in a wrapper (e.g. a compressed file). */
    public MemoryImage wrapped(Path original, String wrapper) {
        return new MemoryImage(original, format + " in " + wrapper, memory, cpus, vmcoreinfo, warnings);
    }

    @Override
    public void close() {
        memory.close();
    }
}
