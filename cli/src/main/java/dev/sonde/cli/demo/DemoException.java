package dev.sonde.cli.demo;

/** Why the demo stopped: its kind decides the exit code (environment 4, integrity 5, bad input 3). */
public final class DemoException extends RuntimeException {
    /** What went wrong. */
    public enum Kind { ENVIRONMENT, INTEGRITY, BAD_INPUT, INTERRUPTED }

    private final Kind kind;

    public DemoException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public DemoException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
