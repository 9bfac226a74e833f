package dev.sonde.rollback;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Gives a local clone's QEMU threads the lowest scheduling priority (nice 19), on top of the cgroup CPU quota of its
 * domain XML ({@code <cputune>}), so the clone yields to the original whenever both want the CPU.
 */
final class CpuBounds {
    private static final int PRIO_PROCESS = 0;

    interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);

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

    /** Renices every thread of {@code pid}; returns what was applied, for the report. */
    static String renice(int pid) throws IOException {
        int n = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Integer.toString(pid), "task"))) {
            for (Path t : tasks.toList()) {
                if (LibC.INSTANCE.setpriority(PRIO_PROCESS, Integer.parseInt(t.getFileName().toString()), 19) == 0) {
                    n++;
                }
            }
        }
        return "nice 19 on " + n + " QEMU threads (pid " + pid + ")";
    }
}
