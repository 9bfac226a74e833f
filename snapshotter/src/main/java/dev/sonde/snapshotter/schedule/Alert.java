package dev.sonde.snapshotter.schedule;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;

/**
 * Something that changed in a domain between two checkpoints (or a finding at its first one).
 *
 * @param time           the checkpoint's time (ISO-8601, from the scheduler's clock)
 * @param kind           {@code process-started}, {@code process-vanished}, {@code binary-new},
 *                       {@code binary-unknown}, {@code finding-new}
 * @param severity       {@code high}, {@code medium}, {@code low} or {@code info}
 * @param bundle         the checkpoint's bundle name
 * @param previousBundle the bundle it was compared with; empty at a domain's first checkpoint
 * @param details        the facts (pid, comm, exe, ...)
 */
public record Alert(String time, String job, String domain, String kind, String severity, String bundle,
        String previousBundle, String summary, Map<String, Object> details) {
    public Alert {
        details = Map.copyOf(details);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One line of JSON. */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
