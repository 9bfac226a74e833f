package dev.sonde.analyzer.report;

/** The output formats of a {@link Report}. */
public enum ReportFormat {
    /** Aligned text tables for people; control characters escaped, absent values shown as {@code -}. */
    table,
    /** One JSON document; absent values are {@code null}. */
    json,
    /** One JSON object per row with a {@code table} member, then a {@code summary} line; absent values {@code null}. */
    jsonl,
    /**
     * RFC 4180 CSV: one header line of the union of the columns with a leading {@code table} column, every row of
     * every table. An absent value is an empty unquoted field; an empty string is {@code ""}.
     */
    csv,
    /**
     * One self-contained HTML page (inline CSS and script, no network): summary, findings, process tree, sortable
     * and filterable tables; guest strings escaped. See {@link dev.sonde.analyzer.report.html.HtmlReport}.
     */
    html
}
