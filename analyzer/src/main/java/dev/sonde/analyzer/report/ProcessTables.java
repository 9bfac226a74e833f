package dev.sonde.analyzer.report;

import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.Finding;
import dev.sonde.analyzer.linux.InterpreterContext;
import dev.sonde.analyzer.linux.MappedBinary;
import dev.sonde.analyzer.linux.PageDigest;
import dev.sonde.analyzer.linux.SocketInfo;
import dev.sonde.analyzer.linux.Mapping;
import dev.sonde.analyzer.linux.OpenFile;
import dev.sonde.analyzer.linux.ProcessInfo;
import dev.sonde.analyzer.linux.ProcessReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The tables of an analysis (processes, maps, files, sockets, binaries, pages, findings), for the renderers.
 * {@code pages} (one row per resident executable page) is long: not in {@link #DEFAULT_VIEWS}.
 */
public final class ProcessTables {
    /** The tables {@link #of} can produce, in order. */
    public static final List<String> VIEWS = List.of("processes", "maps", "files", "sockets", "binaries", "pages",
            "findings");
    /** The tables shown when none are chosen. */
    public static final List<String> DEFAULT_VIEWS = List.of("processes", "maps", "files", "sockets", "binaries",
            "findings");

    private ProcessTables() {
    }

    /** The chosen tables of a whole analysis. */
    public static Report of(AnalysisResult a, Set<String> views) {
        Report base = of(a.processes(), a.findings(), a.source(), views);
        List<Table> tables = new ArrayList<>();
        for (Table t : base.tables()) {
            if (t.name().equals("findings")) {
                binaryTables(a.binaries(), views, tables);
            }
            tables.add(t);
        }
        if (!views.contains("findings")) {
            binaryTables(a.binaries(), views, tables);
        }
        // what could not be read of the binaries (an ELF header out of bounds, the page limit) makes the result partial
        List<String> reasons = new ArrayList<>(base.reasons());
        for (MappedBinary b : a.binaries()) {
            b.problem().ifPresent(x -> reasons.add("pid " + b.pid() + " binary " + b.path() + ": " + x));
        }
        return new Report(base.analysis(), base.source(), reasons.isEmpty(), reasons, tables);
    }

    private static void binaryTables(List<MappedBinary> binaries, Set<String> views, List<Table> tables) {
        if (views.contains("binaries")) {
            Table t = new Table("binaries", List.of("pid", "path", "origin", "inode", "dev", "elf_type", "build_id",
                    "pages_resident", "pages_total", "digest", "mappings", "problem"));
            for (MappedBinary b : binaries) {
                t.add(b.pid(), b.path(), b.origin().name().toLowerCase(java.util.Locale.ROOT), b.inode(), b.dev(),
                        b.elfType().orElse(null), b.buildId().orElse(null), b.pages().size(), b.pagesTotal(),
                        b.digest().orElse(null), b.mappings().size(), b.problem().orElse(null));
            }
            tables.add(t);
        }
        if (views.contains("pages")) {
            Table t = new Table("pages", List.of("pid", "path", "vaddr", "file_offset", "sha256"));
            for (MappedBinary b : binaries) {
                for (PageDigest d : b.pages()) {
                    t.add(b.pid(), b.path(), hex(d.vaddr()), d.fileOffset() < 0 ? null : d.fileOffset(), d.sha256());
                }
            }
            tables.add(t);
        }
    }

    public static Report of(ProcessReport r, List<Finding> findings, String source, Set<String> views) {
        List<Table> tables = new ArrayList<>();
        if (views.contains("processes")) {
            Table t = new Table("processes", List.of("pid", "ppid", "tgid", "comm", "state", "kernel_thread", "uid", "euid",
                    "gid", "egid", "start_ticks", "threads", "exe", "cmdline", "script", "task", "views", "completeness", "problems"));
            for (ProcessInfo p : r.processes()) {
                t.add(p.pid(), p.ppid(), p.tgid(), p.comm(), p.state(), p.kernelThread(), p.uid().orElse(null),
                        p.euid().orElse(null), p.gid().orElse(null), p.egid().orElse(null), p.startTicks(),
                        p.threads().size(), p.exe().orElse(null), p.kernelThread() ? null : p.cmdline().orElse(null),
                        p.interpreter().map(InterpreterContext::describe).orElse(null), hex(p.task()), r.viewsOf(p), p.completeness().verdict(), p.completeness().reasons());
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
        if (views.contains("sockets")) {
            Table t = new Table("sockets", List.of("pid", "fd", "inode", "family", "type", "protocol", "state", "local",
                    "remote", "peer_inode"));
            for (ProcessInfo p : r.processes()) {
                for (OpenFile f : p.files()) {
                    if (f.socket().isPresent()) {
                        SocketInfo s = f.socket().get();
                        t.add(p.pid(), f.fd(), f.inode().orElse(null), s.family(), s.type(), s.protocol(), s.state(),
                                s.local().orElse(null), s.remote().orElse(null), s.peerInode().orElse(null));
                    }
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
