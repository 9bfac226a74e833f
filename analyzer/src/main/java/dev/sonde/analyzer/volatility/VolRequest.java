package dev.sonde.analyzer.volatility;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One Volatility plugin run.
 *
 * @param plugin     the plugin's name as {@code vol} lists it, e.g. {@code linux.pslist.PsList}
 * @param image      a memory image Volatility can read (ELF core, raw, LiME, ...), uncompressed
 * @param symbolDirs directories searched for ISF files before Volatility's own (e.g. one holding an ISF exported by
 *                   {@code sonde symbols export})
 * @param options    plugin options by requirement name (e.g. {@code pid} = a list of pids), values as JSON would
 *                   hold them
 * @param timeout    time limit for the whole run (automagic, plugin and walking its rows)
 * @param offline    forbid Volatility to download symbol files (Windows PDBs, remote ISF)
 * @param cacheDir   Volatility's cache directory (its default {@code ~/.cache/volatility3} when empty)
 * @param outputDir  where plugins that write files put them (a new temporary directory when empty)
 * @param maxRows    upper bound on the rows accepted from the plugin (0: no bound)
 */
public record VolRequest(String plugin, Path image, List<Path> symbolDirs, Map<String, Object> options, Duration timeout,
                         boolean offline, Optional<Path> cacheDir, Optional<Path> outputDir, int maxRows) {

    /** Default time limit of a plugin run. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

    public VolRequest {
        if (plugin == null || plugin.isBlank()) {
            throw new IllegalArgumentException("no plugin name");
        }
        symbolDirs = List.copyOf(symbolDirs);
        options = Map.copyOf(options);
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("time limit must be positive: " + timeout);
        }
    }

    /** A run with defaults: no options, the default time limit, offline, Volatility's cache, 1,000,000 rows at most. */
    public static VolRequest of(String plugin, Path image, List<Path> symbolDirs) {
        return new VolRequest(plugin, image, symbolDirs, Map.of(), DEFAULT_TIMEOUT, true, Optional.empty(),
                Optional.empty(), 1_000_000);
    }

    public VolRequest withTimeout(Duration limit) {
        return new VolRequest(plugin, image, symbolDirs, options, limit, offline, cacheDir, outputDir, maxRows);
    }

    public VolRequest withOptions(Map<String, Object> opts) {
        return new VolRequest(plugin, image, symbolDirs, opts, timeout, offline, cacheDir, outputDir, maxRows);
    }

    public VolRequest withOffline(boolean off) {
        return new VolRequest(plugin, image, symbolDirs, options, timeout, off, cacheDir, outputDir, maxRows);
    }

    public VolRequest withCacheDir(Path dir) {
        return new VolRequest(plugin, image, symbolDirs, options, timeout, offline, Optional.of(dir), outputDir, maxRows);
    }

    public VolRequest withOutputDir(Path dir) {
        return new VolRequest(plugin, image, symbolDirs, options, timeout, offline, cacheDir, Optional.of(dir), maxRows);
    }
}
