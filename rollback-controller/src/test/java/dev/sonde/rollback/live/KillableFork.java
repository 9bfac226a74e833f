package dev.sonde.rollback.live;

import dev.sonde.rollback.ForkController;
import dev.sonde.rollback.ForkOptions;
import dev.sonde.rollback.probe.Probes;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A fork in a child JVM, for the SIGKILL test: {@code URI WORKDIR BUNDLE PROBE...}. Progress goes to stderr; the
 * test kills this JVM while a probe runs.
 */
public final class KillableFork {
    private KillableFork() {
    }

    public static void main(String[] args) throws Exception {
        try (LibvirtSession s = LibvirtSession.open(args[0])) {
            List<dev.sonde.rollback.probe.Probe> probes = new ArrayList<>();
            for (int i = 3; i < args.length; i++) {
                probes.add(Probes.parse(args[i]));
            }
            new ForkController(s, ForkOptions.defaults(args[0], Path.of(args[1])), m -> System.err.println("[child] " + m))
                    .fork(Path.of(args[2]), probes);
        }
    }

    /** Starts the child JVM with this JVM's class path. */
    public static Process start(String uri, Path workDir, Path bundle, String... probes) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), KillableFork.class.getName(), uri, workDir.toString(),
                bundle.toString()));
        cmd.addAll(List.of(probes));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
    }
}
