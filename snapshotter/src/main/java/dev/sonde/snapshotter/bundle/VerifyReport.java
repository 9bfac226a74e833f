package dev.sonde.snapshotter.bundle;

import java.nio.file.Path;
import java.util.List;

/**
 * The outcome of {@link BundleVerifier#verify}: {@code problems} are integrity failures, each naming the file it
 * concerns; {@code notes} are facts worth printing that do not make the bundle fail.
 */
public record VerifyReport(Path path, String bundle, boolean archive, String manifestSha256, Manifest manifest,
        int filesChecked, long bytesChecked, List<Problem> problems, List<String> notes) {

    public boolean ok() {
        return problems.isEmpty();
    }

    /** One integrity failure: the file (bundle-relative name, {@code manifest.json}, or the bundle) and what is wrong. */
    public record Problem(String file, String message) {
        @Override
        public String toString() {
            return file + ": " + message;
        }
    }
}
