package dev.sonde.kb.disk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Opens a guest's disk from what the user names: a qcow2 image (with its backing chain), a raw image, or an evidence
 * bundle directory, whose {@code manifest.json} names the disk's layers (the first disk's top layer is opened, its
 * backing files are the bundle's own files and nothing outside the bundle is read).
 */
public final class GuestDisk {
    private GuestDisk() {
    }

    /** Opens the disk at {@code path} (image file or bundle directory). */
    public static BlockDevice open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            return openBundle(path);
        }
        if (!Files.isRegularFile(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString());
        }
        return Qcow2Image.probe(path) ? Qcow2Image.open(path) : new RawImage(path);
    }

    /** True when {@code dir} is an evidence bundle (has a manifest). */
    public static boolean isBundle(Path dir) {
        return Files.isDirectory(dir) && Files.isRegularFile(dir.resolve("manifest.json"));
    }

    /** The memory image a bundle's manifest names. */
    public static Optional<Path> bundleMemory(Path dir) throws IOException {
        JsonNode m = manifest(dir);
        String f = m.path("checkpoint").path("memoryFile").asText(null);
        return f == null ? Optional.empty() : Optional.of(inside(dir, f, "memoryFile"));
    }

    static JsonNode manifest(Path dir) throws IOException {
        Path mf = dir.resolve("manifest.json");
        if (!Files.isRegularFile(mf)) {
            throw new DiskFormatException(dir, 0, "not an evidence bundle (no manifest.json)");
        }
        try {
            return new ObjectMapper().readTree(mf.toFile());
        } catch (IOException e) {
            throw new DiskFormatException(mf, 0, "malformed manifest: " + e.getMessage());
        }
    }

    static Path inside(Path dir, String name, String field) throws IOException {
        Path root = dir.toAbsolutePath().normalize();
        Path p = root.resolve(name).normalize();
        if (!p.startsWith(root) || name.contains("/")) {
            throw new DiskFormatException(dir.resolve("manifest.json"), 0, field + " '" + name + "' is not a file of the bundle");
        }
        return p;
    }

    private static BlockDevice openBundle(Path dir) throws IOException {
        JsonNode m = manifest(dir);
        JsonNode layers = m.path("disks").path(0).path("layers");
        if (!layers.isArray() || layers.isEmpty()) {
            throw new DiskFormatException(dir.resolve("manifest.json"), 0, "the manifest names no disk (disks[0].layers is empty)");
        }
        Map<String, String> backingOf = new HashMap<>();
        for (JsonNode l : layers) {
            String file = l.path("file").asText();
            inside(dir, file, "disk layer");
            if (l.hasNonNull("backingFile")) {
                inside(dir, l.get("backingFile").asText(), "backing file");
                backingOf.put(file, l.get("backingFile").asText());
            }
        }
        Path top = inside(dir, layers.get(0).path("file").asText(), "disk layer");
        String format = layers.get(0).path("format").asText("qcow2");
        if (format.equals("raw")) {
            return new RawImage(top);
        }
        return Qcow2Image.open(top, BackingResolver.confinedTo(dir, backingOf));
    }
}
