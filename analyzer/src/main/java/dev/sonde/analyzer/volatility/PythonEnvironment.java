package dev.sonde.analyzer.volatility;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Where the Python side of the Volatility bridge is: Jep's native library and the virtual environment's
 * site-packages (Jep's Python package and volatility3 live there). Found the same way in every process (tests, the
 * {@code sonde} launcher, the bench), from the first of:
 * <ol>
 *   <li>system properties {@code sonde.jep.library} and {@code sonde.python.path};</li>
 *   <li>environment variables {@code SONDE_JEP_LIBRARY} and {@code SONDE_PYTHONPATH};</li>
 *   <li>the file {@code ${SONDE_HOME:-/opt/sonde}/python.env} that {@code scripts/setup-python.sh} writes.</li>
 * </ol>
 *
 * @param jepLibrary   absolute path of {@code libjep.so}
 * @param sitePackages the venv's site-packages directory
 * @param vol          the venv's {@code vol} command (for comparisons and benchmarks), when known
 * @param source       where the settings came from
 */
public record PythonEnvironment(Path jepLibrary, Path sitePackages, Optional<Path> vol, String source) {

    /** How to install what is missing; part of every "unavailable" message. */
    public static final String HOW_TO_INSTALL = "install it with scripts/setup-python.sh (as root: a venv with jep and"
            + " volatility3 in ${SONDE_HOME:-/opt/sonde}/venv and ${SONDE_HOME:-/opt/sonde}/python.env), or point"
            + " SONDE_JEP_LIBRARY at libjep.so and SONDE_PYTHONPATH at the site-packages holding jep and volatility3";

    /** Locates the environment from this process' properties, environment and {@code python.env}. */
    public static PythonEnvironment locate() {
        return locate(System::getProperty, System::getenv);
    }

    /** Locates the environment from the given property and environment lookups (tests use their own). */
    public static PythonEnvironment locate(Function<String, String> properties, Function<String, String> environment) {
        String lib = nonBlank(properties.apply("sonde.jep.library"));
        String site = nonBlank(properties.apply("sonde.python.path"));
        String source = "system properties sonde.jep.library/sonde.python.path";
        String vol = nonBlank(properties.apply("sonde.vol"));
        if (lib == null || site == null) {
            lib = nonBlank(environment.apply("SONDE_JEP_LIBRARY"));
            site = nonBlank(environment.apply("SONDE_PYTHONPATH"));
            vol = nonBlank(environment.apply("SONDE_VOL"));
            source = "environment SONDE_JEP_LIBRARY/SONDE_PYTHONPATH";
        }
        if (lib == null || site == null) {
            String home = Optional.ofNullable(nonBlank(environment.apply("SONDE_HOME"))).orElse("/opt/sonde");
            Path envFile = Path.of(home, "python.env");
            if (!Files.isRegularFile(envFile)) {
                throw new VolatilityUnavailableException("the Python environment of the Volatility bridge is not set up"
                        + " (no SONDE_JEP_LIBRARY/SONDE_PYTHONPATH and no " + envFile + "); " + HOW_TO_INSTALL);
            }
            Map<String, String> vars = readEnvFile(envFile);
            lib = nonBlank(vars.get("SONDE_JEP_LIBRARY"));
            site = nonBlank(vars.get("SONDE_PYTHONPATH"));
            vol = nonBlank(vars.get("SONDE_VOL"));
            source = envFile.toString();
            if (lib == null || site == null) {
                throw new VolatilityUnavailableException(envFile + " names no SONDE_JEP_LIBRARY or SONDE_PYTHONPATH; "
                        + HOW_TO_INSTALL);
            }
        }
        Path libPath = Path.of(lib);
        Path sitePath = Path.of(site);
        if (!Files.isRegularFile(libPath)) {
            throw new VolatilityUnavailableException("Jep's native library " + libPath + " (from " + source
                    + ") does not exist; " + HOW_TO_INSTALL);
        }
        for (String pkg : List.of("jep", "volatility3")) {
            if (!Files.isDirectory(sitePath.resolve(pkg))) {
                throw new VolatilityUnavailableException("no Python package " + pkg + " in " + sitePath + " (from "
                        + source + "); " + HOW_TO_INSTALL);
            }
        }
        return new PythonEnvironment(libPath, sitePath, Optional.ofNullable(vol).map(Path::of), source);
    }

    /** Reads {@code KEY=value} lines (comments and blank lines ignored; no shell expansion). */
    static Map<String, String> readEnvFile(Path file) {
        Map<String, String> vars = new HashMap<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new VolatilityUnavailableException("cannot read " + file + ": " + e.getMessage() + "; " + HOW_TO_INSTALL);
        }
        for (String line : lines) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            if (l.startsWith("export ")) {
                l = l.substring(7).strip();
            }
            int eq = l.indexOf('=');
            if (eq > 0) {
                String v = l.substring(eq + 1).strip();
                if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
                    v = v.substring(1, v.length() - 1);
                }
                vars.put(l.substring(0, eq).strip(), v);
            }
        }
        return vars;
    }

    private static String nonBlank(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
