package dev.sonde.snapshotter.schedule;

import java.io.IOException;

/** Where alerts go: the log, a JSONL file, a command. A sink that fails is reported and the others still get it. */
public interface AlertSink {
    void send(Alert alert) throws IOException;

    /** Short name for messages. */
    String describe();
}
