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
            List<ProbeResult.Range> all = a.ranges().stream()
                    .map(r -> new ProbeResult.Range(r.offset(), r.length(), r.zero())).toList();
            List<String> files = new ArrayList<>();
            String note;
            try {
                Map<String, Long> after = Ext4FileMap.map(e.getValue(), all);
                Map<String, Long> before = a.backingFile().isEmpty() ? Map.of()
                        : Ext4FileMap.map(e.getValue().resolveSibling(a.backingFile()), all);
                java.util.TreeSet<String> paths = new java.util.TreeSet<>(after.keySet());
                paths.addAll(before.keySet());
                long mapped = 0;
                for (String p : paths) {
                    long n = Math.max(after.getOrDefault(p, 0L), before.getOrDefault(p, 0L));
                    mapped += n;
                    if (files.size() < MAX_RANGES) {
                        files.add(p + " (" + n + " bytes; " + (after.containsKey(p) && before.containsKey(p) ? "in checkpoint and clone"
                                : after.containsKey(p) ? "new in the clone" : "in the checkpoint, gone in the clone") + ")");
                    }
                }
                note = "ext4 read as on the disk (journal not replayed); " + Math.max(0, a.allocatedBytes() - mapped)
                        + " bytes or more in no file, directory or the journal (inode tables, bitmaps, free space)";
            } catch (IOException | RuntimeException x) {
                note = "file mapping not available: " + x.getMessage();
            }
            out.add(new ProbeResult.DiskChanges(e.getKey(), a.virtualSize(), a.clusterSize(), a.allocatedBytes(),
                    a.ranges().size(), all.stream().limit(MAX_RANGES).toList(), a.ranges().size() > MAX_RANGES,
                    files, note));
        }
        return new ProbeResult.DiskDiff(spec, out);
    }
}
