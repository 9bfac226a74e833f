package dev.sonde.analyzer.linux;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Every process found in one image.
 *
 * @param processes    the thread groups, in task-list order
 * @param completeness the verdict of the task-list walk itself (after a cross-check: of every view, and their agreement)
 * @param views        per {@code task_struct} address, the views that saw the process ({@code tasks}, {@code pid-idr},
 *                     {@code children}, {@code scan}); empty when the report was not cross-checked
 */
public record ProcessReport(List<ProcessInfo> processes, Completeness completeness, Map<Long, List<String>> views) {
    public ProcessReport {
        processes = List.copyOf(processes);
        views = Map.copyOf(views);
    }

    public ProcessReport(List<ProcessInfo> processes, Completeness completeness) {
        this(processes, completeness, Map.of());
    }

    /** The views that saw {@code p}, empty when the report was not cross-checked. */
    public List<String> viewsOf(ProcessInfo p) {
        return views.getOrDefault(p.task(), List.of());
    }

    /** The verdict over everything: the task-list walk and every process (reasons prefixed with pid and comm). */
    public Completeness overall() {
        List<String> reasons = new ArrayList<>(completeness.reasons());
        for (ProcessInfo p : processes) {
            for (String r : p.completeness().reasons()) {
                reasons.add("pid " + p.pid() + " (" + p.comm() + "): " + r);
            }
        }
        return Completeness.of(reasons);
    }
}
