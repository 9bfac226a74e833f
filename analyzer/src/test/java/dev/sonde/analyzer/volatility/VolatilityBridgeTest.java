package dev.sonde.analyzer.volatility;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.fixtures.GroundTruth;
import dev.sonde.analyzer.fixtures.VolatilityFixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The embedded Volatility 3 on the committed tiny capture: typed rows, one interpreter reused across plugins, plugin
 * errors and time limits surfaced as Java exceptions with Volatility's own message.
 */
class VolatilityBridgeTest {
    static VolatilityBridge bridge;
    static Path image;

    @BeforeAll
    static void setUp() throws Exception {
        bridge = VolatilityFixture.bridge();
        image = VolatilityInput.readable(Fixtures.committedTinyImage());
    }

    private static VolRequest request(String plugin) {
        return VolRequest.of(plugin, image, List.of(VolatilityFixture.isfDir()));
    }

    @Test
    void twoPluginsBackToBackShareOneInterpreter() {
        VolResult pslist = bridge.run(request("linux.pslist.PsList"));
        VolResult pstree = bridge.run(request("linux.pstree.PsTree"));
        System.err.printf("bridge: interpreter start %d ms (paid by the first run: %d ms, by the second: %d ms);"
                        + " pslist %d ms, pstree %d ms%n", bridge.stats().startup().toMillis(),
                pslist.timing().interpreterStart().toMillis(), pstree.timing().interpreterStart().toMillis(),
                pslist.timing().total().toMillis(), pstree.timing().total().toMillis());
        assertEquals(1, bridge.stats().interpreterStarts(), "one interpreter per process");
        assertEquals(pslist.interpreterId(), pstree.interpreterId(), "the second plugin ran in the same interpreter");
        assertEquals(1, pstree.frameworkLoads(), "the framework and its plugins were imported once");
        assertEquals(Duration.ZERO, pstree.timing().interpreterStart(), "the second run paid no start-up");
        assertEquals(0, pslist.liveContexts(), "the first run's context was released");
        assertEquals(0, pstree.liveContexts(), "the second run's context was released");

        // typed rows: PID is an int column, OFFSET a hex column, COMM a string
        assertEquals(VolColumn.VolType.INT, pslist.columns().get(pslist.column("PID")).type());
        assertEquals(VolColumn.VolType.HEX, pslist.columns().get(pslist.column("OFFSET (V)")).type());
        assertEquals(VolColumn.VolType.STR, pslist.columns().get(pslist.column("COMM")).type());
        Set<Long> pids = new TreeSet<>();
        for (VolRow r : pslist.rows()) {
            pids.add((Long) r.get(pslist.column("PID")));
            assertEquals(0, r.depth());
        }
        Set<Long> truth = new TreeSet<>();
        GroundTruth.read(Fixtures.committedTinyGroundTruth()).processes().forEach(p -> truth.add((long) p.pid()));
        assertEquals(truth, pids);
        // pstree is a tree: children below their parents
        assertTrue(pstree.rows().stream().anyMatch(r -> r.depth() > 0), "pstree rows have depths");
        assertEquals(pslist.rows().size(), pstree.rows().size());
    }

    @Test
    void settingsOfOneRunDoNotLeakIntoTheNext(@TempDir Path tmp) throws Exception {
        Path cache = tmp.resolve("volcache");
        VolResult own = bridge.run(request("linux.pslist.PsList").withCacheDir(cache));
        assertFalse(own.rows().isEmpty());
        assertTrue(Files.isRegularFile(cache.resolve("identifier.cache")), "Volatility used the given cache");
        deleteTree(cache);
        // the next run has neither that cache nor the symbol directory: Volatility's own cache, and no ISF
        VolatilityPluginException e = assertThrows(VolatilityPluginException.class,
                () -> bridge.run(VolRequest.of("linux.pslist.PsList", image, List.of())));
        assertTrue(e.getMessage().contains("symbol_table_name"), e.getMessage());
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }

    @Test
    void unknownPluginIsAClearError() {
        VolatilityPluginException e = assertThrows(VolatilityPluginException.class,
                () -> bridge.run(request("linux.pslist.NoSuchPlugin")));
        assertTrue(e.getMessage().contains("no Volatility plugin named linux.pslist.NoSuchPlugin"), e.getMessage());
        assertTrue(e.getMessage().contains("linux.pslist.PsList"), "suggests close names: " + e.getMessage());
    }

    @Test
    void unsatisfiedRequirementsNameWhatIsMissing() {
        // no symbol directory: Volatility finds no ISF for the kernel
        VolatilityPluginException e = assertThrows(VolatilityPluginException.class,
                () -> bridge.run(VolRequest.of("linux.pslist.PsList", image, List.of())));
        assertTrue(e.getMessage().contains("symbol_table_name"), e.getMessage());
        assertTrue(e.getMessage().contains("--symbols"), e.getMessage());
    }

    @Test
    void aFailingPluginsPythonErrorIsSurfaced() {
        // InodePages reads the inode at the address it is given: at 0x1 the plugin's page walk faults and it raises
        VolatilityPluginException e = assertThrows(VolatilityPluginException.class,
                () -> bridge.run(request("linux.pagecache.InodePages").withOptions(Map.of("inode", 1))));
        System.err.println("bridge: " + e.getMessage());
        assertTrue(e.pythonType().contains("InvalidAddressException"), e.pythonType());
        assertTrue(e.getMessage().startsWith("Volatility plugin linux.pagecache.InodePages failed: "), e.getMessage());
        assertTrue(e.getMessage().contains("Page Fault"), "Volatility's own message: " + e.getMessage());
        assertTrue(e.pythonTraceback().contains("pagecache"), e.pythonTraceback());
    }

    @Test
    void aPluginOverItsTimeLimitIsAbandonedAndTheInterpreterStaysUsable() {
        VolatilityTimeoutException e = assertThrows(VolatilityTimeoutException.class,
                () -> bridge.run(request("linux.pstree.PsTree").withTimeout(Duration.ofMillis(200))));
        assertTrue(e.interpreterUsable(), e.getMessage());
        assertTrue(e.getMessage().contains("exceeded its time limit of 0.2 s"), e.getMessage());
        VolResult after = bridge.run(request("linux.pslist.PsList"));
        assertFalse(after.rows().isEmpty(), "the interpreter still runs plugins");
        assertInstanceOf(Long.class, after.rows().get(0).get(after.column("PID")));
    }
}
