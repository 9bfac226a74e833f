package dev.sonde.analyzer.report.html;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.report.Report;
import dev.sonde.analyzer.report.ReportFormat;
import dev.sonde.analyzer.report.ReportRenderer;
import dev.sonde.analyzer.report.Table;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The HTML page: hostile strings stay text, every table and section renders, the tree survives cycles. */
class HtmlReportTest {
    private static final String XSS = "<script>alert(1)</script>";
    private static final String ATTR = "\" onload=\"alert(2)";
    private static final String NASTY = "nul\0quote\"apos'lt<gt>amp&surrogate\ud800end\u202e";

    private static Report report(String source) {
        Table p = new Table("processes", List.of("pid", "ppid", "comm", "kernel_thread", "exe", "cmdline", "task"));
        p.add(1, 0, "init", false, "/sbin/init", List.of("/sbin/init"), "0xffff888001234000");
        p.add(2, 0, "kthreadd", true, null, null, "0xffff888001238000");
        p.add(66, 1, XSS, false, "/tmp/" + ATTR, List.of(XSS, NASTY, ""), "0xffff88800123c000");
        p.add(70, 66, NASTY, false, null, List.of(), "0x1");
        Table f = new Table("findings", List.of("pid", "comm", "kind", "severity", "summary", "evidence"));
        f.add(66, XSS, "deleted-executable", "high", "runs " + XSS, List.of("exe " + ATTR, NASTY));
        f.add(70, NASTY, "name-mismatch", "low", "x", List.of());
        f.add(70, NASTY, XSS, XSS, "y", List.of());
        Table files = new Table("files", List.of("pid", "fd", "kind", "target"));
        files.add(66, 3, "socket", "socket:[123]");
        files.add(66, 4, XSS, XSS);
        Table bins = new Table("binaries", List.of("pid", "path", "status"));
        bins.add(66, "/tmp/x (deleted)", "unknown");
        bins.add(1, "/sbin/init", "known");
        return new Report("processes", source, false, List.of("pid 66 (" + XSS + "): " + NASTY), List.of(p, f, files, bins));
    }

    private static ReportContext context() {
        return ReportContext.empty().withKernel("6.1.0-57-amd64").withFact("Domain", XSS)
                .withCheckpoint(new CheckpointSection("/store/b-" + ATTR, Optional.of("ab".repeat(32)), Optional.of(true),
                        List.of(new ReportContext.Fact("Pause", "12 ms")),
                        List.of(new CheckpointSection.FileHash("memory.save", 4096, "cd".repeat(32)))))
                .withFork(new ForkVerification(false, "clone " + XSS, List.of(
                        new ForkVerification.Check("rolled back", true, "no clone left"),
                        new ForkVerification.Check("original untouched", false, NASTY))))
                .withTimeline(new Timeline(List.of(
                        new Timeline.Step("2026-11-29T10:00Z", List.of(), List.of()),
                        new Timeline.Step("2026-11-29T11:00Z", List.of(new Timeline.Change("process", "66 " + XSS)),
                                List.of(new Timeline.Change("socket", NASTY))))));
    }

    /** Every tag of the page: guest data must never add one. */
    private static List<String> tagNames(String html) {
        Matcher m = Pattern.compile("<(/?[a-zA-Z][a-zA-Z0-9]*)").matcher(html);
        List<String> tags = new java.util.ArrayList<>();
        while (m.find()) {
            tags.add(m.group(1).toLowerCase());
        }
        return tags;
    }

    @Test
    void hostileStringsNeverBecomeMarkup() {
        String html = HtmlReport.render(report("img " + XSS), context());
        assertFalse(html.contains(XSS), "raw script tag from the guest");
        assertFalse(html.contains(ATTR), "raw attribute break-out from the guest");
        assertFalse(html.contains("\0"), "NUL in the page");
        assertTrue(html.chars().allMatch(c -> c == '\n' || (c >= 0x20 && c < 0x7f)), "the page is printable ASCII");
        assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assertTrue(html.contains("nul\\u0000quote&quot;apos&#39;lt&lt;gt&gt;amp&amp;surrogate\\ud800end\\u202e"));
        // Exactly two script elements (summary JSON, the page's own script): none from the guest.
        assertEquals(2, tagNames(html).stream().filter("script"::equals).count());
        String json = html.substring(html.indexOf("id=\"sonde-summary\">"), html.indexOf("</script>"));
        assertFalse(json.contains("<") && json.indexOf('<') > 0 && json.lastIndexOf('<') > json.indexOf('>'), json);
        // Unknown severities do not become class names.
        assertFalse(html.contains("sev-&lt;"));
        assertTrue(html.contains("class=\"sev-other\""));
    }

    @Test
    void everyTableAndOptionalSectionRenders() {
        String html = HtmlReport.render(report("img"), context());
        for (String id : List.of("id=\"findings\"", "id=\"tree\"", "id=\"table-processes\"", "id=\"table-files\"",
                "id=\"table-binaries\"", "id=\"checkpoint\"", "id=\"fork\"", "id=\"timeline\"")) {
            assertTrue(html.contains(id), id);
        }
        assertTrue(html.contains("<td class=\"st-warn\">unknown</td>"), "status colours its cell");
        assertTrue(html.contains("<option value=\"socket\">socket</option>"), "kind selector of open files");
        assertTrue(html.contains("data-k=\"ffff888001234000\""), "hex sorts as a number");
        assertTrue(html.contains("data-k=\"0000000000000001\""));
        assertTrue(html.contains("<li class=\"appeared\">"));
        assertTrue(html.contains("<li class=\"vanished\">"));
        assertTrue(html.contains("6.1.0-57-amd64"));
        assertTrue(html.contains("default-src 'none'"), "CSP forbids network access");
        assertFalse(html.matches("(?s).*(src|href)=\"(https?:)?//.*"), "no external resource");
    }

    @Test
    void treeNestsChildrenUnderParents() {
        String html = HtmlReport.render(report("img"), ReportContext.empty());
        String tree = html.substring(html.indexOf("<ul class=\"tree\">"), html.indexOf("</section>", html.indexOf("id=\"tree\"")));
        int init = tree.indexOf(">init<");
        int child = tree.indexOf("&lt;script&gt;");
        int grandchild = tree.indexOf("nul\\u0000");
        int kthreadd = tree.indexOf(">kthreadd<");
        assertTrue(init >= 0 && init < child && child < grandchild && grandchild < kthreadd, tree);
        assertEquals(tagNames(tree).stream().filter("details"::equals).count(),
                tagNames(tree).stream().filter("/details"::equals).count(), "balanced");
    }

    @Test
    void parentCyclesAndDuplicatePidsShowEveryRowOnce() {
        Table p = new Table("processes", List.of("pid", "ppid", "comm"));
        p.add(10, 11, "a");
        p.add(11, 10, "b");
        p.add(12, 12, "self");
        p.add(12, 1, "dup");
        p.add(null, 12, "nopid");
        ProcessTree tree = ProcessTree.of(p).orElseThrow();
        List<ProcessTree.Event> events = tree.walk();
        long opens = events.stream().filter(e -> e instanceof ProcessTree.Open).count();
        assertEquals(5, opens);
        assertEquals(opens, events.size() - opens, "every open is closed");
        assertTrue(events.stream().anyMatch(e -> e instanceof ProcessTree.Open o && o.node().note().isPresent()),
                "the cycle is named");
    }

    @Test
    void deepChainsAreCutAtTheDepthLimit() {
        Table p = new Table("processes", List.of("pid", "ppid", "comm"));
        int n = 5000;
        for (int i = 1; i <= n; i++) {
            p.add(i, i - 1, "p" + i);
        }
        List<ProcessTree.Event> events = ProcessTree.of(p).orElseThrow().walk();
        int depth = 0;
        int max = 0;
        int opens = 0;
        for (ProcessTree.Event e : events) {
            depth += e instanceof ProcessTree.Open ? 1 : -1;
            opens += e instanceof ProcessTree.Open ? 1 : 0;
            max = Math.max(max, depth);
        }
        assertEquals(n, opens);
        assertEquals(0, depth);
        assertEquals(ProcessTree.MAX_DEPTH, max);
    }

    @Test
    void reportRendererKnowsTheHtmlFormat() {
        String html = ReportRenderer.render(report("img"), ReportFormat.html);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertTrue(html.contains("id=\"table-processes\""));
    }
}
