package dev.sonde.cli.html;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's {@code chromium} in headless mode, driven over the Chrome DevTools Protocol with the JDK's own WebSocket
 * client: one page, every event kept (script exceptions, console and log entries, network requests), commands
 * answered synchronously. Closing it kills the browser and deletes its profile.
 */
final class HeadlessChromium implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Generous bounds against a hung browser; not performance assertions. */
    private static final Duration START = Duration.ofSeconds(90);
    private static final Duration COMMAND = Duration.ofSeconds(60);

    private final Process process;
    private final Path profile;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending;
    private final List<JsonNode> events;
    private final List<String> stderr;

    private HeadlessChromium(Process process, Path profile, WebSocket socket,
                             Map<Integer, CompletableFuture<JsonNode>> pending, List<JsonNode> events, List<String> stderr) {
        this.process = process;
        this.profile = profile;
        this.socket = socket;
        this.pending = pending;
        this.events = events;
        this.stderr = stderr;
    }

    /** What the browser printed on stderr (its own diagnostics). */
    List<String> stderr() {
        return new ArrayList<>(stderr);
    }

    /** The browser binary: {@code $SONDE_CHROMIUM}, else {@code chromium} on the PATH. */
    static Path binary() {
        String env = System.getenv("SONDE_CHROMIUM");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(dir, "chromium");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new IllegalStateException("chromium is not installed (scripts/setup installs Debian's chromium package)");
    }

    static HeadlessChromium start(int width, int height) throws Exception {
        Path profile = Files.createTempDirectory("sonde-chromium-");
        ProcessBuilder pb = new ProcessBuilder(binary().toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-sync", "--hide-scrollbars", "--remote-debugging-port=0",
                "--remote-allow-origins=*", "--user-data-dir=" + profile, "--window-size=" + width + "," + height,
                "about:blank");
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        Process process = pb.start();
        try {
            List<String> lines = new CopyOnWriteArrayList<>();
            CompletableFuture<String> endpoint = new CompletableFuture<>();
            Thread reader = new Thread(() -> {
                Pattern p = Pattern.compile("DevTools listening on (ws://\\S+)");
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) {
                        lines.add(l);
                        Matcher m = p.matcher(l);
                        if (m.find()) {
                            endpoint.complete(m.group(1));
                        }
                    }
                } catch (IOException e) {
                    endpoint.completeExceptionally(e);
                }
                endpoint.completeExceptionally(new IllegalStateException("chromium exited: " + String.join("\n", lines)));
            }, "chromium-stderr");
            reader.setDaemon(true);
            reader.start();
            URI browser = URI.create(endpoint.get(START.toSeconds(), TimeUnit.SECONDS));
            HttpClient http = HttpClient.newHttpClient();
            URI list = URI.create("http://" + browser.getHost() + ":" + browser.getPort() + "/json/list");
            JsonNode targets = JSON.readTree(http.send(HttpRequest.newBuilder(list).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            String page = null;
            for (JsonNode t : targets) {
                if (t.path("type").asText().equals("page")) {
                    page = t.path("webSocketDebuggerUrl").asText();
                }
            }
            if (page == null) {
                throw new IllegalStateException("chromium has no page target: " + targets);
            }
            Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
            List<JsonNode> events = new CopyOnWriteArrayList<>();
            WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create(page), new Listener(pending, events))
                    .get(START.toSeconds(), TimeUnit.SECONDS);
            return new HeadlessChromium(process, profile, ws, pending, events, lines);
        } catch (Exception e) {
            process.destroyForcibly();
            deleteTree(profile);
            throw e;
        }
    }

    /** Sends one command and waits for its result; a protocol error is an exception. */
    JsonNode send(String method, Map<String, Object> params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        pending.put(id, f);
        ObjectNode msg = JSON.createObjectNode();
        msg.put("id", id);
        msg.put("method", method);
        msg.set("params", JSON.valueToTree(params));
        socket.sendText(JSON.writeValueAsString(msg), true).get(COMMAND.toSeconds(), TimeUnit.SECONDS);
        JsonNode reply = f.get(COMMAND.toSeconds(), TimeUnit.SECONDS);
        if (reply.has("error")) {
            throw new IllegalStateException(method + ": " + reply.get("error"));
        }
        return reply.path("result");
    }

    /** Evaluates {@code expression} in the page and returns its value (JSON-serialisable results only). */
    JsonNode eval(String expression) throws Exception {
        JsonNode r = send("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true,
                "awaitPromise", true));
        if (r.has("exceptionDetails")) {
            throw new IllegalStateException("exception in " + expression + ": " + r.get("exceptionDetails"));
        }
        return r.path("result").path("value");
    }

    /** Waits until an event matching {@code test} has arrived (bounded). */
    JsonNode awaitEvent(Predicate<JsonNode> test, String what) throws InterruptedException {
        long deadline = System.nanoTime() + COMMAND.toNanos();
        while (System.nanoTime() < deadline) {
            for (JsonNode e : events) {
                if (test.test(e)) {
                    return e;
                }
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("no " + what + " within " + COMMAND + "; events: " + events);
    }

    /** Every event received so far. */
    List<JsonNode> events() {
        return new ArrayList<>(events);
    }

    /** A PNG of the viewport, or of the whole page. */
    byte[] screenshot(boolean fullPage) throws Exception {
        Map<String, Object> params = Map.of("format", "png", "captureBeyondViewport", fullPage);
        if (fullPage) {
            JsonNode m = send("Page.getLayoutMetrics", Map.of()).path("cssContentSize");
            params = Map.of("format", "png", "captureBeyondViewport", true, "clip", Map.of("x", 0, "y", 0,
                    "width", m.path("width").asDouble(), "height", m.path("height").asDouble(), "scale", 1));
        }
        return Base64.getDecoder().decode(send("Page.captureScreenshot", params).path("data").asText());
    }

    @Override
    public void close() throws IOException {
        try {
            socket.abort();
        } finally {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            deleteTree(profile);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (var s = Files.walk(dir)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** Collects the messages of the connection: replies complete their command, everything else is an event. */
    private static final class Listener implements WebSocket.Listener {
        private final Map<Integer, CompletableFuture<JsonNode>> pending;
        private final List<JsonNode> events;
        private final StringBuilder parts = new StringBuilder();

        Listener(Map<Integer, CompletableFuture<JsonNode>> pending, List<JsonNode> events) {
            this.pending = pending;
            this.events = events;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            // One connection delivers its frames in order, one request(1) at a time.
            parts.append(data);
            if (last) {
                String text = parts.toString();
                parts.setLength(0);
                try {
                    JsonNode msg = JSON.readTree(text);
                    if (msg.has("id")) {
                        CompletableFuture<JsonNode> f = pending.remove(msg.get("id").asInt());
                        if (f != null) {
                            f.complete(msg);
                        }
                    } else {
                        events.add(msg);
                    }
                } catch (IOException e) {
                    events.add(JSON.createObjectNode().put("method", "sonde.badMessage").put("text", text));
                }
            }
            ws.request(1);
            return null;
        }
    }
}
