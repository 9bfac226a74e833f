package dev.sonde.analyzer.kernel.profile;

/**
 * A base (scalar) type.
 *
 * @param kind ISF kind: {@code int}, {@code char}, {@code bool}, {@code float} or {@code void}
 */
public record BaseType(String name, long size, boolean signed, String kind) {
}
