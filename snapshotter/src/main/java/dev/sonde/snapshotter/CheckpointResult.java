package dev.sonde.snapshotter;

import dev.sonde.snapshotter.bundle.Manifest;
import java.nio.file.Path;
import java.util.List;

/**
 * A sealed checkpoint: the bundle (directory or archive), its manifest's SHA-256, the manifest, the leftovers of
 * earlier runs this run cleaned, and the measured guest pause.
 */
public record CheckpointResult(Path bundle, String manifestSha256, Manifest manifest, List<String> cleaned,
        double pauseMillis) {
}
