package dev.sonde.analyzer.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.fixtures.GroundTruth;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same comparison as {@link LinuxProcessesFixtureTest} (processes, maps, descriptors and the TCP, UDP and UNIX
 * sockets they hold) on the larger captures in the fixture cache: tiny and debian, each as ELF core, kdump and libvirt
 * save image ({@code $SONDE_CACHE/captures/GUEST-KERNEL/memory.{elf,kdump,save}}, not committed); skipped with the
 * reason when absent.
 * <p>
 * One field is printed but not required: the scheduler state. gtdump reads /proc/PID/stat a moment before the guest
 * is paused, and a task can change state in between (on the debian capture a kernel thread, pid 15, was running,
 * {@code R}, when gtdump read it and idle, {@code I}, at the pause). Every other field must match exactly.
 */
class LinuxProcessesCapturesTest {
    /** Fields that may legitimately change between gtdump's read and the pause. */
    static final java.util.Set<String> TRANSIENT = java.util.Set.of("state");

    @ParameterizedTest
    @ValueSource(strings = {"tiny/memory.elf", "tiny/memory.kdump", "tiny/memory.save", "debian/memory.elf",
            "debian/memory.kdump", "debian/memory.save"})
    void cachedCaptureEqualsItsGroundTruth(String capture) {
        String guest = capture.substring(0, capture.indexOf('/'));
        Path dir = Fixtures.captureDir(guest);
        Path image = dir.resolve(capture.substring(capture.indexOf('/') + 1));
        Path truth = dir.resolve("groundtruth.jsonl");
        if (!Files.isRegularFile(image) || !Files.isRegularFile(truth)) {
            System.out.println("skipped: no " + image + " or " + truth + " (build it with fixtures/" + guest + "/capture.sh)");
            assumeTrue(false, "no capture " + image);
        }
        ProcessReport report = TinyFixture.analyze(image);
        List<GroundTruthComparison.Score> scores = LinuxProcessesFixtureTest.compare(report, GroundTruth.read(truth)).scores();
        scores.forEach(s -> System.out.println(guest + " (" + image + "): " + s));
        assertEquals(List.of(), report.completeness().reasons());
        assertEquals(List.of(), scores.stream().filter(s -> !s.perfect() && !TRANSIENT.contains(s.field()))
                .map(Object::toString).toList());
    }
}
