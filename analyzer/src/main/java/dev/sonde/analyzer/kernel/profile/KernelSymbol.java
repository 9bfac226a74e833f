package dev.sonde.analyzer.kernel.profile;

import java.util.Optional;

/**
 * One kernel symbol.
 *
 * @param name         symbol name
 * @param address      address as its table holds it (see {@link SymbolTable#relocated()})
 * @param kind         the nm-style type letter ({@code T}, {@code d}, ...) or {@code ?} when the source has none
 * @param type         the symbol's type when the source knows it, else null
 * @param constantData bytes recorded with the symbol (the ISF keeps {@code linux_banner}'s), else null
 */
public record KernelSymbol(String name, long address, char kind, TypeRef type, byte[] constantData) {

    public Optional<TypeRef> typeRef() {
        return Optional.ofNullable(type);
    }

    /** Whether this is an absolute per-CPU offset rather than an address in the kernel image (never KASLR-shifted). */
    public boolean perCpu() {
        return Long.compareUnsigned(address, KernelLayout.START_KERNEL_MAP) < 0;
    }
}
