package dev.sonde.analyzer.kernel.profile;

/**
 * A kernel profile could not be built or lacks something asked of it. The message says what was missing or in
 * conflict; {@link #hint()} says what would help (e.g. which option to pass).
 */
public final class ProfileException extends RuntimeException {
    private final String problem;
    private final String hint;

    public ProfileException(String problem, String hint) {
        super(hint == null || hint.isBlank() ? problem : problem + " (" + hint + ")");
        this.problem = problem;
        this.hint = hint == null ? "" : hint;
    }

    public String problem() {
        return problem;
    }

    public String hint() {
        return hint;
    }
}
