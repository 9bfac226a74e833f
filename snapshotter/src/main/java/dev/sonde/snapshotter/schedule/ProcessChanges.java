package dev.sonde.snapshotter.schedule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * User processes started and vanished since the previous checkpoint (identity: pid, start time and comm). Kernel
 * threads come and go on their own (kworkers) and are left out. Nothing at a domain's first checkpoint.
 */
public final class ProcessChanges implements DiffRule {
    @Override
    public List<Change> diff(Optional<Observation> previous, Observation current) {
        if (previous.isEmpty()) {
            return List.of();
        }
        Map<String, Observation.Process> before = users(previous.get());
        Map<String, Observation.Process> now = users(current);
        List<Change> out = new ArrayList<>();
        for (var e : now.entrySet()) {
            if (!before.containsKey(e.getKey())) {
                Observation.Process p = e.getValue();
                out.add(new Change("process-started", "medium", "process " + p.pid() + " (" + p.comm() + ") started"
                        + (p.exe().isEmpty() ? "" : ", running " + p.exe()), details(p)));
            }
        }
        for (var e : before.entrySet()) {
            if (!now.containsKey(e.getKey())) {
                Observation.Process p = e.getValue();
                out.add(new Change("process-vanished", "low", "process " + p.pid() + " (" + p.comm() + ") is gone",
                        details(p)));
            }
        }
        return out;
    }

    private static Map<String, Observation.Process> users(Observation o) {
        return o.processes().stream().filter(p -> !p.kernelThread())
                .collect(Collectors.toMap(Observation.Process::key, Function.identity(), (a, b) -> a, LinkedHashMap::new));
    }

    static Map<String, Object> details(Observation.Process p) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("pid", p.pid());
        d.put("ppid", p.ppid());
        d.put("comm", p.comm());
        d.put("startTicks", p.startTicks());
        d.put("exe", p.exe());
        d.put("cmdline", p.cmdline());
        return d;
    }
}
