package dev.sonde.snapshotter.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sonde.snapshotter.bundle.BundleVerifier;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import dev.sonde.snapshotter.store.BundleStore;
import dev.sonde.snapshotter.store.StoredBundle;
import dev.sonde.snapshotter.testing.FixtureGuest;
import dev.sonde.snapshotter.testing.Host;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance test of {@code sonde schedule}: two tiny fixture guests (TCG) under the system libvirtd, one job
 * each, a fake clock driven through a whole day (2026-03-01, UTC) without waiting. Job {@code a} checkpoints guest A
 * every 3 hours and keeps its last 3 bundles; job {@code b} checkpoints guest B at 00:00 and 12:00 and deletes bundles
 * older than 6 hours (keeping at least one); both share one store, so retention must stay within each domain. At
 * 07:30 a new process is started in guest A: the 09:00 checkpoint's diff against the 06:00 one must raise exactly
 * that process (and its never-seen binary), on the log, in the JSONL file and through the command hook. Checks the
 * exact firing times (with seeded jitter), the bundles kept, the alerts, and the metrics served over HTTP.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScheduleDayTest {
    static final String URI = "qemu:///system";
    static final Instant DAY = Instant.parse("2026-03-01T00:00:00Z");
    static final Duration JITTER = Duration.ofMinutes(10);
    static final long SEED = 7;

    @TempDir
    Path tmp;

    LibvirtSession session;
    FixtureGuest a;
    FixtureGuest b;

    @BeforeAll
    void boot() throws IOException {
        Host.systemLibvirtUp();
        session = LibvirtSession.open(URI);
        a = FixtureGuest.tiny(session, 256, List.of());
        b = FixtureGuest.tiny(session, 256, List.of());
        a.start(300);
        b.start(300);
        a.ping(60);
        b.ping(60);
    }

    @AfterAll
    void shutdown() throws IOException {
        try {
            for (FixtureGuest g : new FixtureGuest[] {a, b}) {
                if (g != null) {
                    g.close();
                }
            }
        } finally {
            if (session != null) {
                session.close();
            }
        }
    }

    static List<Instant> hours(int... hs) {
        List<Instant> l = new ArrayList<>();
        for (int h : hs) {
            l.add(DAY.plus(Duration.ofHours(h)));
        }
        return l;
    }

    @Test
    void aDayOfTwoGuestsTakesTheScheduledCheckpointsKeepsWhatRetentionSaysAndAlertsOnTheNewProcess() throws Exception {
        Path store = tmp.resolve("store");
        Path jsonl = tmp.resolve("alerts.jsonl");
        Path hookOut = tmp.resolve("hook.jsonl");
        Path hook = tmp.resolve("hook.sh");
        Files.writeString(hook, "#!/bin/sh\ncat >> '" + hookOut + "'\n");
        Files.setPosixFilePermissions(hook, PosixFilePermissions.fromString("rwx------"));
        Properties p = new Properties();
        p.setProperty("store", store.toString());
        p.setProperty("uri", URI);
        p.setProperty("jitter", "10m");
        p.setProperty("jitter.seed", Long.toString(SEED));
        p.setProperty("concurrency.per-host", "2");
        p.setProperty("alerts.jsonl", jsonl.toString());
        p.setProperty("alerts.command", hook.toString());
        p.setProperty("alerts.command.timeout", "20s");
        p.setProperty("job.a.cron", "0 */3 * * *");
        p.setProperty("job.a.domains", a.name());
        p.setProperty("job.a.retention", "keep-last=3");
        p.setProperty("job.b.cron", "0 0,12 * * *");
        p.setProperty("job.b.domains", b.name().substring(0, b.name().length() - 2) + "??"); // a glob
        p.setProperty("job.b.retention", "max-age=6h min-count=1");
        ScheduleConfig config = ScheduleConfig.parse(tmp.resolve("schedule.properties"), p);

        FakeTime time = new FakeTime(DAY.minus(Duration.ofMinutes(1)));
        String intruder = "sonde-intruder";
        int[] intruderPid = {-1};
        time.at(DAY.plus(Duration.ofMinutes(7 * 60 + 30)), () -> intruderPid[0] = a.spawn(intruder));
        ScheduleMetrics metrics = new ScheduleMetrics();
        List<Outcome> outcomes = Collections.synchronizedList(new ArrayList<>());
        List<AlertSink> sinks = List.of(new LogAlertSink(System.err), new JsonlAlertSink(jsonl),
                new CommandAlertSink(config.alertCommand().orElseThrow(), config.alertCommandTimeout()));
        try (MetricsServer server = MetricsServer.start(new InetSocketAddress("127.0.0.1", 0), metrics);
                Scheduler s = new Scheduler(config, time, metrics, sinks, DiffRule.standard(), outcomes::add,
                        new PrintStream(System.err, true))) {
            s.runUntil(DAY.plus(Duration.ofHours(23)).plus(Duration.ofMinutes(59)));

            // the firings: exact cron times, each started at its seeded jitter, without any real waiting
            Jitter j = new Jitter(JITTER, SEED);
            List<Outcome> ja = outcomes.stream().filter(o -> o.job().equals("a")).toList();
            List<Outcome> jb = outcomes.stream().filter(o -> o.job().equals("b")).toList();
            assertEquals(hours(0, 3, 6, 9, 12, 15, 18, 21), ja.stream().map(Outcome::scheduled).toList());
            assertEquals(hours(0, 12), jb.stream().map(Outcome::scheduled).toList());
            for (Outcome o : outcomes) {
                assertEquals(List.of(), o.errors(), o.toString());
                assertTrue(o.bundle().isPresent(), o.toString());
                assertEquals(o.scheduled().plus(j.delay(o.job(), o.scheduled())), o.started(), o.toString());
                assertTrue(o.started().isBefore(o.scheduled().plus(JITTER)), o.toString());
                assertTrue(o.bundle().get().contains(o.domain()), o.toString());
            }
            assertEquals(List.of(a.name()), ja.stream().map(Outcome::domain).distinct().toList());
            assertEquals(List.of(b.name()), jb.stream().map(Outcome::domain).distinct().toList());
            List<Instant> expectedWaits = new ArrayList<>();
            outcomes.stream().map(Outcome::started).sorted().forEach(expectedWaits::add);
            assertEquals(expectedWaits, time.waits(), "one wait per firing, each until its due time");

            // retention, per domain in the shared store: a keeps its last 3, b only the 12:00 bundle
            List<String> kept = BundleStore.open(store, time.clock()).bundles().stream().map(StoredBundle::name).toList();
            List<String> keptA = ja.subList(5, 8).stream().map(o -> o.bundle().get()).toList();
            List<String> keptB = List.of(jb.get(1).bundle().get());
            assertEquals(Stream.concat(keptA.stream(), keptB.stream()).sorted().toList(), kept.stream().sorted().toList());
            for (int i = 0; i < 8; i++) {
                assertEquals(i >= 3 ? List.of(ja.get(i - 3).bundle().get()) : List.of(), ja.get(i).pruned(),
                        "pruned after a's checkpoint " + i);
            }
            assertEquals(List.of(), jb.get(0).pruned());
            assertEquals(List.of(jb.get(0).bundle().get()), jb.get(1).pruned());
            for (String n : kept) {
                assertTrue(BundleVerifier.verify(store.resolve(n), Optional.empty()).ok(), n);
            }

            // alerts: findings of the planted scenarios at each domain's first checkpoint, then only the intruder
            assertTrue(intruderPid[0] > 0);
            for (Outcome o : List.of(ja.get(0), jb.get(0))) {
                assertTrue(!o.alerts().isEmpty() && o.alerts().stream().allMatch(x -> x.kind().equals("finding-new")),
                        o.alerts().toString());
            }
            List<Alert> later = outcomes.stream().filter(o -> o != ja.get(0) && o != jb.get(0))
                    .flatMap(o -> o.alerts().stream()).toList();
            String exe = "/opt/sonde/spawn/" + intruder;
            assertEquals(List.of("process-started", "binary-new", "binary-unknown"), later.stream().map(Alert::kind).toList(),
                    later.toString());
            assertEquals(ja.get(3).alerts(), later, "all raised by a's 09:00 checkpoint");
            Alert started = later.get(0);
            assertEquals(a.name(), started.domain());
            assertEquals(ja.get(3).bundle().get(), started.bundle());
            assertEquals(ja.get(2).bundle().get(), started.previousBundle());
            assertEquals(intruderPid[0], started.details().get("pid"));
            assertEquals(intruder, started.details().get("comm"));
            assertEquals(exe, started.details().get("exe"));
            assertEquals(exe, later.get(1).details().get("exe"));

            ObjectMapper om = new ObjectMapper();
            List<Alert> all = outcomes.stream().flatMap(o -> o.alerts().stream()).toList();
            for (Path f : List.of(jsonl, hookOut)) {
                List<JsonNode> lines = new ArrayList<>();
                for (String l : Files.readAllLines(f)) {
                    lines.add(om.readTree(l));
                }
                assertEquals(all.size(), lines.size(), f.toString());
                assertEquals(all.stream().map(Alert::kind).toList(), lines.stream().map(n -> n.path("kind").asText()).toList());
                JsonNode ps = lines.stream().filter(n -> n.path("kind").asText().equals("process-started")).findFirst().orElseThrow();
                assertEquals(intruder, ps.path("details").path("comm").asText());
                assertEquals(a.name(), ps.path("domain").asText());
            }

            // metrics, scraped over HTTP
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + server.address().getPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals(ScheduleMetrics.CONTENT_TYPE, r.headers().firstValue("Content-Type").orElse(""));
            String la = "{job=\"a\",domain=\"" + a.name() + "\"}";
            String lb = "{job=\"b\",domain=\"" + b.name() + "\"}";
            String body = r.body();
            System.err.println(body);
            assertTrue(body.contains("sonde_checkpoints_total" + la + " 8\n"), body);
            assertTrue(body.contains("sonde_checkpoints_total" + lb + " 2\n"), body);
            assertTrue(body.contains("sonde_bundles_pruned_total" + la + " 5\n"), body);
            assertTrue(body.contains("sonde_bundles_pruned_total" + lb + " 1\n"), body);
            assertTrue(body.contains("sonde_alerts_total{job=\"a\",domain=\"" + a.name() + "\",kind=\"process-started\"} 1\n"), body);
            assertTrue(body.contains("sonde_checkpoint_last_success_timestamp_seconds" + la + " "
                    + ja.get(7).started().getEpochSecond() + "\n"), body);
            assertTrue(body.contains("sonde_checkpoint_failures_total" + la + " 0\n"), body);
            assertTrue(body.contains("sonde_checkpoint_pause_seconds_count" + lb + " 2\n"), body);
        }
        a.ping(30);
        b.ping(30);
        assertTrue(a.handle().state().running() && b.handle().state().running());
    }
}
