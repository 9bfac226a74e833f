package dev.sonde.snapshotter.schedule;

import dev.sonde.snapshotter.CheckpointOptions;
import dev.sonde.snapshotter.store.RetentionPolicy;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;

/**
 * One scheduled job: when ({@code cron}), which domains (names or glob patterns such as {@code web-*}), on which
 * libvirt URI, how ({@code options}), where ({@code store}), whether each checkpoint is analyzed and diffed against the
 * previous one of its domain, and the retention applied to each domain's bundles after each checkpoint.
 */
public record JobSpec(String name, CronExpression cron, List<String> domains, String uri, CheckpointOptions options,
        Path store, boolean analyze, RetentionPolicy retention) {
    public JobSpec {
        domains = List.copyOf(domains);
    }

    /** Whether an entry of {@link #domains()} is a pattern rather than a name. */
    public static boolean isPattern(String s) {
        return s.chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == '{');
    }

    /** Whether {@code domain} is one of this job's names or matches one of its patterns. */
    public boolean selects(String domain) {
        for (String d : domains) {
            if (isPattern(d)) {
                PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + d);
                if (!domain.contains("/") && m.matches(Path.of(domain))) {
                    return true;
                }
            } else if (d.equals(domain)) {
                return true;
            }
        }
        return false;
    }
}
