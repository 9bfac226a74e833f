package dev.sonde.analyzer.linux;

import java.util.List;

/**
 * Something suspicious about one process, with the evidence that shows it.
 *
 * @param kind     stable identifier ({@code deleted-executable}, {@code fileless-executable},
 *                 {@code anonymous-rwx-mapping}, {@code kernel-thread-impostor}, {@code name-mismatch})
 * @param severity {@code high}, {@code medium} or {@code low}
 * @param pid      the process
 * @param comm     its {@code comm}
 * @param summary  one sentence
 * @param evidence the facts read from memory that support it
 */
public record Finding(String kind, String severity, int pid, String comm, String summary, List<String> evidence) {
    public Finding {
        evidence = List.copyOf(evidence);
    }
}
