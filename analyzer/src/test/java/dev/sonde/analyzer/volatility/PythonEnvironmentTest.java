package dev.sonde.analyzer.volatility;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the bridge finds the Python environment, and what it says when it is missing (no Python needed). */
class PythonEnvironmentTest {

    private static PythonEnvironment locate(Map<String, String> props, Map<String, String> env) {
        return PythonEnvironment.locate(props::get, env::get);
    }

    /** A venv layout: site-packages with jep/ and volatility3/, and libjep.so. */
    private static Path venv(Path root) throws Exception {
        Path site = Files.createDirectories(root.resolve("lib/python3.11/site-packages"));
        Files.createDirectories(site.resolve("jep"));
        Files.createDirectories(site.resolve("volatility3"));
        Files.write(site.resolve("jep/libjep.so"), new byte[] {0x7f, 'E', 'L', 'F'});
        return site;
    }

    @Test
    void readsPythonEnvUnderSondeHome(@TempDir Path home) throws Exception {
        Path site = venv(home.resolve("venv"));
        Files.writeString(home.resolve("python.env"), "# written by setup-python.sh\nSONDE_PYTHONPATH=" + site
                + "\nSONDE_JEP_LIBRARY=" + site.resolve("jep/libjep.so") + "\nSONDE_VOL=" + home.resolve("venv/bin/vol") + "\n");
        PythonEnvironment e = locate(Map.of(), Map.of("SONDE_HOME", home.toString()));
        assertEquals(site.resolve("jep/libjep.so"), e.jepLibrary());
        assertEquals(site, e.sitePackages());
        assertEquals(Optional.of(home.resolve("venv/bin/vol")), e.vol());
        assertEquals(home.resolve("python.env").toString(), e.source());
    }

    @Test
    void propertiesComeBeforeTheEnvironment(@TempDir Path dir) throws Exception {
        Path a = venv(dir.resolve("a"));
        PythonEnvironment e = locate(Map.of("sonde.jep.library", a.resolve("jep/libjep.so").toString(),
                "sonde.python.path", a.toString()), Map.of("SONDE_JEP_LIBRARY", "/nonexistent/libjep.so",
                "SONDE_PYTHONPATH", "/nonexistent"));
        assertEquals(a, e.sitePackages());
    }

    @Test
    void missingEnvironmentSaysHowToInstall(@TempDir Path home) {
        VolatilityUnavailableException e = assertThrows(VolatilityUnavailableException.class,
                () -> locate(Map.of(), Map.of("SONDE_HOME", home.toString())));
        assertTrue(e.getMessage().contains(home.resolve("python.env").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("scripts/setup-python.sh"), e.getMessage());
    }

    @Test
    void aVenvWithoutVolatilityIsNamed(@TempDir Path dir) throws Exception {
        Path site = venv(dir);
        Files.delete(site.resolve("volatility3"));
        VolatilityUnavailableException e = assertThrows(VolatilityUnavailableException.class,
                () -> locate(Map.of(), Map.of("SONDE_JEP_LIBRARY", site.resolve("jep/libjep.so").toString(),
                        "SONDE_PYTHONPATH", site.toString())));
        assertTrue(e.getMessage().contains("no Python package volatility3 in " + site), e.getMessage());
    }
}
