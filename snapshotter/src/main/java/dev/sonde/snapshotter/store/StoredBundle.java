package dev.sonde.snapshotter.store;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * A sealed bundle in a store: a directory or an archive file. {@code time} is the checkpoint's start time, read from
 * the bundle name (which starts with it); {@code domain} the domain part of the name.
 */
public record StoredBundle(Path path, String name, Instant time, String domain, boolean archive) {

    /** Parses a store entry name {@code yyyyMMdd'T'HHmmss.SSS'Z'-DOMAIN-ID}; empty for names Sonde did not make. */
    static Optional<StoredBundle> of(Path path, String name, boolean archive) {
        Optional<Instant> t = BundleNames.time(name);
        if (t.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new StoredBundle(path, name, t.get(), BundleNames.domain(name).orElse(""), archive));
    }
}
