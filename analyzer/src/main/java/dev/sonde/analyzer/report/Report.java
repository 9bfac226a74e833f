package dev.sonde.analyzer.report;

import java.util.List;

/**
 * What one analysis produced, ready to render: its tables, and the completeness verdict with reasons.
 *
 * @param analysis name of the analysis (e.g. {@code processes})
 * @param source   what was analysed (the image file)
 * @param complete whether every walk reached its natural end
 * @param reasons  why the result is partial (empty when complete)
 * @param tables   the result tables
 */
public record Report(String analysis, String source, boolean complete, List<String> reasons, List<Table> tables) {
    public Report {
        reasons = List.copyOf(reasons);
        tables = List.copyOf(tables);
    }

    public String verdict() {
        return complete ? "complete" : "partial";
    }
}
