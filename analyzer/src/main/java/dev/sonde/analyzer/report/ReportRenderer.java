package dev.sonde.analyzer.report;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sonde.analyzer.report.html.HtmlReport;
import dev.sonde.analyzer.report.html.HtmlText;
import dev.sonde.analyzer.report.html.ReportContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Renders a {@link Report} as text tables, JSON, JSON lines, CSV or HTML. Knows nothing of the analyses. */
public final class ReportRenderer {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);

    private ReportRenderer() {
    }

    public static void render(Report report, ReportFormat format, Writer out) {
        try {
            switch (format) {
                case table -> table(report, out);
                case json -> json(report, out);
                case jsonl -> jsonl(report, out);
                case csv -> csv(report, out);
                case html -> HtmlReport.render(report, ReportContext.empty(), out);
                default -> throw new IllegalArgumentException(String.valueOf(format));
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String render(Report report, ReportFormat format) {
        java.io.StringWriter w = new java.io.StringWriter();
        render(report, format, w);
        return w.toString();
    }

    // ---------------------------------------------------------------- JSON

    private static Map<String, Object> summary(Report r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("analysis", r.analysis());
        m.put("source", r.source());
        m.put("completeness", r.verdict());
        m.put("reasons", r.reasons());
        return m;
    }

    private static Map<String, Object> row(Table t, List<Object> cells) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < cells.size(); i++) {
            m.put(t.columns().get(i), cells.get(i));
        }
        return m;
    }

    private static void json(Report r, Writer out) throws IOException {
        Map<String, Object> doc = summary(r);
        for (Table t : r.tables()) {
            List<Object> rows = new ArrayList<>();
            for (List<Object> cells : t.rows()) {
                rows.add(row(t, cells));
            }
            doc.put(t.name(), rows);
        }
        JSON.writer().with(SerializationFeature.INDENT_OUTPUT).writeValue(out, doc);
        out.write('\n');
    }

    private static void jsonl(Report r, Writer out) throws IOException {
        for (Table t : r.tables()) {
            for (List<Object> cells : t.rows()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("table", t.name());
                m.putAll(row(t, cells));
                out.write(JSON.writeValueAsString(m));
                out.write('\n');
            }
        }
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("table", "summary");
        s.putAll(summary(r));
        out.write(JSON.writeValueAsString(s));
        out.write('\n');
    }

    // ---------------------------------------------------------------- CSV

    private static void csv(Report r, Writer out) throws IOException {
        Set<String> cols = new LinkedHashSet<>();
        for (Table t : r.tables()) {
            cols.addAll(t.columns());
        }
        List<String> all = new ArrayList<>(cols);
        List<String> header = new ArrayList<>();
        header.add("table");
        header.addAll(all);
        out.write(String.join(",", header.stream().map(ReportRenderer::csvField).toList()));
        out.write("\r\n");
        for (Table t : r.tables()) {
            for (List<Object> cells : t.rows()) {
                Map<String, Object> m = row(t, cells);
                StringBuilder sb = new StringBuilder(csvField(t.name()));
                for (String c : all) {
                    sb.append(',');
                    Object v = m.get(c);
                    if (v != null) {
                        sb.append(csvField(plain(v)));
                    }
                }
                out.write(sb.append("\r\n").toString());
            }
        }
    }

    /** A present value as a CSV field: always quoted when empty or holding a comma, quote, CR or LF. */
    static String csvField(String s) {
        if (s.isEmpty()) {
            return "\"\"";
        }
        boolean quote = s.indexOf(',') >= 0 || s.indexOf('"') >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0
                || s.charAt(0) == ' ' || s.charAt(s.length() - 1) == ' ';
        return quote ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    /** A cell as one string: lists as a JSON array so that element boundaries survive. */
    private static String plain(Object v) {
        if (v instanceof List<?> l) {
            try {
                return JSON.writeValueAsString(l);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return String.valueOf(v);
    }

    // ---------------------------------------------------------------- text tables

    private static void table(Report r, Writer out) throws IOException {
        for (Table t : r.tables()) {
            out.write(t.name().toUpperCase() + " (" + t.rows().size() + ")\n");
            List<List<String>> lines = new ArrayList<>();
            lines.add(t.columns());
            for (List<Object> cells : t.rows()) {
                List<String> l = new ArrayList<>();
                for (Object c : cells) {
                    l.add(c == null ? "-" : c instanceof List<?> list ? words(list) : escape(String.valueOf(c)));
                }
                lines.add(l);
            }
            int[] width = new int[t.columns().size()];
            for (List<String> l : lines) {
                for (int i = 0; i < l.size(); i++) {
                    width[i] = Math.max(width[i], l.get(i).length());
                }
            }
            for (List<String> l : lines) {
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < l.size(); i++) {
                    String cell = l.get(i);
                    sb.append(cell);
                    if (i < l.size() - 1) {
                        sb.append(" ".repeat(width[i] - cell.length() + 2));
                    }
                }
                out.write(sb.toString().stripTrailing());
                out.write('\n');
            }
            out.write('\n');
        }
        out.write("completeness: " + r.verdict() + "\n");
        for (String reason : r.reasons()) {
            out.write("  " + escape(reason) + "\n");
        }
    }

    /** An argument vector for a text table: words separated by spaces, quoted when empty or holding a space. */
    private static String words(List<?> list) {
        List<String> w = new ArrayList<>();
        for (Object o : list) {
            String s = escape(String.valueOf(o));
            w.add(s.isEmpty() || s.contains(" ") || s.contains("'") ? "'" + s.replace("'", "\\'") + "'" : s);
        }
        return String.join(" ", w);
    }

    /** Control characters, backslashes and other invisible characters as escapes, so one row stays one line. */
    static String escape(String s) {
        return HtmlText.visible(s);
    }
}
