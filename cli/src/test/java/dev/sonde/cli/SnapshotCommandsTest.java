package dev.sonde.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sonde.snapshotter.bundle.BundleWriter;
import dev.sonde.snapshotter.bundle.Manifest;
import dev.sonde.snapshotter.store.BundleStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code sonde verify}, {@code sonde prune} and the error paths of {@code sonde snapshot}, in-process, without a
 * hypervisor (bundles are written with the snapshotter's bundle writer; snapshot errors use libvirt's test driver).
 */
class SnapshotCommandsTest {
    @TempDir
    Path dir;

    record Result(int exit, String out, String err) {
    }

    /** Runs the root command, with the three commands added when Sonde does not list them (yet). */
    static Result run(Clock clock, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Sonde.commandLine(new PrintWriter(out, true), new PrintWriter(err, true));
        if (!cl.getSubcommands().containsKey("verify")) {
            cl.addSubcommand(new VerifyCommand());
        }
        if (!cl.getSubcommands().containsKey("snapshot")) {
            cl.addSubcommand(new SnapshotCommand());
        }
        if (!cl.getSubcommands().containsKey("prune")) {
            cl.addSubcommand(new PruneCommand());
        }
        // settings made before addSubcommand do not reach the added commands: apply them again
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler(cl.getExecutionExceptionHandler());
        cl.setExitCodeExceptionMapper(cl.getExitCodeExceptionMapper());
        ((PruneCommand) cl.getSubcommands().get("prune").getCommand()).clock = clock;
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    static Result run(String... args) {
        return run(Clock.systemUTC(), args);
    }

    static BundleWriter.Sealed bundle(BundleStore store, String id) throws IOException {
        BundleWriter w = store.newBundle("dom", id, BundleWriter.Observer.NONE);
        w.write("memory.save", "memory", "libvirt-save", ("LibvirtQemudSave" + id).repeat(1000).getBytes(StandardCharsets.US_ASCII));
        w.write("domain.xml", "domain-xml", "libvirt-domain-xml", "<domain/>".getBytes(StandardCharsets.US_ASCII));
        Manifest m = new Manifest(Manifest.FORMAT, Manifest.VERSION, null, id, "test", null, null,
                new Manifest.Checkpoint(store.clock().instant().toString(), store.clock().instant().toString(), "test",
                        "memory.save", "libvirt-save", null, null, null, null, List.of()),
                List.of(), List.of());
        BundleWriter.Sealed s = w.seal(m);
        store.log().append(store.clock().instant(), "sealed", s.manifest().bundle(), s.manifestSha256());
        return s;
    }

    @Test
    void verifyPassesAnIntactBundleAndFailsATamperedOneWithExit5NamingTheFile() throws IOException {
        BundleStore store = BundleStore.open(dir, Clock.systemUTC());
        BundleWriter.Sealed s = bundle(store, "good");
        Result ok = run("verify", "--manifest-sha256", s.manifestSha256(), s.path().toString());
        assertEquals(ExitCodes.OK, ok.exit(), ok.out() + ok.err());
        assertTrue(ok.out().startsWith("OK "), ok.out());

        Result wrongHash = run("verify", "--manifest-sha256", "0".repeat(64), s.path().toString());
        assertEquals(ExitCodes.INTEGRITY, wrongHash.exit());
        assertTrue(wrongHash.err().contains("manifest.json"), wrongHash.err());

        Path mem = s.path().resolve("memory.save");
        byte[] b = Files.readAllBytes(mem);
        b[1234] ^= 1;
        Files.write(mem, b);
        Result bad = run("verify", s.path().toString());
        assertEquals(ExitCodes.INTEGRITY, bad.exit());
        assertTrue(bad.err().contains("memory.save: SHA-256 mismatch"), bad.err());
        assertTrue(bad.out().startsWith("FAILED"), bad.out());

        Result json = run("verify", "--format", "json", s.path().toString());
        assertEquals(ExitCodes.INTEGRITY, json.exit());
        JsonNode j = new ObjectMapper().readTree(json.out());
        assertFalse(j.path("ok").asBoolean());
        assertEquals("memory.save", j.path("problems").get(0).path("file").asText());
    }

    @Test
    void verifyOfAMissingBundleIsBadInput() {
        Result r = run("verify", dir.resolve("nope").toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
    }

    @Test
    void pruneDryRunListsDecisionsAndDeletesNothingThenPruneDeletes() throws IOException {
        Instant t0 = Instant.parse("2026-03-01T00:00:00Z");
        for (int i = 0; i < 10; i++) {
            BundleStore s = BundleStore.open(dir, Clock.fixed(t0.plus(Duration.ofHours(12L * i)), ZoneOffset.UTC));
            bundle(s, "b" + String.format("%03d", i));
        }
        Clock now = Clock.fixed(t0.plus(Duration.ofDays(5)), ZoneOffset.UTC);
        Result dry = run(now, "prune", "--store", dir.toString(), "--keep-daily", "2", "--max-age", "3d", "--dry-run");
        assertEquals(ExitCodes.OK, dry.exit(), dry.err());
        assertTrue(dry.out().contains("kept 2, would delete 8"), dry.out());
        assertEquals(10, BundleStore.open(dir, now).bundles().size());
        Result real = run(now, "prune", "--store", dir.toString(), "--keep-daily", "2", "--max-age", "3d");
        assertEquals(ExitCodes.OK, real.exit(), real.err());
        assertTrue(real.out().contains("kept 2, deleted 8"), real.out());
        assertEquals(2, BundleStore.open(dir, now).bundles().size());
    }

    @Test
    void pruneRejectsABadDuration() {
        Result r = run("prune", "--store", dir.toString(), "--max-age", "soon");
        assertEquals(ExitCodes.USAGE, r.exit());
    }

    @Test
    void snapshotOfAnUnknownDomainIsBadInputAndOfAnUnreachableLibvirtIsMissingEnvironment() {
        Result unknown = run("snapshot", "no-such-domain", "-c", "test:///default", "--store", dir.toString());
        assertEquals(ExitCodes.BAD_INPUT, unknown.exit(), unknown.err());
        assertTrue(unknown.err().contains("no-such-domain"), unknown.err());
        Result down = run("snapshot", "x", "-c", "qemu+unix:///system?socket=/nonexistent/sock", "--store",
                dir.toString());
        assertEquals(ExitCodes.MISSING_ENVIRONMENT, down.exit(), down.err());
        Result usage = run("snapshot", "x", "--memory", "bogus", "--store", dir.toString());
        assertEquals(ExitCodes.USAGE, usage.exit(), usage.err());
    }
}
