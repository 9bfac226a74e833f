package dev.sonde.analyzer.report;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One named table of results, the neutral form every renderer takes: columns, and rows of cells. A cell is
 * {@code null} when the value is absent (could not be read, or does not apply), otherwise a {@link String},
 * {@link Number}, {@link Boolean} or a {@link List} of strings. Guest-controlled strings are stored as they are; each
 * renderer escapes them for its format.
 */
public final class Table {
    private final String name;
    private final List<String> columns;
    private final List<List<Object>> rows = new ArrayList<>();

    public Table(String name, List<String> columns) {
        this.name = name;
        this.columns = List.copyOf(columns);
    }

    public String name() {
        return name;
    }

    public List<String> columns() {
        return columns;
    }

    public List<List<Object>> rows() {
        return Collections.unmodifiableList(rows);
    }

    /** Adds a row; its cells are in column order. */
    public Table add(Object... cells) {
        if (cells.length != columns.size()) {
            throw new IllegalArgumentException(name + ": " + cells.length + " cells for " + columns.size() + " columns");
        }
        List<Object> row = new ArrayList<>(cells.length);
        for (Object c : cells) {
            row.add(c instanceof List<?> l ? List.copyOf(l.stream().map(String::valueOf).toList()) : c);
        }
        rows.add(Collections.unmodifiableList(row));
        return this;
    }
}
