package dev.sonde.analyzer.kernel.btf;

/** BTF data that does not parse: the message names the byte offset in the blob and the problem. */
public final class BtfFormatException extends RuntimeException {
    public BtfFormatException(String message) {
        super(message);
    }
}
