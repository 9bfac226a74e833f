package dev.sonde.rollback.probe;

import java.util.Locale;

/** Parses probe specifications: {@code run:SECONDS}, {@code exec:COMMAND}, {@code crossview}, {@code qmp:COMMAND}, {@code diskdiff}. */
public final class Probes {
    private Probes() {
    }

    /** The probe {@code spec} names; {@link IllegalArgumentException} with what is accepted when it names none. */
    public static Probe parse(String spec) {
        int colon = spec.indexOf(':');
        String name = (colon < 0 ? spec : spec.substring(0, colon)).toLowerCase(Locale.ROOT);
        String arg = colon < 0 ? "" : spec.substring(colon + 1);
        return switch (name) {
            case "run" -> {
                int s;
                try {
                    s = Integer.parseInt(arg.trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("probe '" + spec + "': run:SECONDS needs a whole number of seconds");
                }
                if (s < 0 || s > 86_400) {
                    throw new IllegalArgumentException("probe '" + spec + "': seconds out of range 0..86400");
                }
                yield new RunProbe(spec, s);
            }
            case "exec" -> {
                if (arg.isBlank()) {
                    throw new IllegalArgumentException("probe '" + spec + "': exec:COMMAND needs a command");
                }
                yield new ExecProbe(spec, arg);
            }
            case "qmp" -> {
                if (arg.isBlank()) {
                    throw new IllegalArgumentException("probe '" + spec + "': qmp:COMMAND needs a command");
                }
                yield new QmpProbe(spec, arg);
            }
            case "crossview" -> noArg(spec, arg, new CrossViewProbe(spec));
            case "diskdiff" -> noArg(spec, arg, new DiskDiffProbe(spec));
            default -> throw new IllegalArgumentException("unknown probe '" + spec
                    + "': use run:SECONDS, exec:COMMAND, crossview, qmp:COMMAND or diskdiff");
        };
    }

    private static Probe noArg(String spec, String arg, Probe p) {
        if (!arg.isEmpty()) {
            throw new IllegalArgumentException("probe '" + spec + "' takes no argument");
        }
        return p;
    }
}
