package dev.sonde.analyzer.volatility;

/**
 * A cell Volatility could not fill, and why: {@code unreadable} (memory could not be read), {@code unparsable},
 * {@code not_applicable}, {@code not_available}, or {@code absent} (another kind).
 */
public record VolAbsent(String kind) {
    @Override
    public String toString() {
        return "<" + kind + ">";
    }
}
