package dev.sonde.snapshotter.schedule;

import java.time.DayOfWeek;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A standard five-field cron expression ({@code minute hour day-of-month month day-of-week}), as crontab(5) defines
 * it: {@code *}, values, ranges {@code a-b}, lists {@code a,b}, steps {@code * /n}, {@code a-b/n} and {@code a/n},
 * month names {@code JAN..DEC}, day names {@code SUN..SAT} (0 and 7 are Sunday), and the macros {@code @yearly},
 * {@code @monthly}, {@code @weekly}, {@code @daily}, {@code @hourly}. When both day-of-month and day-of-week are
 * restricted, a day matches either (crontab's rule). Times are local times in a zone: a time skipped by a DST gap
 * fires at the gap's end, a time repeated by an overlap fires once.
 */
public final class CronExpression {
    private static final Map<String, String> MACROS = Map.of("@yearly", "0 0 1 1 *", "@annually", "0 0 1 1 *",
            "@monthly", "0 0 1 * *", "@weekly", "0 0 * * 0", "@daily", "0 0 * * *", "@midnight", "0 0 * * *",
            "@hourly", "0 * * * *");
    private static final List<String> MONTHS = List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP",
            "OCT", "NOV", "DEC");
    private static final List<String> DAYS = List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT");
    /** How far ahead {@link #next} looks: past it an expression such as {@code 0 0 30 2 *} never fires. */
    private static final int MAX_DAYS_AHEAD = 366 * 8 + 2;

    private final String text;
    private final BitSet minutes;
    private final BitSet hours;
    private final BitSet daysOfMonth;
    private final BitSet months;
    private final BitSet daysOfWeek;
    private final boolean domRestricted;
    private final boolean dowRestricted;

    private CronExpression(String text, BitSet minutes, BitSet hours, BitSet daysOfMonth, BitSet months,
            BitSet daysOfWeek, boolean domRestricted, boolean dowRestricted) {
        this.text = text;
        this.minutes = minutes;
        this.hours = hours;
        this.daysOfMonth = daysOfMonth;
        this.months = months;
        this.daysOfWeek = daysOfWeek;
        this.domRestricted = domRestricted;
        this.dowRestricted = dowRestricted;
    }

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException naming the field and what is wrong with it
     */
    public static CronExpression parse(String text) {
        String t = text.trim();
        String expanded = t.startsWith("@") ? MACROS.get(t.toLowerCase(Locale.ROOT)) : t;
        if (expanded == null) {
            throw new IllegalArgumentException("cron '" + text + "': unknown macro " + t + " (known: "
                    + String.join(", ", MACROS.keySet().stream().sorted().toList()) + ")");
        }
        String[] f = expanded.split("\\s+");
        if (f.length != 5) {
            throw new IllegalArgumentException("cron '" + text + "': " + f.length
                    + " fields, expected 5 (minute hour day-of-month month day-of-week)");
        }
        BitSet dow = field(text, "day-of-week", f[4], 0, 7, DAYS);
        if (dow.get(7)) {
            dow.set(0);
            dow.clear(7);
        }
        return new CronExpression(t, field(text, "minute", f[0], 0, 59, null), field(text, "hour", f[1], 0, 23, null),
                field(text, "day-of-month", f[2], 1, 31, null), field(text, "month", f[3], 1, 12, MONTHS), dow,
                !f[2].startsWith("*"), !f[4].startsWith("*"));
    }

    private static BitSet field(String text, String name, String spec, int min, int max, List<String> names) {
        BitSet bits = new BitSet(max + 1);
        for (String part : spec.split(",", -1)) {
            String where = "cron '" + text + "': " + name + " field '" + spec + "'";
            if (part.isEmpty()) {
                throw new IllegalArgumentException(where + ": empty list element");
            }
            int step = 1;
            String range = part;
            int slash = part.indexOf('/');
            if (slash >= 0) {
                range = part.substring(0, slash);
                step = number(where, part.substring(slash + 1), 1, max - min + 1, null);
            }
            int lo;
            int hi;
            if (range.equals("*")) {
                lo = min;
                hi = max;
            } else {
                int dash = range.indexOf('-');
                if (dash >= 0) {
                    lo = number(where, range.substring(0, dash), min, max, names);
                    hi = number(where, range.substring(dash + 1), min, max, names);
                    if (hi < lo) {
                        throw new IllegalArgumentException(where + ": range " + range + " runs backwards");
                    }
                } else {
                    lo = number(where, range, min, max, names);
                    hi = slash >= 0 ? max : lo;
                }
            }
            for (int v = lo; v <= hi; v += step) {
                bits.set(v);
            }
        }
        return bits;
    }

    private static int number(String where, String s, int min, int max, List<String> names) {
        if (names != null) {
            int i = names.indexOf(s.toUpperCase(Locale.ROOT));
            if (i >= 0) {
                return i + (names.size() == 12 ? 1 : 0);
            }
        }
        if (s.isEmpty() || s.length() > 4 || !s.chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException(where + ": '" + s + "' is not a number"
                    + (names != null ? " or a name (" + String.join(" ", names) + ")" : ""));
        }
        int v = Integer.parseInt(s);
        if (v < min || v > max) {
            throw new IllegalArgumentException(where + ": " + v + " is outside " + min + "-" + max);
        }
        return v;
    }

    /** The expression as written. */
    public String text() {
        return text;
    }

    private boolean dayMatches(LocalDate d) {
        if (!months.get(d.getMonthValue())) {
            return false;
        }
        boolean dom = daysOfMonth.get(d.getDayOfMonth());
        boolean dow = daysOfWeek.get(d.getDayOfWeek() == DayOfWeek.SUNDAY ? 0 : d.getDayOfWeek().getValue());
        if (domRestricted && dowRestricted) {
            return dom || dow;
        }
        return dom && dow;
    }

    /**
     * The first firing strictly after {@code after} in {@code zone}; empty when the expression never fires (such as
     * {@code 0 0 31 2 *}).
     */
    public Optional<ZonedDateTime> next(ZonedDateTime after, ZoneId zone) {
        ZonedDateTime a = after.withZoneSameInstant(zone);
        LocalDateTime from = a.toLocalDateTime().truncatedTo(ChronoUnit.MINUTES);
        LocalDate day = from.toLocalDate();
        for (int i = 0; i < MAX_DAYS_AHEAD; i++, day = day.plusDays(1)) {
            if (!dayMatches(day)) {
                continue;
            }
            for (int h = hours.nextSetBit(0); h >= 0; h = hours.nextSetBit(h + 1)) {
                for (int m = minutes.nextSetBit(0); m >= 0; m = minutes.nextSetBit(m + 1)) {
                    LocalDateTime ldt = LocalDateTime.of(day, LocalTime.of(h, m));
                    if (ldt.isBefore(from)) {
                        continue;
                    }
                    // a gap moves the time forward; in an overlap the earlier offset is taken, so it fires once
                    ZonedDateTime z = ZonedDateTime.ofLocal(ldt, zone, null);
                    if (z.isAfter(a)) {
                        return Optional.of(z);
                    }
                }
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return text;
    }
}
