package dev.sonde.cli;

/** A failure the command line reports with its own exit code and a one-line message. */
public class SondeException extends RuntimeException {
    private final int exitCode;

    public SondeException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public SondeException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
