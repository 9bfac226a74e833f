package dev.sonde.analyzer.linux;

import java.util.List;

/**
 * Whether a result is everything the kernel held: {@code complete}, or partial with the reasons (the walks' problems,
 * unreadable memory), each naming what and where.
 */
public record Completeness(boolean complete, List<String> reasons) {
    public Completeness {
        reasons = List.copyOf(reasons);
    }

    public static Completeness of(List<String> reasons) {
        return new Completeness(reasons.isEmpty(), reasons);
    }

    public String verdict() {
        return complete ? "complete" : "partial";
    }
}
