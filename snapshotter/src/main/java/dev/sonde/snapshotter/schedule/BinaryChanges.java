package dev.sonde.snapshotter.schedule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Binaries (for now: the executable path of a process) run at this checkpoint and not at the previous one
 * ({@code binary-new}), and among those, ones never seen in this domain since the scheduler first analyzed it
 * ({@code binary-unknown}). Binary identity by content (build-id, page hashes, the knowledge base) refines this later.
 */
public final class BinaryChanges implements DiffRule {
    @Override
    public List<Change> diff(Optional<Observation> previous, Observation current) {
        if (previous.isEmpty()) {
            return List.of();
        }
        Set<String> before = previous.get().binaries();
        Set<String> known = previous.get().knownBinaries();
        List<Change> out = new ArrayList<>();
        for (String exe : current.binaries()) {
            if (before.contains(exe)) {
                continue;
            }
            List<String> users = current.processes().stream().filter(p -> p.exe().equals(exe))
                    .map(p -> p.pid() + " (" + p.comm() + ")").toList();
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("exe", exe);
            d.put("processes", users);
            boolean unknown = !known.contains(exe);
            d.put("seenBefore", !unknown);
            out.add(new Change("binary-new", "medium", "binary " + exe + " runs (" + String.join(", ", users) + ")", d));
            if (unknown) {
                out.add(new Change("binary-unknown", "high", "binary " + exe + " never seen in this domain before", d));
            }
        }
        return out;
    }
}
