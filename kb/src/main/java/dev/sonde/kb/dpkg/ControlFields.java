package dev.sonde.kb.dpkg;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Parser of deb822 control paragraphs (dpkg status, a package's control file): field names as written. */
public final class ControlFields {
    private ControlFields() {
    }

    /** The paragraphs of {@code text}, each a map of field to value (continuation lines joined by newlines). */
    public static List<Map<String, String>> paragraphs(String text) {
        List<Map<String, String>> out = new ArrayList<>();
        Map<String, String> cur = new LinkedHashMap<>();
        String last = null;
        for (String line : text.split("\n", -1)) {
            if (line.isBlank()) {
                if (!cur.isEmpty()) {
                    out.add(cur);
                    cur = new LinkedHashMap<>();
                }
                last = null;
            } else if ((line.startsWith(" ") || line.startsWith("\t")) && last != null) {
                cur.put(last, cur.get(last) + "\n" + line.strip());
            } else {
                int c = line.indexOf(':');
                if (c > 0) {
                    last = line.substring(0, c).strip();
                    cur.put(last, line.substring(c + 1).strip());
                }
            }
        }
        if (!cur.isEmpty()) {
            out.add(cur);
        }
        return out;
    }
}
