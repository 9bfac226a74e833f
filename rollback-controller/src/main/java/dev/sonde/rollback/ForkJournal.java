package dev.sonde.rollback;

import dev.sonde.snapshotter.bundle.DurableFile;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One live clone, as recorded in {@code WORK/journal/ID.json} (written and forced to disk before the clone's files
 * or domain exist): enough for a later run to destroy the clone and delete its files when the Sonde process that
 * made it died.
 *
 * @param id          the fork's id
 * @param uri         the libvirt URI the clone runs at
 * @param ownerPid    the Sonde process that made it
 * @param ownerStart  that process's start instant (guards against pid reuse)
 * @param cloneName   the clone's domain name
 * @param cloneUuid   the clone's domain UUID
 * @param forkDir     the clone's directory (overlay, save image copy, console, metadata)
 * @param bundle      the bundle it was forked from
 * @param original    the original domain's name
 * @param createdAt   ISO-8601 UTC
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ForkJournal(String id, String uri, long ownerPid, String ownerStart, String cloneName, String cloneUuid,
        String forkDir, String bundle, String original, String createdAt) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** Whether the process that wrote this journal is still alive (same pid, same start instant). */
    public boolean ownerAlive() {
        Optional<ProcessHandle> p = ProcessHandle.of(ownerPid);
        if (p.isEmpty() || !p.get().isAlive()) {
            return false;
        }
        String start = p.get().info().startInstant().map(Object::toString).orElse("");
        return ownerStart == null || ownerStart.isEmpty() || start.isEmpty() || start.equals(ownerStart);
    }

    /** The current process's start instant, as recorded in {@link #ownerStart}. */
    static String currentStart() {
        return ProcessHandle.current().info().startInstant().map(Object::toString).orElse("");
    }

    static Path file(Path dir, String id) {
        return dir.resolve(id + ".json");
    }

    /** Writes atomically: temporary file, fsync, rename, fsync of the directory. */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        DurableFile.replace(file(dir, id), JSON.writeValueAsBytes(this));
    }

    public void delete(Path dir) throws IOException {
        DurableFile.delete(file(dir, id));
    }

    /** The journals in {@code dir} (none when it does not exist); unreadable ones are reported in {@code bad}. */
    public static List<ForkJournal> readAll(Path dir, List<String> bad) throws IOException {
        List<ForkJournal> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                String n = p.getFileName().toString();
                if (n.endsWith(".json.tmp")) {
                    Files.deleteIfExists(p);
                } else if (n.endsWith(".json")) {
                    try {
                        out.add(JSON.readValue(p.toFile(), ForkJournal.class));
                    } catch (IOException e) {
                        bad.add("unreadable fork journal " + p + ": " + e.getMessage());
                    }
                }
            }
        }
        return out;
    }
}
