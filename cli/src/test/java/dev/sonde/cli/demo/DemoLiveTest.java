package dev.sonde.cli.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sonde.cli.Sonde;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code sonde demo --guest tiny} end to end, in a child JVM as a user runs it, under the system libvirtd and real
 * QEMU/TCG guests: twice into the same output directory (the result, the report and the bundle are there, the planted
 * scenarios are found, the rollback is verified, and nothing of either run is left in libvirt), then interrupted with
 * SIGINT while its clone runs (the shutdown hook removes the guest and the clone).
 */
class DemoLiveTest {
    private static final Pattern CLONE = Pattern.compile("clone (\\S+) \\(([0-9a-f-]{36})\\) of (sonde-demo-[0-9a-f]{8})");

    Path base;

    @BeforeEach
    void outputBase() throws IOException {
        // QEMU (another user) must reach the clone's disks under the output directory: world-searchable
        base = Files.createTempDirectory("sonde-demo-test");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void deleteOutput() throws IOException {
        DemoGuest.deleteTree(base);
    }

    @Test
    void runsToTheEndTwiceFindsThePlantedScenariosVerifiesTheRollbackAndLeavesNothing() throws Exception {
        Path out = base.resolve("out");
        for (int run = 1; run <= 2; run++) {
            Child c = Child.start(List.of("demo", "--guest", "tiny", "--out", out.toString(), "--run-seconds", "5"));
            int rc;
            try {
                rc = c.waitFor(900);
            } finally {
                c.stop();
            }
            assertEquals(0, rc, "run " + run + " exit code; stderr:\n" + c.stderr());
            assertTrue(c.stderr().contains("[4/8] checkpoint") && c.stderr().contains("[8/8] tear down"),
                    "step counter on stderr:\n" + c.stderr());
            assertFalse(c.stdout().contains("[4/8]"), "progress stays off stdout");
            JsonNode r = new ObjectMapper().readTree(out.resolve("demo.json").toFile());
            String domain = r.path("domain").asText();
            assertTrue(domain.startsWith("sonde-demo-"), domain);
            assertTrue(r.path("error").isNull(), "error: " + r.path("error"));

            // the outputs
            Path bundle = Path.of(r.path("outputs").path("bundle").asText());
            assertTrue(Files.isRegularFile(bundle.resolve("manifest.json")), bundle + "/manifest.json");
            assertTrue(r.path("checkpoint").path("verified").asBoolean());
            assertTrue(r.path("checkpoint").path("manifestSha256").asText().matches("[0-9a-f]{64}"));
            assertEquals(0, Sonde.run(new String[] {"verify", bundle.toString()}, new java.io.PrintWriter(java.io.Writer.nullWriter()),
                    new java.io.PrintWriter(java.io.Writer.nullWriter())), "sonde verify " + bundle);
            String html = Files.readString(out.resolve("report.html"));
            for (String id : List.of("id=\"findings\"", "id=\"tree\"", "id=\"checkpoint\"", "id=\"fork\"")) {
                assertTrue(html.contains(id), "report.html has " + id);
            }
            assertTrue(html.contains(r.path("checkpoint").path("manifestSha256").asText()), "report shows the manifest hash");
            assertTrue(Files.size(out.resolve("analysis.json")) > 1000);

            // the planted scenarios, as findings with their evidence
            Set<String> kinds = new TreeSet<>();
            r.path("analysis").path("findings").forEach(f -> kinds.add(f.path("kind").asText()));
            assertTrue(kinds.containsAll(List.of("deleted-executable", "fileless-executable", "anonymous-rwx-mapping",
                    "kernel-thread-impostor")), "findings: " + kinds);
            List<String> missing = new ArrayList<>();
            r.path("scenarios").forEach(s -> {
                if (!s.path("found").asBoolean()) {
                    missing.add(s.path("scenario").asText());
                }
            });
            assertEquals(7, r.path("scenarios").size());
            assertEquals(List.of(), missing, "planted scenarios not found");
            assertTrue(c.stdout().contains("planted scenarios: 7 of 7 found"), c.stdout());
            assertTrue(c.stdout().contains("deleted-executable"), c.stdout());

            // the fork: the run-and-diff probe ran on the clone, the rollback is verified
            JsonNode fork = r.path("fork");
            assertEquals("run", fork.path("probes").path(0).path("kind").asText(), fork.toString());
            assertEquals(5, fork.path("probes").path(0).path("seconds").asInt());
            assertTrue(fork.path("rollback").path("verified").asBoolean(), fork.path("rollback").toString());
            assertTrue(r.path("rollbackVerified").asBoolean());
            assertNothingLeft(domain, fork.path("cloneName").asText(), out);
        }
        try (Stream<Path> s = Files.list(out.resolve("store"))) {
            assertEquals(2, s.filter(p -> p.getFileName().toString().contains("sonde-demo-")).count(),
                    "one bundle per run in the store");
        }
    }

    @Test
    void sigintWhileTheCloneRunsLeavesNoDomainNoCloneNoFiles() throws Exception {
        Path out = base.resolve("out");
        Child c = Child.start(List.of("demo", "--guest", "tiny", "--out", out.toString(), "--run-seconds", "60"));
        String clone;
        String domain;
        try {
            Matcher m = c.awaitStderr(CLONE, 600);
            clone = m.group(1);
            domain = m.group(3);
            // the clone is restored (libvirt may take long), then runs its 60 s probe: interrupt it then
            c.awaitStderr(Pattern.compile("clone " + Pattern.quote(clone) + " running after"), 600);
            LibvirtDaemons.sleep(2000);
            assertTrue(virshNames().contains(clone), "the clone runs before SIGINT: " + virshNames());
            new ProcessBuilder("kill", "-INT", Long.toString(c.pid())).inheritIO().start().waitFor();
            int rc = c.waitFor(180);
            assertNotEquals(0, rc, "an interrupted demo does not exit 0");
        } finally {
            c.stop();
        }
        assertTrue(c.stderr().contains("interrupted: cleaning up"), c.stderr());
        assertFalse(Files.exists(out.resolve("demo.json")), "no demo.json that looks complete after an interruption");
        assertNothingLeft(domain, clone, out);
    }

    private static void assertNothingLeft(String domain, String clone, Path out) throws IOException, InterruptedException {
        Set<String> names = virshNames();
        assertFalse(names.contains(domain), domain + " left: " + names);
        assertFalse(names.contains(clone), "clone " + clone + " left: " + names);
        try (Stream<Path> s = Files.list(DemoGuest.cache().resolve("run"))) {
            List<Path> left = s.filter(p -> p.getFileName().toString().startsWith(domain + ".")).toList();
            assertEquals(List.of(), left, "run files of " + domain);
        }
        for (String n : List.of(domain, clone)) {
            assertFalse(Files.exists(Path.of("/var/log/libvirt/qemu", n + ".log")), "libvirt's QEMU log of " + n);
        }
        Path journal = out.resolve("work/journal");
        if (Files.isDirectory(journal)) {
            try (Stream<Path> s = Files.list(journal)) {
                assertEquals(List.of(), s.toList(), "fork journal entries");
            }
        }
        Path forks = out.resolve("work/forks");
        if (Files.isDirectory(forks)) {
            try (Stream<Path> s = Files.list(forks)) {
                assertEquals(List.of(), s.toList(), "clone directories");
            }
        }
        // no QEMU process of either domain
        HostCommand.Result ps = HostCommand.run(List.of("pgrep", "-f", "guest=(" + domain + "|" + clone + ")"), null,
                java.time.Duration.ofSeconds(10), l -> { });
        assertEquals("", ps.stdout().trim(), "QEMU processes of " + domain + " or " + clone);
    }

    private static Set<String> virshNames() throws IOException {
        HostCommand.Result r = HostCommand.run(List.of("virsh", "-c", "qemu:///system", "list", "--all", "--name"), null,
                java.time.Duration.ofSeconds(60), l -> { });
        assertEquals(0, r.exitCode(), "virsh list");
        Set<String> s = new TreeSet<>();
        r.stdout().lines().map(String::strip).filter(l -> !l.isEmpty()).forEach(s::add);
        return s;
    }

    /** A {@code sonde} child JVM (the test's class path), its stdout and stderr collected as they come. */
    private static final class Child {
        private final Process process;
        private final StringBuffer out = new StringBuffer();
        private final StringBuffer err = new StringBuffer();

        private Child(Process process) {
            this.process = process;
        }

        static Child start(List<String> args) throws IOException {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), Sonde.class.getName()));
            cmd.addAll(args);
            Child c = new Child(new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start());
            pump(c.process.getInputStream(), c.out);
            pump(c.process.getErrorStream(), c.err);
            return c;
        }

        private static void pump(java.io.InputStream in, StringBuffer into) {
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        into.append(line).append('\n');
                    }
                } catch (IOException e) {
                    // the child is gone
                }
            });
            t.setDaemon(true);
            t.start();
        }

        long pid() {
            return process.pid();
        }

        String stdout() {
            return out.toString();
        }

        String stderr() {
            return err.toString();
        }

        Matcher awaitStderr(Pattern p, int seconds) throws InterruptedException {
            long deadline = System.nanoTime() + seconds * 1_000_000_000L;
            while (System.nanoTime() < deadline) {
                Matcher m = p.matcher(err);
                if (m.find()) {
                    return m;
                }
                if (!process.isAlive()) {
                    throw new AssertionError("the demo ended (exit " + process.exitValue() + ") before " + p + ":\n" + err);
                }
                Thread.sleep(200);
            }
            throw new AssertionError("no " + p + " on stderr within " + seconds + " s:\n" + err);
        }

        /** A child still running after a failed assertion: SIGTERM (its own teardown runs), then waited for. */
        void stop() throws InterruptedException {
            if (process.isAlive()) {
                process.destroy();
                process.waitFor(300, TimeUnit.SECONDS);
            }
        }

        int waitFor(int seconds) throws InterruptedException {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                // SIGTERM: the demo's own teardown still runs
                process.destroy();
                process.waitFor(120, TimeUnit.SECONDS);
                throw new AssertionError("the demo did not end within " + seconds + " s:\n" + err);
            }
            Thread.sleep(300);
            return process.exitValue();
        }
    }
}
