package dev.sonde.analyzer.volatility;

/**
 * A column of a plugin's result.
 *
 * @param name       the column name as the plugin declares it (e.g. {@code PID})
 * @param type       its value type
 * @param pythonType the Python type Volatility declared, e.g. {@code volatility3.framework.renderers.format_hints.Hex}
 */
public record VolColumn(String name, VolType type, String pythonType) {

    /**
     * Value types, and the Java type a present cell of that column holds: {@code INT}: {@link Long}, or
     * {@link java.math.BigInteger} outside its range; {@code HEX}, {@code BIN}: {@link Long} holding the unsigned 64-bit
     * pattern (addresses), or {@link java.math.BigInteger} beyond 64 bits; {@code STR}: {@link String}; {@code BOOL}: {@link Boolean}; {@code FLOAT}: {@link Double};
     * {@code BYTES}, {@code HEXBYTES}, {@code DISASSEMBLY}: {@code byte[]}; {@code DATETIME}: {@link String}
     * (ISO-8601 as Python printed it); {@code OTHER}: its string form. An absent cell is a {@link VolAbsent}.
     */
    public enum VolType { INT, HEX, BIN, STR, BOOL, FLOAT, BYTES, HEXBYTES, DATETIME, DISASSEMBLY, OTHER }
}
