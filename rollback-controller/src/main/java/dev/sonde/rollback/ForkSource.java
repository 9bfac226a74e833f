package dev.sonde.rollback;

import dev.sonde.snapshotter.bundle.BundleVerifier;
import dev.sonde.snapshotter.bundle.FileEntry;
import dev.sonde.snapshotter.bundle.Manifest;
import dev.sonde.snapshotter.bundle.VerifyReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A verified checkpoint bundle a clone can be forked from: a sealed bundle directory whose memory is a libvirt save
 * image ({@code sonde snapshot --memory live}), with its disk layers.
 *
 * @param dir      the bundle directory
 * @param manifest its manifest
 * @param hashes   SHA-256 of every file, as verified when opened (file name to hex)
 * @param memory   the save image's bundle file name
 * @param disks    the disks, each with its layers top first
 */
public record ForkSource(Path dir, Manifest manifest, Map<String, String> hashes, String memory, List<SourceDisk> disks) {

    /** One disk of the bundle: its target and layers (bundle file names and formats), top first. */
    public record SourceDisk(String target, List<Manifest.Layer> layers) {
    }

    /** Opens and verifies {@code bundle}; {@link ForkException} (bad input or integrity) when it cannot be forked. */
    public static ForkSource open(Path bundle) throws IOException {
        if (!Files.isDirectory(bundle, LinkOption.NOFOLLOW_LINKS)) {
            throw new ForkException(ForkException.Kind.BAD_INPUT, bundle + ": not a bundle directory"
                    + (Files.exists(bundle) ? " (archives: unpack them first)" : ""));
        }
        VerifyReport v = BundleVerifier.verify(bundle, Optional.empty());
        if (!v.ok()) {
            throw new ForkException(ForkException.Kind.INTEGRITY, bundle + ": bundle does not verify: " + v.problems());
        }
        Manifest m = v.manifest();
        Map<String, String> hashes = new TreeMap<>();
        Optional<FileEntry> memory = Optional.empty();
        for (FileEntry f : m.files()) {
            hashes.put(f.name(), f.sha256());
            if ("memory".equals(f.role())) {
                memory = Optional.of(f);
            }
        }
        if (memory.isEmpty() || !"libvirt-save".equals(memory.get().format())) {
            throw new ForkException(ForkException.Kind.BAD_INPUT, bundle + ": no restorable memory state ("
                    + memory.map(f -> f.name() + ", " + f.format()).orElse("no memory file")
                    + "): fork needs a live checkpoint (sonde snapshot --memory live)");
        }
        List<SourceDisk> disks = new ArrayList<>();
        if (m.disks() != null) {
            for (Manifest.Disk d : m.disks()) {
                for (Manifest.Layer l : d.layers()) {
                    if (!hashes.containsKey(l.file())) {
                        throw new ForkException(ForkException.Kind.BAD_INPUT, bundle + ": manifest: disk " + d.target()
                                + " layer " + l.file() + " is not a file of the bundle");
                    }
                }
                disks.add(new SourceDisk(d.target(), List.copyOf(d.layers())));
            }
        }
        return new ForkSource(bundle, m, Map.copyOf(hashes), memory.get().name(), List.copyOf(disks));
    }

    public Path memoryFile() {
        return dir.resolve(memory);
    }

    /** Re-verifies the bundle; the problems, empty when every file still has its manifest hash. */
    public List<String> reverify() throws IOException {
        VerifyReport v = BundleVerifier.verify(dir, Optional.empty());
        List<String> problems = new ArrayList<>();
        v.problems().forEach(p -> problems.add(p.toString()));
        if (v.manifest() != null) {
            for (FileEntry f : v.manifest().files()) {
                if (!f.sha256().equals(hashes.get(f.name()))) {
                    problems.add(f.name() + ": manifest now lists SHA-256 " + f.sha256() + ", was " + hashes.get(f.name()));
                }
            }
        }
        return problems;
    }
}
