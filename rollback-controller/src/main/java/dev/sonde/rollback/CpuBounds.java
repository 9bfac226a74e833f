package dev.sonde.rollback;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Structure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Bounds a local clone's QEMU process without cgroups: {@code RLIMIT_CPU} (QEMU is killed by the kernel after that
 * many CPU seconds, SIGXCPU then SIGKILL) and the lowest scheduling priority (nice 19) on every thread, so the clone
 * never takes CPU time from the original.
 */
final class CpuBounds {
    private static final int RLIMIT_CPU = 0;
    private static final int PRIO_PROCESS = 0;

    /** struct rlimit. */
    @Structure.FieldOrder({"cur", "max"})
    public static final class Rlimit extends Structure {
        public long cur;
        public long max;
    }

    interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);

        int prlimit(int pid, int resource, Rlimit newLimit, Rlimit oldLimit);

        int setpriority(int which, int who, int prio);
    }

    private CpuBounds() {
    }

    /** The pid libvirt recorded for a local domain's QEMU process, or -1. */
    static int qemuPid(String domainName) {
        for (Path p : List.of(Path.of("/run/libvirt/qemu", domainName + ".pid"), Path.of("/var/run/libvirt/qemu", domainName + ".pid"))) {
            try {
                return Integer.parseInt(Files.readString(p).trim());
            } catch (IOException | NumberFormatException e) {
                // next
            }
        }
        return -1;
    }

    /** Applies the bounds to {@code pid}; returns what was applied, for the report. */
    static List<String> apply(int pid, long cpuSeconds) throws IOException {
        List<String> done = new ArrayList<>();
        Rlimit r = new Rlimit();
        r.cur = cpuSeconds;
        r.max = cpuSeconds + 5;
        if (LibC.INSTANCE.prlimit(pid, RLIMIT_CPU, r, null) != 0) {
            throw new IOException("prlimit(RLIMIT_CPU) on QEMU pid " + pid + " failed (errno " + Native.getLastError() + ")");
        }
        done.add("RLIMIT_CPU " + cpuSeconds + " s on QEMU pid " + pid);
        int n = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Integer.toString(pid), "task"))) {
            for (Path t : tasks.toList()) {
                if (LibC.INSTANCE.setpriority(PRIO_PROCESS, Integer.parseInt(t.getFileName().toString()), 19) == 0) {
                    n++;
                }
            }
        }
        done.add("nice 19 on " + n + " QEMU threads");
        return done;
    }
}
