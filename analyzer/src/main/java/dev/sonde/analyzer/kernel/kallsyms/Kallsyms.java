package dev.sonde.analyzer.kernel.kallsyms;

import dev.sonde.analyzer.kernel.profile.KernelSymbol;
import dev.sonde.analyzer.kernel.profile.SymbolTable;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernel's symbols decoded from its kallsyms tables: names (expanded from the token table), nm-style type letters
 * and running-kernel addresses.
 */
public final class Kallsyms {
    private final KallsymsTables tables;
    private final String[] names;
    private final char[] types;
    private final long[] addresses;

    Kallsyms(KallsymsTables tables, String[] names, char[] types, long[] addresses) {
        this.tables = tables;
        this.names = names;
        this.types = types;
        this.addresses = addresses;
    }

    public KallsymsTables tables() {
        return tables;
    }

    public int size() {
        return names.length;
    }

    public String name(int i) {
        return names[i];
    }

    public char type(int i) {
        return types[i];
    }

    public long address(int i) {
        return addresses[i];
    }

    /** The symbols as a table of running-kernel addresses (the first of a repeated name wins). */
    public SymbolTable toSymbolTable() {
        List<KernelSymbol> list = new ArrayList<>(names.length);
        for (int i = 0; i < names.length; i++) {
            list.add(new KernelSymbol(names[i], addresses[i], types[i], null, null));
        }
        return new SymbolTable(String.format("kallsyms in memory at physical 0x%x", tables.names()), true, list);
    }
}
