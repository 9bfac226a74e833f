package dev.sonde.analyzer.kernel.profile;

/**
 * One member of a struct or union.
 *
 * @param name      member name; anonymous members are named {@code unnamed_field_N} as dwarf2json does
 * @param type      the member's type (a {@link TypeRef.Kind#BITFIELD} for bitfields)
 * @param offset    byte offset in the enclosing type (for bitfields, of the byte holding the first bit)
 * @param anonymous whether the member is an anonymous struct or union whose members C reaches directly
 */
public record Field(String name, TypeRef type, long offset, boolean anonymous) {
}
