package dev.sonde.analyzer.volatility;

import java.time.Duration;

/**
 * A plugin exceeded its time limit and was abandoned. {@link #interpreterUsable()} says whether the interpreter
 * could be interrupted (and stays usable) or had to be declared unusable for the rest of the process.
 */
public class VolatilityTimeoutException extends VolatilityPluginException {
    private final boolean interpreterUsable;

    public VolatilityTimeoutException(String plugin, Duration limit, boolean interpreterUsable) {
        super(plugin, "timeout", "exceeded its time limit of " + seconds(limit) + " and was abandoned; "
                + (interpreterUsable ? "the interpreter remains usable"
                : "it could not be interrupted, so the embedded interpreter is unusable for the rest of this process"), "");
        this.interpreterUsable = interpreterUsable;
    }

    public boolean interpreterUsable() {
        return interpreterUsable;
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() / 1000.0 + " s";
    }
}
