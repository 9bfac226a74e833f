package dev.sonde.rollback;

import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How a fork runs.
 *
 * @param uri          the libvirt URI (local: the clone's files are written here)
 * @param workDir      where clones' directories and the fork journal live ({@code forks/ID}, {@code journal/})
 * @param maxRunTime   the clone is destroyed after this long, whatever its probes are doing
 * @param cpuPercent   CPU the whole clone may use, in percent of one host CPU (cgroup quota), at nice 19
 * @param network      the isolated libvirt network clones' interfaces are attached to
 * @param agentTimeout how long to wait for the clone's guest agent
 * @param profile      how the analyzer builds kernel profiles
 */
public record ForkOptions(String uri, Path workDir, Duration maxRunTime, int cpuPercent, String network,
        Duration agentTimeout, ProfileOptions profile) {

    public static final String DEFAULT_NETWORK = "sonde-isolated";

    public static ForkOptions defaults(String uri, Path workDir) {
        return new ForkOptions(uri, workDir, Duration.ofMinutes(10), 50, DEFAULT_NETWORK, Duration.ofSeconds(90),
                ProfileOptions.defaults());
    }

    public ForkOptions withMaxRunTime(Duration d) {
        return new ForkOptions(uri, workDir, d, cpuPercent, network, agentTimeout, profile);
    }

    public ForkOptions withCpuPercent(int p) {
        return new ForkOptions(uri, workDir, maxRunTime, p, network, agentTimeout, profile);
    }

    public ForkOptions withProfile(ProfileOptions p) {
        return new ForkOptions(uri, workDir, maxRunTime, cpuPercent, network, agentTimeout, p);
    }

    Path journalDir() {
        return workDir.resolve("journal");
    }

    Path forksDir() {
        return workDir.resolve("forks");
    }
}
