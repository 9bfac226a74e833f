package dev.sonde.snapshotter.schedule;

import dev.sonde.snapshotter.CheckpointOptions;
import dev.sonde.snapshotter.MemoryMode;
import dev.sonde.snapshotter.store.RetentionPolicy;
import java.io.IOException;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The configuration of {@code sonde schedule}, read from a Java properties file ({@code key = value}, {@code #}
 * comments; see README "Scheduled checkpoints"). Global keys: {@code store}, {@code uri}, {@code zone},
 * {@code jitter}, {@code jitter.seed}, {@code concurrency.per-host}, {@code concurrency.total}, {@code alerts.jsonl},
 * {@code alerts.command}, {@code alerts.command.timeout}, {@code metrics.listen}, {@code metrics.textfile}. Per job
 * {@code job.NAME.KEY}: {@code cron} (required), {@code domains} (required; names or globs, comma-separated),
 * {@code uri}, {@code store}, {@code memory}, {@code disks}, {@code quiesce}, {@code analyze}, {@code retention}
 * (e.g. {@code keep-last=24 keep-daily=7 max-age=30d min-count=3}). Unknown keys are errors.
 *
 * @param jitterSeed seeds the jitter (tests and reproducible runs); empty: a random seed
 */
public record ScheduleConfig(Path source, List<JobSpec> jobs, ZoneId zone, Duration jitter, Optional<Long> jitterSeed,
        int perHostConcurrency, int totalConcurrency, Optional<Path> alertsJsonl, Optional<List<String>> alertCommand,
        Duration alertCommandTimeout, Optional<InetSocketAddress> metricsListen, Optional<Path> metricsTextfile) {

    public ScheduleConfig {
        jobs = List.copyOf(jobs);
    }

    private static final Set<String> GLOBAL_KEYS = Set.of("store", "uri", "zone", "jitter", "jitter.seed",
            "concurrency.per-host", "concurrency.total", "alerts.jsonl", "alerts.command", "alerts.command.timeout",
            "metrics.listen", "metrics.textfile");
    private static final Set<String> JOB_KEYS = Set.of("cron", "domains", "uri", "store", "memory", "disks", "quiesce",
            "analyze", "retention");
    private static final Pattern JOB_KEY = Pattern.compile("job\\.([A-Za-z0-9_-]+)\\.([a-z.-]+)");
    private static final Pattern RULE = Pattern.compile("(keep-last|keep-hourly|keep-daily|keep-weekly|max-age|min-count)=(\\S+)");

    /** Reads and checks {@code file}. */
    public static ScheduleConfig load(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IllegalArgumentException e) {
            throw new ScheduleConfigException(file + ": " + e.getMessage());
        }
        return parse(file, p);
    }

    /** Checks {@code p}; errors name {@code source} and the key. */
    public static ScheduleConfig parse(Path source, Properties p) {
        Parser x = new Parser(source, p);
        Set<String> jobNames = new TreeSet<>();
        for (String k : p.stringPropertyNames()) {
            Matcher m = JOB_KEY.matcher(k);
            if (m.matches()) {
                if (!JOB_KEYS.contains(m.group(2))) {
                    throw x.error(k, "unknown job key '" + m.group(2) + "' (known: " + String.join(", ", new TreeSet<>(JOB_KEYS)) + ")");
                }
                jobNames.add(m.group(1));
            } else if (!GLOBAL_KEYS.contains(k)) {
                throw x.error(k, "unknown key (known: " + String.join(", ", new TreeSet<>(GLOBAL_KEYS)) + ", job.NAME.KEY)");
            }
        }
        if (jobNames.isEmpty()) {
            throw new ScheduleConfigException(source + ": no job (add job.NAME.cron and job.NAME.domains)");
        }
        ZoneId zone = x.get("zone").map(z -> x.zone("zone", z)).orElse(ZoneId.of("UTC"));
        Path store = Path.of(x.get("store").orElse("/var/lib/sonde/bundles"));
        String uri = x.get("uri").orElse("qemu:///system");
        List<JobSpec> jobs = new ArrayList<>();
        for (String j : jobNames) {
            String pre = "job." + j + ".";
            CronExpression cron = x.cron(pre + "cron", x.require(pre + "cron"));
            List<String> domains = Arrays.stream(x.require(pre + "domains").split(",")).map(String::trim)
                    .filter(s -> !s.isEmpty()).toList();
            if (domains.isEmpty()) {
                throw x.error(pre + "domains", "no domain name or pattern");
            }
            CheckpointOptions o = CheckpointOptions.defaults();
            Optional<String> mem = x.get(pre + "memory");
            if (mem.isPresent()) {
                o = o.withMemory(x.wrap(pre + "memory", () -> MemoryMode.parse(mem.get())));
            }
            o = o.withDisks(x.bool(pre + "disks", true));
            Optional<String> q = x.get(pre + "quiesce");
            if (q.isPresent()) {
                o = o.withQuiesce(switch (q.get().toLowerCase()) {
                    case "auto" -> CheckpointOptions.Quiesce.AUTO;
                    case "on", "true", "yes" -> CheckpointOptions.Quiesce.ON;
                    case "off", "false", "no" -> CheckpointOptions.Quiesce.OFF;
                    default -> throw x.error(pre + "quiesce", "auto, on or off, not '" + q.get() + "'");
                });
            }
            RetentionPolicy retention = x.get(pre + "retention").map(r -> x.retention(pre + "retention", r, zone))
                    .orElse(RetentionPolicy.none());
            jobs.add(new JobSpec(j, cron, domains, x.get(pre + "uri").orElse(uri), o,
                    x.get(pre + "store").map(Path::of).orElse(store), x.bool(pre + "analyze", true), retention));
        }
        int perHost = x.integer("concurrency.per-host", 1, 1, 64);
        int total = x.integer("concurrency.total", Math.max(4, perHost), 1, 256);
        Optional<List<String>> cmd = x.get("alerts.command").map(c -> List.of(c.trim().split("\\s+")));
        return new ScheduleConfig(source, jobs, zone, x.duration("jitter", Duration.ZERO),
                x.get("jitter.seed").map(s -> x.wrap("jitter.seed", () -> Long.parseLong(s))), perHost, total,
                x.get("alerts.jsonl").map(Path::of), cmd, x.duration("alerts.command.timeout", Duration.ofSeconds(10)),
                x.get("metrics.listen").map(a -> x.address("metrics.listen", a)), x.get("metrics.textfile").map(Path::of));
    }

    /** Reads values of one properties file, with errors naming the file and key. */
    private record Parser(Path source, Properties p) {
        ScheduleConfigException error(String key, String msg) {
            return new ScheduleConfigException(source + ": " + key + ": " + msg);
        }

        Optional<String> get(String key) {
            String v = p.getProperty(key);
            return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
        }

        String require(String key) {
            return get(key).orElseThrow(() -> error(key, "missing"));
        }

        <T> T wrap(String key, java.util.function.Supplier<T> f) {
            try {
                return f.get();
            } catch (IllegalArgumentException | DateTimeException e) {
                throw error(key, e.getMessage());
            }
        }

        CronExpression cron(String key, String v) {
            return wrap(key, () -> CronExpression.parse(v));
        }

        ZoneId zone(String key, String v) {
            return wrap(key, () -> ZoneId.of(v));
        }

        boolean bool(String key, boolean dflt) {
            return get(key).map(v -> switch (v.toLowerCase()) {
                case "true", "yes", "on" -> true;
                case "false", "no", "off" -> false;
                default -> throw error(key, "true or false, not '" + v + "'");
            }).orElse(dflt);
        }

        int integer(String key, int dflt, int min, int max) {
            int v = get(key).map(s -> wrap(key, () -> Integer.parseInt(s))).orElse(dflt);
            if (v < min || v > max) {
                throw error(key, v + " is outside " + min + "-" + max);
            }
            return v;
        }

        Duration duration(String key, Duration dflt) {
            return get(key).map(s -> wrap(key, () -> RetentionPolicy.parseDuration(s))).orElse(dflt);
        }

        InetSocketAddress address(String key, String v) {
            int c = v.lastIndexOf(':');
            if (c < 0) {
                throw error(key, "HOST:PORT expected, not '" + v + "'");
            }
            int port = wrap(key, () -> Integer.parseInt(v.substring(c + 1)));
            if (port < 0 || port > 65535) {
                throw error(key, "port " + port + " is outside 0-65535");
            }
            String host = v.substring(0, c);
            return new InetSocketAddress(host.isEmpty() ? "127.0.0.1" : host, port);
        }

        RetentionPolicy retention(String key, String v, ZoneId zone) {
            RetentionPolicy r = RetentionPolicy.none().withZone(zone);
            for (String rule : v.split("[,\\s]+")) {
                if (rule.isEmpty()) {
                    continue;
                }
                Matcher m = RULE.matcher(rule);
                if (!m.matches()) {
                    throw error(key, "'" + rule + "' is not a rule (keep-last=N, keep-hourly=N, keep-daily=N, "
                            + "keep-weekly=N, max-age=AGE, min-count=N)");
                }
                String val = m.group(2);
                RetentionPolicy cur = r;
                r = wrap(key, () -> switch (m.group(1)) {
                    case "keep-last" -> cur.withKeepLast(Integer.parseInt(val));
                    case "keep-hourly" -> cur.withHourly(Integer.parseInt(val));
                    case "keep-daily" -> cur.withDaily(Integer.parseInt(val));
                    case "keep-weekly" -> cur.withWeekly(Integer.parseInt(val));
                    case "max-age" -> cur.withMaxAge(RetentionPolicy.parseDuration(val));
                    default -> cur.withMinCount(Integer.parseInt(val));
                });
            }
            return r;
        }
    }
}
