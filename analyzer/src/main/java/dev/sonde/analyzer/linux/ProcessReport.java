package dev.sonde.analyzer.linux;

import java.util.ArrayList;
import java.util.List;

/**
 * Every process found in one image.
 *
 * @param processes    the thread groups, in task-list order
 * @param completeness the verdict of the task-list walk itself
 */
public record ProcessReport(List<ProcessInfo> processes, Completeness completeness) {
    public ProcessReport {
        processes = List.copyOf(processes);
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
