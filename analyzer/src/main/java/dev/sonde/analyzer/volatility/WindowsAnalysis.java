package dev.sonde.analyzer.volatility;

import dev.sonde.analyzer.report.Report;
import dev.sonde.analyzer.report.Table;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What Sonde reports for a guest the native analyzer does not cover (no Linux kernel in the image, e.g. Windows):
 * processes, loaded DLLs and open handles from Volatility 3's {@code windows.pslist}, {@code windows.dlllist} and
 * {@code windows.handles}, run through the bridge. The report's analysis name says where the rows came from.
 */
public final class WindowsAnalysis {
    /** The plugins run, and the table each one fills. */
    public static final List<String> PLUGINS = List.of("windows.pslist.PsList", "windows.dlllist.DllList",
            "windows.handles.Handles");
    private static final List<String> TABLES = List.of("processes", "dlls", "handles");

    private WindowsAnalysis() {
    }

    /**
     * Runs the three plugins on {@code image} (a file Volatility reads, see {@link VolatilityInput}).
     *
     * @throws VolatilityPluginException when Volatility cannot analyze the image (e.g. it finds no Windows kernel):
     *                                   its message is Volatility's
     */
    public static Report analyze(VolatilityBridge bridge, Path image, String source, List<Path> symbolDirs,
                                 boolean offline, Duration timeout) {
        List<Table> tables = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        boolean complete = true;
        for (int i = 0; i < PLUGINS.size(); i++) {
            VolRequest req = VolRequest.of(PLUGINS.get(i), image, symbolDirs).withOffline(offline).withTimeout(timeout);
            Report r = VolatilityTables.of(bridge.run(req), source);
            Table from = r.tables().get(0);
            Table t = new Table(TABLES.get(i), from.columns());
            from.rows().forEach(row -> t.add(row.toArray()));
            tables.add(t);
            complete &= r.complete();
            reasons.addAll(r.reasons());
        }
        return new Report("windows processes, dlls, handles (Volatility 3 through the bridge)", source, complete,
                reasons, tables);
    }
}
