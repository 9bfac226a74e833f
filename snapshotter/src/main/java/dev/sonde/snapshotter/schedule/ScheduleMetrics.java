package dev.sonde.snapshotter.schedule;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The scheduler's Prometheus metrics, rendered in the text exposition format 0.0.4 (served by {@link MetricsServer}
 * and/or written for node_exporter's textfile collector). Series are labelled by job and domain.
 */
public final class ScheduleMetrics {
    /** The content type of {@link #render()}. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private record Series(String job, String domain) implements Comparable<Series> {
        @Override
        public int compareTo(Series o) {
            int c = job.compareTo(o.job);
            return c != 0 ? c : domain.compareTo(o.domain);
        }

        String labels(String... extra) {
            StringBuilder b = new StringBuilder("{job=\"").append(escape(job)).append("\",domain=\"")
                    .append(escape(domain)).append('"');
            for (int i = 0; i + 1 < extra.length; i += 2) {
                b.append(',').append(extra[i]).append("=\"").append(escape(extra[i + 1])).append('"');
            }
            return b.append('}').toString();
        }
    }

    private static final class PerDomain {
        long checkpoints;
        long failures;
        double durationSum;
        double pauseSum;
        double lastDuration = Double.NaN;
        double lastPause = Double.NaN;
        double lastBytes = Double.NaN;
        double lastSuccess = Double.NaN;
        long pruned;
        final Map<String, Long> alerts = new TreeMap<>();
    }

    private final Map<Series, PerDomain> data = new TreeMap<>();
    private long missedFirings;

    private PerDomain of(String job, String domain) {
        return data.computeIfAbsent(new Series(job, domain), s -> new PerDomain());
    }

    /** A sealed checkpoint: its wall time, bytes written, measured guest pause, finish time (epoch seconds). */
    public synchronized void checkpoint(String job, String domain, double seconds, long bytes, double pauseSeconds,
            double finishedEpochSeconds) {
        PerDomain d = of(job, domain);
        d.checkpoints++;
        d.durationSum += seconds;
        d.pauseSum += pauseSeconds;
        d.lastDuration = seconds;
        d.lastPause = pauseSeconds;
        d.lastBytes = bytes;
        d.lastSuccess = finishedEpochSeconds;
    }

    public synchronized void failure(String job, String domain) {
        of(job, domain).failures++;
    }

    public synchronized void alert(String job, String domain, String kind) {
        of(job, domain).alerts.merge(kind, 1L, Long::sum);
    }

    public synchronized void pruned(String job, String domain, int n) {
        of(job, domain).pruned += n;
    }

    public synchronized void missed(int n) {
        missedFirings += n;
    }

    /** The text exposition. */
    public synchronized String render() {
        StringBuilder b = new StringBuilder();
        family(b, "sonde_checkpoints_total", "counter", "Checkpoints sealed.", (s, d) -> num(d.checkpoints));
        family(b, "sonde_checkpoint_failures_total", "counter", "Checkpoints (or their analysis) that failed.",
                (s, d) -> num(d.failures));
        b.append("# HELP sonde_checkpoint_duration_seconds Wall time of checkpoints (libvirt call, copies, merge, seal).\n")
                .append("# TYPE sonde_checkpoint_duration_seconds summary\n");
        data.forEach((s, d) -> b.append("sonde_checkpoint_duration_seconds_sum").append(s.labels()).append(' ')
                .append(num(d.durationSum)).append('\n').append("sonde_checkpoint_duration_seconds_count")
                .append(s.labels()).append(' ').append(d.checkpoints).append('\n'));
        b.append("# HELP sonde_checkpoint_pause_seconds Guest pause measured by QEMU's STOP/RESUME events.\n")
                .append("# TYPE sonde_checkpoint_pause_seconds summary\n");
        data.forEach((s, d) -> b.append("sonde_checkpoint_pause_seconds_sum").append(s.labels()).append(' ')
                .append(num(d.pauseSum)).append('\n').append("sonde_checkpoint_pause_seconds_count")
                .append(s.labels()).append(' ').append(d.checkpoints).append('\n'));
        family(b, "sonde_checkpoint_last_duration_seconds", "gauge", "Wall time of the last checkpoint.",
                (s, d) -> num(d.lastDuration));
        family(b, "sonde_checkpoint_last_pause_seconds", "gauge", "Guest pause of the last checkpoint.",
                (s, d) -> num(d.lastPause));
        family(b, "sonde_checkpoint_last_bytes", "gauge", "Bytes in the last checkpoint's bundle.",
                (s, d) -> num(d.lastBytes));
        family(b, "sonde_checkpoint_last_success_timestamp_seconds", "gauge",
                "When the last checkpoint was sealed (Unix time).", (s, d) -> num(d.lastSuccess));
        family(b, "sonde_bundles_pruned_total", "counter", "Bundles deleted by the job's retention policy.",
                (s, d) -> num(d.pruned));
        b.append("# HELP sonde_alerts_total Alerts raised by the diff between checkpoints.\n")
                .append("# TYPE sonde_alerts_total counter\n");
        data.forEach((s, d) -> d.alerts.forEach((k, n) -> b.append("sonde_alerts_total").append(s.labels("kind", k))
                .append(' ').append(n).append('\n')));
        b.append("# HELP sonde_schedule_missed_firings_total Firings skipped because the previous round overran.\n")
                .append("# TYPE sonde_schedule_missed_firings_total counter\n")
                .append("sonde_schedule_missed_firings_total ").append(missedFirings).append('\n');
        return b.toString();
    }

    private void family(StringBuilder b, String name, String type, String help,
            java.util.function.BiFunction<Series, PerDomain, String> value) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        data.forEach((s, d) -> {
            String v = value.apply(s, d);
            if (!v.equals("NaN")) {
                b.append(name).append(s.labels()).append(' ').append(v).append('\n');
            }
        });
    }

    private static String num(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.6f", v);
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** Writes the exposition for node_exporter's textfile collector (aside, then renamed: never half a file). */
    public void writeTextfile(Path file) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.writeString(tmp, render(), StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
