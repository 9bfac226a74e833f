package dev.sonde.rollback.probe;

import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.OpenFile;
import dev.sonde.analyzer.linux.ProcessInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code crossview}: the guest's own process and open-file view ({@link GuestProcessView}, through the guest agent)
 * against Sonde's analysis of a checkpoint of the clone taken right after it; every difference is reported. The
 * listing's own processes and processes started after it are marked in the notes, never left out.
 */
record CrossViewProbe(String spec) implements Probe {
    @Override
    public ProbeResult run(ProbeContext ctx) throws IOException {
        GuestAgent.Outcome o = ctx.agent().exec("/bin/sh", List.of("-c", GuestProcessView.SCRIPT, "sonde-crossview",
                GuestProcessView.PYTHON), Duration.ofMinutes(3));
        if (o.timedOut() || o.truncated()) {
            throw new IOException("in-guest listing " + (o.timedOut() ? "timed out" : "truncated by the agent"));
        }
        GuestProcessView guest;
        try {
            guest = GuestProcessView.parse(o.out());
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage() + "; stderr: " + o.err());
        }
        Path mem = ctx.checkpointClone();
        AnalysisResult memory = ctx.analyze(mem);
        List<CrossViewDifference> d = compare(guest, memory, o.guestPid());
        ctx.log("crossview: " + guest.processes().size() + " in-guest entries, "
                + memory.processes().processes().size() + " in memory, " + d.size() + " differences");
        return new ProbeResult.CrossView(spec, guest.processes().size(), memory.processes().processes().size(),
                o.guestPid(), d);
    }

    static List<CrossViewDifference> compare(GuestProcessView guest, AnalysisResult memory, long listingPid) {
        List<Integer> own = guest.subtree(listingPid);
        int agentPid = guest.get((int) listingPid).map(GuestProcessView.GuestProcess::ppid).orElse(-1);
        Map<Integer, ProcessInfo> mem = new TreeMap<>();
        for (ProcessInfo p : memory.processes().processes()) {
            mem.put(p.pid(), p);
        }
        List<CrossViewDifference> out = new ArrayList<>();
        TreeSet<Integer> pids = new TreeSet<>(mem.keySet());
        pids.addAll(guest.processes().keySet());
        long listingStartNs = guest.uptimeSeconds() < 0 ? Long.MAX_VALUE : (long) (guest.uptimeSeconds() * 1e9);
        for (int pid : pids) {
            ProcessInfo m = mem.get(pid);
            GuestProcessView.GuestProcess g = guest.processes().get(pid);
            String ownNote = own.contains(pid) || pid == listingPid ? "the in-guest listing's own process"
                    : pid == agentPid ? "the guest agent running the listing" : "";
            if (m == null) {
                out.add(new CrossViewDifference(pid, "missing-in-memory", g.comm(), "-",
                        ownNote.isEmpty() ? "in the guest's /proc, not in the memory analysis (exited before the checkpoint?)" : ownNote));
                continue;
            }
            if (g == null || !g.visible()) {
                String note = m.startTimeNs() > listingStartNs ? "started after the in-guest listing began"
                        : g == null ? "absent from the guest's /proc listing" : "/proc/" + pid + " has no readable stat in the guest (bind mount over it?): ps does not show it";
                out.add(new CrossViewDifference(pid, "hidden-in-guest", "-", m.comm() + " " + cmdline(m), note));
                continue;
            }
            if (!sameComm(g.comm(), m.comm())) {
                out.add(new CrossViewDifference(pid, "comm", g.comm(), m.comm(), ownNote));
            }
            String mc = guest.exact() ? cmdline(m) : cmdline(m).replace('\n', ' ');
            diff(out, pid, "cmdline", g.cmdline(), mc, ownNote);
            diff(out, pid, "exe", g.exe(), m.exe().orElse(""), ownNote);
            Map<Integer, String> mf = new TreeMap<>();
            for (OpenFile f : m.files()) {
                mf.put(f.fd(), f.target().orElse("?"));
            }
            for (Map.Entry<Integer, String> e : g.fds().entrySet()) {
                String mt = mf.get(e.getKey());
                if (mt == null) {
                    out.add(new CrossViewDifference(pid, "fd-only-in-guest", e.getKey() + " -> " + e.getValue(), "-", ownNote));
                } else if (!mt.equals(e.getValue())) {
                    out.add(new CrossViewDifference(pid, "fd-target", e.getKey() + " -> " + e.getValue(),
                            e.getKey() + " -> " + mt, ownNote));
                }
            }
            for (Map.Entry<Integer, String> e : mf.entrySet()) {
                if (!g.fds().containsKey(e.getKey())) {
                    out.add(new CrossViewDifference(pid, "fd-only-in-memory", "-", e.getKey() + " -> " + e.getValue(), ownNote));
                }
            }
        }
        return List.copyOf(out);
    }

    /**
     * Whether the guest's {@code /proc/PID/stat} name and the task's {@code comm} are the same name as /proc presents
     * it: a kernel thread's full name where {@code comm} holds its first 15 bytes, and a workqueue worker's
     * {@code kworker/N:M} followed by {@code -WORKQUEUE} (added by /proc, not stored in the task).
     */
    static boolean sameComm(String guest, String memory) {
        if (guest.equals(memory)) {
            return true;
        }
        if (memory.startsWith("kworker/") && guest.startsWith(memory + "-")) {
            return true;
        }
        return memory.getBytes(java.nio.charset.StandardCharsets.UTF_8).length == 15 && guest.startsWith(memory);
    }

    private static void diff(List<CrossViewDifference> out, int pid, String what, String guest, String memory, String note) {
        if (!Objects.equals(guest.strip(), memory.strip())) {
            out.add(new CrossViewDifference(pid, what, guest, memory, note));
        }
    }

    private static String cmdline(ProcessInfo p) {
        return p.cmdline().map(l -> String.join(" ", l)).orElse("").strip();
    }
}
