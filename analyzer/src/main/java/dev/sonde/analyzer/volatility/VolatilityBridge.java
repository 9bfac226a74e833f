package dev.sonde.analyzer.volatility;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Volatility 3 embedded in this JVM through Jep: runs any plugin on a memory image in-process and returns its rows
 * typed. One CPython interpreter per process, started on first use and reused across plugins and images; it lives on
 * one dedicated thread (Jep requires an interpreter to be created and used on the same thread) that takes runs from a
 * queue, one at a time.
 *
 * <p>Time limits: each run has one ({@link VolRequest#timeout()}). When it passes, the plugin is interrupted inside
 * Python (an asynchronous exception raised in the interpreter thread), abandoned, and a
 * {@link VolatilityTimeoutException} says so; the interpreter stays usable. If the plugin cannot be interrupted
 * (stuck in native code) within a grace period, the interpreter is declared unusable for the rest of the process and
 * every later run fails with {@link VolatilityUnavailableException} naming why.
 *
 * <p>Memory: after each run the glue clears the framework's method caches that would keep the run's layers, context
 * and symbol tables alive, so a long-lived interpreter does not grow by a context per run
 * ({@link VolResult#liveContexts()}).
 *
 * <p>Only this package loads Jep: the rest of the analyzer never touches it, so a machine without Python loses the
 * bridge and nothing else.
 */
public final class VolatilityBridge {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration GRACE = Duration.ofSeconds(90);
    private static final Duration START_LIMIT = Duration.ofMinutes(5);
    private static VolatilityBridge instance;

    private final PythonEnvironment environment;
    private final ExecutorService thread;
    private volatile String unusable;
    private volatile Duration startup = Duration.ZERO;
    private volatile int interpreterStarts;
    private volatile int runs;
    // Touched only on the interpreter thread.
    private jep.SharedInterpreter interpreter;

    private VolatilityBridge(PythonEnvironment environment) {
        this.environment = environment;
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "sonde-volatility");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The process' bridge (created on first call; the interpreter itself starts on the first run).
     *
     * @throws VolatilityUnavailableException when the Python environment is not installed, saying how to install it
     */
    public static synchronized VolatilityBridge get() {
        if (instance == null) {
            instance = new VolatilityBridge(PythonEnvironment.locate());
        }
        return instance;
    }

    /** Whether the bridge can be used here, without starting it: the environment exists. */
    public static boolean available() {
        try {
            PythonEnvironment.locate();
            return true;
        } catch (VolatilityUnavailableException e) {
            return false;
        }
    }

    public PythonEnvironment environment() {
        return environment;
    }

    /** Counters of this process' bridge. */
    public Stats stats() {
        return new Stats(interpreterStarts, startup, runs, unusable);
    }

    /**
     * @param interpreterStarts how many interpreters were started (at most 1)
     * @param startup           how long starting it took
     * @param runs              plugin runs so far
     * @param unusableReason    why the interpreter is unusable, {@code null} while it is usable
     */
    public record Stats(int interpreterStarts, Duration startup, int runs, String unusableReason) {
    }

    /**
     * Runs one plugin and returns its rows.
     *
     * @throws VolatilityPluginException      the plugin failed (its Python error message included), or its requirements
     *                                        could not be met (e.g. no symbol table for the image's kernel)
     * @throws VolatilityTimeoutException     it exceeded its time limit
     * @throws VolatilityUnavailableException the interpreter could not be started or was declared unusable
     */
    public VolResult run(VolRequest request) {
        String reason = unusable;
        if (reason != null) {
            throw new VolatilityUnavailableException("the embedded Python interpreter is unusable: " + reason);
        }
        long t0 = System.nanoTime();
        CompletableFuture<Void> started = new CompletableFuture<>();
        Future<Raw> future = thread.submit(() -> onThread(request, started));
        try {
            started.get(START_LIMIT.toMillis() + queueAllowance(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            declareUnusable("the interpreter did not start within " + START_LIMIT.toSeconds() + " s");
            throw new VolatilityUnavailableException("the embedded Python interpreter did not start within "
                    + START_LIMIT.toSeconds() + " s");
        } catch (ExecutionException e) {
            // the task failed before the plugin started: it reports through the future below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VolatilityUnavailableException("interrupted while waiting for the interpreter", e);
        }
        Raw raw;
        try {
            raw = future.get(request.timeout().plus(GRACE).toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            declareUnusable("plugin " + request.plugin() + " exceeded its time limit and could not be interrupted");
            throw new VolatilityTimeoutException(request.plugin(), request.timeout(), false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VolatilityUnavailableException("interrupted while waiting for " + request.plugin(), e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new VolatilityUnavailableException("the bridge failed: " + c, c);
        }
        return parse(request, raw, Duration.ofNanos(System.nanoTime() - t0));
    }

    private long queueAllowance() {
        // Runs ahead in the queue are bounded by their own limits; wait for them too.
        return Duration.ofHours(1).toMillis();
    }

    private void declareUnusable(String why) {
        unusable = why;
    }

    /** The raw JSON answer of the glue and the start-up paid by this run. */
    private record Raw(String json, Duration startupPaid) {
    }

    private Raw onThread(VolRequest request, CompletableFuture<Void> started) {
        Duration paid = Duration.ZERO;
        try {
            if (interpreter == null) {
                long t0 = System.nanoTime();
                interpreter = startInterpreter();
                paid = Duration.ofNanos(System.nanoTime() - t0);
                startup = paid;
                interpreterStarts++;
            }
        } catch (RuntimeException | LinkageError e) {
            started.completeExceptionally(e);
            String why = e instanceof LinkageError
                    ? "Jep's native library " + environment.jepLibrary() + " could not be loaded (" + e.getMessage() + ")"
                    : e.getMessage();
            declareUnusable(why);
            throw new VolatilityUnavailableException("cannot start the embedded Python interpreter: " + why + "; "
                    + PythonEnvironment.HOW_TO_INSTALL, e);
        }
        started.complete(null);
        runs++;
        try {
            Object answer = interpreter.invoke("sonde_vol_run_plugin", requestJson(request));
            return new Raw(String.valueOf(answer), paid);
        } catch (jep.JepException e) {
            throw new VolatilityPluginException(request.plugin(), "jep.JepException", e.getMessage(), "");
        }
    }

    private jep.SharedInterpreter startInterpreter() {
        try {
            jep.MainInterpreter.setJepLibraryPath(environment.jepLibrary().toString());
        } catch (IllegalStateException alreadySet) {
            // set by an earlier attempt in this process
        }
        jep.JepConfig config = new jep.JepConfig().addIncludePaths(environment.sitePackages().toString());
        try {
            jep.SharedInterpreter.setConfig(config);
        } catch (jep.JepException alreadyStarted) {
            // the main interpreter already runs with a configuration (another start in this process)
        }
        try {
            jep.SharedInterpreter interp = new jep.SharedInterpreter();
            interp.set("_sonde_glue_source", glueSource());
            interp.exec("import sys, types\n"
                    + "_m = types.ModuleType('sonde_vol_glue')\n"
                    + "_m.__file__ = 'sonde_vol_glue.py'\n"
                    + "sys.modules['sonde_vol_glue'] = _m\n"
                    + "exec(compile(_sonde_glue_source, 'sonde_vol_glue.py', 'exec'), _m.__dict__)\n"
                    + "sonde_vol_run_plugin = _m.run_plugin\n"
                    + "del _m, _sonde_glue_source\n");
            return interp;
        } catch (jep.JepException e) {
            throw new VolatilityUnavailableException("the embedded interpreter failed to load Sonde's glue: "
                    + e.getMessage(), e);
        }
    }

    private static String glueSource() {
        try (InputStream in = VolatilityBridge.class.getResourceAsStream("sonde_vol_glue.py")) {
            if (in == null) {
                throw new IllegalStateException("resource sonde_vol_glue.py missing from the analyzer jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String requestJson(VolRequest r) {
        ObjectNode n = JSON.createObjectNode();
        n.put("plugin", r.plugin());
        n.put("image", r.image().toAbsolutePath().toString());
        var dirs = n.putArray("symbol_dirs");
        r.symbolDirs().forEach(d -> dirs.add(d.toAbsolutePath().toString()));
        n.set("options", JSON.valueToTree(r.options()));
        n.put("timeout_seconds", r.timeout().toMillis() / 1000.0);
        n.put("offline", r.offline());
        r.cacheDir().ifPresent(d -> n.put("cache_dir", d.toAbsolutePath().toString()));
        r.outputDir().ifPresent(d -> n.put("output_dir", d.toAbsolutePath().toString()));
        n.put("max_rows", r.maxRows());
        return n.toString();
    }

    private VolResult parse(VolRequest request, Raw raw, Duration total) {
        JsonNode doc;
        try {
            doc = JSON.readTree(raw.json());
        } catch (IOException e) {
            throw new VolatilityPluginException(request.plugin(), "sonde.glue", "unreadable answer from the glue: "
                    + e.getMessage(), "");
        }
        JsonNode err = doc.get("error");
        if (err != null) {
            if ("timeout".equals(err.path("type").asText())) {
                throw new VolatilityTimeoutException(request.plugin(), request.timeout(), true);
            }
            throw new VolatilityPluginException(request.plugin(), err.path("type").asText(),
                    err.path("message").asText(), err.path("traceback").asText());
        }
        JsonNode ok = doc.path("ok");
        List<VolColumn> columns = new ArrayList<>();
        for (JsonNode c : ok.path("columns")) {
            columns.add(new VolColumn(c.path("name").asText(), type(c.path("type").asText()), c.path("python_type").asText()));
        }
        List<VolRow> rows = new ArrayList<>();
        for (JsonNode r : ok.path("rows")) {
            List<Object> values = new ArrayList<>(columns.size());
            int i = 0;
            for (JsonNode v : r.path("values")) {
                values.add(value(v, i < columns.size() ? columns.get(i).type() : VolColumn.VolType.OTHER));
                i++;
            }
            rows.add(new VolRow(r.path("depth").asInt(), values));
        }
        JsonNode s = ok.path("seconds");
        VolResult.Timing timing = new VolResult.Timing(raw.startupPaid(), seconds(s.path("framework")),
                seconds(s.path("construct")), seconds(s.path("run")), total);
        return new VolResult(request.plugin(), request.image(), columns, rows, Path.of(ok.path("output_dir").asText()),
                doc.path("volatility_version").asText("?"), doc.path("boot_id").asText(),
                doc.path("stats").path("framework_loads").asInt(), doc.path("live_contexts").asInt(-1), timing);
    }

    private static Duration seconds(JsonNode n) {
        return Duration.ofNanos((long) (n.asDouble() * 1e9));
    }

    private static VolColumn.VolType type(String t) {
        try {
            return VolColumn.VolType.valueOf(t.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return VolColumn.VolType.OTHER;
        }
    }

    private static Object value(JsonNode v, VolColumn.VolType type) {
        if (v == null || v.isNull()) {
            return new VolAbsent("none");
        }
        if (v.isObject()) {
            if (v.has("absent")) {
                return new VolAbsent(v.get("absent").asText());
            }
            if (v.has("hex")) {
                return HexFormat.of().parseHex(v.get("hex").asText());
            }
            if (v.has("time")) {
                return v.get("time").asText();
            }
            return v.toString();
        }
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        if (v.isIntegralNumber()) {
            BigInteger b = v.bigIntegerValue();
            boolean address = type == VolColumn.VolType.HEX || type == VolColumn.VolType.BIN;
            return b.bitLength() <= (address && b.signum() >= 0 ? 64 : 63) ? (Object) b.longValue() : b;
        }
        if (v.isNumber()) {
            return v.doubleValue();
        }
        return v.asText();
    }
}
