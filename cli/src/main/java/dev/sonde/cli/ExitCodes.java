package dev.sonde.cli;

/**
 * The exit codes of every sonde command, in one place.
 * <ul>
 *   <li>0 ok</li>
 *   <li>1 findings at or above {@code --fail-on}</li>
 *   <li>2 usage error</li>
 *   <li>3 bad input (an image or bundle that cannot be interpreted, a missing file)</li>
 *   <li>4 missing environment (libvirt, Python/Jep)</li>
 *   <li>5 integrity failure (a bundle whose hashes do not verify)</li>
 * </ul>
 */
public final class ExitCodes {
    public static final int OK = 0;
    public static final int FINDINGS = 1;
    public static final int USAGE = 2;
    public static final int BAD_INPUT = 3;
    public static final int MISSING_ENVIRONMENT = 4;
    public static final int INTEGRITY = 5;

    private ExitCodes() {
    }
}
