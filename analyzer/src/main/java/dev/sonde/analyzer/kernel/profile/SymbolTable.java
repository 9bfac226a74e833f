package dev.sonde.analyzer.kernel.profile;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The kernel's symbols as one source lists them.
 *
 * @see KernelSymbol
 */
public final class SymbolTable {
    private final String source;
    private final boolean relocated;
    private final Map<String, KernelSymbol> byName;
    private final int duplicates;

    /**
     * @param relocated whether the addresses are the running kernel's (kallsyms, VMCOREINFO) rather than the link-time
     *                  ones (an ISF), which need the KASLR shift added
     * @param symbols   in source order; for a repeated name (static functions of different files) the first wins
     */
    public SymbolTable(String source, boolean relocated, List<KernelSymbol> symbols) {
        this.source = source;
        this.relocated = relocated;
        Map<String, KernelSymbol> map = new LinkedHashMap<>(symbols.size() * 2);
        int dup = 0;
        for (KernelSymbol s : symbols) {
            if (map.putIfAbsent(s.name(), s) != null) {
                dup++;
            }
        }
        this.byName = Collections.unmodifiableMap(map);
        this.duplicates = dup;
    }

    public String source() {
        return source;
    }

    public boolean relocated() {
        return relocated;
    }

    public Optional<KernelSymbol> get(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public Collection<KernelSymbol> all() {
        return byName.values();
    }

    public int size() {
        return byName.size();
    }

    /** How many entries repeated an earlier name and were dropped. */
    public int duplicates() {
        return duplicates;
    }

    @Override
    public String toString() {
        return source + ": " + byName.size() + " symbols" + (relocated ? " (relocated)" : " (link-time)");
    }
}
