package dev.sonde.rollback.probe;

import dev.sonde.rollback.qcow2.Qcow2Allocation;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code diskdiff}: after the clone stopped (QEMU has flushed and closed its overlays), the guest ranges each overlay
 * holds: exactly what the clone wrote, since the overlays started empty.
 */
record DiskDiffProbe(String spec) implements Probe {
    static final int MAX_RANGES = 10_000;

    @Override
    public Phase phase() {
        return Phase.AFTER_STOP;
    }

    @Override
    public ProbeResult run(ProbeContext ctx) throws IOException {
        List<ProbeResult.DiskChanges> out = new ArrayList<>();
        for (Map.Entry<String, Path> e : ctx.overlays().entrySet()) {
            Qcow2Allocation a = Qcow2Allocation.read(e.getValue());
            List<ProbeResult.Range> ranges = a.ranges().stream().limit(MAX_RANGES)
                    .map(r -> new ProbeResult.Range(r.offset(), r.length(), r.zero())).toList();
            out.add(new ProbeResult.DiskChanges(e.getKey(), a.virtualSize(), a.clusterSize(), a.allocatedBytes(),
                    a.ranges().size(), ranges, a.ranges().size() > MAX_RANGES, List.of(),
                    "file mapping pending: guest byte ranges of the disk only (no ext4 reader in this build)"));
        }
        return new ProbeResult.DiskDiff(spec, out);
    }
}
