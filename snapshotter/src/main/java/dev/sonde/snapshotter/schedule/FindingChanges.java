package dev.sonde.snapshotter.schedule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Analyzer findings not present at the previous checkpoint; at a domain's first analyzed checkpoint, all of them.
 */
public final class FindingChanges implements DiffRule {
    @Override
    public List<Change> diff(Optional<Observation> previous, Observation current) {
        Set<Observation.FindingKey> before = previous.map(o -> Set.copyOf(o.findings())).orElse(Set.of());
        List<Change> out = new ArrayList<>();
        for (Observation.FindingKey f : current.findings()) {
            if (!before.contains(f)) {
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("finding", f.kind());
                d.put("pid", f.pid());
                d.put("comm", f.comm());
                out.add(new Change("finding-new", f.severity(), "process " + f.pid() + " (" + f.comm() + "): " + f.summary(), d));
            }
        }
        return out;
    }
}
