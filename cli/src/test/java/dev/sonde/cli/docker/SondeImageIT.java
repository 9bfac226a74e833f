package dev.sonde.cli.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.command.BuildImageResultCallback;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.fixtures.GroundTruth;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.utility.MountableFile;

/**
 * The project's {@code Dockerfile} built for real (target {@code prebuilt}: the jar this build just packaged) on a
 * base image made here by {@code scripts/docker-base-image.sh} (debootstrap + docker import), then {@code sonde
 * analyze} run inside a container on the committed tiny capture, its JSON checked against the ground truth. Runs in
 * the {@code integration-test} phase, after {@code package}. Skipped, saying why, only when no Docker daemon answers.
 */
@EnabledIf(value = "dockerAnswers", disabledReason = "no Docker daemon answers (scripts/test starts dockerd when it can)")
class SondeImageIT {
    private static final String IMAGE = "sonde:it";
    private static final Duration BOUND = Duration.ofMinutes(20);
    private static String image;

    @BeforeAll
    static void buildImage() throws Exception {
        Path repo = Fixtures.repo();
        Path jar = repo.resolve("cli/target/sonde.jar");
        assertTrue(Files.isRegularFile(jar), jar + " is missing: this test runs after mvn package");

        long t0 = System.nanoTime();
        String base = baseImage(repo);
        long t1 = System.nanoTime();
        // docker-java's own build (the client Testcontainers uses), not ImageFromDockerfile: that one labels every
        // build with the test session's id, which defeats the legacy builder's layer cache on every run.
        DockerClientFactory.instance().client().buildImageCmd(repo.toFile())
                .withDockerfile(repo.resolve("Dockerfile").toFile())
                .withBuildArg("BASE_IMAGE", base)
                .withTarget("prebuilt")
                .withTags(Set.of(IMAGE))
                .exec(new BuildImageResultCallback())
                .awaitImageId(BOUND.toMinutes(), TimeUnit.MINUTES);
        image = IMAGE;
        long t2 = System.nanoTime();
        System.err.printf("SondeImageIT: base image %s in %.1f s, docker build in %.1f s%n", base,
                (t1 - t0) / 1e9, (t2 - t1) / 1e9);
    }

    /** Skip only when no daemon answers; any other failure (a pull, a build) fails the tests. */
    static boolean dockerAnswers() {
        try {
            DockerClientFactory.instance().client();
            return true;
        } catch (IllegalStateException e) {
            System.err.println("SondeImageIT SKIPPED: no Docker daemon answers: " + e.getMessage());
            return false;
        }
    }

    /** Runs scripts/docker-base-image.sh (cached debootstrap tarball + docker import) and returns the image name. */
    private static String baseImage(Path repo) throws IOException, InterruptedException {
        Path log = Files.createTempFile("sonde-docker-base", ".log");
        try {
            Process p = new ProcessBuilder("bash", repo.resolve("scripts/docker-base-image.sh").toString())
                    .redirectError(log.toFile()).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(BOUND.toMinutes(), TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("scripts/docker-base-image.sh did not finish: " + Files.readString(log));
            }
            assertEquals(0, p.exitValue(), "scripts/docker-base-image.sh failed:\n" + Files.readString(log));
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    @Test
    void analyzeInTheContainerFindsEveryProcessOfTheGroundTruth() throws Exception {
        Path capture = Fixtures.committedTinyImage();
        try (GenericContainer<?> c = new GenericContainer<>(image)
                .withCopyFileToContainer(MountableFile.forHostPath(capture), "/images/memory.elf.xz")
                .withCommand("analyze", "--format", "json", "/images/memory.elf.xz")
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofMinutes(10)))) {
            c.start();
            String stdout = c.getLogs(OutputFrame.OutputType.STDOUT);
            String stderr = c.getLogs(OutputFrame.OutputType.STDERR);
            JsonNode j = new ObjectMapper().readTree(stdout);
            assertEquals("complete", j.path("completeness").asText(), stderr);
            assertEquals("/images/memory.elf.xz", j.path("source").asText());
            GroundTruth truth = GroundTruth.read(Fixtures.committedTinyGroundTruth());
            Set<Integer> want = new TreeSet<>();
            truth.processes().forEach(p -> want.add(p.pid()));
            Set<Integer> got = new TreeSet<>();
            j.path("processes").forEach(p -> got.add(p.path("pid").asInt()));
            assertEquals(want, got);
            for (JsonNode p : j.path("processes")) {
                assertEquals(truth.byPid(p.path("pid").asInt()).orElseThrow().ppid(), p.path("ppid").asInt());
            }
            assertTrue(j.path("findings").toString().contains("kernel-thread-impostor"), "planted impostor found");
            assertTrue(stderr.contains("kernel 6.1.0-57-amd64"), stderr);
        }
    }

    @Test
    void theImageCarriesTheVolatilityBridge() throws Exception {
        try (GenericContainer<?> c = new GenericContainer<>(image)
                .withCreateContainerCmdModifier(cmd -> cmd.withEntrypoint("sh"))
                // jep itself only imports inside a JVM: check its library resolves everything but libjvm.
                .withCommand("-c", ". /opt/sonde/python.env && \"$SONDE_PYTHON\" -c 'import volatility3.framework as f;"
                        + " print(f.constants.PACKAGE_VERSION)' && test -f \"$SONDE_JEP_LIBRARY\""
                        + " && ! ldd \"$SONDE_JEP_LIBRARY\" | grep -v libjvm | grep 'not found' >&2 && java -version")
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofMinutes(2)))) {
            c.start();
            assertEquals("2.28.2", c.getLogs(OutputFrame.OutputType.STDOUT).trim());
            assertTrue(c.getLogs(OutputFrame.OutputType.STDERR).contains("17."), "a Java 17 runtime");
        }
    }
}
