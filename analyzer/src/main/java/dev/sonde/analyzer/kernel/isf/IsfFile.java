package dev.sonde.analyzer.kernel.isf;

import dev.sonde.analyzer.kernel.profile.KernelSymbol;
import dev.sonde.analyzer.kernel.profile.SymbolSource;
import dev.sonde.analyzer.kernel.profile.SymbolTable;
import dev.sonde.analyzer.kernel.profile.TypeTable;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * A loaded Volatility ISF (Intermediate Symbol Format) file: types and link-time symbol addresses.
 *
 * @param description e.g. {@code ISF fixtures/isf/linux-image-6.1.0-57-amd64.json.xz}
 * @param format      the metadata {@code format}, e.g. {@code 6.2.0}
 * @param producer    the metadata producer, e.g. {@code dwarf2json 0.9.0}
 */
public record IsfFile(String description, String format, String producer, TypeTable typeTable, SymbolTable symbolTable)
        implements SymbolSource {

    @Override
    public Optional<TypeTable> types() {
        return Optional.of(typeTable);
    }

    @Override
    public Optional<SymbolTable> symbols() {
        return Optional.of(symbolTable);
    }

    /** The {@code linux_banner} constant the file records (without the trailing newline and NUL), if any. */
    public Optional<String> banner() {
        return symbolTable.get("linux_banner").map(KernelSymbol::constantData).map(b -> {
            int n = 0;
            while (n < b.length && b[n] != 0) {
                n++;
            }
            String s = new String(b, 0, n, StandardCharsets.ISO_8859_1);
            return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
        });
    }
}
