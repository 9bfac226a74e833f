package dev.sonde.snapshotter.store;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which bundles of a store to keep. Bundles are taken newest first.
 * <ul>
 *   <li>{@code keepLast}: the newest N;</li>
 *   <li>{@code hourly}, {@code daily}, {@code weekly}: for each of the newest N hours (days, ISO weeks) that have at
 *       least one bundle, the newest bundle of that hour (day, week), buckets taken in {@code zone};</li>
 *   <li>{@code maxAge}: a bundle older than that is deleted even if a rule above selected it; when no keep rule is
 *       given, every bundle younger than that is kept;</li>
 *   <li>{@code minCount}: the newest N are always kept, whatever the other rules say (so a store never empties
 *       because the checkpoints stopped).</li>
 * </ul>
 * With no rule at all nothing is deleted. Bundles dated in the future (clock skew) are always kept.
 */
public record RetentionPolicy(int keepLast, int hourly, int daily, int weekly, Optional<Duration> maxAge, int minCount,
        ZoneId zone) {

    public RetentionPolicy {
        if (keepLast < 0 || hourly < 0 || daily < 0 || weekly < 0 || minCount < 0) {
            throw new IllegalArgumentException("retention counts cannot be negative");
        }
        if (maxAge.isPresent() && (maxAge.get().isNegative() || maxAge.get().isZero())) {
            throw new IllegalArgumentException("maximum age must be positive");
        }
    }

    public static RetentionPolicy none() {
        return new RetentionPolicy(0, 0, 0, 0, Optional.empty(), 0, ZoneId.of("UTC"));
    }

    public RetentionPolicy withKeepLast(int n) {
        return new RetentionPolicy(n, hourly, daily, weekly, maxAge, minCount, zone);
    }

    public RetentionPolicy withHourly(int n) {
        return new RetentionPolicy(keepLast, n, daily, weekly, maxAge, minCount, zone);
    }

    public RetentionPolicy withDaily(int n) {
        return new RetentionPolicy(keepLast, hourly, n, weekly, maxAge, minCount, zone);
    }

    public RetentionPolicy withWeekly(int n) {
        return new RetentionPolicy(keepLast, hourly, daily, n, maxAge, minCount, zone);
    }

    public RetentionPolicy withMaxAge(Duration d) {
        return new RetentionPolicy(keepLast, hourly, daily, weekly, Optional.ofNullable(d), minCount, zone);
    }

    public RetentionPolicy withMinCount(int n) {
        return new RetentionPolicy(keepLast, hourly, daily, weekly, maxAge, n, zone);
    }

    public RetentionPolicy withZone(ZoneId z) {
        return new RetentionPolicy(keepLast, hourly, daily, weekly, maxAge, minCount, z);
    }

    boolean hasKeepRule() {
        return keepLast > 0 || hourly > 0 || daily > 0 || weekly > 0;
    }

    public boolean isEmpty() {
        return !hasKeepRule() && maxAge.isEmpty() && minCount == 0;
    }

    /** The rules in the {@code sonde schedule} configuration syntax ({@code keep-last=24 max-age=30d}), or "none". */
    public String describe() {
        List<String> r = new ArrayList<>();
        if (keepLast > 0) {
            r.add("keep-last=" + keepLast);
        }
        if (hourly > 0) {
            r.add("keep-hourly=" + hourly);
        }
        if (daily > 0) {
            r.add("keep-daily=" + daily);
        }
        if (weekly > 0) {
            r.add("keep-weekly=" + weekly);
        }
        maxAge.ifPresent(d -> r.add("max-age=" + format(d)));
        if (minCount > 0) {
            r.add("min-count=" + minCount);
        }
        return r.isEmpty() ? "none" : String.join(" ", r);
    }

    /** The decision for one bundle and the rules that made it. */
    public record Decision(StoredBundle bundle, boolean keep, List<String> reasons) {
    }

    /** Decides for every bundle; the result is newest first. */
    public List<Decision> decide(List<StoredBundle> bundles, Instant now) {
        List<StoredBundle> sorted = new ArrayList<>(bundles);
        sorted.sort(Comparator.comparing(StoredBundle::time).thenComparing(StoredBundle::name).reversed());
        Map<StoredBundle, List<String>> why = new LinkedHashMap<>();
        for (StoredBundle b : sorted) {
            why.put(b, new ArrayList<>());
        }
        Set<StoredBundle> selected = new LinkedHashSet<>();
        for (int i = 0; i < Math.min(keepLast, sorted.size()); i++) {
            selected.add(sorted.get(i));
            why.get(sorted.get(i)).add("last " + keepLast);
        }
        bucket(sorted, hourly, "hourly", b -> ZonedDateTime.ofInstant(b.time(), zone).truncatedTo(ChronoUnit.HOURS),
                selected, why);
        bucket(sorted, daily, "daily", b -> LocalDate.ofInstant(b.time(), zone), selected, why);
        bucket(sorted, weekly, "weekly", b -> {
            LocalDate d = LocalDate.ofInstant(b.time(), zone);
            return d.get(IsoFields.WEEK_BASED_YEAR) * 100 + d.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR);
        }, selected, why);
        List<Decision> out = new ArrayList<>();
        for (int i = 0; i < sorted.size(); i++) {
            StoredBundle b = sorted.get(i);
            List<String> reasons = why.get(b);
            boolean keep;
            if (isEmpty()) {
                keep = true;
                reasons.add("no retention rule");
            } else if (b.time().isAfter(now)) {
                keep = true;
                reasons.add("dated in the future");
            } else {
                keep = hasKeepRule() ? selected.contains(b) : true;
                if (!hasKeepRule()) {
                    reasons.add("no keep rule");
                }
                if (keep && maxAge.isPresent() && b.time().isBefore(now.minus(maxAge.get()))) {
                    keep = false;
                    reasons.add("older than " + format(maxAge.get()));
                }
                if (i < minCount) {
                    if (!keep) {
                        reasons.add("kept anyway: among the newest " + minCount + " (minimum count)");
                    } else {
                        reasons.add("minimum count " + minCount);
                    }
                    keep = true;
                }
                if (!keep && reasons.isEmpty()) {
                    reasons.add("matched by no keep rule");
                }
            }
            out.add(new Decision(b, keep, List.copyOf(reasons)));
        }
        return out;
    }

    private static <K> void bucket(List<StoredBundle> newestFirst, int count, String label,
            Function<StoredBundle, K> key, Set<StoredBundle> selected, Map<StoredBundle, List<String>> why) {
        if (count <= 0) {
            return;
        }
        Set<K> seen = new LinkedHashSet<>();
        for (StoredBundle b : newestFirst) {
            K k = key.apply(b);
            if (seen.contains(k)) {
                continue;
            }
            if (seen.size() == count) {
                break;
            }
            seen.add(k);
            selected.add(b);
            why.get(b).add(label + " " + count);
        }
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)([smhdw])");

    /** Parses {@code 90s}, {@code 30m}, {@code 12h}, {@code 7d}, {@code 4w}, combinations ({@code 1d12h}) or ISO-8601. */
    public static Duration parseDuration(String s) {
        String t = s.trim().toLowerCase();
        if (t.startsWith("p")) {
            return Duration.parse(s.trim().toUpperCase());
        }
        Matcher m = DURATION.matcher(t);
        Duration d = Duration.ZERO;
        int at = 0;
        while (m.find()) {
            if (m.start() != at) {
                break;
            }
            long n = Long.parseLong(m.group(1));
            d = d.plus(switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> Duration.ofDays(7 * n);
            });
            at = m.end();
        }
        if (at != t.length() || t.isEmpty()) {
            throw new IllegalArgumentException("not a duration: '" + s + "' (e.g. 12h, 7d, 4w, 1d12h)");
        }
        return d;
    }

    static String format(Duration d) {
        if (d.toSeconds() % 86400 == 0) {
            return d.toDays() + "d";
        }
        if (d.toSeconds() % 3600 == 0) {
            return d.toHours() + "h";
        }
        if (d.toSeconds() % 60 == 0) {
            return d.toMinutes() + "m";
        }
        return d.toSeconds() + "s";
    }
}
