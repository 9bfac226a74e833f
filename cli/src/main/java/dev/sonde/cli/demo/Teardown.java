package dev.sonde.cli.demo;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;

/**
 * What the demo must undo, in reverse order of setup: run once, either at the end of the demo or by the JVM's shutdown
 * hook on Ctrl-C (SIGINT) or SIGTERM, whichever comes first; the other caller waits for it. Each action runs even
 * when an earlier one failed; what each did is logged and kept for the result.
 */
public final class Teardown {
    /** One undo action; it may throw, the next ones still run. */
    @FunctionalInterface
    public interface Action {
        String run() throws Exception;
    }

    private record Named(String name, Action action) {
    }

    private final Deque<Named> actions = new ArrayDeque<>();
    private final List<String> done = new ArrayList<>();
    private final Consumer<String> log;
    private boolean ran;
    private boolean interrupted;
    private Thread hook;

    public Teardown(Consumer<String> log) {
        this.log = log;
    }

    /** Adds an action; actions run last-added first. */
    public synchronized void add(String name, Action action) {
        if (ran) {
            throw new IllegalStateException("teardown already ran: not adding " + name);
        }
        actions.push(new Named(name, action));
    }

    /** Runs the actions from the JVM's shutdown hook too (Ctrl-C, SIGTERM). */
    public synchronized void installShutdownHook() {
        hook = new Thread(() -> {
            synchronized (this) {
                interrupted = !ran;
            }
            run("interrupted: cleaning up");
        }, "sonde-demo-teardown");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Whether the teardown has run (the demo is over or being interrupted). */
    public synchronized boolean ran() {
        return ran;
    }

    /** Whether the shutdown hook ran the teardown (the demo was interrupted). */
    public synchronized boolean interrupted() {
        return interrupted;
    }

    /** Runs every action once; later calls return what the first did. */
    public synchronized List<String> run(String why) {
        if (ran) {
            return List.copyOf(done);
        }
        ran = true;
        if (why != null) {
            log.accept(why);
        }
        while (!actions.isEmpty()) {
            Named a = actions.pop();
            String what;
            try {
                what = a.action().run();
            } catch (Exception | LinkageError e) {
                what = a.name() + " FAILED: " + e.getMessage();
            }
            if (what != null && !what.isEmpty()) {
                done.add(what);
                log.accept(what);
            }
        }
        if (hook != null && Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down
            }
        }
        return List.copyOf(done);
    }
}
