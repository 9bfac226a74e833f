package dev.sonde.analyzer.volatility;

import java.util.Collections;
import java.util.List;

/**
 * One node of a plugin's tree of results.
 *
 * @param depth  its depth in the tree (0 for a top-level row; e.g. a child process in {@code pstree})
 * @param values one value per column, typed as {@link VolColumn.VolType} says; a {@link VolAbsent} when absent
 */
public record VolRow(int depth, List<Object> values) {
    public VolRow {
        values = Collections.unmodifiableList(new java.util.ArrayList<>(values));
    }

    /** The value of column {@code index}. */
    public Object get(int index) {
        return values.get(index);
    }
}
