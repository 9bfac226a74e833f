package dev.sonde.snapshotter.schedule;

import java.io.PrintStream;

/** Alerts as one line each on the log (stderr). */
public final class LogAlertSink implements AlertSink {
    private final PrintStream log;

    public LogAlertSink(PrintStream log) {
        this.log = log;
    }

    @Override
    public void send(Alert a) {
        synchronized (log) {
            log.printf("sonde schedule: ALERT %s %s %s/%s: %s%n", a.severity().toUpperCase(), a.kind(), a.job(),
                    a.domain(), a.summary());
            log.flush();
        }
    }

    @Override
    public String describe() {
        return "log";
    }
}
