package dev.sonde.analyzer.volatility;

/**
 * The Volatility bridge cannot run here: the Python environment or Jep is missing, or the embedded interpreter was
 * declared unusable. The message says what is missing and how to install it.
 */
public class VolatilityUnavailableException extends RuntimeException {
    public VolatilityUnavailableException(String message) {
        super(message);
    }

    public VolatilityUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
