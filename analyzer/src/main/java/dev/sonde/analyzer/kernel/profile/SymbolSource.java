package dev.sonde.analyzer.kernel.profile;

import java.util.Optional;

/**
 * Where kernel types and symbols come from: a Volatility ISF file, the kernel's own BTF and kallsyms found in the
 * image, or the VMCOREINFO note. A source may carry types, symbols or both; the profile takes each from the first
 * source that has it and cross-checks the others.
 */
public interface SymbolSource {

    /** A one-line description for reports and errors, e.g. {@code ISF fixtures/isf/x.json.xz}. */
    String description();

    /** The types, when this source has them. */
    Optional<TypeTable> types();

    /** The symbols, when this source has them. */
    Optional<SymbolTable> symbols();

    /** A source from parts. */
    static SymbolSource of(String description, TypeTable types, SymbolTable symbols) {
        return new SymbolSource() {
            @Override
            public String description() {
                return description;
            }

            @Override
            public Optional<TypeTable> types() {
                return Optional.ofNullable(types);
            }

            @Override
            public Optional<SymbolTable> symbols() {
                return Optional.ofNullable(symbols);
            }

            @Override
            public String toString() {
                return description;
            }
        };
    }
}
