package dev.sonde.bench;

import dev.sonde.analyzer.fixtures.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The fixture captures the benchmarks read: {@code $SONDE_CACHE/captures/GUEST-KERNEL/memory.{elf,kdump,save}}, made by
 * {@code fixtures/GUEST/capture.sh}. A benchmark whose capture is absent fails its setup with a message that starts
 * with {@value #SKIPPED}, so JMH reports it and goes on with the others; every setup prints the capture it used.
 */
public final class Captures {
    /** Prefix of the message of a benchmark skipped for lack of its capture. */
    public static final String SKIPPED = "SKIPPED";

    private Captures() {
    }

    /** The capture file of {@code guest} ("tiny", "debian") in {@code format} ("elf", "kdump", "save"). */
    public static Path file(String guest, String format) {
        Path dir = Fixtures.captureDir(guest);
        Path file = dir.resolve("memory." + format);
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "%s: capture %s is absent; make it with fixtures/%s/capture.sh (SONDE_CACHE=%s)",
                    SKIPPED, file, guest, Fixtures.cache()));
        }
        return file;
    }

    /** Prints which capture a benchmark uses (stderr, so it lands in the JMH log next to the results). */
    public static void announce(String benchmark, Path file, String detail) {
        try {
            System.err.printf(Locale.ROOT, "[sonde-bench] %s: capture %s (%d bytes, modified %s)%s%n", benchmark, file,
                    Files.size(file), Files.getLastModifiedTime(file), detail.isEmpty() ? "" : "; " + detail);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
