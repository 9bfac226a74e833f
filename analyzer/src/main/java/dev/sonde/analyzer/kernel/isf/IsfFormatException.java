package dev.sonde.analyzer.kernel.isf;

/** An ISF file that does not parse: the message names the file, the position and the problem. */
public final class IsfFormatException extends RuntimeException {
    public IsfFormatException(String message) {
        super(message);
    }

    public IsfFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
