package dev.sonde.analyzer.report;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.BootClock;
import dev.sonde.analyzer.linux.ProcessInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Timesketch-importable JSON-lines timeline of an analysis: one event per process start, each with the three fields
 * Timesketch requires ({@code message}, {@code datetime} in ISO-8601 with offset, {@code timestamp_desc}), the
 * {@code timestamp} in microseconds since the epoch, and the process' pid, ppid, comm, exe and command line. Start
 * times are {@code start_boottime} placed on the guest's wall clock by {@link BootClock} (the guest kernel's
 * timekeeper: what the guest believed, not the host's clock).
 */
public final class Timeline {
    public static final String TIMESTAMP_DESC = "Process Start Time";
    public static final String DATA_TYPE = "sonde:linux:process:start";
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSxxx")
            .withZone(ZoneOffset.UTC);
    private static final ObjectMapper JSON = new ObjectMapper().configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);

    private Timeline() {
    }

    /**
     * Writes one line per process, in task-list order.
     *
     * @throws IllegalStateException when the analysis has no wall clock (then no event can be dated)
     */
    public static void write(AnalysisResult result, Writer out) {
        BootClock clock = result.clock().orElseThrow(() -> new IllegalStateException(
                "no timeline: the guest's wall clock could not be read (" + String.join("; ", result.problems()) + ")"));
        try {
            for (ProcessInfo p : result.processes().processes()) {
                out.write(JSON.writeValueAsString(event(result.source(), clock, p)));
                out.write('\n');
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Map<String, Object> event(String source, BootClock clock, ProcessInfo p) {
        Instant at = clock.at(p.startTimeNs());
        String cmd = p.kernelThread() ? "[" + p.comm() + "]"
                : p.cmdline().filter(c -> !c.isEmpty()).map(c -> String.join(" ", c)).orElse(p.comm());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("message", "Process " + p.pid() + " (" + p.comm() + ") started: " + cmd);
        m.put("datetime", ISO.format(at));
        m.put("timestamp", ChronoUnit.MICROS.between(Instant.EPOCH, at));
        m.put("timestamp_desc", TIMESTAMP_DESC);
        m.put("data_type", DATA_TYPE);
        m.put("pid", p.pid());
        m.put("ppid", p.ppid());
        m.put("comm", p.comm());
        m.put("exe", p.exe().orElse(null));
        m.put("cmdline", p.kernelThread() ? null : p.cmdline().orElse(null));
        m.put("uid", p.uid().orElse(null));
        m.put("kernel_thread", p.kernelThread());
        m.put("start_boottime_ns", p.startTimeNs());
        m.put("source_image", source);
        return m;
    }
}
