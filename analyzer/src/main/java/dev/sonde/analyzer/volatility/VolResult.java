package dev.sonde.analyzer.volatility;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * What a plugin returned, typed.
 *
 * @param plugin          the plugin run
 * @param image           the image it read
 * @param columns         the result's columns
 * @param rows            its rows in tree order (parents before their children)
 * @param outputDir       where the plugin could write files
 * @param volatilityVersion the framework's version
 * @param interpreterId   identifies the embedded interpreter that ran it (the same for every run of a process)
 * @param frameworkLoads  how many times the framework and its plugins were imported in this interpreter so far
 * @param liveContexts    Volatility contexts still alive in the interpreter after this run released its state (0
 *                        unless something keeps a run's layers and symbol tables)
 * @param timing          where the time went
 */
public record VolResult(String plugin, Path image, List<VolColumn> columns, List<VolRow> rows, Path outputDir,
                        String volatilityVersion, String interpreterId, int frameworkLoads, int liveContexts,
                        Timing timing) {
    public VolResult {
        columns = List.copyOf(columns);
        rows = List.copyOf(rows);
    }

    /**
     * @param interpreterStart start-up of the interpreter paid by this run (zero when it was already running)
     * @param framework        importing the framework and plugins paid by this run (near zero once loaded)
     * @param construct        automagic: stacking layers, finding symbols, constructing the plugin
     * @param run              running the plugin and walking its rows
     * @param total            the whole call, as the caller waited for it
     */
    public record Timing(Duration interpreterStart, Duration framework, Duration construct, Duration run, Duration total) {
    }

    /** The index of the column named {@code name}. */
    public int column(String name) {
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new NoSuchElementException(plugin + " has no column " + name + " (columns: "
                + columns.stream().map(VolColumn::name).toList() + ")");
    }
}
