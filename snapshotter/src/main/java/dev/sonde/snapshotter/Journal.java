package dev.sonde.snapshotter;

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
import java.util.stream.Stream;

/**
 * What a checkpoint in progress has done or is about to do to a guest, written to the store
 * ({@code .sonde/journal/ID.json}, forced to disk) before each step that changes the guest, so that the next run can
 * put the guest back after a crash or SIGKILL: the overlays to merge, whether Sonde paused or froze it, the staging
 * directory, the partial bundle and temporary backup targets to delete.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Journal(String id, String uri, String domainUuid, String domainName, String stateBefore, String startedAt,
        String partialBundle, String staging, List<Overlay> overlays, boolean pausedBySonde, boolean frozenBySonde,
        List<String> tempFiles) {

    /** An overlay Sonde creates on {@code target} over {@code original}, merged back when the checkpoint ends. */
    public record Overlay(String target, String overlay, String original) {
    }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public Journal withPausedBySonde(boolean p) {
        return new Journal(id, uri, domainUuid, domainName, stateBefore, startedAt, partialBundle, staging, overlays, p,
                frozenBySonde, tempFiles);
    }

    public Journal withFrozenBySonde(boolean f) {
        return new Journal(id, uri, domainUuid, domainName, stateBefore, startedAt, partialBundle, staging, overlays,
                pausedBySonde, f, tempFiles);
    }

    /** Files outside the bundle Sonde or libvirt create for this checkpoint (backup targets), deleted at the end. */
    public List<String> tempFiles() {
        return tempFiles == null ? List.of() : tempFiles;
    }

    static Path file(Path dir, String id) {
        return dir.resolve(id + ".json");
    }

    /** Writes the journal atomically (temporary file, fsync, rename, fsync of the directory). */
    public void write(Path dir) throws IOException {
        DurableFile.replace(file(dir, id), JSON.writeValueAsBytes(this));
    }

    public void delete(Path dir) throws IOException {
        DurableFile.delete(file(dir, id));
    }

    /** The journals in {@code dir}; unreadable ones are returned as problems in {@code bad}. */
    public static List<Journal> readAll(Path dir, List<String> bad) throws IOException {
        List<Journal> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                String n = p.getFileName().toString();
                if (n.endsWith(".json.tmp")) {
                    Files.deleteIfExists(p); // a journal update cut short: the previous version is still in place
                    continue;
                }
                if (!n.endsWith(".json")) {
                    continue;
                }
                try {
                    out.add(JSON.readValue(p.toFile(), Journal.class));
                } catch (IOException e) {
                    bad.add("unreadable journal " + p + ": " + e.getMessage());
                }
            }
        }
        return out;
    }
}
