package dev.sonde.analyzer.linux;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.GroundTruth;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * {@link BootClock} against what the capture recorded: the ground truth's header carries the host's time when the
 * dump was asked for (in its nonce, whole seconds) and the guest's /proc/uptime at that moment; boot is their
 * difference. The guest clock starts from the emulated RTC (whole seconds) and is not NTP-disciplined in the fixtures,
 * so the two may differ by a second or two; more than {@link #TOLERANCE} means a wrong reading.
 */
class BootClockTest {
    static final Duration TOLERANCE = Duration.ofSeconds(5);

    static void check(String name, AnalysisResult r, GroundTruth gt) {
        String nonce = gt.header().path("nonce").asText();
        long hostSeconds = Long.parseLong(nonce.split("-")[1]);
        double uptime = Double.parseDouble(gt.header().path("uptime").asText().split(" ")[0]);
        Instant expected = Instant.ofEpochSecond(hostSeconds).minusMillis((long) (uptime * 1000));
        BootClock clock = r.clock().orElseThrow(() -> new AssertionError(name + ": no clock: " + r.problems()));
        System.out.println(name + ": boot " + clock.boot() + ", capture " + clock.capture() + "; host said boot at "
                + expected);
        assertTrue(Duration.between(expected, clock.boot()).abs().compareTo(TOLERANCE) < 0, name + ": " + clock);
        assertTrue(clock.capture().isAfter(clock.boot().plusMillis((long) (uptime * 1000) - 1000)), name + ": " + clock);
        for (ProcessInfo p : r.processes().processes()) {
            Instant start = clock.at(p.startTimeNs());
            assertTrue(!start.isBefore(clock.boot()) && !start.isAfter(clock.capture()), p.pid() + " started " + start);
        }
    }

    @Test
    void committedTinyCapture() {
        check("tiny (committed)", TinyAnalysis.result(), TinyFixture.truth());
    }

    @Test
    void cachedDebianCapture() {
        check("debian", TinyAnalysis.debian(), TinyAnalysis.debianTruth());
    }
}
