package dev.sonde.snapshotter.testing;

import dev.sonde.snapshotter.CheckpointListener;
import dev.sonde.snapshotter.CheckpointOptions;
import dev.sonde.snapshotter.Checkpointer;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import dev.sonde.snapshotter.store.BundleStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A checkpoint in a child JVM that tests SIGKILL. Usage: {@code URI STORE DOMAIN WHEN [MEMORY-MODE]} where WHEN is
 * {@code wrote:FILE:BYTES} (print the marker once FILE has BYTES written, then hang) or {@code step:NAME} (print the
 * marker at that step and carry on). The marker line is {@code SONDE-TEST-MARK}.
 */
public final class KillableCheckpoint {
    public static final String MARK = "SONDE-TEST-MARK";

    private KillableCheckpoint() {
    }

    public static void main(String[] args) throws Exception {
        String uri = args[0];
        Path store = Path.of(args[1]);
        String domain = args[2];
        String[] when = args[3].split(":");
        CheckpointListener l = new CheckpointListener() {
            boolean marked;

            @Override
            public void step(String step) {
                if (when[0].equals("step") && when[1].equals(step)) {
                    mark();
                }
            }

            @Override
            public void wrote(String file, long bytes) {
                if (when[0].equals("wrote") && file.equals(when[1]) && bytes >= Long.parseLong(when[2])) {
                    mark();
                    try {
                        Thread.sleep(TimeUnit.HOURS.toMillis(1));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }

            void mark() {
                if (!marked) {
                    marked = true;
                    System.out.println(MARK);
                    System.out.flush();
                }
            }
        };
        try (LibvirtSession s = LibvirtSession.open(uri)) {
            CheckpointOptions o = CheckpointOptions.defaults();
            if (args.length > 4) {
                o = o.withMemory(dev.sonde.snapshotter.MemoryMode.parse(args[4]));
            }
            System.out.println(new Checkpointer(s, BundleStore.open(store, Clock.systemUTC()), o, l)
                    .checkpoint(domain).bundle());
        }
    }

    /** Starts the child JVM with this JVM's class path. */
    public static Process start(String uri, Path store, String domain, String when, String... memory) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(KillableCheckpoint.class.getName());
        cmd.add(uri);
        cmd.add(store.toString());
        cmd.add(domain);
        cmd.add(when);
        cmd.addAll(List.of(memory));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }
}
