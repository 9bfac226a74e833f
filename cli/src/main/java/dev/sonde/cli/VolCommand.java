package dev.sonde.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sonde.analyzer.report.Report;
import dev.sonde.analyzer.report.ReportFormat;
import dev.sonde.analyzer.report.ReportRenderer;
import dev.sonde.analyzer.volatility.VolRequest;
import dev.sonde.analyzer.volatility.VolResult;
import dev.sonde.analyzer.volatility.VolatilityBridge;
import dev.sonde.analyzer.volatility.VolatilityInput;
import dev.sonde.analyzer.volatility.VolatilityTables;
import dev.sonde.snapshotter.bundle.Manifest;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sonde vol PLUGIN IMAGE}: runs any Volatility 3 plugin through the embedded bridge and renders its rows with
 * Sonde's renderers. IMAGE may be a checkpoint bundle directory; its memory file is used.
 */
@Command(name = "vol", mixinStandardHelpOptions = true,
        description = "Run a Volatility 3 plugin (e.g. linux.pslist.PsList, windows.pslist.PsList) on a memory image or"
                + " a checkpoint bundle, in-process through the embedded Python interpreter, and print its rows.")
final class VolCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PLUGIN", description = "Plugin name as `vol -h` lists it, e.g. linux.pslist.PsList.")
    String plugin;

    @Parameters(index = "1", paramLabel = "IMAGE",
            description = "Memory image (compressed is fine: Sonde's decompressed copy is used) or a bundle directory.")
    Path image;

    @Option(names = "--symbols", paramLabel = "DIR",
            description = "Directory of ISF files (or one ISF file, e.g. from `sonde symbols export`) searched before"
                    + " Volatility's own; repeatable.")
    List<Path> symbols = new ArrayList<>();

    @Option(names = "--format", defaultValue = "table", paramLabel = "FORMAT",
            description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    ReportFormat format;

    @Option(names = "--option", paramLabel = "NAME=VALUE",
            description = "A plugin option by its requirement name; VALUE is JSON when it parses as JSON (e.g. pid=[1,2]),"
                    + " else a string. Repeatable.")
    Map<String, String> options = new LinkedHashMap<>();

    @Option(names = "--timeout", defaultValue = "600", paramLabel = "SECONDS",
            description = "Time limit of the plugin in seconds (default: ${DEFAULT-VALUE}); it is abandoned when exceeded.")
    double timeoutSeconds;

    @Option(names = "--online", description = "Let Volatility download symbol files it lacks (Windows PDBs, remote ISF).")
    boolean online;

    @Option(names = "--cache", paramLabel = "DIR", description = "Volatility's cache directory (default: its own, ~/.cache/volatility3).")
    Path cache;

    @Option(names = "--output-dir", paramLabel = "DIR", description = "Where plugins that write files put them (default: a new temporary directory).")
    Path outputDir;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (!(timeoutSeconds > 0)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--timeout must be positive");
        }
        VolatilityBridge bridge = VolatilityBridge.get(); // says how to install the Python side when it is missing
        Path memory = memoryFile(image);
        Path readable = VolatilityInput.readable(memory);
        List<Path> dirs = new ArrayList<>();
        for (Path s : symbols) {
            dirs.add(symbolDir(s));
        }
        Map<String, Object> opts = new LinkedHashMap<>();
        ObjectMapper json = new ObjectMapper();
        options.forEach((k, v) -> {
            try {
                opts.put(k, json.readValue(v, Object.class));
            } catch (IOException notJson) {
                opts.put(k, v);
            }
        });
        VolRequest req = VolRequest.of(plugin, readable, dirs).withOptions(opts)
                .withTimeout(Duration.ofMillis((long) (timeoutSeconds * 1000))).withOffline(!online);
        if (cache != null) {
            req = req.withCacheDir(cache);
        }
        if (outputDir != null) {
            req = req.withOutputDir(outputDir);
        }
        err.println("sonde: running Volatility 3 " + plugin + " on " + readable
                + (readable.equals(memory) ? "" : " (decompressed copy of " + memory + ")"));
        err.flush();
        VolResult result = bridge.run(req);
        Report report = VolatilityTables.of(result, memory.toString());
        PrintWriter out = spec.commandLine().getOut();
        ReportRenderer.render(report, format, out);
        out.flush();
        err.println("sonde: " + result.rows().size() + " rows from Volatility " + result.volatilityVersion() + " in "
                + millis(result.timing().total()) + " (interpreter start " + millis(result.timing().interpreterStart())
                + ", framework " + millis(result.timing().framework()) + ", automagic " + millis(result.timing().construct())
                + ", plugin " + millis(result.timing().run()) + ")");
        err.flush();
        return ExitCodes.OK;
    }

    private static String millis(Duration d) {
        return d.toMillis() + " ms";
    }

    /** The memory file of IMAGE: the file itself, or the one a bundle's manifest names. */
    static Path memoryFile(Path image) throws IOException {
        if (!Files.isDirectory(image)) {
            return image;
        }
        Path manifest = image.resolve(Manifest.FILE_NAME);
        if (!Files.isRegularFile(manifest)) {
            throw new SondeException(ExitCodes.BAD_INPUT, image + ": a directory without " + Manifest.FILE_NAME
                    + " is not a checkpoint bundle");
        }
        Manifest m = Manifest.parse(Files.readAllBytes(manifest));
        String name = m.checkpoint() == null ? null : m.checkpoint().memoryFile();
        if (name == null || name.isBlank() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
            throw new SondeException(ExitCodes.BAD_INPUT, manifest + ": names no usable memory file (checkpoint.memoryFile = "
                    + name + ")");
        }
        Path file = image.resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new SondeException(ExitCodes.BAD_INPUT, manifest + " names memory file " + name
                    + ", which is not in the bundle");
        }
        return file;
    }

    /** A symbol directory for Volatility: DIR itself, or for one ISF file a private directory holding a link to it. */
    static Path symbolDir(Path s) throws IOException {
        if (Files.isDirectory(s)) {
            return s;
        }
        if (!Files.isRegularFile(s)) {
            throw new SondeException(ExitCodes.BAD_INPUT, s + ": no such symbol directory or ISF file");
        }
        String name = s.getFileName().toString();
        if (!name.matches(".*\\.json(\\.xz|\\.gz|\\.bz2)?")) {
            throw new SondeException(ExitCodes.BAD_INPUT, s + ": an ISF file must be named *.json, *.json.xz, *.json.gz"
                    + " or *.json.bz2 for Volatility to read it");
        }
        Path dir = Files.createTempDirectory("sonde-vol-symbols-");
        dir.toFile().deleteOnExit();
        Path link = Files.createSymbolicLink(dir.resolve(name), s.toAbsolutePath());
        link.toFile().deleteOnExit();
        return dir;
    }
}
