package dev.sonde.rollback.probe;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/**
 * {@code qmp:COMMAND}: a QEMU monitor command on the clone. A JSON object is sent as QMP as it is; a bare word
 * ({@code query-status}) becomes {@code {"execute":WORD}}; anything else is a human-monitor (HMP) command line.
 */
record QmpProbe(String spec, String command) implements Probe {
    @Override
    public ProbeResult run(ProbeContext ctx) throws IOException {
        String c = command.trim();
        boolean hmp = false;
        String sent;
        if (c.startsWith("{")) {
            new ObjectMapper().readTree(c); // reject malformed JSON here rather than in QEMU
            sent = c;
        } else if (c.matches("[a-z0-9-]+")) {
            sent = "{\"execute\":\"" + c + "\"}";
        } else {
            hmp = true;
            sent = c;
        }
        String reply = ctx.domain().qemuMonitorCommand(sent, hmp);
        return new ProbeResult.Qmp(spec, sent, hmp, reply);
    }
}
