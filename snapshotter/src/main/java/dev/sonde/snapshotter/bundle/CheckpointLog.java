package dev.sonde.snapshotter.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A store's append-only, hash-chained log of sealed and deleted bundles ({@code STORE/.sonde/checkpoints.log}, one JSON
 * object per line). Each entry carries the hash of the previous one, so rewriting a manifest (and its recorded hash) in
 * the middle of the history breaks the chain; the manifest hash that {@code sonde snapshot} prints is the anchor to
 * keep outside the host.
 */
public final class CheckpointLog {
    public static final String RELATIVE_PATH = ".sonde/checkpoints.log";
    static final String GENESIS = "0".repeat(64);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One entry. {@code event}: {@code sealed}, {@code archived} or {@code pruned}. */
    public record Entry(long seq, String time, String event, String bundle, String manifestSha256, String prev,
            String hash) {
        String computeHash() {
            return Sha256.of((prev + "|" + seq + "|" + time + "|" + event + "|" + bundle + "|" + manifestSha256)
                    .getBytes(StandardCharsets.UTF_8));
        }
    }

    /** The entries, and what is wrong with the chain (empty when intact). */
    public record Contents(List<Entry> entries, List<String> problems, List<String> warnings) {
        public Optional<Entry> lastFor(String bundle, String... events) {
            Entry found = null;
            for (Entry e : entries) {
                if (e.bundle().equals(bundle) && List.of(events).contains(e.event())) {
                    found = e;
                }
            }
            return Optional.ofNullable(found);
        }
    }

    private final Path file;

    public CheckpointLog(Path file) {
        this.file = file;
    }

    /** The log of the store {@code storeRoot}. */
    public static CheckpointLog of(Path storeRoot) {
        return new CheckpointLog(storeRoot.resolve(RELATIVE_PATH));
    }

    public Path file() {
        return file;
    }

    /** Appends an entry chained to the last one and forces it to disk. */
    public synchronized Entry append(Instant time, String event, String bundle, String manifestSha256) throws IOException {
        Files.createDirectories(file.getParent());
        Contents c = read();
        if (!c.problems().isEmpty()) {
            throw new IntegrityException(file.toString(), "the checkpoint log is damaged, not appending to it: "
                    + String.join("; ", c.problems()));
        }
        Entry last = c.entries().isEmpty() ? null : c.entries().get(c.entries().size() - 1);
        long seq = last == null ? 1 : last.seq() + 1;
        String prev = last == null ? GENESIS : last.hash();
        Entry e = new Entry(seq, time.toString(), event, bundle, manifestSha256, prev, null);
        e = new Entry(e.seq(), e.time(), e.event(), e.bundle(), e.manifestSha256(), e.prev(), e.computeHash());
        ObjectNode n = JSON.createObjectNode();
        n.put("seq", e.seq());
        n.put("time", e.time());
        n.put("event", e.event());
        n.put("bundle", e.bundle());
        n.put("manifestSha256", e.manifestSha256());
        n.put("prev", e.prev());
        n.put("hash", e.hash());
        byte[] line = (JSON.writeValueAsString(n) + "\n").getBytes(StandardCharsets.UTF_8);
        boolean truncatedTail = false;
        if (Files.exists(file) && Files.size(file) > 0) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                ByteBuffer one = ByteBuffer.allocate(1);
                ch.read(one, ch.size() - 1);
                truncatedTail = one.get(0) != '\n';
            }
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ByteBuffer b = ByteBuffer.wrap(truncatedTail ? prefixNewline(line) : line);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        return e;
    }

    private static byte[] prefixNewline(byte[] line) {
        byte[] out = new byte[line.length + 1];
        out[0] = '\n';
        System.arraycopy(line, 0, out, 1, line.length);
        return out;
    }

    /** Reads and checks the whole chain. A missing log is empty. */
    public Contents read() throws IOException {
        List<Entry> entries = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        if (!Files.exists(file)) {
            return new Contents(entries, problems, warnings);
        }
        byte[] all = Files.readAllBytes(file);
        String text = new String(all, StandardCharsets.UTF_8);
        String[] lines = text.split("\n", -1);
        String prev = GENESIS;
        long seq = 0;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isEmpty()) {
                continue;
            }
            boolean lastLine = i == lines.length - 1; // no newline after it: an append cut short by a crash
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (IOException e) {
                if (lastLine) {
                    warnings.add("line " + (i + 1) + ": incomplete last entry (an append was interrupted); ignored");
                    continue;
                }
                problems.add("line " + (i + 1) + ": not JSON");
                continue;
            }
            Entry e = new Entry(n.path("seq").asLong(-1), n.path("time").asText(""), n.path("event").asText(""),
                    n.path("bundle").asText(""), n.path("manifestSha256").asText(""), n.path("prev").asText(""),
                    n.path("hash").asText(""));
            if (e.seq() != seq + 1) {
                problems.add("line " + (i + 1) + ": sequence number " + e.seq() + " where " + (seq + 1) + " was expected");
            }
            if (!e.prev().equals(prev)) {
                problems.add("line " + (i + 1) + ": does not chain to the previous entry (prev " + e.prev() + ", expected "
                        + prev + ")");
            }
            if (!e.hash().equals(e.computeHash())) {
                problems.add("line " + (i + 1) + ": entry hash does not match its content (entry " + e.seq()
                        + ", bundle " + e.bundle() + ")");
            }
            entries.add(e);
            prev = e.hash();
            seq = e.seq();
        }
        return new Contents(entries, problems, warnings);
    }
}
