package dev.sonde.analyzer.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.GroundTruth;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@link LinuxProcesses} on the committed tiny capture against what the guest's own /proc said at capture time
 * (gtdump): precision and recall of every field must be 100%.
 * <p>
 * Documented exceptions, each with its kernel reason:
 * <ul>
 *   <li>comm: the ground truth's {@code task_comm} is /proc's comm without the workqueue suffix procfs adds to
 *       kworkers, and a kernel thread's full name there is cut to the 15 bytes {@code task_struct.comm} holds.</li>
 *   <li>gtdump records its own state as {@code S} (it is running while it reads /proc) and leaves out its own
 *       transient descriptors (the /proc files it has open); at the pause it is asleep with none of them open.</li>
 *   <li>cmdline of kernel threads: /proc gives an empty one (no mm); they have none to read.</li>
 * </ul>
 */
class LinuxProcessesFixtureTest {

    static GroundTruthComparison compare(ProcessReport report, GroundTruth gt) {
        GroundTruthComparison c = new GroundTruthComparison();
        for (GroundTruth.Process p : gt.processes()) {
            String comm = p.raw().path("task_comm").asText();
            expectProcess(c, p.pid(), p.ppid(), comm.substring(0, Math.min(15, comm.length())), p.kthread(),
                    p.cmdline(), p.exe().orElse("-"), p.uid(), p.euid(), p.gid(), p.threads());
            c.expected("state", p.pid() + " " + p.state());
            c.expected("egid", p.pid() + " " + p.raw().path("egid").asInt());
            c.expected("starttime", p.pid() + " " + p.raw().path("starttime").asLong());
            List<String> env = new java.util.ArrayList<>();
            p.raw().path("environ").forEach(e -> env.add(e.asText()));
            c.expected("environ", p.pid() + " " + env);
            for (GroundTruth.Mapping m : p.maps()) {
                String k = p.pid() + " " + Long.toHexString(m.start());
                c.expected("map", k + "-" + Long.toHexString(m.end()) + " " + m.perms() + " " + m.path());
                c.expected("map.offset", k + " " + Long.toHexString(m.offset()));
                c.expected("map.dev", k + " " + m.dev());
                c.expected("map.inode", k + " " + m.inode());
            }
            for (GroundTruth.Fd f : p.fds()) {
                String k = p.pid() + " fd " + f.fd();
                c.expected("fd", k + " " + f.target());
                f.flags().ifPresent(v -> c.expected("fd.flags", k + " " + Long.toOctalString(v)));
                f.pos().ifPresent(v -> c.expected("fd.pos", k + " " + v));
            }
        }
        expectSockets(c, gt);
        for (ProcessInfo p : report.processes()) {
            foundSockets(c, p);
            c.found("process", String.valueOf(p.pid()));
            c.found("ppid", p.pid() + " " + p.ppid());
            c.found("comm", p.pid() + " " + p.comm());
            c.found("kthread", p.pid() + " " + p.kernelThread());
            c.found("cmdline", p.pid() + " " + (p.kernelThread() ? List.of() : p.cmdline().map(Object::toString).orElse("<unread>")));
            c.found("exe", p.pid() + " " + p.exe().orElse("-"));
            c.found("uid", p.pid() + " " + p.uid().map(String::valueOf).orElse("?"));
            c.found("euid", p.pid() + " " + p.euid().map(String::valueOf).orElse("?"));
            c.found("gid", p.pid() + " " + p.gid().map(String::valueOf).orElse("?"));
            c.found("threads", p.pid() + " " + p.threads().stream().sorted().toList());
            c.found("state", p.pid() + " " + p.state());
            c.found("egid", p.pid() + " " + p.egid().map(String::valueOf).orElse("?"));
            c.found("starttime", p.pid() + " " + p.startTicks());
            c.found("environ", p.pid() + " " + (p.kernelThread() ? List.of() : p.environ().map(Object::toString).orElse("<unread>")));
            for (Mapping m : p.maps()) {
                String k = p.pid() + " " + Long.toHexString(m.start());
                c.found("map", k + "-" + Long.toHexString(m.end()) + " " + m.perms() + " " + m.path().orElse("<unread>"));
                c.found("map.offset", k + " " + Long.toHexString(m.offset()));
                c.found("map.dev", k + " " + m.dev());
                c.found("map.inode", k + " " + m.inode());
            }
            for (OpenFile f : p.files()) {
                String k = p.pid() + " fd " + f.fd();
                c.found("fd", k + " " + f.target().orElse("<unread>"));
                f.flags().ifPresent(v -> c.found("fd.flags", k + " " + Long.toOctalString(v)));
                f.pos().ifPresent(v -> c.found("fd.pos", k + " " + v));
            }
        }
        return c;
    }

    /**
     * Sockets: every TCP, UDP and UNIX socket of /proc/net/{tcp,tcp6,udp,udp6,unix} that a process holds (its inode
     * is some descriptor's {@code socket:[inode]}), with the fields those files print.
     */
    private static void expectSockets(GroundTruthComparison c, GroundTruth gt) {
        java.util.Set<Long> held = new java.util.HashSet<>();
        for (GroundTruth.Process p : gt.processes()) {
            for (GroundTruth.Fd f : p.fds()) {
                if (f.target().startsWith("socket:[")) {
                    held.add(Long.parseLong(f.target().substring(8, f.target().length() - 1)));
                }
            }
        }
        for (com.fasterxml.jackson.databind.JsonNode s : gt.sockets()) {
            long inode = s.path("inode").asLong();
            if (!held.contains(inode)) {
                continue;
            }
            String proto = s.path("proto").asText();
            if (proto.equals("unix")) {
                c.expected("socket.unix", inode + " " + s.path("sock_type").asText() + " st " + s.path("state_num").asInt()
                        + (s.path("listening").asBoolean() ? " listening" : "") + " " + s.path("path").asText("-"));
            } else {
                c.expected("socket.inet", inode + " " + proto + " " + s.path("local_addr").asText() + " "
                        + s.path("local_port").asInt() + " " + s.path("remote_addr").asText() + " "
                        + s.path("remote_port").asInt() + " " + s.path("state").asText());
            }
        }
    }

    private static void foundSockets(GroundTruthComparison c, ProcessInfo p) {
        for (OpenFile f : p.files()) {
            if (f.kind().equals("socket") && f.socket().isEmpty()) {
                c.found("socket.unread", p.pid() + " fd " + f.fd() + " " + f.problem().orElse("?"));
            }
            if (f.socket().isEmpty()) {
                continue;
            }
            SocketInfo s = f.socket().get();
            long inode = f.inode().orElse(-1L);
            if (s.family().equals("unix")) {
                c.found("socket.unix", inode + " " + s.type() + " st " + s.socketState()
                        + (s.state().equals("LISTEN") ? " listening" : "") + " " + s.unixPath().orElse("-"));
            } else if ((s.family().equals("inet") || s.family().equals("inet6"))
                    && java.util.Set.of("tcp", "tcp6", "udp", "udp6").contains(s.protocol())) {
                c.found("socket.inet", inode + " " + s.protocol() + " " + s.localAddress().orElse("?") + " "
                        + s.localPort().orElse(-1) + " " + s.remoteAddress().orElse("?") + " "
                        + s.remotePort().orElse(-1) + " " + s.state());
            }
        }
    }

    private static void expectProcess(GroundTruthComparison c, int pid, int ppid, String comm, boolean kthread,
                                      List<String> cmdline, String exe, int uid, int euid, int gid, List<Integer> threads) {
        c.expected("process", String.valueOf(pid));
        c.expected("ppid", pid + " " + ppid);
        c.expected("comm", pid + " " + comm);
        c.expected("kthread", pid + " " + kthread);
        c.expected("cmdline", pid + " " + cmdline);
        c.expected("exe", pid + " " + exe);
        c.expected("uid", pid + " " + uid);
        c.expected("euid", pid + " " + euid);
        c.expected("gid", pid + " " + gid);
        c.expected("threads", pid + " " + threads.stream().sorted().toList());
    }

    @Test
    void everyFieldEqualsTheGroundTruth() {
        ProcessReport report = TinyFixture.report();
        List<GroundTruthComparison.Score> scores = compare(report, TinyFixture.truth()).scores();
        scores.forEach(s -> System.out.println("tiny (committed): " + s));
        assertEquals(List.of(), report.completeness().reasons());
        List<String> imperfect = scores.stream().filter(s -> !s.perfect()).map(Object::toString).toList();
        assertEquals(List.of(), imperfect);
    }

    @Test
    void everyProcessIsComplete() {
        List<String> partial = TinyFixture.report().processes().stream().filter(p -> !p.completeness().complete())
                .map(p -> p.pid() + " " + p.comm() + ": " + p.completeness().reasons()).collect(Collectors.toList());
        assertEquals(List.of(), partial);
        assertTrue(TinyFixture.report().completeness().complete());
    }
}
