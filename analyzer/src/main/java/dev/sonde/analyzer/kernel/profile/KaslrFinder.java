package dev.sonde.analyzer.kernel.profile;

import dev.sonde.analyzer.kernel.LinuxBanners;
import dev.sonde.analyzer.kernel.Vmcoreinfo;
import dev.sonde.analyzer.kernel.btf.BtfLocator;
import dev.sonde.analyzer.kernel.isf.IsfFile;
import dev.sonde.analyzer.kernel.kallsyms.Kallsyms;
import dev.sonde.analyzer.memory.AbsentMemoryException;
import dev.sonde.analyzer.memory.PhysicalMemory;
import dev.sonde.analyzer.memory.x86.PagingMode;
import dev.sonde.analyzer.memory.x86.X86AddressSpace;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Finds the kernel's KASLR shifts and page tables, in this order:
 * <ol>
 * <li>VMCOREINFO: {@code KERNELOFFSET}, {@code NUMBER(phys_base)}, {@code SYMBOL(swapper_pg_dir)};</li>
 * <li>kallsyms (running addresses) plus an anchor whose physical address the scan found: the BTF blob
 * ({@code __start_BTF}) or the version banner ({@code linux_banner}); the virtual shift is {@code _text} minus its
 * link-time address (from the ISF when given, else the x86-64 default {@code 0xffffffff81000000});</li>
 * <li>an ISF (link-time addresses) plus the banner's physical address, which gives the physical shift, and the
 * pointer {@code init_task.files}, which holds the running address of {@code init_files} and so the virtual
 * shift (the way Volatility does it).</li>
 * </ol>
 * Each candidate is accepted only if the page tables it implies map {@code init_top_pgt} to itself. When several
 * methods work they must agree.
 */
final class KaslrFinder {
    private KaslrFinder() {
    }

    static KernelLayout find(PhysicalMemory memory, Optional<Vmcoreinfo> vmci, Kallsyms kallsyms, BtfLocator.Found btf,
                             IsfFile isf, Optional<LinuxBanners.Banner> banner, List<String> notes, List<String> conflicts) {
        List<String> tried = new ArrayList<>();
        KernelLayout fromVmcoreinfo = vmci.flatMap(v -> fromVmcoreinfo(memory, v, tried)).orElse(null);
        KernelLayout fromKallsyms = kallsyms == null ? null
                : fromKallsyms(memory, kallsyms, btf, isf, banner, fromVmcoreinfo, tried).orElse(null);
        KernelLayout fromIsf = isf == null || fromVmcoreinfo != null || fromKallsyms != null ? null
                : fromIsf(memory, isf, banner, tried).orElse(null);
        KernelLayout chosen = fromVmcoreinfo != null ? fromVmcoreinfo : fromKallsyms != null ? fromKallsyms : fromIsf;
        if (chosen == null) {
            throw new ProfileException("cannot locate the kernel in memory (KASLR shifts and page tables): "
                    + (tried.isEmpty() ? "no VMCOREINFO, no kallsyms and no ISF to work from" : String.join("; ", tried)),
                    "pass a Volatility ISF of this kernel with --symbols");
        }
        if (fromVmcoreinfo != null && fromKallsyms != null) {
            if (fromVmcoreinfo.physBase() != fromKallsyms.physBase() || fromVmcoreinfo.dtb() != fromKallsyms.dtb()) {
                conflicts.add(String.format("VMCOREINFO puts the kernel at phys_base 0x%x (DTB 0x%x), kallsyms in memory at "
                                + "0x%x (DTB 0x%x)", fromVmcoreinfo.physBase(), fromVmcoreinfo.dtb(),
                        fromKallsyms.physBase(), fromKallsyms.dtb()));
            } else {
                notes.add("KASLR: VMCOREINFO and the kallsyms anchor agree");
            }
        }
        notes.addAll(tried);
        return chosen;
    }

    private static Optional<KernelLayout> fromVmcoreinfo(PhysicalMemory memory, Vmcoreinfo v, List<String> tried) {
        OptionalLong offset = v.kernelOffset();
        OptionalLong physBase = v.number("phys_base");
        OptionalLong top = v.symbol("swapper_pg_dir");
        if (top.isEmpty()) {
            top = v.symbol("init_top_pgt");
        }
        if (physBase.isEmpty() || top.isEmpty()) {
            tried.add("VMCOREINFO lacks NUMBER(phys_base) or SYMBOL(swapper_pg_dir)");
            return Optional.empty();
        }
        PagingMode mode = v.number("pgtable_l5_enabled").orElse(0) == 1 ? PagingMode.FIVE_LEVEL : PagingMode.FOUR_LEVEL;
        long dtb = top.getAsLong() - KernelLayout.START_KERNEL_MAP + physBase.getAsLong();
        if (!selfMapped(memory, dtb, top.getAsLong(), mode)) {
            tried.add(String.format("VMCOREINFO's page tables at 0x%x do not map swapper_pg_dir", dtb));
            return Optional.empty();
        }
        List<String> notes = new ArrayList<>();
        long shift = offset.orElse(0);
        if (offset.isEmpty()) {
            notes.add("VMCOREINFO has no KERNELOFFSET: no virtual KASLR shift assumed");
        }
        return Optional.of(new KernelLayout(shift, physBase.getAsLong(), dtb, mode, "VMCOREINFO", notes));
    }

    private static Optional<KernelLayout> fromKallsyms(PhysicalMemory memory, Kallsyms kallsyms, BtfLocator.Found btf,
                                                       IsfFile isf, Optional<LinuxBanners.Banner> banner,
                                                       KernelLayout known, List<String> tried) {
        SymbolTable ks = kallsyms.toSymbolTable();
        OptionalLong top = address(ks, "init_top_pgt").isPresent() ? address(ks, "init_top_pgt") : address(ks, "swapper_pg_dir");
        OptionalLong text = address(ks, "_text");
        if (top.isEmpty() || text.isEmpty()) {
            tried.add("kallsyms has no init_top_pgt or _text");
            return Optional.empty();
        }
        List<String> notes = new ArrayList<>();
        long shift;
        if (known != null) {
            shift = known.virtualShift();
        } else if (isf != null && isf.symbolTable().get("_text").isPresent()) {
            shift = text.getAsLong() - isf.symbolTable().get("_text").get().address();
            notes.add("virtual KASLR shift: kallsyms _text minus the ISF's _text");
        } else {
            shift = text.getAsLong() - KernelLayout.DEFAULT_TEXT_LINK_ADDRESS;
            notes.add(String.format("virtual KASLR shift: kallsyms _text minus the default link address 0x%x "
                    + "(CONFIG_PHYSICAL_START 16 MiB assumed)", KernelLayout.DEFAULT_TEXT_LINK_ADDRESS));
        }
        // Anchors: an object at a known virtual address whose physical address the scans found.
        List<long[]> anchors = new ArrayList<>(); // {physical, virtual}
        List<String> anchorNames = new ArrayList<>();
        OptionalLong startBtf = address(ks, "__start_BTF");
        if (btf != null && startBtf.isPresent()) {
            anchors.add(new long[] {btf.physicalAddress(), startBtf.getAsLong()});
            anchorNames.add("the BTF blob (__start_BTF)");
        }
        OptionalLong linuxBanner = address(ks, "linux_banner");
        if (banner.isPresent() && linuxBanner.isPresent()) {
            anchors.add(new long[] {banner.get().physicalAddress(), linuxBanner.getAsLong()});
            anchorNames.add("the version banner (linux_banner)");
        }
        for (int i = 0; i < anchors.size(); i++) {
            long physBase = anchors.get(i)[0] - (anchors.get(i)[1] - KernelLayout.START_KERNEL_MAP);
            long dtb = top.getAsLong() - KernelLayout.START_KERNEL_MAP + physBase;
            for (PagingMode mode : PagingMode.values()) {
                if (selfMapped(memory, dtb, top.getAsLong(), mode)) {
                    return Optional.of(new KernelLayout(shift, physBase, dtb, mode, "kallsyms + " + anchorNames.get(i), notes));
                }
            }
        }
        tried.add("kallsyms found, but no anchor (" + (anchorNames.isEmpty() ? "no BTF, no banner" : String.join(", ", anchorNames))
                + ") gives page tables that map init_top_pgt");
        return Optional.empty();
    }

    private static Optional<KernelLayout> fromIsf(PhysicalMemory memory, IsfFile isf, Optional<LinuxBanners.Banner> banner,
                                                  List<String> tried) {
        SymbolTable s = isf.symbolTable();
        Optional<KernelSymbol> linuxBanner = s.get("linux_banner");
        Optional<KernelSymbol> initTask = s.get("init_task");
        Optional<KernelSymbol> initFiles = s.get("init_files");
        Optional<KernelSymbol> top = s.get("init_top_pgt").or(() -> s.get("swapper_pg_dir"));
        Optional<Member> files = isf.typeTable().member("task_struct", "files");
        if (banner.isEmpty() || linuxBanner.isEmpty() || initTask.isEmpty() || initFiles.isEmpty() || top.isEmpty()
                || files.isEmpty()) {
            tried.add("the ISF route needs the banner in memory and linux_banner, init_task, init_files, init_top_pgt "
                    + "and task_struct.files in the ISF");
            return Optional.empty();
        }
        long physShift = banner.get().physicalAddress() - (linuxBanner.get().address() - KernelLayout.START_KERNEL_MAP);
        long filesPointer;
        try {
            filesPointer = memory.readU64(initTask.get().address() - KernelLayout.START_KERNEL_MAP + physShift
                    + files.get().offset());
        } catch (AbsentMemoryException e) {
            tried.add("init_task is not in the image where the banner puts it");
            return Optional.empty();
        }
        long shift = filesPointer - initFiles.get().address();
        long physBase = physShift - shift;
        long dtb = top.get().address() - KernelLayout.START_KERNEL_MAP + physShift;
        for (PagingMode mode : PagingMode.values()) {
            if (selfMapped(memory, dtb, top.get().address() + shift, mode)) {
                return Optional.of(new KernelLayout(shift, physBase, dtb, mode, "ISF + banner + init_task.files",
                        List.of("physical shift from the banner's address, virtual shift from init_task.files")));
            }
        }
        tried.add("the ISF route (banner + init_task.files) gives page tables that do not map init_top_pgt");
        return Optional.empty();
    }

    private static OptionalLong address(SymbolTable t, String name) {
        return t.get(name).map(k -> OptionalLong.of(k.address())).orElse(OptionalLong.empty());
    }

    /** Whether the page tables at {@code dtb} map the virtual address of the top-level table to {@code dtb}. */
    static boolean selfMapped(PhysicalMemory memory, long dtb, long topVirtual, PagingMode mode) {
        if (dtb < 0 || (dtb & 0xfff) != 0) {
            return false;
        }
        return new X86AddressSpace(memory, dtb, mode).physicalAddress(topVirtual) == dtb;
    }
}
