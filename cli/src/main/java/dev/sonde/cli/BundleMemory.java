package dev.sonde.cli;

import dev.sonde.snapshotter.bundle.FileEntry;
import dev.sonde.snapshotter.bundle.Manifest;
import dev.sonde.snapshotter.bundle.Sha256;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The memory image of an evidence bundle directory, checked before use: the manifest names it
 * ({@code checkpoint.memoryFile}, else the one file of role {@code memory}), and the file must have the size and
 * SHA-256 the manifest records. A bundle still being written ({@code .partial-*}), without a manifest, or whose memory
 * file differs from its manifest is refused.
 */
final class BundleMemory {
    private BundleMemory() {
    }

    /** The verified memory file of {@code bundle}. */
    static Path resolve(Path bundle) {
        if (bundle.getFileName() != null && bundle.getFileName().toString().startsWith(".partial-")) {
            throw new SondeException(ExitCodes.BAD_INPUT, bundle + ": an incomplete bundle (still being written or"
                    + " interrupted); run sonde verify or let the bundle store recover it");
        }
        Path manifestFile = bundle.resolve(Manifest.FILE_NAME);
        Manifest m;
        try {
            m = Manifest.parse(Files.readAllBytes(manifestFile));
        } catch (NoSuchFileException e) {
            throw new SondeException(ExitCodes.BAD_INPUT, bundle + ": a directory without " + Manifest.FILE_NAME
                    + " is not an evidence bundle (pass the memory image itself, or a complete bundle)");
        } catch (IOException e) {
            throw new SondeException(ExitCodes.BAD_INPUT, manifestFile + ": not a readable manifest: " + e.getMessage(), e);
        }
        if (m.files() == null) {
            throw new SondeException(ExitCodes.BAD_INPUT, manifestFile + ": no file list");
        }
        String name = m.checkpoint() == null ? null : m.checkpoint().memoryFile();
        FileEntry entry = null;
        for (FileEntry f : m.files()) {
            if (name != null ? name.equals(f.name()) : "memory".equals(f.role())) {
                if (entry != null) {
                    throw new SondeException(ExitCodes.BAD_INPUT, manifestFile + ": more than one memory file listed");
                }
                entry = f;
            }
        }
        if (entry == null) {
            throw new SondeException(ExitCodes.BAD_INPUT, manifestFile + ": lists no memory file"
                    + (name == null ? "" : " named " + name));
        }
        if (entry.name().contains("/") || entry.name().contains("\\") || entry.name().startsWith("..")) {
            throw new SondeException(ExitCodes.BAD_INPUT, manifestFile + ": memory file name " + entry.name()
                    + " leaves the bundle");
        }
        Path memory = bundle.resolve(entry.name());
        try {
            long size = Files.size(memory);
            if (size != entry.size()) {
                throw new SondeException(ExitCodes.INTEGRITY, memory + ": " + size + " bytes, the manifest records "
                        + entry.size() + "; the evidence was altered or truncated");
            }
            String sha = Sha256.of(memory);
            if (!sha.equalsIgnoreCase(entry.sha256())) {
                throw new SondeException(ExitCodes.INTEGRITY, memory + ": SHA-256 " + sha + ", the manifest records "
                        + entry.sha256() + "; the evidence was altered");
            }
        } catch (NoSuchFileException e) {
            throw new SondeException(ExitCodes.INTEGRITY, memory + ": listed in the manifest but missing");
        } catch (IOException e) {
            throw new SondeException(ExitCodes.BAD_INPUT, memory + ": " + e.getMessage(), e);
        }
        return memory;
    }
}
