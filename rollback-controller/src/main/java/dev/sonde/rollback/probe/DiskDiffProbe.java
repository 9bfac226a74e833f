package dev.sonde.rollback.probe;

import dev.sonde.kb.disk.Qcow2Image;
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

    static final int BLOCK = 4096;

    /**
     * The 4 KiB blocks of the allocated ranges whose content in the overlay's chain differs from the checkpoint's (the
     * backing chain): a written cluster (64 KiB) usually changes a few of its blocks only.
     */
    static List<ProbeResult.Range> changedBlocks(Path overlay, Path backing, List<ProbeResult.Range> ranges) throws IOException {
        List<ProbeResult.Range> out = new ArrayList<>();
        try (Qcow2Image now = Qcow2Image.open(overlay); Qcow2Image before = Qcow2Image.open(backing)) {
            byte[] x = new byte[BLOCK];
            byte[] y = new byte[BLOCK];
            for (ProbeResult.Range r : ranges) {
                for (long off = r.offset(); off < r.offset() + r.length(); off += BLOCK) {
                    int len = (int) Math.min(BLOCK, Math.min(r.offset() + r.length(), now.size()) - off);
                    if (len <= 0) {
                        break;
                    }
                    now.read(off, x, 0, len);
                    before.read(off, y, 0, len);
                    if (!java.util.Arrays.equals(x, 0, len, y, 0, len)) {
                        ProbeResult.Range last = out.isEmpty() ? null : out.get(out.size() - 1);
                        if (last != null && last.offset() + last.length() == off && last.zero() == r.zero()) {
                            out.set(out.size() - 1, new ProbeResult.Range(last.offset(), last.length() + len, r.zero()));
                        } else {
                            out.add(new ProbeResult.Range(off, len, r.zero()));
                        }
                    }
                }
            }
        }
        return out;
    }

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
            long changedBytes = -1;
            try {
                if (!a.backingFile().isEmpty()) {
                    all = changedBlocks(e.getValue(), e.getValue().resolveSibling(a.backingFile()), all);
                    changedBytes = all.stream().mapToLong(ProbeResult.Range::length).sum();
                }
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
                note = (changedBytes >= 0 ? changedBytes + " bytes in " + all.size() + " ranges differ from the checkpoint "
                        + "(4 KiB blocks of the " + a.allocatedBytes() + " bytes of allocated clusters); " : "")
                        + "ext4 read as on the disk (journal not replayed); " + Math.max(0, (changedBytes >= 0 ? changedBytes
                        : a.allocatedBytes()) - mapped) + " bytes or more in no file, directory or the journal (inode "
                        + "tables, bitmaps, group descriptors, free space)";
            } catch (IOException | RuntimeException x) {
                note = "file mapping not available: " + x.getMessage();
            }
            out.add(new ProbeResult.DiskChanges(e.getKey(), a.virtualSize(), a.clusterSize(), a.allocatedBytes(),
                    changedBytes, all.size(), all.stream().limit(MAX_RANGES).toList(), all.size() > MAX_RANGES, files, note));
        }
        return new ProbeResult.DiskDiff(spec, out);
    }
}
