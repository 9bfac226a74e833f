package dev.sonde.analyzer.linux;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Findings over a {@link ProcessReport}: a process running a deleted binary, a fileless (memfd) executable, an
 * anonymous mapping that is writable and executable, a user process posing as a kernel thread, names that disagree
 * (comm against the executable's, argv[0]'s and, for an interpreter, the script's base names), executable mappings
 * of files in world-writable temporary directories, dynamic-loader variables in the environment that inject code
 * ({@code LD_PRELOAD}, {@code LD_AUDIT}) or redirect library look-up ({@code LD_LIBRARY_PATH}), and an interpreter
 * running a script that has been deleted.
 */
public final class ProcessFindings {
    /** Names the kernel gives its own threads; a user process with one of them is posing. */
    static final Pattern KERNEL_THREAD_NAME = Pattern.compile(
            "\\[.*|kworker/.*|ksoftirqd/.*|kthreadd|migration/.*|rcu_.*|kswapd.*|watchdog.*|cpuhp/.*|irq/.*|"
                    + "kcompactd.*|khugepaged|kauditd|oom_reaper|writeback|kblockd|jbd2/.*|scsi_.*|idle_inject/.*");
    static final String DELETED = " (deleted)";
    /**
     * Multi-call binaries: the program is whichever applet runs, and busybox renames the task to the applet
     * ({@code prctl(PR_SET_NAME)}) when it runs one without exec (NOFORK/NOEXEC applets) while argv stays the
     * caller's; a comm that names neither the binary nor argv[0] is normal for them.
     */
    static final java.util.Set<String> MULTI_CALL = java.util.Set.of("busybox", "toybox");
    /** World-writable directories a dropper writes to; code mapped from there is suspect. */
    static final List<String> TEMP_DIRS = List.of("/tmp/", "/dev/shm/", "/var/tmp/");
    /** Loader variables and the severity of finding them set. */
    static final List<String[]> LOADER_VARIABLES = List.of(new String[]{"LD_PRELOAD", "medium"},
            new String[]{"LD_AUDIT", "medium"}, new String[]{"LD_LIBRARY_PATH", "low"});

    private ProcessFindings() {
    }

    public static List<Finding> find(ProcessReport report) {
        List<Finding> out = new ArrayList<>();
        for (ProcessInfo p : report.processes()) {
            if (p.kernelThread()) {
                continue;
            }
            String exe = p.exe().orElse(null);
            if (exe != null && exe.startsWith("/memfd:")) {
                out.add(new Finding("fileless-executable", "high", p.pid(), p.comm(),
                        "runs from a memfd (an anonymous in-memory file), not from a file on disk",
                        List.of("exe " + exe)));
            } else if (exe != null && exe.endsWith(DELETED)) {
                out.add(new Finding("deleted-executable", "high", p.pid(), p.comm(),
                        "runs a binary that has been deleted from disk", List.of("exe " + exe)));
            }
            for (Mapping m : p.maps()) {
                if (m.writableAndExecutable() && m.anonymous()) {
                    out.add(new Finding("anonymous-rwx-mapping", "high", p.pid(), p.comm(),
                            "has anonymous memory that is both writable and executable",
                            List.of(String.format("mapping %x-%x %s%s", m.start(), m.end(), m.perms(),
                                    m.path().filter(s -> !s.isEmpty()).map(s -> " " + s).orElse("")))));
                }
            }
            Optional<String> argv0 = p.cmdline().filter(c -> !c.isEmpty()).map(c -> c.get(0));
            boolean commLikeKthread = KERNEL_THREAD_NAME.matcher(p.comm()).matches();
            boolean argvLikeKthread = argv0.map(a -> a.startsWith("[") && a.endsWith("]")).orElse(false);
            if (commLikeKthread || argvLikeKthread) {
                List<String> ev = new ArrayList<>();
                ev.add("comm " + p.comm());
                argv0.ifPresent(a -> ev.add("argv[0] " + a));
                ev.add("PF_KTHREAD not set (flags 0x" + Long.toHexString(p.flags()) + ")");
                ev.add("has a user address space" + p.exe().map(e -> ", exe " + e).orElse(""));
                out.add(new Finding("kernel-thread-impostor", "high", p.pid(), p.comm(),
                        "user process named like a kernel thread", ev));
            }
            String exeBase = exe == null ? null : truncate(base(strip(exe)));
            String argvBase = argv0.map(a -> truncate(base(a))).orElse(null);
            Optional<InterpreterContext> script = p.interpreter();
            // a script started through its #! line: the kernel names the task after the script's file
            String scriptBase = script.filter(s -> s.kind().equals("script")).map(s -> truncate(base(s.target())))
                    .orElse(null);
            if (exeBase != null && !MULTI_CALL.contains(exeBase) && !p.comm().equals(exeBase) && !p.comm().equals(argvBase)
                    && !p.comm().equals(scriptBase)) {
                List<String> ev = new ArrayList<>();
                ev.add("comm " + p.comm());
                ev.add("exe " + exe);
                argv0.ifPresent(a -> ev.add("argv[0] " + a));
                out.add(new Finding("name-mismatch", "low", p.pid(), p.comm(),
                        "comm matches neither the executable's name nor argv[0]", ev));
            }
            tempExecutables(p, out);
            loaderEnvironment(p, out);
            if (script.isPresent() && script.get().deletedScript()) {
                InterpreterContext s = script.get();
                out.add(new Finding("deleted-script", "high", p.pid(), p.comm(),
                        "interpreter runs a script that has been deleted from disk",
                        List.of("interpreter " + s.interpreter() + (exe == null ? "" : " (exe " + exe + ")"),
                                "script argument " + s.target(), "open file " + s.openFile().orElse("?"))));
            }
        }
        return out;
    }

    private static void tempExecutables(ProcessInfo p, List<Finding> out) {
        List<String> ev = new ArrayList<>();
        for (Mapping m : p.maps()) {
            String path = m.path().orElse("");
            if ((m.flags() & Mapping.VM_EXEC) != 0 && TEMP_DIRS.stream().anyMatch(path::startsWith)) {
                ev.add(String.format("mapping %x-%x %s %s", m.start(), m.end(), m.perms(), path));
            }
        }
        if (!ev.isEmpty()) {
            out.add(new Finding("executable-in-temp-dir", "medium", p.pid(), p.comm(),
                    "runs code mapped from a world-writable temporary directory", ev));
        }
    }

    private static void loaderEnvironment(ProcessInfo p, List<Finding> out) {
        for (String[] v : LOADER_VARIABLES) {
            for (String e : p.environ().orElse(List.of())) {
                if (e.startsWith(v[0] + "=") && e.length() > v[0].length() + 1) {
                    out.add(new Finding("loader-environment", v[1], p.pid(), p.comm(),
                            v[0] + " is set: the dynamic loader " + (v[0].equals("LD_LIBRARY_PATH")
                                    ? "looks up libraries in other directories first" : "loads extra code into the process"),
                            List.of("environment " + e)));
                    break;
                }
            }
        }
    }

    private static String strip(String path) {
        return path.endsWith(DELETED) ? path.substring(0, path.length() - DELETED.length()) : path;
    }

    private static String base(String path) {
        int i = path.lastIndexOf('/');
        return i >= 0 ? path.substring(i + 1) : path;
    }

    /** {@code task_struct.comm} keeps the first 15 bytes. */
    private static String truncate(String s) {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return b.length <= 15 ? s : new String(b, 0, 15, java.nio.charset.StandardCharsets.UTF_8);
    }
}
