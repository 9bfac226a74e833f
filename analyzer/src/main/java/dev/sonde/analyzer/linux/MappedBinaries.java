package dev.sonde.analyzer.linux;

import dev.sonde.analyzer.kernel.profile.KObject;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelReadException;
import dev.sonde.analyzer.kernel.profile.ProfileException;
import dev.sonde.analyzer.memory.AbsentMemoryException;
import dev.sonde.analyzer.memory.MemoryView;
import dev.sonde.analyzer.memory.x86.PageMapping;
import dev.sonde.analyzer.memory.x86.X86AddressSpace;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The executable images of processes ({@link MappedBinary}): every file with an executable mapping, grouped per file,
 * and every executable mapping backed by no file, with the ELF type and GNU build-id read from the file's first page
 * and program headers as they sit in the process' memory, and a SHA-256 of each resident executable page.
 * <p>
 * Pages are read through the process' own page tables; a page is resident when they map it. The same physical page
 * (a shared library's code in every process) is hashed once: digests are cached by physical address, so one instance
 * serves a whole image. The ELF header of a file is read where some process has it mapped (a forked child that never
 * touched its header page shares it with the parent, whose copy is used), else from the file's pages in the page
 * cache. Every read is bounded: at most {@value #MAX_PAGES} pages per process, {@value #MAX_PHDRS}
 * program headers, {@value #MAX_NOTES} bytes of notes.
 */
public final class MappedBinaries {
    static final int PAGE = 4096;
    static final int MAX_PAGES = 1 << 18;
    static final int MAX_PHDRS = 256;
    static final int MAX_NOTES = 1 << 16;
    static final int PT_NOTE = 4;
    static final int NT_GNU_BUILD_ID = 3;
    static final int MAX_CACHE_PAGES = 1 << 16;
    /** {@code VMEMMAP_START} of 4-level paging without KASLR. */
    static final long DEFAULT_VMEMMAP = 0xffff_ea00_0000_0000L;
    private static final String DELETED = " (deleted)";
    private static final String[] ELF_TYPES = {"NONE", "REL", "EXEC", "DYN", "CORE"};

    private final KernelMemory kernel;
    private final MemoryView physical;
    private final Map<Long, String> digestByPhysical = new HashMap<>();
    /** ELF facts per file (dev, inode, path): a forked child that never touched the header shares its parent's file. */
    private final Map<String, Elf> elfByFile = new HashMap<>();
    private final java.util.Set<String> pageCacheTried = new java.util.HashSet<>();
    private final MessageDigest sha256;
    private final byte[] page = new byte[PAGE];

    public MappedBinaries(KernelMemory kernel, MemoryView physical) {
        this.kernel = kernel;
        this.physical = physical;
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }

    /** The binaries of every process of {@code report}, process by process in report order. */
    public List<MappedBinary> of(ProcessReport report) {
        List<MappedBinary> out = new ArrayList<>();
        for (ProcessInfo p : report.processes()) {
            out.addAll(of(p));
        }
        return out;
    }

    /** The binaries of one process, in order of their first mapping; none for a kernel thread. */
    public List<MappedBinary> of(ProcessInfo p) {
        if (p.kernelThread() || p.maps().isEmpty()) {
            return List.of();
        }
        Map<String, List<Mapping>> groups = new LinkedHashMap<>();
        for (Mapping m : p.maps()) {
            if (m.anonymous()) {
                if ((m.flags() & Mapping.VM_EXEC) != 0) {
                    groups.put("anon " + m.start(), List.of(m));
                }
            } else {
                groups.computeIfAbsent("file " + m.dev() + " " + m.inode() + " " + m.path().orElse(""),
                        k -> new ArrayList<>()).add(m);
            }
        }
        X86AddressSpace user = null;
        String spaceProblem = null;
        try {
            user = userSpace(p);
        } catch (KernelReadException | AbsentMemoryException e) {
            spaceProblem = "page tables: " + e.getMessage();
        }
        List<MappedBinary> out = new ArrayList<>();
        int budget = MAX_PAGES;
        for (List<Mapping> group : groups.values()) {
            if (group.stream().noneMatch(m -> (m.flags() & Mapping.VM_EXEC) != 0)) {
                continue;
            }
            Mapping first = group.get(0);
            boolean anonymous = first.anonymous();
            String path = first.path().orElse("");
            BinaryOrigin origin = anonymous ? BinaryOrigin.ANONYMOUS
                    : path.startsWith("/memfd:") ? BinaryOrigin.MEMFD
                    : path.endsWith(DELETED) ? BinaryOrigin.DELETED : BinaryOrigin.FILE;
            long pagesTotal = 0;
            for (Mapping m : group) {
                if ((m.flags() & Mapping.VM_EXEC) != 0) {
                    pagesTotal += Long.divideUnsigned(m.end() - m.start(), PAGE);
                }
            }
            int total = (int) Math.min(Integer.MAX_VALUE, Math.max(0, pagesTotal)); // a hostile VMA can claim 2^35 pages
            if (user == null) {
                out.add(new MappedBinary(p.pid(), path, origin, first.inode(), first.dev(), group, Optional.empty(),
                        Optional.empty(), List.of(), total, Optional.empty(), Optional.of(spaceProblem)));
                continue;
            }
            List<String> problems = new ArrayList<>();
            first.problem().ifPresent(problems::add);
            Optional<String> elfType = Optional.empty();
            Optional<String> buildId = Optional.empty();
            if (!anonymous) {
                String fileKey = first.dev() + " " + first.inode() + " " + path;
                try {
                    X86AddressSpace u = user;
                    Elf elf = elf((offset, length) -> readFile(u, group, offset, length));
                    if (elf.type.isEmpty() && elfByFile.containsKey(fileKey)) {
                        elf = elfByFile.get(fileKey); // header not mapped here: the same file as mapped elsewhere
                    } else if (elf.type.isEmpty() && pageCacheTried.add(fileKey)) {
                        elf = elf(pageCache(p, first)); // mapped nowhere yet: the file's pages in the page cache
                        if (elf.type.isPresent()) {
                            elfByFile.put(fileKey, elf);
                        }
                    } else if (elf.type.isPresent()) {
                        elfByFile.putIfAbsent(fileKey, elf);
                    }
                    elfType = elf.type;
                    buildId = elf.buildId;
                } catch (KernelReadException | AbsentMemoryException | ProfileException e) {
                    problems.add(e.getMessage());
                }
            }
            List<PageDigest> pages = new ArrayList<>();
            boolean limited = false;
            for (Mapping m : group) {
                if ((m.flags() & Mapping.VM_EXEC) == 0) {
                    continue;
                }
                // one walk of the page tables over the mapping, rather than one walk per page
                List<PageMapping> leaves = new ArrayList<>();
                if (budget <= 0 || user.mappings(m.start(), m.end(), budget + 1L, leaves::add).truncated()) {
                    limited = true;
                }
                for (PageMapping leaf : leaves) {
                    long from = Math.max(leaf.virtualAddress(), m.start());
                    long to = Math.min(leaf.virtualEnd(), m.end());
                    for (long va = from; va < to; va += PAGE) {
                        if (budget-- <= 0) {
                            limited = true;
                            break;
                        }
                        Optional<String> d = digest(leaf.physicalAddress() + (va - leaf.virtualAddress()));
                        if (d.isPresent()) {
                            long fileOffset = anonymous ? -1 : m.offset() + (va - m.start());
                            pages.add(new PageDigest(va, fileOffset, d.get()));
                        }
                    }
                }
            }
            if (limited) {
                problems.add("stopped at the limit of " + MAX_PAGES + " executable pages per process");
            }
            out.add(new MappedBinary(p.pid(), path, origin, first.inode(), first.dev(), group, elfType, buildId, pages,
                    total, combined(pages), problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems))));
        }
        return out;
    }

    private X86AddressSpace userSpace(ProcessInfo p) {
        long mm = kernel.object("task_struct", p.task()).pointer("mm");
        if (mm == 0) {
            throw new KernelReadException(String.format("task 0x%x has no mm", p.task()));
        }
        long pgd = kernel.object("mm_struct", mm).pointer("pgd");
        long pgdPhys = kernel.space().physicalAddress(pgd);
        if (pgdPhys < 0) {
            throw new KernelReadException(String.format("mm 0x%x: pgd 0x%x is not mapped", mm, pgd));
        }
        return new X86AddressSpace(physical, pgdPhys, kernel.space().mode());
    }

    /** ELF type and build-id of the file behind {@code mapping} read from the page cache alone (for tests). */
    Optional<String> pageCacheBuildId(ProcessInfo p, Mapping mapping) {
        return elf(pageCache(p, mapping)).buildId;
    }

    /**
     * The page-cache pages of the file behind {@code mapping}: its VMA's {@code vm_file->f_inode->i_mapping->i_pages}
     * (index = file page), each entry a {@code struct page} whose physical address follows from its place in the
     * {@code vmemmap} array. Evicted pages (value entries) and entries that are not plausible pages read as absent.
     */
    private FileBytes pageCache(ProcessInfo p, Mapping mapping) {
        Map<Long, Long> physByIndex = new HashMap<>();
        KObject mm = kernel.object("task_struct", p.task()).deref("mm")
                .orElseThrow(() -> new KernelReadException("no mm"));
        long file = 0;
        for (KObject v : kernel.vmas(mm, LinuxProcesses.MAX_VMAS).items()) {
            if (v.integer("vm_start") == mapping.start()) {
                file = v.pointer("vm_file");
                break;
            }
        }
        if (file == 0) {
            return (offset, length) -> null;
        }
        long inode = kernel.object("file", file).pointer("f_inode");
        long space = kernel.object("inode", inode).pointer("i_mapping");
        long pageSize = kernel.profile().requireSize("page");
        long vmemmap = kernel.profile().symbol("vmemmap_base").isPresent()
                ? kernel.space().readU64(kernel.profile().requireSymbol("vmemmap_base")) : DEFAULT_VMEMMAP;
        for (KernelMemory.XaEntry e : kernel.xarray(kernel.object("address_space", space).addressOf("i_pages"),
                MAX_CACHE_PAGES).items()) {
            long page = e.entry();
            if (!e.value() && Long.compareUnsigned(page, vmemmap) >= 0 && (page - vmemmap) % pageSize == 0) {
                physByIndex.put(e.index(), (page - vmemmap) / pageSize * PAGE);
            }
        }
        return (offset, length) -> {
            byte[] out = new byte[length];
            int done = 0;
            while (done < length) {
                long at = offset + done;
                Long phys = physByIndex.get(at / PAGE);
                if (phys == null) {
                    return null;
                }
                int n = (int) Math.min(length - done, PAGE - at % PAGE);
                try {
                    physical.readFully(phys + at % PAGE, out, done, n);
                } catch (AbsentMemoryException e) {
                    return null;
                }
                done += n;
            }
            return out;
        };
    }

    /** SHA-256 of the physical page at {@code phys} (page-aligned by the caller's translation), cached. */
    private Optional<String> digest(long phys) {
        long base = phys & ~(PAGE - 1L);
        String d = digestByPhysical.get(base);
        if (d != null) {
            return Optional.of(d);
        }
        try {
            physical.readFully(base, page, 0, PAGE);
        } catch (AbsentMemoryException e) {
            return Optional.empty(); // mapped but not in the image: not resident as far as the evidence goes
        }
        d = HexFormat.of().formatHex(sha256.digest(page));
        digestByPhysical.put(base, d);
        return Optional.of(d);
    }

    private Optional<String> combined(List<PageDigest> pages) {
        if (pages.isEmpty()) {
            return Optional.empty();
        }
        for (PageDigest p : pages) {
            sha256.update((p.fileOffset() + ":" + p.sha256() + "\n").getBytes(StandardCharsets.US_ASCII));
        }
        return Optional.of(HexFormat.of().formatHex(sha256.digest()));
    }

    // ------------------------------------------------------------------ ELF header and notes from memory

    private record Elf(Optional<String> type, Optional<String> buildId) {
    }

    /** Bytes of a file by offset, or null when they are not in memory. */
    private interface FileBytes {
        byte[] read(long offset, int length);
    }

    private static Elf elf(FileBytes file) {
        byte[] h = file.read(0, 64);
        if (h == null) {
            return new Elf(Optional.empty(), Optional.empty()); // first page not resident (or not mapped)
        }
        if (h[0] != 0x7f || h[1] != 'E' || h[2] != 'L' || h[3] != 'F') {
            throw new KernelReadException("no ELF header at file offset 0");
        }
        if (h[4] != 2 || h[5] != 1) {
            throw new KernelReadException("ELF class " + h[4] + " data " + h[5] + ": only little-endian ELF64 is read");
        }
        int type = u16(h, 16);
        Optional<String> typeName = Optional.of(type < ELF_TYPES.length ? ELF_TYPES[type] : "0x" + Integer.toHexString(type));
        long phoff = u64(h, 32);
        int phentsize = u16(h, 54);
        int phnum = u16(h, 56);
        if (phnum == 0) {
            return new Elf(typeName, Optional.empty());
        }
        if (phentsize < 56 || phnum > MAX_PHDRS || phoff < 0 || phoff > Integer.MAX_VALUE) {
            throw new KernelReadException("ELF program headers: offset " + phoff + ", " + phnum + " of " + phentsize
                    + " bytes: out of bounds");
        }
        byte[] ph = file.read(phoff, phnum * phentsize);
        if (ph == null) {
            return new Elf(typeName, Optional.empty());
        }
        for (int i = 0; i < phnum; i++) {
            int o = i * phentsize;
            if (u32(ph, o) != PT_NOTE) {
                continue;
            }
            long off = u64(ph, o + 8);
            long size = u64(ph, o + 32);
            if (size <= 0 || size > MAX_NOTES || off < 0 || off > Long.MAX_VALUE - size) {
                continue;
            }
            byte[] notes = file.read(off, (int) size);
            if (notes == null) {
                continue;
            }
            Optional<String> id = buildId(notes);
            if (id.isPresent()) {
                return new Elf(typeName, id);
            }
        }
        return new Elf(typeName, Optional.empty());
    }

    /** The GNU build-id in a block of ELF notes (4-byte aligned name and descriptor). */
    static Optional<String> buildId(byte[] b) {
        int o = 0;
        while (o + 12 <= b.length) {
            long namesz = u32(b, o);
            long descsz = u32(b, o + 4);
            long type = u32(b, o + 8);
            long name = o + 12L;
            long desc = name + ((namesz + 3) & ~3L);
            long next = desc + ((descsz + 3) & ~3L);
            if (namesz > b.length || descsz > b.length || desc + descsz > b.length) {
                return Optional.empty();
            }
            if (type == NT_GNU_BUILD_ID && namesz == 4 && b[(int) name] == 'G' && b[(int) name + 1] == 'N'
                    && b[(int) name + 2] == 'U' && b[(int) name + 3] == 0 && descsz > 0) {
                return Optional.of(HexFormat.of().formatHex(b, (int) desc, (int) (desc + descsz)));
            }
            o = (int) next;
        }
        return Optional.empty();
    }

    /** {@code length} bytes from file offset {@code offset} through a mapping of the file, or null when not resident. */
    private static byte[] readFile(X86AddressSpace user, List<Mapping> group, long offset, int length) {
        for (Mapping m : group) {
            long size = m.end() - m.start();
            if (offset >= m.offset() && offset + length <= m.offset() + size) {
                try {
                    return user.readBytes(m.start() + (offset - m.offset()), length);
                } catch (AbsentMemoryException e) {
                    return null;
                }
            }
        }
        return null;
    }

    private static int u16(byte[] b, int o) {
        return (b[o] & 0xff) | (b[o + 1] & 0xff) << 8;
    }

    private static long u32(byte[] b, int o) {
        return (u16(b, o) | (long) u16(b, o + 2) << 16) & 0xffffffffL;
    }

    private static long u64(byte[] b, int o) {
        return u32(b, o) | u32(b, o + 4) << 32;
    }

}
