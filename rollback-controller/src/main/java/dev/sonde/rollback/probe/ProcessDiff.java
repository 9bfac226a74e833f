package dev.sonde.rollback.probe;

import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.OpenFile;
import dev.sonde.analyzer.linux.ProcessInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * How the processes of two analyses differ: started, exited, and changed (name, command line, executable, open
 * files), matched by pid and start time.
 */
public record ProcessDiff(int before, int after, List<Proc> started, List<Proc> exited, List<Change> changed) {

    /** A process in one view. */
    public record Proc(int pid, int ppid, String comm, String cmdline) {
        static Proc of(ProcessInfo p) {
            return new Proc(p.pid(), p.ppid(), p.comm(), p.cmdline().map(l -> String.join(" ", l)).orElse(""));
        }
    }

    /** A changed field of a process present in both. */
    public record Change(int pid, String comm, String field, String before, String after) {
    }

    public static ProcessDiff of(AnalysisResult before, AnalysisResult after) {
        Map<Integer, ProcessInfo> b = byPid(before);
        Map<Integer, ProcessInfo> a = byPid(after);
        List<Proc> started = new ArrayList<>();
        List<Proc> exited = new ArrayList<>();
        List<Change> changed = new ArrayList<>();
        for (ProcessInfo p : b.values()) {
            ProcessInfo q = a.get(p.pid());
            if (q == null || q.startTimeNs() != p.startTimeNs()) {
                exited.add(Proc.of(p));
                continue;
            }
            field(changed, p, "comm", p.comm(), q.comm());
            field(changed, p, "cmdline", p.cmdline().map(l -> String.join(" ", l)).orElse("-"),
                    q.cmdline().map(l -> String.join(" ", l)).orElse("-"));
            field(changed, p, "exe", p.exe().orElse("-"), q.exe().orElse("-"));
            field(changed, p, "open files", files(p), files(q));
        }
        for (ProcessInfo q : a.values()) {
            ProcessInfo p = b.get(q.pid());
            if (p == null || q.startTimeNs() != p.startTimeNs()) {
                started.add(Proc.of(q));
            }
        }
        return new ProcessDiff(b.size(), a.size(), List.copyOf(started), List.copyOf(exited), List.copyOf(changed));
    }

    private static void field(List<Change> out, ProcessInfo p, String name, String before, String after) {
        if (!Objects.equals(before, after)) {
            out.add(new Change(p.pid(), p.comm(), name, before, after));
        }
    }

    private static String files(ProcessInfo p) {
        TreeSet<String> s = new TreeSet<>();
        for (OpenFile f : p.files()) {
            s.add(f.fd() + "=" + f.target().orElse("?"));
        }
        return String.join(", ", s);
    }

    private static Map<Integer, ProcessInfo> byPid(AnalysisResult r) {
        Map<Integer, ProcessInfo> m = new TreeMap<>();
        for (ProcessInfo p : r.processes().processes()) {
            m.put(p.pid(), p);
        }
        return m;
    }
}
