package dev.sonde.analyzer.image.lime;

import java.nio.file.Path;

/** Lets other test packages find the real capture the same way (skipping when it is absent). */
public final class LimeRealImageTestAccess {
    private LimeRealImageTestAccess() {
    }

    public static Path realImage() {
        return LimeRealImageTest.realImage();
    }
}
