package dev.sonde.analyzer.image;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The register state of one virtual CPU at capture time, as an image recorded it.
 *
 * @param index     CPU number in the order the image lists them
 * @param source    where the registers came from, e.g. {@code "NT_PRSTATUS"} or {@code "QEMU CPU state"}
 * @param registers register name to value, in the order the source lists them
 */
public record CpuState(int index, String source, Map<String, Long> registers) {

    public CpuState {
        registers = Collections.unmodifiableMap(new LinkedHashMap<>(registers));
    }

    /** The page-table base (CR3) when the image recorded control registers. */
    public OptionalLong cr3() {
        Long v = registers.get("cr3");
        return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }

    /** Merges the registers of another source for the same CPU (e.g. QEMU's control registers into NT_PRSTATUS). */
    public CpuState with(String otherSource, Map<String, Long> more) {
        Map<String, Long> all = new LinkedHashMap<>(registers);
        more.forEach(all::putIfAbsent);
        return new CpuState(index, source + " + " + otherSource, all);
    }
}
