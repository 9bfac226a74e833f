package dev.sonde.analyzer.kernel.profile;

import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.KernelIdentity;
import dev.sonde.analyzer.kernel.LinuxBanners;
import dev.sonde.analyzer.kernel.Vmcoreinfo;
import dev.sonde.analyzer.kernel.btf.BtfFormatException;
import dev.sonde.analyzer.kernel.btf.BtfLocator;
import dev.sonde.analyzer.kernel.btf.BtfTypes;
import dev.sonde.analyzer.kernel.isf.IsfCache;
import dev.sonde.analyzer.kernel.isf.IsfFile;
import dev.sonde.analyzer.kernel.kallsyms.Kallsyms;
import dev.sonde.analyzer.kernel.kallsyms.KallsymsFormatException;
import dev.sonde.analyzer.kernel.kallsyms.KallsymsReader;
import dev.sonde.analyzer.kernel.kallsyms.KallsymsTables;
import dev.sonde.analyzer.memory.AbsentMemoryException;
import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Builds the {@link KernelProfile} of an image. Types come from, in this order, an ISF given with {@code --symbols},
 * the kernel's BTF found in memory, (offsets and sizes only) VMCOREINFO; symbols from the ISF, kallsyms found in
 * memory, VMCOREINFO. Every other source found is compared with the chosen one on what the analyses use
 * ({@link UsedByAnalyzer}) and on every VMCOREINFO {@code OFFSET}/{@code SIZE}/{@code SYMBOL} entry; a disagreement
 * fails the build (unless {@link ProfileOptions#allowConflicts()}) with a message naming both sources.
 */
public final class KernelProfiles {
    /** Scan this much physical memory from the kernel's {@code _stext} when VMCOREINFO says where that is. */
    static final long KERNEL_WINDOW = 512L << 20;

    private KernelProfiles() {
    }

    /** Builds the profile of {@code image} with the default options (no ISF). */
    public static KernelProfile build(MemoryImage image) {
        return build(image, ProfileOptions.defaults());
    }

    public static KernelProfile build(MemoryImage image, ProfileOptions options) {
        return new Builder(image, options).build();
    }

    private static final class Builder {
        final MemoryImage image;
        final PhysicalMemory memory;
        final ProfileOptions options;
        final List<String> notes = new ArrayList<>();
        final List<String> conflicts = new ArrayList<>();
        final List<String> missing = new ArrayList<>();

        Builder(MemoryImage image, ProfileOptions options) {
            this.image = image;
            this.memory = image.memory();
            this.options = options;
        }

        KernelProfile build() {
            Optional<Vmcoreinfo> vmci = options.useVmcoreinfo() ? image.vmcoreinfo() : Optional.empty();
            KernelIdentity identity = options.useVmcoreinfo() ? KernelIdentity.of(image)
                    : KernelIdentity.of(new MemoryImage(image.file(), image.format(), memory, image.cpus(),
                    Optional.empty(), image.warnings()));
            Optional<LinuxBanners.Banner> banner = identity.banner();

            // 1. The ISF, checked against the image's banner.
            IsfFile isf = null;
            if (options.isf().isPresent()) {
                try {
                    isf = IsfCache.shared().load(options.isf().get());
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read the ISF " + options.isf().get() + ": " + e.getMessage(), e);
                }
                Optional<String> isfBanner = isf.banner();
                if (isfBanner.isPresent() && banner.isPresent() && !isfBanner.get().equals(banner.get().text())) {
                    throw new ProfileException("the ISF " + options.isf().get() + " is for \"" + isfBanner.get()
                            + "\" but the image runs \"" + banner.get().text() + "\"",
                            "pass the ISF of this kernel with --symbols, or leave --symbols out to use the BTF and "
                                    + "kallsyms in the image");
                }
                if (isfBanner.isEmpty()) {
                    notes.add("the ISF has no linux_banner constant: it could not be matched to the image's kernel");
                }
            }

            // 2. The image's own BTF and kallsyms.
            List<MemoryRange> window = kernelWindow(vmci);
            BtfLocator.Found btfFound = null;
            TypeTable btfTypes = null;
            if (options.useBtf() && (isf == null || options.crossCheck())) {
                List<BtfLocator.Found> found = BtfLocator.scan(memory, window, 4);
                if (found.isEmpty() && !window.equals(memory.ranges())) {
                    found = BtfLocator.scan(memory, memory.ranges(), 4);
                }
                if (found.isEmpty()) {
                    missing.add("no kernel BTF (a .BTF section naming task_struct) in " + memory.name());
                } else {
                    btfFound = found.get(0);
                    if (found.size() > 1) {
                        notes.add(found.size() + " BTF blobs naming task_struct; using the first, at physical 0x"
                                + Long.toHexString(btfFound.physicalAddress()));
                    }
                    try {
                        btfTypes = BtfTypes.toTypeTable(btfFound.btf(),
                                String.format("BTF in memory at physical 0x%x", btfFound.physicalAddress()));
                    } catch (BtfFormatException e) {
                        missing.add("the kernel BTF at physical 0x" + Long.toHexString(btfFound.physicalAddress())
                                + " does not parse: " + e.getMessage());
                        btfFound = null;
                    }
                }
            }
            Kallsyms kallsyms = null;
            if (options.useKallsyms() && (isf == null || options.crossCheck() || vmci.flatMap(v -> v.kernelOffset().isPresent()
                    ? Optional.of(v) : Optional.empty()).isEmpty())) {
                kallsyms = findKallsyms(vmci, window);
            }

            // 3. Where the kernel is.
            KernelLayout layout;
            try {
                layout = KaslrFinder.find(memory, vmci, kallsyms, btfFound, isf, banner, notes, conflicts);
            } catch (ProfileException e) {
                if (missing.isEmpty()) {
                    throw e;
                }
                throw new ProfileException(e.problem() + "; " + String.join("; ", missing), e.hint());
            }

            // 4. Types and symbols from the first source that has them.
            List<SymbolSource> sources = new ArrayList<>();
            if (isf != null) {
                sources.add(isf);
            }
            if (btfTypes != null) {
                sources.add(SymbolSource.of(btfTypes.source(), btfTypes, null));
            }
            if (kallsyms != null) {
                sources.add(SymbolSource.of(kallsyms.toSymbolTable().source(), null, kallsyms.toSymbolTable()));
            }
            vmci.ifPresent(v -> sources.add(VmcoreinfoSource.of(v)));
            TypeTable types = isf != null ? isf.typeTable() : btfTypes;
            SymbolTable symbols = isf != null ? isf.symbolTable() : kallsyms != null ? kallsyms.toSymbolTable() : null;
            if (types == null || symbols == null) {
                String what = types == null && symbols == null ? "kernel types and symbols"
                        : types == null ? "kernel types" : "kernel symbols";
                throw new ProfileException("no " + what + " for " + image.file() + ": " + String.join("; ", missing)
                        + (vmci.isPresent() ? " (VMCOREINFO alone has too few)" : "; no VMCOREINFO either"),
                        "pass a Volatility ISF of this kernel (e.g. made by dwarf2json from its debug package) with --symbols FILE");
            }
            notes.addAll(missing);

            // 5. Cross-checks.
            List<String> found = new ArrayList<>();
            ProfileCheck.compareTypes(types, btfTypes, found);
            vmci.ifPresent(v -> ProfileCheck.compareWithVmcoreinfo(types, symbols, layout.virtualShift(), v, found));
            if (kallsyms != null && symbols != null && isf != null) {
                ProfileCheck.compareSymbols(symbols, layout.virtualShift(), kallsyms.toSymbolTable(), found);
            }
            if (!found.isEmpty()) {
                if (!options.allowConflicts()) {
                    throw new ProfileException("the symbol sources disagree on " + found.size() + " item(s) the analyses use: "
                            + String.join("; ", found.subList(0, Math.min(8, found.size())))
                            + (found.size() > 8 ? "; ..." : ""),
                            isf != null ? "the ISF given with --symbols may be for another build of this kernel; leave "
                                    + "--symbols out to use the image's BTF and kallsyms, or allow conflicts to use the ISF anyway"
                                    : "allow conflicts to proceed with " + types.source());
                }
                conflicts.addAll(found);
            }

            Optional<String> runningBanner = readBanner(symbols, layout, banner);
            Optional<String> buildId = BuildIdReader.read(memory, symbols, layout, notes);
            if (buildId.isPresent() && identity.buildId().isPresent() && !buildId.get().equalsIgnoreCase(identity.buildId().get())) {
                conflicts.add("VMCOREINFO BUILD-ID " + identity.buildId().get() + " but the kernel's notes in memory say "
                        + buildId.get());
            }
            notes.add(0, "types from " + types.source() + "; symbols from " + symbols.source());
            return new KernelProfile(identity, runningBanner, buildId, types, symbols, layout, vmci, sources, notes, conflicts);
        }

        private List<MemoryRange> kernelWindow(Optional<Vmcoreinfo> vmci) {
            if (vmci.isPresent()) {
                OptionalLong stext = vmci.get().symbol("_stext");
                OptionalLong physBase = vmci.get().number("phys_base");
                if (stext.isPresent() && physBase.isPresent()) {
                    long start = stext.getAsLong() - KernelLayout.START_KERNEL_MAP + physBase.getAsLong();
                    if (start >= 0) {
                        List<MemoryRange> w = PhysicalScan.clip(memory, start, start + KERNEL_WINDOW);
                        if (!w.isEmpty()) {
                            return w;
                        }
                    }
                }
            }
            return memory.ranges();
        }

        private Kallsyms findKallsyms(Optional<Vmcoreinfo> vmci, List<MemoryRange> window) {
            List<String> diagnostics = new ArrayList<>();
            Optional<KallsymsTables> tables = Optional.empty();
            if (vmci.isPresent() && vmci.get().number("phys_base").isPresent()) {
                try {
                    tables = KallsymsReader.fromVmcoreinfo(memory, vmci.get(), vmci.get().number("phys_base").getAsLong());
                } catch (KallsymsFormatException | AbsentMemoryException e) {
                    diagnostics.add("VMCOREINFO kallsyms entries: " + e.getMessage());
                }
            }
            if (tables.isEmpty()) {
                tables = KallsymsReader.scan(memory, window, diagnostics);
            }
            if (tables.isEmpty() && !window.equals(memory.ranges())) {
                tables = KallsymsReader.scan(memory, memory.ranges(), diagnostics);
            }
            if (tables.isEmpty()) {
                missing.add("no kallsyms tables in " + memory.name() + (diagnostics.isEmpty() ? "" : " (" + String.join("; ", diagnostics) + ")"));
                return null;
            }
            try {
                Kallsyms k = KallsymsReader.read(memory, tables.get());
                notes.addAll(tables.get().notes());
                return k;
            } catch (KallsymsFormatException | AbsentMemoryException e) {
                missing.add("the kallsyms tables found by " + tables.get().foundBy() + " do not decode: " + e.getMessage());
                return null;
            }
        }

        private Optional<String> readBanner(SymbolTable symbols, KernelLayout layout, Optional<LinuxBanners.Banner> scanned) {
            Optional<KernelSymbol> s = symbols.get("linux_banner");
            if (s.isPresent()) {
                long v = KernelProfile.runtimeAddress(symbols, s.get(), layout.virtualShift());
                try {
                    String text = memory.readCString(layout.imagePhysical(v), 1024);
                    if (text.startsWith("Linux version ")) {
                        return Optional.of(text.endsWith("\n") ? text.substring(0, text.length() - 1) : text);
                    }
                } catch (AbsentMemoryException e) {
                    // fall through to the scanned banner
                }
            }
            return scanned.map(LinuxBanners.Banner::text);
        }
    }
}
