package dev.sonde.kb.disk;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where the backing file named in a qcow2 header is. The default follows qemu (relative to the directory of the image
 * naming it); inside an evidence bundle the chain is the bundle's own files and nothing outside it may be read.
 */
@FunctionalInterface
public interface BackingResolver {
    /**
     * @param image        the image whose header names the backing file
     * @param name         the backing file name from the header
     * @param headerOffset where the name sits in {@code image} (for errors)
     */
    Path resolve(Path image, String name, long headerOffset) throws IOException;

    /** qemu's rule: an absolute path as is, a relative one relative to the image's directory. */
    static BackingResolver qemu() {
        return (image, name, off) -> {
            try {
                Path p = Path.of(name);
                return p.isAbsolute() ? p : image.toAbsolutePath().getParent().resolve(p).normalize();
            } catch (java.nio.file.InvalidPathException e) {
                throw new DiskFormatException(image, off, "backing file name is not a path: " + e.getMessage());
            }
        };
    }

    /**
     * Inside a bundle: the manifest's layer map (file name to the bundle file backing it) wins; otherwise the header's
     * name must resolve to a file inside {@code dir}.
     */
    static BackingResolver confinedTo(Path dir, Map<String, String> backingOf) {
        Path root = dir.toAbsolutePath().normalize();
        return (image, name, off) -> {
            String mapped = backingOf.get(image.getFileName().toString());
            Path p = mapped != null ? root.resolve(mapped).normalize() : qemu().resolve(image, name, off);
            Path real = p.toAbsolutePath().normalize();
            try {
                if (java.nio.file.Files.exists(real)) {
                    real = real.toRealPath();
                }
            } catch (IOException e) {
                // keep the normalised path
            }
            Path realRoot = root;
            try {
                realRoot = root.toRealPath();
            } catch (IOException e) {
                // keep
            }
            if (!real.startsWith(realRoot)) {
                throw new DiskFormatException(image, off, "backing file '" + name + "' resolves to " + real
                        + ", outside the bundle " + root);
            }
            return real;
        };
    }
}
