package dev.sonde.snapshotter.store;

import java.io.IOException;

/** Another process holds the store's lock (a checkpoint or a prune is running). */
public class StoreBusyException extends IOException {
    public StoreBusyException(String message) {
        super(message);
    }
}
