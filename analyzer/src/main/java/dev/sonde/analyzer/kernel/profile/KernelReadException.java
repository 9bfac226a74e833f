package dev.sonde.analyzer.kernel.profile;

/**
 * A typed read of a kernel object failed: the message names the object (type and address), the member and the cause
 * (absent memory, a null pointer, a member the profile lacks).
 */
public final class KernelReadException extends RuntimeException {
    public KernelReadException(String message, Throwable cause) {
        super(message, cause);
    }

    public KernelReadException(String message) {
        super(message);
    }
}
