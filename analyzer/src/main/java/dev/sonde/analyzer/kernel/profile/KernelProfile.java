package dev.sonde.analyzer.kernel.profile;

import dev.sonde.analyzer.kernel.KernelIdentity;
import dev.sonde.analyzer.kernel.Vmcoreinfo;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Everything known about the running kernel of one image: its identity, types, symbols and where it lies (KASLR,
 * page tables), with the sources each came from. Built by {@link KernelProfiles}. Symbol look-ups return
 * running-kernel addresses whatever the source (an ISF's link-time addresses get the KASLR shift added, per-CPU
 * offsets are never shifted). Member look-ups fall back to VMCOREINFO {@code OFFSET()}/{@code SIZE()} entries when the
 * types lack them.
 */
public final class KernelProfile {
    private final KernelIdentity identity;
    private final Optional<String> banner;
    private final Optional<String> buildId;
    private final TypeTable types;
    private final SymbolTable symbols;
    private final KernelLayout layout;
    private final Optional<Vmcoreinfo> vmcoreinfo;
    private final List<SymbolSource> sources;
    private final List<String> notes;
    private final List<String> conflicts;

    KernelProfile(KernelIdentity identity, Optional<String> banner, Optional<String> buildId, TypeTable types,
                  SymbolTable symbols, KernelLayout layout, Optional<Vmcoreinfo> vmcoreinfo, List<SymbolSource> sources,
                  List<String> notes, List<String> conflicts) {
        this.identity = identity;
        this.banner = banner;
        this.buildId = buildId;
        this.types = types;
        this.symbols = symbols;
        this.layout = layout;
        this.vmcoreinfo = vmcoreinfo;
        this.sources = List.copyOf(sources);
        this.notes = List.copyOf(notes);
        this.conflicts = List.copyOf(conflicts);
    }

    public KernelIdentity identity() {
        return identity;
    }

    /** The running kernel's {@code linux_banner} (without the trailing newline), read from memory. */
    public Optional<String> banner() {
        return banner;
    }

    /** The GNU build-id read from the kernel's notes in memory (hex). */
    public Optional<String> buildId() {
        return buildId;
    }

    public TypeTable types() {
        return types;
    }

    public SymbolTable symbols() {
        return symbols;
    }

    public KernelLayout layout() {
        return layout;
    }

    public Optional<Vmcoreinfo> vmcoreinfo() {
        return vmcoreinfo;
    }

    /** Every source consulted, types/symbols source first. */
    public List<SymbolSource> sources() {
        return sources;
    }

    /** What was used, assumed or missing, for reports. */
    public List<String> notes() {
        return notes;
    }

    /** Disagreements between sources that were tolerated (see {@link ProfileOptions#allowConflicts()}). */
    public List<String> conflicts() {
        return conflicts;
    }

    /** The running-kernel address of {@code name}. */
    public OptionalLong symbol(String name) {
        Optional<KernelSymbol> s = symbols.get(name);
        if (s.isPresent()) {
            return OptionalLong.of(runtimeAddress(symbols, s.get(), layout.virtualShift()));
        }
        return vmcoreinfo.map(v -> v.symbol(name)).orElse(OptionalLong.empty());
    }

    static long runtimeAddress(SymbolTable table, KernelSymbol s, long shift) {
        return table.relocated() || s.perCpu() ? s.address() : s.address() + shift;
    }

    /** The running-kernel address of {@code name}, or a {@link ProfileException} naming the sources searched. */
    public long requireSymbol(String name) {
        return symbol(name).orElseThrow(() -> new ProfileException("kernel symbol " + name + " is in none of: "
                + symbols.source() + vmcoreinfo.map(v -> ", VMCOREINFO").orElse(""),
                "pass a Volatility ISF of this kernel with --symbols"));
    }

    /** The type a symbol has when its source records it (ISF symbols, BTF per-CPU variables). */
    public Optional<TypeRef> symbolType(String name) {
        return symbols.get(name).flatMap(KernelSymbol::typeRef).or(() -> Optional.ofNullable(types.variables().get(name)));
    }

    /** A struct or union by name. */
    public Optional<UserType> userType(String name) {
        return types.userType(name);
    }

    public UserType requireType(String name) {
        return types.userType(name).orElseThrow(() -> new ProfileException("type " + name + " is not in "
                + types.source(), "pass a Volatility ISF of this kernel with --symbols"));
    }

    /** A member of a struct/union (see {@link TypeTable#member}), falling back to VMCOREINFO {@code OFFSET(type.member)}. */
    public Optional<Member> member(String type, String path) {
        Optional<Member> m = types.member(type, path);
        if (m.isPresent()) {
            return m;
        }
        return vmcoreinfo.flatMap(v -> {
            OptionalLong off = v.offset(type + "." + path);
            return off.isPresent() ? Optional.of(new Member(type, path, off.getAsLong(), TypeRef.UNKNOWN_TYPE))
                    : Optional.empty();
        });
    }

    public Member requireMember(String type, String path) {
        return member(type, path).orElseThrow(() -> new ProfileException("member " + type + "." + path + " is not in "
                + types.source() + vmcoreinfo.map(v -> " nor in VMCOREINFO").orElse(""),
                "this kernel's layout differs from what the analysis expects; pass a Volatility ISF of this kernel with --symbols"));
    }

    public long offset(String type, String path) {
        return requireMember(type, path).offset();
    }

    /** Size of a type, falling back to VMCOREINFO {@code SIZE(type)}. */
    public OptionalLong size(String type) {
        OptionalLong s = types.size(type);
        if (s.isPresent()) {
            return s;
        }
        return vmcoreinfo.map(v -> v.size(type)).orElse(OptionalLong.empty());
    }

    public long requireSize(String type) {
        return size(type).orElseThrow(() -> new ProfileException("size of " + type + " is not in " + types.source(),
                "pass a Volatility ISF of this kernel with --symbols"));
    }

    /** The value of an enumerator, e.g. {@code enumValue("maple_type", "maple_leaf_64")}. */
    public OptionalLong enumValue(String enumName, String constant) {
        return types.enumType(enumName).flatMap(e -> e.value(constant)).map(OptionalLong::of).orElse(OptionalLong.empty());
    }

    /** A short multi-line description for reports. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("kernel: ").append(identity.release().orElse("?")).append('\n');
        banner.ifPresent(b -> sb.append("banner: ").append(b).append('\n'));
        buildId.ifPresent(b -> sb.append("build-id: ").append(b).append('\n'));
        sb.append("types: ").append(types).append('\n');
        sb.append("symbols: ").append(symbols).append('\n');
        sb.append(String.format("KASLR: virtual shift 0x%x, phys_base 0x%x, DTB 0x%x (%s, %s)%n", layout.virtualShift(),
                layout.physBase(), layout.dtb(), layout.pagingMode(), layout.method()));
        notes.forEach(n -> sb.append("note: ").append(n).append('\n'));
        conflicts.forEach(c -> sb.append("conflict: ").append(c).append('\n'));
        return sb.toString();
    }
}
