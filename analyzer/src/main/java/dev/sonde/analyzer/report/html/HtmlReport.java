package dev.sonde.analyzer.report.html;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sonde.analyzer.report.Report;
import dev.sonde.analyzer.report.Table;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Renders a {@link Report} (plus a {@link ReportContext}) as one self-contained HTML page: inline CSS and script, no
 * network access (a Content-Security-Policy forbids it), no external font. It shows a summary header, the findings,
 * the process tree, every table of the report (sortable and filterable; tables added by new analyses render without
 * changes here) and the context's optional sections. Guest strings are escaped with {@link HtmlText}; the only
 * data inside a {@code <script>} element is JSON escaped by {@link HtmlText#scriptJson}.
 *
 * <p>Columns with a known meaning get a little more: {@code severity} and {@code status} colour their row or cell,
 * {@code kind} gets a selector, list cells render as items, hexadecimal strings and numbers sort as numbers.
 */
public final class HtmlReport {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> SEVERITIES = List.of("high", "medium", "low");
    /** Status values that colour a cell; anything else stays neutral. */
    private static final Map<String, String> STATUS_CLASS = Map.ofEntries(
            Map.entry("known", "ok"), Map.entry("ok", "ok"), Map.entry("verified", "ok"), Map.entry("passed", "ok"),
            Map.entry("match", "ok"), Map.entry("unknown", "warn"), Map.entry("partial", "warn"),
            Map.entry("modified", "bad"), Map.entry("mismatch", "bad"), Map.entry("deleted", "bad"),
            Map.entry("fileless", "bad"), Map.entry("failed", "bad"), Map.entry("tampered", "bad"));
    private static final String CSS = resource("report.css");
    private static final String SCRIPT = resource("report.js");

    private final Report report;
    private final ReportContext context;
    private final StringBuilder out = new StringBuilder(1 << 16);

    private HtmlReport(Report report, ReportContext context) {
        this.report = report;
        this.context = context;
    }

    /** Writes the page for {@code report} to {@code w}. */
    public static void render(Report report, ReportContext context, Writer w) throws IOException {
        HtmlReport r = new HtmlReport(report, context);
        r.page();
        w.write(r.out.toString());
        w.flush();
    }

    /** The page for {@code report} as a string. */
    public static String render(Report report, ReportContext context) {
        HtmlReport r = new HtmlReport(report, context);
        r.page();
        return r.out.toString();
    }

    // ---------------------------------------------------------------- page

    private void page() {
        raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        raw("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline';"
                + " script-src 'unsafe-inline'; img-src data:\">\n");
        raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        raw("<meta name=\"generator\" content=\"Sonde\">\n");
        raw("<title>Sonde report: ").text(report.source()).raw("</title>\n");
        raw("<style>\n").raw(CSS).raw("</style>\n</head>\n<body>\n");
        header();
        nav();
        raw("<main>\n");
        table("findings").ifPresent(this::findings);
        table("processes").flatMap(t -> ProcessTree.of(t).map(tree -> Map.entry(t, tree)))
                .ifPresent(e -> tree(e.getKey(), e.getValue()));
        for (Table t : report.tables()) {
            if (!t.name().equals("findings")) {
                dataTable(t, !t.name().equals("maps"));
            }
        }
        context.checkpoint().ifPresent(this::checkpoint);
        context.fork().ifPresent(this::fork);
        context.timeline().ifPresent(this::timeline);
        raw("</main>\n<footer>Written by Sonde. Every string read from the guest is shown escaped:"
                + " <code>\\n</code>, <code>\\\\</code>, <code>\\u0000</code> are escapes of invisible or ambiguous"
                + " characters.</footer>\n");
        raw("<output id=\"sonde-status\" hidden></output>\n");
        raw("<script type=\"application/json\" id=\"sonde-summary\">").raw(HtmlText.scriptJson(summaryJson()))
                .raw("</script>\n");
        raw("<script>\n").raw(SCRIPT).raw("</script>\n</body>\n</html>\n");
    }

    private void header() {
        raw("<header>\n<h1>Sonde <span>memory analysis report</span></h1>\n<dl class=\"summary\">\n");
        fact("Image", report.source());
        context.kernel().ifPresent(k -> fact("Kernel", k));
        fact("Analysis", report.analysis());
        raw("<div><dt>Completeness</dt><dd><span class=\"badge ").raw(report.complete() ? "ok" : "warn")
                .raw("\" id=\"verdict\">").text(report.verdict()).raw("</span>");
        if (!report.complete()) {
            raw(" ").text(report.reasons().size() + " problem" + (report.reasons().size() == 1 ? "" : "s"));
        }
        raw("</dd></div>\n");
        for (Table t : report.tables()) {
            raw("<div><dt>").text(title(t.name())).raw("</dt><dd class=\"count\" data-count=\"").text(t.name())
                    .raw("\">").text(Integer.toString(t.rows().size())).raw("</dd></div>\n");
        }
        Map<String, Integer> bySeverity = severityCounts();
        if (!bySeverity.isEmpty()) {
            raw("<div><dt>Findings by severity</dt><dd>");
            bySeverity.forEach((s, n) -> raw("<span class=\"badge sev-").raw(severityClass(s)).raw("\">")
                    .text(n + " " + s).raw("</span> "));
            raw("</dd></div>\n");
        }
        for (ReportContext.Fact f : context.facts()) {
            fact(f.label(), f.value());
        }
        raw("</dl>\n");
        if (!report.complete()) {
            raw("<details class=\"reasons\"><summary>Why the result is partial</summary><ul>\n");
            for (String r : report.reasons()) {
                raw("<li>").text(r).raw("</li>\n");
            }
            raw("</ul></details>\n");
        }
        raw("</header>\n");
    }

    private void nav() {
        raw("<nav>");
        table("findings").ifPresent(t -> link("findings", "Findings"));
        table("processes").flatMap(ProcessTree::of).ifPresent(t -> link("tree", "Process tree"));
        for (Table t : report.tables()) {
            if (!t.name().equals("findings")) {
                link("table-" + t.name(), title(t.name()));
            }
        }
        context.checkpoint().ifPresent(c -> link("checkpoint", "Checkpoint"));
        context.fork().ifPresent(c -> link("fork", "Fork and rollback"));
        context.timeline().ifPresent(c -> link("timeline", "Timeline"));
        raw("</nav>\n");
    }

    private void link(String id, String label) {
        raw("<a href=\"#").text(id).raw("\">").text(label).raw("</a>");
    }

    private void fact(String label, String value) {
        raw("<div><dt>").text(label).raw("</dt><dd>").text(value).raw("</dd></div>\n");
    }

    // ---------------------------------------------------------------- findings

    private void findings(Table t) {
        raw("<section id=\"findings\">\n<h2>Findings <small>").text(Integer.toString(t.rows().size()))
                .raw("</small></h2>\n");
        if (t.rows().isEmpty()) {
            raw("<p class=\"none\">No findings.</p>\n");
        }
        dataTableBody(bySeverity(t), "findings-table");
        raw("</section>\n");
    }

    /** The findings, most severe first (stable: the analysis' order within one severity). */
    private static Table bySeverity(Table t) {
        int s = t.columns().indexOf("severity");
        if (s < 0) {
            return t;
        }
        Table sorted = new Table(t.name(), t.columns());
        t.rows().stream().sorted(java.util.Comparator.comparingInt(r -> rank(cellText(r.get(s)))))
                .forEach(r -> sorted.add(r.toArray()));
        return sorted;
    }

    // ---------------------------------------------------------------- process tree

    private void tree(Table t, ProcessTree tree) {
        int comm = t.columns().indexOf("comm");
        int exe = t.columns().indexOf("exe");
        int cmdline = t.columns().indexOf("cmdline");
        int kthread = t.columns().indexOf("kernel_thread");
        Map<Integer, String> worst = worstSeverityByPid();
        raw("<section id=\"tree\">\n<h2>Process tree</h2>\n<p class=\"tools\"><button type=\"button\" data-tree=\"open\">"
                + "Expand all</button> <button type=\"button\" data-tree=\"close\">Collapse all</button>"
                + " <span class=\"hint\">kernel threads are collapsed</span></p>\n<ul class=\"tree\">\n");
        for (ProcessTree.Event e : tree.walk()) {
            if (e instanceof ProcessTree.Close) {
                raw("</ul></details></li>\n");
                continue;
            }
            ProcessTree.Node n = ((ProcessTree.Open) e).node();
            List<Object> row = t.rows().get(n.row());
            Object pid = row.get(t.columns().indexOf("pid"));
            boolean kernel = kthread >= 0 && Boolean.TRUE.equals(row.get(kthread));
            raw("<li><details").raw(kernel || !n.hasChildren() ? "" : " open").raw(n.hasChildren() ? "" : " class=\"leaf\"")
                    .raw("><summary>");
            raw("<span class=\"pid\">").text(String.valueOf(pid)).raw("</span> ");
            raw("<span class=\"comm").raw(kernel ? " kthread" : "").raw("\">")
                    .text(comm >= 0 ? cellText(row.get(comm)) : "").raw("</span>");
            String sev = pid instanceof Number p ? worst.get(p.intValue()) : null;
            if (sev != null) {
                raw(" <span class=\"badge sev-").raw(severityClass(sev)).raw("\">").text(sev).raw("</span>");
            }
            Object detail = cmdline >= 0 && row.get(cmdline) != null ? row.get(cmdline) : exe >= 0 ? row.get(exe) : null;
            if (detail != null) {
                raw(" <span class=\"argv\">").text(cellText(detail)).raw("</span>");
            }
            n.note().ifPresent(note -> raw(" <span class=\"note\">").text(note).raw("</span>"));
            raw("</summary><ul>\n");
        }
        raw("</ul>\n</section>\n");
    }

    // ---------------------------------------------------------------- generic tables

    private void dataTable(Table t, boolean open) {
        raw("<section id=\"table-").text(t.name()).raw("\">\n<details").raw(open ? " open" : "").raw("><summary><h2>")
                .text(title(t.name())).raw(" <small>").text(Integer.toString(t.rows().size())).raw("</small></h2></summary>\n");
        dataTableBody(t, "t-" + t.name());
        raw("</details>\n</section>\n");
    }

    private void dataTableBody(Table t, String id) {
        int kind = t.columns().indexOf("kind");
        int severity = t.columns().indexOf("severity");
        raw("<div class=\"tools\"><input type=\"search\" class=\"filter\" placeholder=\"filter rows\" aria-label=\"filter ")
                .text(t.name()).raw("\" data-for=\"").text(id).raw("\">");
        if (kind >= 0) {
            Set<String> kinds = new TreeSet<>();
            t.rows().forEach(r -> kinds.add(cellText(r.get(kind))));
            raw(" <select class=\"kind\" data-for=\"").text(id).raw("\" aria-label=\"kind\"><option value=\"\">every kind</option>");
            for (String k : kinds) {
                raw("<option value=\"").text(k).raw("\">").text(k).raw("</option>");
            }
            raw("</select>");
        }
        raw(" <span class=\"shown\" id=\"").text(id).raw("-shown\"></span></div>\n");
        raw("<div class=\"scroll\"><table class=\"data\" id=\"").text(id).raw("\" data-table=\"").text(t.name())
                .raw("\">\n<thead><tr>");
        for (String c : t.columns()) {
            raw("<th scope=\"col\" title=\"sort\">").text(c).raw("</th>");
        }
        raw("</tr></thead>\n<tbody>\n");
        for (List<Object> row : t.rows()) {
            raw("<tr");
            if (severity >= 0 && row.get(severity) != null) {
                raw(" class=\"sev-").raw(severityClass(String.valueOf(row.get(severity)))).raw("\"");
            }
            if (kind >= 0) {
                raw(" data-kind=\"").text(cellText(row.get(kind))).raw("\"");
            }
            raw(">");
            for (int i = 0; i < row.size(); i++) {
                cell(t.columns().get(i), row.get(i));
            }
            raw("</tr>\n");
        }
        raw("</tbody>\n</table></div>\n");
    }

    private void cell(String column, Object v) {
        if (v == null) {
            raw("<td class=\"na\" title=\"not available\">&#8211;</td>");
            return;
        }
        raw("<td");
        if (v instanceof Number n) {
            raw(" data-n=\"").text(String.valueOf(n)).raw("\"");
        } else if (v instanceof String s && s.matches("0x[0-9a-fA-F]{1,16}")) {
            raw(" data-k=\"").raw("0".repeat(18 - s.length())).text(s.substring(2).toLowerCase(Locale.ROOT)).raw("\"");
        }
        if (column.equals("status") || column.equals("verdict") || column.equals("completeness")) {
            String cls = STATUS_CLASS.get(String.valueOf(v).toLowerCase(Locale.ROOT));
            if (cls != null) {
                raw(" class=\"st-").raw(cls).raw("\"");
            }
        }
        raw(">");
        if (v instanceof List<?> l) {
            raw(l.isEmpty() ? "<span class=\"empty\">(none)</span>" : "");
            for (Object o : l) {
                raw("<span class=\"item\">").text(String.valueOf(o)).raw("</span>");
            }
        } else if (v instanceof String s && s.isEmpty()) {
            raw("<span class=\"empty\">\"\"</span>");
        } else {
            text(String.valueOf(v));
        }
        raw("</td>");
    }

    // ---------------------------------------------------------------- optional sections

    private void checkpoint(CheckpointSection c) {
        raw("<section id=\"checkpoint\">\n<h2>Checkpoint</h2>\n<dl class=\"facts\">\n");
        fact("Bundle", c.bundle());
        c.manifestSha256().ifPresent(h -> raw("<div><dt>Manifest SHA-256</dt><dd><code class=\"hash\">").text(h)
                .raw("</code></dd></div>\n"));
        c.verified().ifPresent(v -> raw("<div><dt>Verified</dt><dd><span class=\"badge ").raw(v ? "ok" : "bad")
                .raw("\">").text(v ? "every hash matches" : "integrity failure").raw("</span></dd></div>\n"));
        c.facts().forEach(f -> fact(f.label(), f.value()));
        raw("</dl>\n");
        Table files = new Table("bundle files", List.of("file", "size", "sha256"));
        c.files().forEach(f -> files.add(f.name(), f.size(), f.sha256()));
        dataTableBody(files, "checkpoint-files");
        raw("</section>\n");
    }

    private void fork(ForkVerification f) {
        raw("<section id=\"fork\">\n<h2>Fork and rollback <span class=\"badge ").raw(f.passed() ? "ok" : "bad")
                .raw("\">").text(f.passed() ? "verified" : "failed").raw("</span></h2>\n<p>").text(f.summary())
                .raw("</p>\n<ul class=\"checks\">\n");
        for (ForkVerification.Check c : f.checks()) {
            raw("<li class=\"").raw(c.passed() ? "st-ok" : "st-bad").raw("\"><span class=\"mark\">")
                    .raw(c.passed() ? "&#10003;" : "&#10007;").raw("</span> <b>").text(c.name()).raw("</b> ")
                    .text(c.detail()).raw("</li>\n");
        }
        raw("</ul>\n</section>\n");
    }

    private void timeline(Timeline t) {
        raw("<section id=\"timeline\">\n<h2>Timeline</h2>\n<ol class=\"timeline\">\n");
        for (Timeline.Step s : t.steps()) {
            raw("<li><h3>").text(s.checkpoint()).raw("</h3>");
            if (s.appeared().isEmpty() && s.vanished().isEmpty()) {
                raw("<p class=\"none\">no change</p>");
            }
            raw("<ul>");
            for (Timeline.Change c : s.appeared()) {
                raw("<li class=\"appeared\"><span class=\"mark\">+</span> <i>").text(c.kind()).raw("</i> ")
                        .text(c.item()).raw("</li>");
            }
            for (Timeline.Change c : s.vanished()) {
                raw("<li class=\"vanished\"><span class=\"mark\">&#8722;</span> <i>").text(c.kind()).raw("</i> ")
                        .text(c.item()).raw("</li>");
            }
            raw("</ul></li>\n");
        }
        raw("</ol>\n</section>\n");
    }

    // ---------------------------------------------------------------- helpers

    private Optional<Table> table(String name) {
        return report.tables().stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /** Findings per severity, most severe first. */
    private Map<String, Integer> severityCounts() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        table("findings").ifPresent(t -> {
            int s = t.columns().indexOf("severity");
            if (s < 0) {
                return;
            }
            Set<String> order = new LinkedHashSet<>(SEVERITIES);
            t.rows().forEach(r -> order.add(cellText(r.get(s))));
            order.forEach(sev -> counts.put(sev, 0));
            t.rows().forEach(r -> counts.merge(cellText(r.get(s)), 1, Integer::sum));
            counts.values().removeIf(n -> n == 0);
        });
        return counts;
    }

    private Map<Integer, String> worstSeverityByPid() {
        Map<Integer, String> worst = new HashMap<>();
        table("findings").ifPresent(t -> {
            int pid = t.columns().indexOf("pid");
            int s = t.columns().indexOf("severity");
            if (pid < 0 || s < 0) {
                return;
            }
            for (List<Object> r : t.rows()) {
                if (r.get(pid) instanceof Number p) {
                    String sev = cellText(r.get(s));
                    worst.merge(p.intValue(), sev, (a, b) -> rank(a) <= rank(b) ? a : b);
                }
            }
        });
        return worst;
    }

    private static int rank(String severity) {
        int i = SEVERITIES.indexOf(severity);
        return i < 0 ? SEVERITIES.size() : i;
    }

    private static String severityClass(String severity) {
        return SEVERITIES.contains(severity) ? severity : "other";
    }

    private static String cellText(Object v) {
        if (v == null) {
            return "";
        }
        if (v instanceof List<?> l) {
            StringBuilder sb = new StringBuilder();
            for (Object o : l) {
                String s = String.valueOf(o);
                sb.append(sb.length() == 0 ? "" : " ").append(s.isEmpty() || s.contains(" ") ? "'" + s + "'" : s);
            }
            return sb.toString();
        }
        return String.valueOf(v);
    }

    private static String title(String table) {
        return table.isEmpty() ? table : Character.toUpperCase(table.charAt(0)) + table.substring(1);
    }

    private String summaryJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("source", report.source());
        m.put("analysis", report.analysis());
        m.put("completeness", report.verdict());
        m.put("kernel", context.kernel().orElse(null));
        Map<String, Integer> counts = new LinkedHashMap<>();
        report.tables().forEach(t -> counts.put(t.name(), t.rows().size()));
        m.put("rows", counts);
        m.put("findings", severityCounts());
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private HtmlReport raw(String s) {
        out.append(s);
        return this;
    }

    private HtmlReport text(String s) {
        out.append(HtmlText.escape(s));
        return this;
    }

    private static String resource(String name) {
        try (InputStream in = HtmlReport.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
