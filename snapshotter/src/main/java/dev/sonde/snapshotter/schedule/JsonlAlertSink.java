package dev.sonde.snapshotter.schedule;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Alerts appended to a file, one JSON object per line, each line written whole and synced. */
public final class JsonlAlertSink implements AlertSink {
    private final Path file;

    public JsonlAlertSink(Path file) {
        this.file = file;
    }

    @Override
    public synchronized void send(Alert a) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        byte[] line = (a.toJson() + "\n").getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ByteBuffer b = ByteBuffer.wrap(line);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(false);
        }
    }

    @Override
    public String describe() {
        return "jsonl " + file;
    }
}
