package dev.sonde.analyzer.kernel.profile;

import dev.sonde.analyzer.memory.PhysicalMemory;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reads the kernel's GNU build-id from its {@code .notes} section in memory (between {@code __start_notes} and
 * {@code __stop_notes}): the ELF note named {@code GNU} of type {@code NT_GNU_BUILD_ID} (3).
 */
public final class BuildIdReader {
    static final int NT_GNU_BUILD_ID = 3;
    static final int MAX_NOTES = 64 << 10;

    private BuildIdReader() {
    }

    public static Optional<String> read(PhysicalMemory memory, SymbolTable symbols, KernelLayout layout, List<String> notes) {
        OptionalLong start = address(symbols, "__start_notes", layout);
        OptionalLong stop = address(symbols, "__stop_notes", layout);
        if (start.isEmpty() || stop.isEmpty()) {
            notes.add("no __start_notes/__stop_notes symbols: the build-id was not read from memory");
            return Optional.empty();
        }
        long len = stop.getAsLong() - start.getAsLong();
        if (len <= 0 || len > MAX_NOTES) {
            notes.add("implausible .notes length " + len + ": the build-id was not read from memory");
            return Optional.empty();
        }
        byte[] b = new byte[(int) len];
        if (memory.read(layout.imagePhysical(start.getAsLong()), b, 0, b.length) != b.length) {
            notes.add("the kernel's .notes are not in the image: the build-id was not read from memory");
            return Optional.empty();
        }
        return parse(b);
    }

    /** The GNU build-id in a run of ELF notes, as lower-case hex. */
    public static Optional<String> parse(byte[] b) {
        int p = 0;
        while (p + 12 <= b.length) {
            long namesz = u32(b, p);
            long descsz = u32(b, p + 4);
            long type = u32(b, p + 8);
            long nameEnd = p + 12 + align4(namesz);
            long descEnd = nameEnd + align4(descsz);
            if (namesz > b.length || descsz > b.length || descEnd > b.length) {
                return Optional.empty();
            }
            if (type == NT_GNU_BUILD_ID && namesz == 4 && b[p + 12] == 'G' && b[p + 13] == 'N' && b[p + 14] == 'U'
                    && b[p + 15] == 0 && descsz > 0) {
                return Optional.of(HexFormat.of().formatHex(b, (int) nameEnd, (int) (nameEnd + descsz)));
            }
            p = (int) descEnd;
        }
        return Optional.empty();
    }

    private static OptionalLong address(SymbolTable symbols, String name, KernelLayout layout) {
        return symbols.get(name).map(s -> OptionalLong.of(KernelProfile.runtimeAddress(symbols, s, layout.virtualShift())))
                .orElse(OptionalLong.empty());
    }

    private static long align4(long v) {
        return (v + 3) & ~3L;
    }

    private static long u32(byte[] b, int off) {
        return (b[off] & 0xffL) | (b[off + 1] & 0xffL) << 8 | (b[off + 2] & 0xffL) << 16 | (b[off + 3] & 0xffL) << 24;
    }
}
