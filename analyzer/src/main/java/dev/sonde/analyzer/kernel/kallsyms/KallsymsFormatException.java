package dev.sonde.analyzer.kernel.kallsyms;

/** kallsyms tables that do not decode: the message names the physical address and the problem. */
public final class KallsymsFormatException extends RuntimeException {
    public KallsymsFormatException(String message) {
        super(message);
    }
}
