package dev.sonde.snapshotter.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Rechecks an evidence bundle (a directory, or one archive file) against its manifest: every listed file must exist
 * with the recorded size and SHA-256, nothing unlisted may be there, the manifest must be well formed and, when the
 * bundle sits in a store, its hash must be the one the store's checkpoint log recorded when it was sealed.
 */
public final class BundleVerifier {
    private static final ObjectMapper JSON = new ObjectMapper();

    private BundleVerifier() {
    }

    /** Verifies {@code path}; {@code expectedManifestSha256} (optional) is a hash recorded elsewhere. */
    public static VerifyReport verify(Path path, Optional<String> expectedManifestSha256) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new NoSuchFileException(path.toString(), null, "no such bundle");
        }
        Check c = Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS) ? directory(path) : archive(path);
        if (c.manifestJson != null) {
            c.manifestSha256 = Sha256.of(c.manifestJson);
            expectedManifestSha256.ifPresent(exp -> {
                if (!exp.equalsIgnoreCase(c.manifestSha256)) {
                    c.problem(Manifest.FILE_NAME, "SHA-256 " + c.manifestSha256 + " is not the expected " + exp);
                }
            });
            storeLog(path, c);
        }
        return new VerifyReport(path, c.bundle, c.archive, c.manifestSha256, c.manifest, c.filesChecked, c.bytesChecked,
                List.copyOf(c.problems), List.copyOf(c.notes));
    }

    /** State of one verification. */
    private static final class Check {
        String bundle;
        boolean archive;
        byte[] manifestJson;
        String manifestSha256;
        Manifest manifest;
        int filesChecked;
        long bytesChecked;
        final List<VerifyReport.Problem> problems = new ArrayList<>();
        final List<String> notes = new ArrayList<>();

        void problem(String file, String message) {
            problems.add(new VerifyReport.Problem(file, message));
        }
    }

    /** A manifest's file list, validated. */
    private record Listed(Map<String, FileEntry> files) {
    }

    private static Check directory(Path dir) throws IOException {
        Check c = new Check();
        c.bundle = dir.getFileName().toString();
        if (c.bundle.startsWith(BundleWriter.PARTIAL_PREFIX)) {
            c.problem(c.bundle, "incomplete bundle: its writer never sealed it (a .partial-* directory is what a "
                    + "crash or a failed checkpoint leaves; it is deleted by the next run on the store)");
        }
        Path mf = dir.resolve(Manifest.FILE_NAME);
        if (!Files.isRegularFile(mf, LinkOption.NOFOLLOW_LINKS)) {
            c.problem(Manifest.FILE_NAME, "missing: the bundle was never sealed");
            return c;
        }
        c.manifestJson = Files.readAllBytes(mf);
        Listed listed = manifest(c);
        Set<String> present = new TreeSet<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(p -> present.add(p.getFileName().toString()));
        }
        present.remove(Manifest.FILE_NAME);
        if (listed == null) {
            return c;
        }
        for (FileEntry e : listed.files().values()) {
            Path f = dir.resolve(e.name());
            if (!present.contains(e.name())) {
                c.problem(e.name(), "missing (the manifest lists " + e.size() + " bytes)");
                continue;
            }
            if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                c.problem(e.name(), "not a regular file");
                continue;
            }
            long size = Files.size(f);
            if (size != e.size()) {
                c.problem(e.name(), "size " + size + " bytes, the manifest says " + e.size());
                continue;
            }
            String sha = Sha256.of(f);
            c.filesChecked++;
            c.bytesChecked += size;
            if (!sha.equals(e.sha256())) {
                c.problem(e.name(), "SHA-256 mismatch: the file hashes to " + sha + ", the manifest says " + e.sha256());
            }
        }
        for (String p : present) {
            if (!listed.files().containsKey(p)) {
                c.problem(p, "not listed in the manifest");
            }
        }
        return c;
    }

    private static Check archive(Path file) throws IOException {
        Check c = new Check();
        c.archive = true;
        String fname = file.getFileName().toString();
        c.bundle = BundleArchive.bundleName(fname);
        if (fname.startsWith(BundleWriter.PARTIAL_PREFIX)) {
            c.problem(fname, "incomplete archive: its writer never sealed it");
        }
        Map<String, Sha256.Sized> actual = new LinkedHashMap<>();
        List<String> order = new ArrayList<>();
        String top = null;
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
             InputStream in = BundleArchive.decompressing(raw);
             TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry te;
            while ((te = tar.getNextEntry()) != null) {
                String n = te.getName();
                int slash = n.indexOf('/');
                String dirPart = slash < 0 ? n : n.substring(0, slash);
                String rest = slash < 0 ? "" : n.substring(slash + 1);
                if (top == null) {
                    top = dirPart;
                } else if (!top.equals(dirPart)) {
                    c.problem(n, "outside the bundle directory " + top + "/ of the archive");
                    continue;
                }
                if (te.isDirectory()) {
                    if (!rest.isEmpty()) {
                        c.problem(n, "unexpected directory in the bundle");
                    }
                    continue;
                }
                if (!te.isFile() || rest.isEmpty() || rest.contains("/")) {
                    c.problem(n, "not a plain file of the bundle");
                    continue;
                }
                if (c.manifestJson != null) {
                    c.problem(rest, "comes after " + Manifest.FILE_NAME + ", which must be the last entry");
                }
                if (actual.containsKey(rest) || (rest.equals(Manifest.FILE_NAME) && c.manifestJson != null)) {
                    c.problem(rest, "appears twice in the archive");
                }
                if (rest.equals(Manifest.FILE_NAME)) {
                    c.manifestJson = tar.readAllBytes();
                } else {
                    actual.put(rest, Sha256.of(tar));
                    order.add(rest);
                }
            }
        } catch (IOException e) {
            c.problem(fname, "unreadable archive: " + e.getMessage());
        }
        if (top != null && !top.equals(c.bundle)) {
            c.notes.add("the archive holds directory " + top + "/, its file is named " + fname);
        }
        if (c.manifestJson == null) {
            c.problem(Manifest.FILE_NAME, "missing from the archive: the bundle was never sealed");
            return c;
        }
        Listed listed = manifest(c);
        if (listed == null) {
            return c;
        }
        for (FileEntry e : listed.files().values()) {
            Sha256.Sized a = actual.get(e.name());
            if (a == null) {
                c.problem(e.name(), "missing from the archive (the manifest lists " + e.size() + " bytes)");
                continue;
            }
            c.filesChecked++;
            c.bytesChecked += a.size();
            if (a.size() != e.size()) {
                c.problem(e.name(), "size " + a.size() + " bytes, the manifest says " + e.size());
            } else if (!a.sha256().equals(e.sha256())) {
                c.problem(e.name(), "SHA-256 mismatch: the file hashes to " + a.sha256() + ", the manifest says " + e.sha256());
            }
        }
        for (String n : order) {
            if (!listed.files().containsKey(n)) {
                c.problem(n, "not listed in the manifest");
            }
        }
        return c;
    }

    /** Parses and validates the manifest; null when it is unusable (the problem is recorded). */
    private static Listed manifest(Check c) {
        JsonNode root;
        try {
            root = JSON.readTree(c.manifestJson);
        } catch (IOException e) {
            c.problem(Manifest.FILE_NAME, "not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
            return null;
        }
        if (root == null || !root.isObject()) {
            c.problem(Manifest.FILE_NAME, "not a JSON object");
            return null;
        }
        if (!Manifest.FORMAT.equals(root.path("format").asText())) {
            c.problem(Manifest.FILE_NAME, "format is '" + root.path("format").asText() + "', not " + Manifest.FORMAT);
            return null;
        }
        int version = root.path("version").asInt(-1);
        if (version != Manifest.VERSION) {
            c.problem(Manifest.FILE_NAME, "unsupported manifest version " + root.path("version"));
            return null;
        }
        JsonNode files = root.path("files");
        if (!files.isArray() || files.isEmpty()) {
            c.problem(Manifest.FILE_NAME, "lists no files");
            return null;
        }
        Map<String, FileEntry> listed = new LinkedHashMap<>();
        Set<String> seen = new HashSet<>();
        for (JsonNode f : files) {
            String name = f.path("name").asText("");
            if (!BundleWriter.SAFE_NAME.matcher(name).matches() || name.contains("..") || name.equals(Manifest.FILE_NAME)) {
                c.problem(Manifest.FILE_NAME, "lists an unsafe file name '" + name + "'");
                continue;
            }
            if (!seen.add(name)) {
                c.problem(Manifest.FILE_NAME, "lists " + name + " twice");
                continue;
            }
            JsonNode size = f.path("size");
            String sha = f.path("sha256").asText("");
            if (!size.canConvertToLong() || size.asLong() < 0 || !Sha256.isHex(sha)) {
                c.problem(Manifest.FILE_NAME, "entry " + name + " has no valid size and SHA-256");
                continue;
            }
            listed.put(name, new FileEntry(name, f.path("role").asText(null), f.path("format").asText(null),
                    size.asLong(), sha));
        }
        try {
            c.manifest = Manifest.parse(c.manifestJson);
        } catch (IOException e) {
            c.problem(Manifest.FILE_NAME, "malformed: " + e.getMessage().lines().findFirst().orElse(""));
            return null;
        }
        Manifest m = c.manifest;
        if (m.bundle() != null && !m.bundle().equals(c.bundle)) {
            c.notes.add("sealed as " + m.bundle() + ", now named " + c.bundle);
        }
        if (m.checkpoint() != null && m.checkpoint().memoryFile() != null
                && !listed.containsKey(m.checkpoint().memoryFile())) {
            c.problem(Manifest.FILE_NAME, "memory file " + m.checkpoint().memoryFile() + " is not in the file list");
        }
        if (m.disks() != null) {
            for (Manifest.Disk d : m.disks()) {
                for (Manifest.Layer l : d.layers() == null ? List.<Manifest.Layer>of() : d.layers()) {
                    if (!listed.containsKey(l.file())) {
                        c.problem(Manifest.FILE_NAME, "disk " + d.target() + " layer " + l.file() + " is not in the file list");
                    }
                }
            }
        }
        return new Listed(listed);
    }

    /** When the bundle lies in a store, its manifest hash must match the store's checkpoint log. */
    private static void storeLog(Path path, Check c) throws IOException {
        Path parent = path.toAbsolutePath().getParent();
        if (parent == null) {
            return;
        }
        CheckpointLog log = CheckpointLog.of(parent);
        if (!Files.exists(log.file())) {
            return;
        }
        CheckpointLog.Contents contents = log.read();
        for (String p : contents.problems()) {
            c.problem(CheckpointLog.RELATIVE_PATH, p);
        }
        c.notes.addAll(contents.warnings().stream().map(w -> CheckpointLog.RELATIVE_PATH + ": " + w).toList());
        String name = c.manifest != null && c.manifest.bundle() != null ? c.manifest.bundle() : c.bundle;
        Optional<CheckpointLog.Entry> e = contents.lastFor(name, "sealed", "archived");
        if (e.isEmpty()) {
            c.notes.add("not recorded in the store's checkpoint log (" + log.file() + ")");
        } else if (!e.get().manifestSha256().equals(c.manifestSha256)) {
            c.problem(Manifest.FILE_NAME, "SHA-256 " + c.manifestSha256 + " differs from the "
                    + e.get().manifestSha256() + " the store's checkpoint log recorded when the bundle was sealed ("
                    + e.get().time() + ")");
        } else {
            c.notes.add("manifest hash matches the store's checkpoint log (entry " + e.get().seq() + ", " + e.get().time() + ")");
        }
    }
}
