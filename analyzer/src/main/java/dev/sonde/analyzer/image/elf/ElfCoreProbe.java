package dev.sonde.analyzer.image.elf;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.CpuNotes;
import dev.sonde.analyzer.image.CpuState;
import dev.sonde.analyzer.image.FileSegment;
import dev.sonde.analyzer.image.ImageProbe;
import dev.sonde.analyzer.image.MappedFile;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.image.SegmentedMemory;
import dev.sonde.analyzer.kernel.Vmcoreinfo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * ELF64 core files as QEMU writes them ({@code virsh dump --memory-only --format elf}): PT_LOAD segments placed by
 * {@code p_paddr}, per-CPU {@code NT_PRSTATUS} and QEMU CPU-state notes, and the VMCOREINFO note.
 */
public final class ElfCoreProbe implements ImageProbe {
    static final int ET_CORE = 4;
    static final int EM_X86_64 = 62;
    static final int PT_LOAD = 1;
    static final int PT_NOTE = 4;
    static final int PN_XNUM = 0xffff;
    static final int PHDR_SIZE = 56;

    @Override
    public String name() {
        return "elf";
    }

    @Override
    public Optional<MemoryImage> open(MappedFile f) throws IOException {
        if (f.length() < 4) {
            return Optional.empty();
        }
        byte[] magic = f.bytes(0, 4, "ELF magic");
        if (magic[0] != 0x7f || magic[1] != 'E' || magic[2] != 'L' || magic[3] != 'F') {
            return Optional.empty();
        }
        byte[] ident = f.bytes(0, 16, "ELF identification");
        if (ident[4] != 2) {
            throw new BadImageException(f.path(), 4, "ELF class " + ident[4] + " is not ELFCLASS64");
        }
        if (ident[5] != 1) {
            throw new BadImageException(f.path(), 5, "ELF data encoding " + ident[5] + " is not little-endian");
        }
        int type = f.u16(16, "e_type");
        if (type != ET_CORE) {
            throw new BadImageException(f.path(), 16, "ELF type " + type + " is not a core file (ET_CORE)");
        }
        int machine = f.u16(18, "e_machine");
        if (machine != EM_X86_64) {
            throw new BadImageException(f.path(), 18, "ELF machine " + machine + " is not x86-64");
        }
        long phoff = f.u64(32, "e_phoff");
        int phentsize = f.u16(54, "e_phentsize");
        long phnum = f.u16(56, "e_phnum");
        if (phentsize != PHDR_SIZE) {
            throw new BadImageException(f.path(), 54, "e_phentsize " + phentsize + " is not " + PHDR_SIZE);
        }
        if (phnum == PN_XNUM) {
            long shoff = f.u64(40, "e_shoff");
            phnum = f.u32(shoff + 44, "section 0 sh_info (extended program header count)");
        }
        if (phnum == 0) {
            throw new BadImageException(f.path(), 56, "no program headers");
        }
        f.check(phoff, phnum * PHDR_SIZE, phnum + " program headers");

        List<FileSegment> segments = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        ElfNotes notes = new ElfNotes(f);
        for (long i = 0; i < phnum; i++) {
            long h = phoff + i * PHDR_SIZE;
            long pType = f.u32(h, "p_type");
            long pOffset = f.u64(h + 8, "p_offset");
            long pPaddr = f.u64(h + 24, "p_paddr");
            long pFilesz = f.u64(h + 32, "p_filesz");
            long pMemsz = f.u64(h + 40, "p_memsz");
            if (pType == PT_NOTE) {
                f.check(pOffset, pFilesz, "PT_NOTE segment of program header " + i);
                notes.parse(pOffset, pFilesz);
            } else if (pType == PT_LOAD && pFilesz > 0) {
                if (pPaddr < 0 || pFilesz < 0 || pPaddr + pFilesz < 0) {
                    throw new BadImageException(f.path(), h + 24, String.format(
                            "PT_LOAD %d claims an impossible range: paddr 0x%x size 0x%x", i, pPaddr, pFilesz));
                }
                if (pOffset < 0 || pOffset > f.length()) {
                    warnings.add(String.format("PT_LOAD %d (0x%x-0x%x) lies beyond the end of the file: absent",
                            i, pPaddr, pPaddr + pFilesz));
                    continue;
                }
                long available = Math.min(pFilesz, f.length() - pOffset);
                if (available < pFilesz) {
                    warnings.add(String.format("file truncated: PT_LOAD %d holds 0x%x of 0x%x bytes; 0x%x-0x%x absent",
                            i, available, pFilesz, pPaddr + available, pPaddr + pFilesz));
                }
                if (pMemsz > pFilesz) {
                    warnings.add(String.format("PT_LOAD %d: 0x%x-0x%x not stored in the file (p_memsz > p_filesz): absent",
                            i, pPaddr + pFilesz, pPaddr + pMemsz));
                }
                if (available > 0) {
                    segments.add(new FileSegment(pPaddr, pOffset, available));
                }
            }
        }
        if (segments.isEmpty()) {
            throw new BadImageException(f.path(), phoff, "ELF core has no PT_LOAD segment with memory in the file");
        }
        SegmentedMemory memory = new SegmentedMemory(f, segments);
        List<CpuState> cpus = CpuNotes.merge(notes.prstatus(), notes.qemuStates());
        String format = notes.qemuStates().isEmpty() ? "ELF64 core" : "ELF64 core (QEMU)";
        Optional<Vmcoreinfo> vmcoreinfo = notes.vmcoreinfo().map(Vmcoreinfo::parse);
        warnings.addAll(notes.warnings());
        return Optional.of(new MemoryImage(f.path(), format, memory, cpus, vmcoreinfo, warnings));
    }
}
