package dev.sonde.rollback;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * A small detached shell process ({@code setsid}) that destroys the clone with {@code virsh} when the Sonde process
 * dies (SIGKILL included) or the fork's run-time limit passes, whichever comes first: the clone never outlives its
 * bounds, even before the next run's reconciliation deletes its files. It exits when its flag file is removed.
 */
final class RunTimeWatchdog implements Closeable {
    private static final String SCRIPT = String.join("\n",
            "pid=$1; flag=$2; uri=$3; dom=$4; deadline=$5",
            "while [ -e \"$flag\" ] && kill -0 \"$pid\" 2>/dev/null && [ \"$(date +%s)\" -lt \"$deadline\" ]; do sleep 0.3; done",
            "[ -e \"$flag\" ] || exit 0",
            "virsh -q -c \"$uri\" destroy \"$dom\" >/dev/null 2>&1",
            "exit 0");

    private final Path flag;
    private final Process process;

    private RunTimeWatchdog(Path flag, Process process) {
        this.flag = flag;
        this.process = process;
    }

    /** Arms a watchdog for the clone {@code uuid}; {@code flag} must not exist yet. */
    static RunTimeWatchdog arm(String uri, String uuid, Path flag, Instant deadline) throws IOException {
        Files.writeString(flag, "clone " + uuid + " of sonde pid " + ProcessHandle.current().pid() + "\n");
        Process p = new ProcessBuilder(List.of("setsid", "sh", "-c", SCRIPT, "sonde-fork-watchdog",
                Long.toString(ProcessHandle.current().pid()), flag.toString(), uri, uuid,
                Long.toString(deadline.getEpochSecond())))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        return new RunTimeWatchdog(flag, p);
    }

    /** The clone is being destroyed by Sonde itself: the watchdog exits. */
    @Override
    public void close() throws IOException {
        Files.deleteIfExists(flag);
        try {
            process.waitFor(2, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
