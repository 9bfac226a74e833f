package dev.sonde.analyzer.volatility;

/**
 * A Volatility plugin failed: the Python exception's type and message (the plugin's own words), with its traceback
 * for debugging.
 */
public class VolatilityPluginException extends RuntimeException {
    private final String plugin;
    private final String pythonType;
    private final String pythonTraceback;

    public VolatilityPluginException(String plugin, String pythonType, String message, String pythonTraceback) {
        super("Volatility plugin " + plugin + " failed: " + message + " (" + pythonType + ")");
        this.plugin = plugin;
        this.pythonType = pythonType;
        this.pythonTraceback = pythonTraceback;
    }

    public String plugin() {
        return plugin;
    }

    /** The Python exception's qualified type, e.g. {@code builtins.ValueError}. */
    public String pythonType() {
        return pythonType;
    }

    /** The Python traceback, empty when none applies. */
    public String pythonTraceback() {
        return pythonTraceback;
    }
}
