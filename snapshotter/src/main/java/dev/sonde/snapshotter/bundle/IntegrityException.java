package dev.sonde.snapshotter.bundle;

import java.io.IOException;

/** A bundle (or a store log) whose content does not match what was recorded when it was sealed. */
public class IntegrityException extends IOException {
    private final String file;

    public IntegrityException(String file, String message) {
        super(file + ": " + message);
        this.file = file;
    }

    /** The file that failed (a bundle file name, {@code manifest.json}, or the bundle itself). */
    public String file() {
        return file;
    }
}
