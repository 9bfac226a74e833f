package dev.sonde.analyzer.report.html;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Escaping of hostile guest strings for HTML text, attributes and script-embedded JSON. */
class HtmlTextTest {
    @Test
    void markupBecomesText() {
        assertEquals("&lt;script&gt;alert(1)&lt;/script&gt;", HtmlText.escape("<script>alert(1)</script>"));
        assertEquals("&lt;img src=x onerror=alert(1)&gt;", HtmlText.escape("<img src=x onerror=alert(1)>"));
        assertEquals("&amp;lt;", HtmlText.escape("&lt;"));
    }

    @Test
    void quotesCannotLeaveAnAttribute() {
        String s = HtmlText.escape("\" onmouseover=\"alert(1)' x='`");
        assertFalse(s.contains("\"") || s.contains("'") || s.contains("`"), s);
        assertEquals("&quot; onmouseover=&quot;alert(1)&#39; x=&#39;&#96;", s);
    }

    @Test
    void controlsAndNulAreVisibleEscapes() {
        assertEquals("a\\u0000b\\nc\\td\\u001b[31m\\u007f\\u0085", HtmlText.escape("a\0b\nc\td\u001b[31m\u007f\u0085"));
        assertEquals("back\\\\slash", HtmlText.escape("back\\slash"), "a literal backslash is not mistaken for an escape");
    }

    @Test
    void bidiOverridesAndZeroWidthCharactersAreVisible() {
        assertEquals("evil\\u202egpj.exe", HtmlText.escape("evil\u202egpj.exe"));
        assertEquals("a\\u200bb\\ufeff", HtmlText.escape("a\u200bb\ufeff"));
        assertEquals("\\u2028\\u2029", HtmlText.escape("\u2028\u2029"));
    }

    @Test
    void unpairedSurrogatesAreEscapedAndPairsKept() {
        assertEquals("x\\ud800y\\udfff", HtmlText.escape("x\ud800y\udfff"));
        assertEquals("\\udc00\\ud83d", HtmlText.escape("\udc00\ud83d"), "a low before a high is no pair");
        assertEquals("&#x1f600;", HtmlText.escape("\ud83d\ude00"));
    }

    @Test
    void outputIsPrintableAscii() {
        String s = HtmlText.escape("é中\u0000\ud800<\"'>\u00a0\ufffe");
        assertTrue(s.chars().allMatch(c -> c >= 0x20 && c < 0x7f), s);
        assertEquals("&#xe9;&#x4e2d;\\u0000\\ud800&lt;&quot;&#39;&gt;&#xa0;\\ufffe", s);
    }

    @Test
    void scriptJsonCannotCloseTheScriptNorOpenAComment() throws Exception {
        String hostile = "</script><script>alert(1)</script><!-- \u2028 \ud800 &amp; é";
        String json = new ObjectMapper().writeValueAsString(Map.of("comm", hostile));
        String safe = HtmlText.scriptJson(json);
        assertFalse(safe.toLowerCase().contains("</script"), safe);
        assertFalse(safe.contains("<!--"), safe);
        assertFalse(safe.contains("<") || safe.contains(">") || safe.contains("&"), safe);
        assertTrue(safe.chars().allMatch(c -> c < 0x80), safe);
        assertEquals(hostile, new ObjectMapper().readTree(safe).path("comm").asText(), "the value is unchanged");
    }
}
