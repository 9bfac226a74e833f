package dev.sonde.analyzer.memory;

import java.util.List;

/** Physical memory backed by one byte array starting at address 0, for tests. */
public final class ByteArrayMemory implements PhysicalMemory {
    private final byte[] bytes;

    public ByteArrayMemory(byte[] bytes) {
        this.bytes = bytes;
    }

    public byte[] bytes() {
        return bytes;
    }

    public void putU64(long address, long value) {
        for (int i = 0; i < 8; i++) {
            bytes[(int) address + i] = (byte) (value >>> (8 * i));
        }
    }

    @Override
    public String name() {
        return "test memory";
    }

    @Override
    public List<MemoryRange> ranges() {
        return List.of(new MemoryRange(0, bytes.length));
    }

    @Override
    public int read(long address, byte[] dst, int offset, int length) {
        if (address < 0 || address >= bytes.length) {
            return 0;
        }
        int n = (int) Math.min(length, bytes.length - address);
        System.arraycopy(bytes, (int) address, dst, offset, n);
        return n;
    }

    @Override
    public void close() {
    }
}
