package dev.sonde.rollback.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-guest listing script run on this host's own /proc, both ways (python3, and the POSIX shell fallback with
 * python3 out of PATH): both parse, and agree on a long-lived process (a {@code sleep} this test starts, with an open
 * file and a command line with spaces).
 */
class GuestProcessViewTest {
    @TempDir
    Path tmp;

    static String runScript(Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(List.of("/bin/sh", "-c", GuestProcessView.SCRIPT, "sonde-crossview",
                GuestProcessView.PYTHON)).redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return new String(out, StandardCharsets.UTF_8);
    }

    @Test
    void pythonAndShellWalksAgreeOnARealProcess() throws Exception {
        Path held = tmp.resolve("held file");
        Files.writeString(held, "x");
        Process sleeper = new ProcessBuilder("/bin/sh", "-c", "exec 7<\"$1\"; exec sleep 3600", "sh", held.toString()).start();
        try {
            Thread.sleep(300);
            int pid = (int) sleeper.pid();
            GuestProcessView py = GuestProcessView.parse(runScript(Map.of()));
            Path bin = tmp.resolve("bin");
            Files.createDirectories(bin);
            for (String tool : List.of("tr", "ls", "cat")) {
                Files.createSymbolicLink(bin.resolve(tool), Path.of("/usr/bin/" + tool).toRealPath());
            }
            GuestProcessView sh = GuestProcessView.parse(runScript(Map.of("PATH", bin.toString())));
            assertTrue(py.exact());
            assertFalse(sh.exact());
            for (GuestProcessView v : List.of(py, sh)) {
                GuestProcessView.GuestProcess g = v.processes().get(pid);
                assertTrue(g.visible(), g.toString());
                assertEquals("sleep", g.comm());
                assertEquals("sleep 3600", g.cmdline());
                assertTrue(g.exe().endsWith("/sleep"), g.exe());
                assertEquals(held.toString(), g.fds().get(7), g.fds().toString());
                assertTrue(v.uptimeSeconds() > 0);
            }
            assertEquals(py.processes().get(pid), sh.processes().get(pid));
        } finally {
            sleeper.destroyForcibly();
        }
    }

    @Test
    void aCutShortListingIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> GuestProcessView.parse("U 12.5\nS 1 1 (init) S 0\n"));
        assertThrows(IllegalArgumentException.class, () -> GuestProcessView.parse("{\"procs\": ["));
    }
}
