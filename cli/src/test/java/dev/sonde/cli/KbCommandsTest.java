package dev.sonde.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sonde.analyzer.fixtures.Fixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sonde kb import}, {@code sonde analyze --kb} and {@code sonde inventory} in-process on the debian fixture. */
class KbCommandsTest {
    @TempDir
    Path dir;

    record Result(int exit, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Sonde.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(exit, out.toString(), err.toString());
    }

    private static Path need(Path p, String script) {
        assumeTrue(Files.exists(p), "SKIPPED: " + p + " is missing; make it with " + script);
        return p;
    }

    @Test
    void importDebsThenIdentifyTheDebianGuestsBinaries() throws Exception {
        Path debs = need(Fixtures.cache().resolve("debs/bookworm"), "fixtures/debian/fetch-debs.sh");
        Path image = need(Fixtures.captureDir("debian").resolve("memory.elf"), "fixtures/debian/capture.sh");
        Path disk = need(Fixtures.cache().resolve("debian/disk.qcow2"), "fixtures/debian/build.sh");
        Path kb = dir.resolve("kb.sqlite");
        Result imp = run("kb", "import", "--kb", kb.toString(), debs.toString());
        assertEquals(0, imp.exit(), imp.err());
        assertTrue(imp.out().contains("packages)") && imp.out().contains("files/s"), imp.out());

        Result r = run("analyze", "--kb", kb.toString(), "--disk", disk.toString(), "--view", "binaries", "--format", "csv", image.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("sonde: kb: "), r.err());
        String sshd = r.out().lines().filter(l -> l.startsWith("identities,") && l.contains("/usr/sbin/sshd")).findFirst().orElseThrow();
        assertTrue(sshd.contains(",identified,openssh-server,1:9.2p1-2+deb12u10,/usr/sbin/sshd,") && sshd.contains(",same,"), sshd);
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("identities,") && l.contains("/memfd:sonde-fileless") && l.contains(",unknown,")), "memfd unknown");
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("unknown_pages,") && l.contains("/memfd:sonde-fileless")), "its pages listed");
    }

    @Test
    void inventoryListsInstalledAndRunningPackages() throws Exception {
        Path image = need(Fixtures.captureDir("debian").resolve("memory.elf"), "fixtures/debian/capture.sh");
        Path disk = need(Fixtures.cache().resolve("debian/disk.qcow2"), "fixtures/debian/build.sh");
        Result r = run("inventory", "--memory", image.toString(), "--format", "csv", disk.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("packages,openssh-server,1:9.2p1-2+deb12u10,amd64,install ok installed,yes,")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("packages,libc6,2.36-9+deb12u14,amd64,install ok installed,yes,")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("packages,apt,") && l.contains(",no,")), r.out());
        long lines = r.out().lines().filter(l -> l.startsWith("packages,")).count();
        assertTrue(lines > 150, "every installed package: " + lines);
    }

    @Test
    void malformedDiskIsExit3NamingFileAndOffset() throws Exception {
        Path bad = dir.resolve("bad.img");
        Files.write(bad, new byte[8192]);
        Result r = run("kb", "import", "--kb", dir.resolve("kb.sqlite").toString(), bad.toString());
        assertEquals(3, r.exit(), r.err());
        assertTrue(r.err().contains(bad + ": offset 0x438: bad superblock"), r.err());
        Result n = run("analyze", "--kb", dir.resolve("none.sqlite").toString(), Fixtures.committedTinyImage().toString());
        assertEquals(3, n.exit(), n.err());
        assertTrue(n.err().contains("none.sqlite"), n.err());
    }
}
