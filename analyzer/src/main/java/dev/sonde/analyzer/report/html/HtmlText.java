package dev.sonde.analyzer.report.html;

/**
 * Escaping of guest-controlled strings for HTML. Every string is first made <em>visible</em> (control, format and
 * other invisible characters, lone surrogates and backslashes as {@code \\uXXXX}-style escapes, the same convention
 * as the text tables), then written as pure ASCII: markup characters and everything outside printable ASCII become
 * character references. The result is safe in text and in quoted attribute values, and survives any output
 * encoding.
 */
public final class HtmlText {
    private HtmlText() {
    }

    /** {@code s} for an HTML text node or a double- or single-quoted attribute value. */
    public static String escape(String s) {
        return ascii(visible(s));
    }

    /**
     * Invisible and ambiguous characters as escapes: {@code \\} for a backslash, {@code \n}, {@code \r}, {@code \t},
     * and {@code \\uXXXX} for other C0/C1 controls, DEL, line/paragraph separators, format characters (bidi
     * overrides, zero-width), noncharacters and unpaired surrogates.
     */
    public static String visible(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(i + 1));
                if (Character.getType(cp) == Character.FORMAT || (cp & 0xfffe) == 0xfffe) {
                    sb.append(String.format("\\U%08x", cp));
                } else {
                    sb.append(c).append(s.charAt(i + 1));
                }
                i++;
                continue;
            }
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029'
                            || Character.isSurrogate(c) || Character.getType(c) == Character.FORMAT
                            || c == '\ufffe' || c == '\uffff' || (c >= '\ufdd0' && c <= '\ufdef')) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.toString();
    }

    /** Markup characters and non-ASCII as character references; {@code s} holds no lone surrogate. */
    static String ascii(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            switch (cp) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                case '`' -> sb.append("&#96;");
                default -> {
                    if (cp >= 0x20 && cp < 0x7f) {
                        sb.append((char) cp);
                    } else if (Character.isSurrogate((char) cp) && cp <= 0xffff) {
                        sb.append("&#xfffd;"); // unreachable after visible(); never emit a lone surrogate
                    } else {
                        sb.append("&#x").append(Integer.toHexString(cp)).append(';');
                    }
                }
            }
        }
        return sb.toString();
    }

    /**
     * JSON text made safe inside a {@code <script>} element: {@code <}, {@code >}, {@code &}, line and paragraph
     * separators and unpaired surrogates as JSON escapes, so neither {@code </script>} nor {@code <!--} can appear and
     * the output is ASCII. The JSON value is unchanged.
     */
    public static String scriptJson(String json) {
        StringBuilder sb = new StringBuilder(json.length() + 16);
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c < 0x80 && c != '<' && c != '>' && c != '&') {
                sb.append(c);
            } else {
                // Outside strings JSON is ASCII without <, > or &, so every such character sits inside a string.
                sb.append(String.format("\\u%04x", (int) c));
            }
        }
        return sb.toString();
    }
}
