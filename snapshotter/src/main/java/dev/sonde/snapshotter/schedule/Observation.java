package dev.sonde.snapshotter.schedule;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.Finding;
import dev.sonde.analyzer.linux.ProcessInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the scheduler remembers of one analyzed checkpoint of a domain, to diff the next one against: its processes,
 * the binaries they run, the findings, and every binary seen in this domain so far. Kept as JSON in the store
 * ({@code .sonde/schedule/DOMAIN.json}; {@code time} in ISO-8601), so the diff survives restarts and the pruning of the previous bundle.
 */
public record Observation(String domain, String bundle, String time, String kernelRelease, List<Process> processes,
        List<FindingKey> findings, Set<String> knownBinaries) {

    public Observation {
        processes = List.copyOf(processes);
        findings = List.copyOf(findings);
        knownBinaries = Set.copyOf(new TreeSet<>(knownBinaries));
    }

    /** A process, identified by pid, start time (clock ticks since boot) and comm: a reused pid is another process. */
    public record Process(int pid, int ppid, long startTicks, String comm, boolean kernelThread, String exe,
            List<String> cmdline) {
        public String key() {
            return pid + "/" + startTicks + "/" + comm;
        }
    }

    /** A finding, identified by kind, process and summary. */
    public record FindingKey(String kind, String severity, int pid, String comm, String summary) {
    }

    /** The observation of {@code result}; {@code earlier} (the previous one) contributes its known binaries. */
    public static Observation of(String domain, String bundle, Instant time, AnalysisResult result,
            Optional<Observation> earlier) {
        List<Process> ps = result.processes().processes().stream().map(Observation::process).toList();
        Set<String> known = new TreeSet<>(earlier.map(Observation::knownBinaries).orElse(Set.of()));
        ps.stream().map(Process::exe).filter(e -> !e.isEmpty()).forEach(known::add);
        List<FindingKey> fs = result.findings().stream().map(Observation::finding).toList();
        return new Observation(domain, bundle, time.toString(), result.kernelRelease(), ps, fs, known);
    }

    private static Process process(ProcessInfo p) {
        return new Process(p.pid(), p.ppid(), p.startTicks(), p.comm(), p.kernelThread(), p.exe().orElse(""),
                p.cmdline().orElse(List.of()));
    }

    private static FindingKey finding(Finding f) {
        return new FindingKey(f.kind(), f.severity(), f.pid(), f.comm(), f.summary());
    }

    /** The binaries (exe paths) the processes of this checkpoint run. */
    public Set<String> binaries() {
        Set<String> s = new TreeSet<>();
        processes.stream().map(Process::exe).filter(e -> !e.isEmpty()).forEach(s::add);
        return s;
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT);

    static Path file(Path storeRoot, String domain) {
        return storeRoot.resolve(".sonde").resolve("schedule")
                .resolve(dev.sonde.snapshotter.store.BundleNames.domainPart(domain) + ".json");
    }

    /** The last observation of {@code domain} kept in the store, if any. */
    public static Optional<Observation> load(Path storeRoot, String domain) throws IOException {
        Path f = file(storeRoot, domain);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(f.toFile(), Observation.class));
        } catch (IOException e) {
            throw new IOException(f + ": unreadable previous observation (" + e.getMessage() + "); delete it to start "
                    + "a new baseline", e);
        }
    }

    /** Replaces the stored observation of its domain (written aside, then renamed). */
    public void save(Path storeRoot) throws IOException {
        Path f = file(storeRoot, domain);
        Files.createDirectories(f.getParent());
        Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
        Files.write(tmp, JSON.writeValueAsBytes(this));
        Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
