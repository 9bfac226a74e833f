package dev.sonde.cli.demo;

import java.io.PrintWriter;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Progress of the demo on stderr: a step counter ({@code [3/9] checkpoint}) with the elapsed time of the step and of
 * the whole run. On a terminal the current step's line is redrawn every second (with a bar when the step knows its
 * total); elsewhere a "still running" line is printed every 15 s, so logs stay readable.
 */
public final class Progress implements AutoCloseable {
    private static final int BAR = 24;

    private final PrintWriter err;
    private final int steps;
    private final boolean terminal;
    private final long runStart = System.nanoTime();
    private final ScheduledExecutorService ticker;
    private int step;
    private String title;
    private long stepStart;
    private long done = -1;
    private long total = -1;
    private String unit = "";
    private boolean lineOpen;
    private long lastQuietTick;

    public Progress(PrintWriter err, int steps, boolean terminal) {
        this.err = err;
        this.steps = steps;
        this.terminal = terminal;
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sonde-demo-progress");
            t.setDaemon(true);
            return t;
        });
        ticker.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    /** Ends the current step (if any) and starts the next one. */
    public synchronized void step(String stepTitle) {
        finishStep();
        step++;
        title = stepTitle;
        stepStart = System.nanoTime();
        lastQuietTick = stepStart;
        done = -1;
        total = -1;
        println(String.format("[%d/%d] %s", step, steps, title));
    }

    /** The current step's amount done of {@code of} (e.g. bytes), drawn as a bar on a terminal. */
    public synchronized void amount(long soFar, long of, String what) {
        this.done = soFar;
        this.total = of;
        this.unit = what;
    }

    /** A line of detail under the current step. */
    public synchronized void detail(String message) {
        println("      " + message);
    }

    /** Seconds since the demo started. */
    public double elapsedSeconds() {
        return (System.nanoTime() - runStart) / 1e9;
    }

    /** Seconds since the current step started. */
    public synchronized double stepSeconds() {
        return (System.nanoTime() - stepStart) / 1e9;
    }

    private void finishStep() {
        if (title != null) {
            println(String.format("[%d/%d] %s: %.1f s (total %.1f s)", step, steps, title, stepSeconds(), elapsedSeconds()));
            title = null;
        }
    }

    private synchronized void tick() {
        if (title == null) {
            return;
        }
        long now = System.nanoTime();
        String status = String.format("[%d/%d] %s  %s%.0f s", step, steps, title, bar(), (now - stepStart) / 1e9);
        if (terminal) {
            err.print("\r\033[K" + status);
            err.flush();
            lineOpen = true;
        } else if (now - lastQuietTick >= 15_000_000_000L) {
            lastQuietTick = now;
            err.println(status);
            err.flush();
        }
    }

    private String bar() {
        if (done < 0) {
            return "";
        }
        if (total <= 0) {
            return mib(done) + " " + unit + "  ";
        }
        int filled = (int) Math.min(BAR, BAR * done / total);
        return "[" + "#".repeat(filled) + " ".repeat(BAR - filled) + "] " + mib(done) + "/" + mib(total) + " " + unit + "  ";
    }

    private static String mib(long bytes) {
        return bytes / (1024 * 1024) + " MiB";
    }

    private void println(String line) {
        if (lineOpen) {
            err.print("\r\033[K");
            lineOpen = false;
        }
        err.println(line);
        err.flush();
    }

    /** Ends the last step and stops the ticker. */
    @Override
    public synchronized void close() {
        finishStep();
        ticker.shutdownNow();
    }
}
