package dev.sonde.analyzer.memory;

/**
 * Thrown when a read touches an address that the image does not hold.
 */
public final class AbsentMemoryException extends RuntimeException {
    private final long address;

    public AbsentMemoryException(String space, long address) {
        super(String.format("%s: no memory at 0x%x", space, address));
        this.address = address;
    }

    /** The first absent address. */
    public long address() {
        return address;
    }
}
