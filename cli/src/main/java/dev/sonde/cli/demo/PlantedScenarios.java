package dev.sonde.cli.demo;

import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.Finding;
import dev.sonde.analyzer.linux.OpenFile;
import dev.sonde.analyzer.linux.ProcessInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The scenarios {@code fixtures/common/start-scenarios.sh} plants in both fixture guests, looked for in an analysis:
 * each with whether it was found and the finding or fact that shows it.
 */
public final class PlantedScenarios {
    private PlantedScenarios() {
    }

    /** One planted scenario and what the analysis shows of it ({@code evidence} empty when not found). */
    public record Seen(String scenario, boolean found, String evidence) {
    }

    static List<Seen> look(AnalysisResult a) {
        List<Seen> out = new ArrayList<>();
        out.add(byFinding(a, "deleted binary", "deleted-executable"));
        out.add(byFinding(a, "fileless binary (memfd)", "fileless-executable"));
        out.add(byFinding(a, "anonymous RWX memory", "anonymous-rwx-mapping"));
        out.add(byFinding(a, "user process posing as a kernel thread", "kernel-thread-impostor"));
        out.add(manyChildren(a));
        out.add(unlinkedOpenFile(a));
        out.add(sockets(a));
        return List.copyOf(out);
    }

    private static Seen byFinding(AnalysisResult a, String scenario, String kind) {
        Optional<Finding> f = a.findings().stream().filter(x -> x.kind().equals(kind)).findFirst();
        return new Seen(scenario, f.isPresent(), f.map(x -> "finding " + x.kind() + " (" + x.severity() + "), pid " + x.pid()
                + " " + x.comm() + ": " + x.summary()).orElse(""));
    }

    private static Seen manyChildren(AnalysisResult a) {
        Map<Integer, Integer> children = new TreeMap<>();
        Map<Integer, ProcessInfo> byPid = new TreeMap<>();
        for (ProcessInfo p : a.processes().processes()) {
            byPid.put(p.pid(), p);
            if (!p.kernelThread()) {
                children.merge(p.ppid(), 1, Integer::sum);
            }
        }
        return children.entrySet().stream().filter(e -> e.getValue() >= 30 && e.getKey() > 1).findFirst()
                .map(e -> new Seen("parent with 30+ children", true, "pid " + e.getKey() + " "
                        + Optional.ofNullable(byPid.get(e.getKey())).map(ProcessInfo::comm).orElse("?") + " has "
                        + e.getValue() + " children"))
                .orElse(new Seen("parent with 30+ children", false, ""));
    }

    private static Seen unlinkedOpenFile(AnalysisResult a) {
        for (ProcessInfo p : a.processes().processes()) {
            for (OpenFile f : p.files()) {
                String t = f.target().orElse("");
                if (t.startsWith("/") && t.endsWith(" (deleted)") && !t.startsWith("/memfd:")) {
                    return new Seen("unlinked open file", true, "pid " + p.pid() + " " + p.comm() + " fd " + f.fd() + " -> " + t);
                }
            }
        }
        return new Seen("unlinked open file", false, "");
    }

    private static Seen sockets(AnalysisResult a) {
        for (ProcessInfo p : a.processes().processes()) {
            List<String> tcp = new ArrayList<>();
            List<String> unix = new ArrayList<>();
            for (OpenFile f : p.files()) {
                f.socket().ifPresent(s -> {
                    if (s.protocol().toLowerCase().startsWith("tcp") && s.localPort().isPresent()) {
                        tcp.add(s.localAddress().orElse("?") + ":" + s.localPort().get() + " " + s.state());
                    } else if (s.family().toLowerCase().contains("unix") && s.unixPath().isPresent()) {
                        unix.add(s.unixPath().get());
                    }
                });
            }
            if (!tcp.isEmpty() && !unix.isEmpty() && p.comm().equals("fileholder")) {
                return new Seen("pipe, UNIX and TCP sockets held open", true, "pid " + p.pid() + " " + p.comm() + ": tcp "
                        + String.join(", ", tcp) + "; unix " + String.join(", ", unix));
            }
        }
        return new Seen("pipe, UNIX and TCP sockets held open", false, "");
    }
}
