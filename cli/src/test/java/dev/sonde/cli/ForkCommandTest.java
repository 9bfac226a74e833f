package dev.sonde.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.snapshotter.bundle.BundleWriter;
import dev.sonde.snapshotter.store.BundleStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The error paths of {@code sonde fork}, in-process against libvirt's test driver (the live forks are in the rollback
 * controller's DebianForkTest): usage errors, a tampered bundle (exit 5, naming the file), a bundle whose memory is
 * not a save image (exit 3, naming file and offset), and an empty reconciliation; nothing is left in the work
 * directory.
 */
class ForkCommandTest {
    @TempDir
    Path dir;

    Path work;

    @BeforeEach
    void searchable() throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        work = dir.resolve("work");
    }

    static SnapshotCommandsTest.Result run(String... args) {
        return SnapshotCommandsTest.run(args);
    }

    @Test
    void usageErrorsExit2() {
        SnapshotCommandsTest.Result r = run("fork", "--probe", "qmp:query-status");
        assertEquals(ExitCodes.USAGE, r.exit(), r.err());
        assertTrue(r.err().contains("BUNDLE is required"), r.err());
        r = run("fork", dir.toString(), "--probe", "ps");
        assertEquals(ExitCodes.USAGE, r.exit());
        assertTrue(r.err().contains("run:SECONDS, exec:COMMAND, crossview, qmp:COMMAND or diskdiff"), r.err());
        r = run("fork", dir.toString());
        assertEquals(ExitCodes.USAGE, r.exit());
        assertTrue(r.err().contains("at least one --probe"), r.err());
    }

    @Test
    void aTamperedBundleExits5NamingTheFileAndStartsNothing() throws IOException {
        BundleWriter.Sealed b = SnapshotCommandsTest.bundle(BundleStore.open(dir.resolve("store"), Clock.systemUTC()), "t");
        Files.write(b.path().resolve("memory.save"), new byte[]{1}, StandardOpenOption.APPEND);
        SnapshotCommandsTest.Result r = run("fork", b.path().toString(), "-c", "test:///default", "--work-dir",
                work.toString(), "--probe", "qmp:query-status");
        assertEquals(ExitCodes.INTEGRITY, r.exit(), r.err());
        assertTrue(r.err().contains("memory.save"), r.err());
        assertWorkDirEmpty();
    }

    @Test
    void memoryThatIsNotASaveImageExits3NamingFileAndOffset() throws IOException {
        BundleWriter.Sealed b = SnapshotCommandsTest.bundle(BundleStore.open(dir.resolve("store"), Clock.systemUTC()), "m");
        SnapshotCommandsTest.Result r = run("fork", b.path().toString(), "-c", "test:///default", "--work-dir",
                work.toString(), "--probe", "qmp:query-status");
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertTrue(r.err().contains(b.path().resolve("memory.save") + ": offset 16: unsupported save image version"), r.err());
        assertWorkDirEmpty();
    }

    @Test
    void reconcileWithNothingToDo() {
        SnapshotCommandsTest.Result r = run("fork", "--reconcile", "-c", "test:///default", "--work-dir", work.toString());
        assertEquals(ExitCodes.OK, r.exit(), r.err());
        assertTrue(r.err().contains("nothing to reconcile"), r.err());
    }

    void assertWorkDirEmpty() throws IOException {
        for (String sub : List.of("forks", "journal")) {
            Path p = work.resolve(sub);
            if (Files.exists(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    assertEquals(List.of(), s.toList(), p.toString());
                }
            }
        }
    }
}
