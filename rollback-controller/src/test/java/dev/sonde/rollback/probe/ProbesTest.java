package dev.sonde.rollback.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ProbesTest {
    @Test
    void parsesEveryProbe() {
        assertEquals(new RunProbe("run:30", 30), Probes.parse("run:30"));
        assertEquals(new ExecProbe("exec:rm -rf /etc/nginx; pkill cron", "rm -rf /etc/nginx; pkill cron"),
                Probes.parse("exec:rm -rf /etc/nginx; pkill cron"));
        assertEquals(new QmpProbe("qmp:query-status", "query-status"), Probes.parse("qmp:query-status"));
        assertEquals(Probe.Phase.AFTER_STOP, Probes.parse("diskdiff").phase());
        assertEquals(Probe.Phase.LIVE, Probes.parse("crossview").phase());
    }

    @Test
    void rejectsBadProbesSayingWhatIsAccepted() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Probes.parse("ps")).getMessage()
                .contains("run:SECONDS, exec:COMMAND, crossview, qmp:COMMAND or diskdiff"));
        assertThrows(IllegalArgumentException.class, () -> Probes.parse("run:soon"));
        assertThrows(IllegalArgumentException.class, () -> Probes.parse("run:-1"));
        assertThrows(IllegalArgumentException.class, () -> Probes.parse("exec:"));
        assertThrows(IllegalArgumentException.class, () -> Probes.parse("diskdiff:vda"));
    }
}
