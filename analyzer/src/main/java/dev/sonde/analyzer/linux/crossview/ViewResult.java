package dev.sonde.analyzer.linux.crossview;

import java.util.List;
import java.util.Map;

/**
 * The processes one view saw.
 *
 * @param view      which view
 * @param leaders   thread group leader {@code task_struct} address to its pid, in the order the view met them
 * @param problems  what the walk could not read or found inconsistent, each naming the address
 * @param complete  whether the walk reached its natural end
 */
public record ViewResult(ProcessView view, Map<Long, Integer> leaders, List<String> problems, boolean complete) {
    public ViewResult {
        leaders = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(leaders));
        problems = List.copyOf(problems);
    }
}
