package dev.sonde.analyzer.memory;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Physical memory with some bytes overwritten (for hostile-guest tests): patches win over the underlying image. */
public final class PatchedMemory implements PhysicalMemory {
    private final PhysicalMemory base;
    private final TreeMap<Long, byte[]> patches = new TreeMap<>();

    public PatchedMemory(PhysicalMemory base) {
        this.base = base;
    }

    public PatchedMemory patch(long address, byte[] bytes) {
        patches.put(address, bytes.clone());
        return this;
    }

    public PatchedMemory patchU64(long address, long value) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (value >>> (8 * i));
        }
        return patch(address, b);
    }

    /** Zero-fills {@code [address, address + length)}. */
    public PatchedMemory zero(long address, int length) {
        return patch(address, new byte[length]);
    }

    @Override
    public String name() {
        return base.name() + " (patched)";
    }

    @Override
    public List<MemoryRange> ranges() {
        return base.ranges();
    }

    @Override
    public int read(long address, byte[] dst, int offset, int length) {
        int n = base.read(address, dst, offset, length);
        if (n <= 0) {
            return n;
        }
        long end = address + n;
        Map.Entry<Long, byte[]> floor = patches.floorEntry(address);
        Long from = floor != null && floor.getKey() + floor.getValue().length > address ? floor.getKey() : address;
        for (Map.Entry<Long, byte[]> e : patches.subMap(from, true, end, false).entrySet()) {
            long ps = e.getKey();
            byte[] pb = e.getValue();
            long s = Math.max(ps, address);
            long t = Math.min(ps + pb.length, end);
            for (long a = s; a < t; a++) {
                dst[offset + (int) (a - address)] = pb[(int) (a - ps)];
            }
        }
        return n;
    }

    @Override
    public void close() {
    }
}
