package dev.sonde.snapshotter.store;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Bundle names: {@code 20261129T150612.123Z-DOMAIN-ID}, the checkpoint's UTC start time first so that names sort by
 * time, then the domain name (characters outside {@code [A-Za-z0-9._-]} replaced by {@code _}), then the checkpoint id.
 */
public final class BundleNames {
    static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);
    static final Pattern NAME = Pattern.compile("(\\d{8}T\\d{6}\\.\\d{3}Z)-(.+)-([a-z0-9]{4,32})");

    private BundleNames() {
    }

    public static String name(Instant start, String domain, String id) {
        return STAMP.format(start.truncatedTo(ChronoUnit.MILLIS)) + "-" + domainPart(domain) + "-" + id;
    }

    /** The domain part of the names of {@code domain}'s bundles (what {@link StoredBundle#domain()} holds). */
    public static String domainPart(String domain) {
        String d = domain.replaceAll("[^A-Za-z0-9._-]", "_");
        if (d.length() > 64) {
            d = d.substring(0, 64);
        }
        if (d.isEmpty() || d.startsWith(".")) {
            d = "_" + d;
        }
        return d;
    }

    public static Optional<Instant> time(String name) {
        Matcher m = NAME.matcher(name);
        if (!m.matches()) {
            return Optional.empty();
        }
        try {
            return Optional.of(LocalDateTime.parse(m.group(1), STAMP).toInstant(ZoneOffset.UTC));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    public static Optional<String> domain(String name) {
        Matcher m = NAME.matcher(name);
        return m.matches() ? Optional.of(m.group(2)) : Optional.empty();
    }
}
