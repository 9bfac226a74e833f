package dev.sonde.analyzer.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hostile guest strings survive every format unambiguously, absent values are explicit. */
class ReportRendererTest {
    private static final String NASTY = "quote\"and\\backslash,comma\nnew line\ttab\u0007bell \u202e";

    private static Report report() {
        Table t = new Table("processes", List.of("pid", "comm", "exe", "cmdline"));
        t.add(1, NASTY, null, List.of("a b", "", NASTY));
        t.add(2, "", "/bin/x", null);
        Table m = new Table("maps", List.of("pid", "path"));
        m.add(1, "");
        return new Report("processes", "img", false, List.of("walk stopped: reason"), List.of(t, m));
    }

    @Test
    void jsonKeepsStringsAndNulls() throws Exception {
        JsonNode n = new ObjectMapper().readTree(ReportRenderer.render(report(), ReportFormat.json));
        assertEquals("partial", n.path("completeness").asText());
        assertEquals("walk stopped: reason", n.path("reasons").get(0).asText());
        assertEquals(NASTY, n.path("processes").get(0).path("comm").asText());
        assertTrue(n.path("processes").get(0).get("exe").isNull());
        assertEquals(NASTY, n.path("processes").get(0).path("cmdline").get(2).asText());
        assertTrue(n.path("processes").get(1).get("cmdline").isNull());
        assertEquals("", n.path("maps").get(0).path("path").asText());
    }

    @Test
    void jsonlIsOneObjectPerLineWithASummaryLast() throws Exception {
        String s = ReportRenderer.render(report(), ReportFormat.jsonl);
        List<String> lines = Arrays.asList(s.split("\n"));
        assertEquals(4, lines.size());
        ObjectMapper json = new ObjectMapper();
        assertEquals(NASTY, json.readTree(lines.get(0)).path("comm").asText());
        assertEquals("maps", json.readTree(lines.get(2)).path("table").asText());
        JsonNode last = json.readTree(lines.get(3));
        assertEquals("summary", last.path("table").asText());
        assertEquals("partial", last.path("completeness").asText());
    }

    @Test
    void csvQuotesGuestStringsAndTellsAbsentFromEmpty() {
        String s = ReportRenderer.render(report(), ReportFormat.csv);
        String[] lines = s.split("\r\n", -1);
        assertEquals("table,pid,comm,exe,cmdline,path", lines[0]);
        assertTrue(lines[1].startsWith("processes,1,\"quote\"\"and\\backslash,comma\nnew line\ttab\u0007bell \u202e\",,"), lines[1]);
        assertTrue(s.contains("processes,2,\"\",/bin/x,,\r\n"), s);
        assertTrue(s.contains("maps,1,,,,\"\"\r\n"), s);
    }

    @Test
    void tableEscapesControlCharactersAndShowsAbsentAsDash() {
        String s = ReportRenderer.render(report(), ReportFormat.table);
        assertFalse(s.contains("\u0007"));
        assertFalse(s.contains("\u202e"));
        assertTrue(s.contains("comma\\nnew line\\ttab\\u0007bell \\u202e"), s);
        assertTrue(s.contains("completeness: partial"));
        String row2 = Arrays.stream(s.split("\n")).filter(l -> l.startsWith("2 ")).findFirst().orElseThrow();
        assertTrue(row2.endsWith("/bin/x  -"), row2);
    }
}
