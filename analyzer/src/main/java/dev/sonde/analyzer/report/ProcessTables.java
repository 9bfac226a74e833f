package dev.sonde.analyzer.report;

import dev.sonde.analyzer.linux.Finding;
import dev.sonde.analyzer.linux.Mapping;
import dev.sonde.analyzer.linux.OpenFile;
import dev.sonde.analyzer.linux.ProcessInfo;
import dev.sonde.analyzer.linux.ProcessReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The tables of a {@link ProcessReport} (processes, maps, files, findings), for the renderers. */
public final class ProcessTables {
    /** The tables {@link #of} can produce, in order. */
    public static final List<String> VIEWS = List.of("processes", "maps", "files", "findings");

    private ProcessTables() {
    }

    public static Report of(ProcessReport r, List<Finding> findings, String source, Set<String> views) {
        List<Table> tables = new ArrayList<>();
        if (views.contains("processes")) {
            Table t = new Table("processes", List.of("pid", "ppid", "tgid", "comm", "state", "kernel_thread", "uid", "euid",
                    "gid", "egid", "start_ticks", "threads", "exe", "cmdline", "task", "views", "completeness", "problems"));
            for (ProcessInfo p : r.processes()) {
                t.add(p.pid(), p.ppid(), p.tgid(), p.comm(), p.state(), p.kernelThread(), p.uid().orElse(null),
                        p.euid().orElse(null), p.gid().orElse(null), p.egid().orElse(null), p.startTicks(),
                        p.threads().size(), p.exe().orElse(null), p.kernelThread() ? null : p.cmdline().orElse(null),
                        hex(p.task()), r.viewsOf(p), p.completeness().verdict(), p.completeness().reasons());
            }
            tables.add(t);
        }
        if (views.contains("maps")) {
            Table t = new Table("maps", List.of("pid", "start", "end", "perms", "offset", "dev", "inode", "path"));
            for (ProcessInfo p : r.processes()) {
                for (Mapping m : p.maps()) {
                    t.add(p.pid(), hex(m.start()), hex(m.end()), m.perms(), hex(m.offset()), m.dev(), m.inode(),
                            m.path().orElse(null));
                }
            }
            tables.add(t);
        }
        if (views.contains("files")) {
            Table t = new Table("files", List.of("pid", "fd", "kind", "target", "flags", "pos", "inode"));
            for (ProcessInfo p : r.processes()) {
                for (OpenFile f : p.files()) {
                    t.add(p.pid(), f.fd(), f.kind(), f.target().orElse(null),
                            f.flags().map(v -> "0" + Long.toOctalString(v)).orElse(null), f.pos().orElse(null),
                            f.inode().orElse(null));
                }
            }
            tables.add(t);
        }
        if (views.contains("findings")) {
            Table t = new Table("findings", List.of("pid", "comm", "kind", "severity", "summary", "evidence"));
            for (Finding f : findings) {
                t.add(f.pid(), f.comm(), f.kind(), f.severity(), f.summary(), f.evidence());
            }
            tables.add(t);
        }
        return new Report("processes", source, r.overall().complete(), r.overall().reasons(), tables);
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
