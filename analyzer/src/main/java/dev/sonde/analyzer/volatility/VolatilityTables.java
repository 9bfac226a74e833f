package dev.sonde.analyzer.volatility;

import dev.sonde.analyzer.report.Report;
import dev.sonde.analyzer.report.Table;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A plugin's rows as a {@link Report} for Sonde's renderers: one table named after the plugin, its columns as
 * Volatility named them, with a leading {@code depth} column when the result is a tree. Hex values print as
 * {@code 0x...}, bytes as hex, absent values as absent ({@code -} / {@code null} / empty). The report is partial
 * when Volatility marked cells unreadable.
 */
public final class VolatilityTables {
    private VolatilityTables() {
    }

    public static Report of(VolResult r, String source) {
        boolean tree = r.rows().stream().anyMatch(row -> row.depth() > 0);
        List<String> names = new ArrayList<>();
        if (tree) {
            names.add("depth");
        }
        r.columns().forEach(c -> names.add(c.name()));
        Table t = new Table(r.plugin(), names);
        long unreadable = 0;
        for (VolRow row : r.rows()) {
            List<Object> cells = new ArrayList<>(names.size());
            if (tree) {
                cells.add(row.depth());
            }
            for (int i = 0; i < r.columns().size(); i++) {
                Object v = i < row.values().size() ? row.values().get(i) : new VolAbsent("missing");
                if (v instanceof VolAbsent a && (a.kind().equals("unreadable") || a.kind().equals("unparsable"))) {
                    unreadable++;
                }
                cells.add(cell(v, r.columns().get(i).type()));
            }
            t.add(cells.toArray());
        }
        List<String> reasons = unreadable == 0 ? List.of()
                : List.of(unreadable + " cells of " + r.plugin() + " were unreadable or unparsable for Volatility");
        return new Report("volatility " + r.plugin(), source, unreadable == 0, reasons, List.of(t));
    }

    static Object cell(Object v, VolColumn.VolType type) {
        if (v instanceof VolAbsent) {
            return null;
        }
        if (v instanceof byte[] b) {
            return HexFormat.of().formatHex(b);
        }
        if ((type == VolColumn.VolType.HEX) && v instanceof Long l) {
            return "0x" + Long.toHexString(l);
        }
        if ((type == VolColumn.VolType.HEX) && v instanceof BigInteger b) {
            return "0x" + b.toString(16);
        }
        if (type == VolColumn.VolType.BIN && v instanceof Long l) {
            return "0b" + Long.toBinaryString(l);
        }
        return v;
    }
}
