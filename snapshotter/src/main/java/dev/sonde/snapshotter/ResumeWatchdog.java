package dev.sonde.snapshotter;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * While Sonde itself holds a guest paused (the memory-only dump modes), a small detached shell process watches this
 * JVM: if the JVM dies (SIGKILL included) while the guest is still marked as paused by Sonde, it resumes the guest with
 * {@code virsh} as soon as libvirt lets it (a dump libvirt is still writing finishes first), so the guest does not stay
 * paused until the next run. Overlays and the partial bundle are left to the next run's recovery.
 */
final class ResumeWatchdog implements Closeable {
    private static final String SCRIPT = String.join("\n",
            "pid=$1; flag=$2; uri=$3; dom=$4",
            "while kill -0 \"$pid\" 2>/dev/null; do [ -e \"$flag\" ] || exit 0; sleep 0.2; done",
            "[ -e \"$flag\" ] || exit 0",
            "i=0",
            "while [ $i -lt 3000 ]; do",
            "  st=$(virsh -q -c \"$uri\" domstate \"$dom\" 2>/dev/null)",
            "  case \"$st\" in paused*) virsh -q -c \"$uri\" resume \"$dom\" >/dev/null 2>&1;; running*|'shut off'*) break;; esac",
            "  i=$((i+1)); sleep 0.2",
            "done",
            "rm -f \"$flag\"");

    private final Path flag;
    private final Process process;

    private ResumeWatchdog(Path flag, Process process) {
        this.flag = flag;
        this.process = process;
    }

    /** Arms a watchdog for {@code domainUuid} at {@code uri}; {@code flagDir} holds its flag file. */
    static ResumeWatchdog arm(String uri, String domainUuid, Path flagDir) throws IOException {
        Path flag = flagDir.resolve("paused-" + domainUuid + "-" + ProcessHandle.current().pid());
        Files.writeString(flag, "paused by sonde pid " + ProcessHandle.current().pid() + "\n");
        Process p = new ProcessBuilder(List.of("setsid", "sh", "-c", SCRIPT, "sonde-resume-watchdog",
                Long.toString(ProcessHandle.current().pid()), flag.toString(), uri, domainUuid))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        return new ResumeWatchdog(flag, p);
    }

    /** Sonde resumed the guest itself: the watchdog exits. */
    @Override
    public void close() throws IOException {
        Files.deleteIfExists(flag);
        process.toHandle().onExit(); // it exits within 0.2 s once the flag is gone
    }
}
