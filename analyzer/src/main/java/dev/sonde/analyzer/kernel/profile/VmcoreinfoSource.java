package dev.sonde.analyzer.kernel.profile;

import dev.sonde.analyzer.kernel.Vmcoreinfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The VMCOREINFO note as a symbol source: {@code SYMBOL(x)} entries (running-kernel addresses), and a partial type
 * table from {@code OFFSET(s.m)} and {@code SIZE(s)} (offsets and sizes only, member types unknown).
 */
public final class VmcoreinfoSource {
    private VmcoreinfoSource() {
    }

    public static SymbolSource of(Vmcoreinfo info) {
        List<KernelSymbol> symbols = new ArrayList<>();
        Map<String, Map<String, Field>> members = new LinkedHashMap<>();
        Map<String, Long> sizes = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : info.entries().entrySet()) {
            String k = e.getKey();
            String inner = k.indexOf('(') > 0 && k.endsWith(")") ? k.substring(k.indexOf('(') + 1, k.length() - 1) : null;
            if (inner == null) {
                continue;
            }
            if (k.startsWith("SYMBOL(")) {
                OptionalLong v = info.symbol(inner);
                if (v.isPresent()) {
                    symbols.add(new KernelSymbol(inner, v.getAsLong(), '?', null, null));
                }
            } else if (k.startsWith("OFFSET(")) {
                int dot = inner.indexOf('.');
                OptionalLong v = info.offset(inner);
                if (dot > 0 && v.isPresent()) {
                    String type = inner.substring(0, dot);
                    String member = inner.substring(dot + 1);
                    members.computeIfAbsent(type, t -> new LinkedHashMap<>())
                            .put(member, new Field(member, TypeRef.UNKNOWN_TYPE, v.getAsLong(), false));
                }
            } else if (k.startsWith("SIZE(")) {
                OptionalLong v = info.size(inner);
                if (v.isPresent()) {
                    sizes.put(inner, v.getAsLong());
                }
            }
        }
        Map<String, UserType> user = new LinkedHashMap<>();
        members.forEach((t, f) -> user.put(t, new UserType(t, false, sizes.getOrDefault(t, -1L), f)));
        sizes.forEach((t, s) -> user.putIfAbsent(t, new UserType(t, false, s, Map.of())));
        TypeTable types = new TypeTable("VMCOREINFO", Map.of(), user, Map.of(), Map.of(), Map.of());
        return SymbolSource.of("VMCOREINFO", types, new SymbolTable("VMCOREINFO", true, symbols));
    }
}
