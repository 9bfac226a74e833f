package dev.sonde.analyzer.kernel.profile;

import dev.sonde.analyzer.kernel.Vmcoreinfo;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/** Compares symbol sources on what the analyses use; each disagreement is one line naming both sources. */
public final class ProfileCheck {
    private ProfileCheck() {
    }

    /** Offsets, member sizes and type sizes of {@link UsedByAnalyzer#MEMBERS} in {@code a} and {@code b}. */
    public static void compareTypes(TypeTable a, TypeTable b, List<String> out) {
        if (a == null || b == null || a == b) {
            return;
        }
        for (Map.Entry<String, List<String>> e : UsedByAnalyzer.MEMBERS.entrySet()) {
            String type = e.getKey();
            OptionalLong sa = a.size(type);
            OptionalLong sb = b.size(type);
            if (sa.isPresent() && sb.isPresent() && sa.getAsLong() != sb.getAsLong()) {
                out.add("size of " + type + ": " + sa.getAsLong() + " in " + a.source() + ", " + sb.getAsLong() + " in "
                        + b.source());
            }
            if (a.userType(type).isEmpty() || b.userType(type).isEmpty()) {
                if (a.userType(type).isPresent() != b.userType(type).isPresent()) {
                    out.add("type " + type + " is in " + (a.userType(type).isPresent() ? a.source() : b.source())
                            + " only");
                }
                continue;
            }
            for (String m : e.getValue()) {
                Optional<Member> ma = a.member(type, m);
                Optional<Member> mb = b.member(type, m);
                if (ma.isPresent() != mb.isPresent()) {
                    out.add(type + "." + m + " is in " + (ma.isPresent() ? a.source() : b.source()) + " only");
                } else if (ma.isPresent()) {
                    if (ma.get().offset() != mb.get().offset()) {
                        out.add(type + "." + m + ": offset " + ma.get().offset() + " in " + a.source() + ", "
                                + mb.get().offset() + " in " + b.source());
                    }
                    OptionalLong za = a.sizeOf(ma.get().type());
                    OptionalLong zb = b.sizeOf(mb.get().type());
                    if (za.isPresent() && zb.isPresent() && za.getAsLong() != zb.getAsLong()) {
                        out.add(type + "." + m + ": " + za.getAsLong() + " bytes in " + a.source() + ", "
                                + zb.getAsLong() + " in " + b.source());
                    }
                    TypeRef ta = ma.get().type();
                    TypeRef tb = mb.get().type();
                    if (ta.kind() == TypeRef.Kind.BITFIELD && (tb.kind() != TypeRef.Kind.BITFIELD
                            || ta.bitPosition() != tb.bitPosition() || ta.bitLength() != tb.bitLength())) {
                        out.add(type + "." + m + ": bitfield " + ta + " in " + a.source() + ", " + tb + " in " + b.source());
                    }
                }
            }
        }
    }

    /** Every VMCOREINFO {@code OFFSET()}, {@code SIZE()} and kernel-image {@code SYMBOL()} entry the profile also has. */
    public static void compareWithVmcoreinfo(TypeTable types, SymbolTable symbols, long shift, Vmcoreinfo v, List<String> out) {
        for (String key : v.entries().keySet()) {
            int open = key.indexOf('(');
            if (open < 0 || !key.endsWith(")")) {
                continue;
            }
            String inner = key.substring(open + 1, key.length() - 1);
            if (key.startsWith("OFFSET(")) {
                int dot = inner.indexOf('.');
                OptionalLong want = v.offset(inner);
                if (dot > 0 && want.isPresent()) {
                    Optional<Member> m = types.member(inner.substring(0, dot), inner.substring(dot + 1));
                    if (m.isPresent() && m.get().offset() != want.getAsLong()) {
                        out.add(inner + ": offset " + m.get().offset() + " in " + types.source() + ", "
                                + want.getAsLong() + " in VMCOREINFO");
                    }
                }
            } else if (key.startsWith("SIZE(")) {
                OptionalLong want = v.size(inner);
                OptionalLong have = types.size(inner);
                if (want.isPresent() && have.isPresent() && want.getAsLong() != have.getAsLong()) {
                    out.add("size of " + inner + ": " + have.getAsLong() + " in " + types.source() + ", "
                            + want.getAsLong() + " in VMCOREINFO");
                }
            } else if (key.startsWith("SYMBOL(")) {
                OptionalLong want = v.symbol(inner);
                Optional<KernelSymbol> s = symbols.get(inner);
                // Only addresses in the kernel image: some entries (mem_section) hold a pointer's value instead.
                if (want.isPresent() && s.isPresent()
                        && Long.compareUnsigned(want.getAsLong(), KernelLayout.START_KERNEL_MAP) >= 0) {
                    long have = KernelProfile.runtimeAddress(symbols, s.get(), shift);
                    if (have != want.getAsLong()) {
                        out.add(String.format("symbol %s: 0x%x from %s, 0x%x in VMCOREINFO", inner, have,
                                symbols.source(), want.getAsLong()));
                    }
                }
            }
        }
    }

    /** The running addresses of {@link UsedByAnalyzer#SYMBOLS} in two tables. */
    public static void compareSymbols(SymbolTable a, long shift, SymbolTable b, List<String> out) {
        for (String name : UsedByAnalyzer.SYMBOLS) {
            Optional<KernelSymbol> sa = a.get(name);
            Optional<KernelSymbol> sb = b.get(name);
            if (sa.isPresent() && sb.isPresent()) {
                long va = KernelProfile.runtimeAddress(a, sa.get(), shift);
                long vb = KernelProfile.runtimeAddress(b, sb.get(), shift);
                if (va != vb) {
                    out.add(String.format("symbol %s: 0x%x from %s, 0x%x from %s", name, va, a.source(), vb, b.source()));
                }
            }
        }
    }
}
