package dev.sonde.analyzer.linux.crossview;

import dev.sonde.analyzer.kernel.profile.KObject;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelReadException;
import dev.sonde.analyzer.kernel.profile.ProfileException;
import dev.sonde.analyzer.linux.Completeness;
import dev.sonde.analyzer.linux.Finding;
import dev.sonde.analyzer.linux.LinuxProcesses;
import dev.sonde.analyzer.linux.ProcessInfo;
import dev.sonde.analyzer.linux.ProcessReport;
import dev.sonde.analyzer.memory.AbsentMemoryException;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Cross-checks the task list against independent views of the processes (the PID IDR, parent/child and thread links,
 * a physical-memory scan) and explains every disagreement.
 *
 * <p>The rule, so that exited and freed tasks give no false positive:
 * <ul>
 *   <li>A process must be in all three live views (task list, PID IDR, children). One present in some and absent
 *       from another is {@code hidden-process} (high), unless it is being reaped ({@code exit_state} has
 *       {@code EXIT_DEAD}: {@code release_task} unlinks it from all three in one step).</li>
 *   <li>When a live view's walk itself broke (a cycle, a pointer out of the kernel, unreadable memory) the processes it
 *       did not reach are not called hidden one by one: one {@code corrupt-process-list} finding (high) names the
 *       broken view, what broke it and the processes the other views found beyond the break.</li>
 *   <li>A task found only by the scan is {@code hidden-process} only when it is live (reference count non-zero,
 *       {@code exit_state} 0, not {@code TASK_DEAD}); otherwise it is a stale, freed {@code task_struct} (or an
 *       unlinked zombie, which does not run) and is only counted. Absence from the scan alone is no finding: the
 *       scan confirms, it cannot be hidden from by unlinking.</li>
 * </ul>
 * Processes the task list missed are analyzed from their {@code task_struct} and added to the report, so the report
 * lists everything any view found.
 */
public final class CrossView {
    static final long EXIT_DEAD = 0x10;

    /**
     * The cross-checked report.
     *
     * @param report   the task list's processes plus those only other views found, each with its views, and a
     *                 completeness that includes every view's problems and every disagreement
     * @param findings {@code hidden-process} and {@code corrupt-process-list} findings
     * @param views    what each view saw
     * @param scan     the scan's own result (empty when the scan was not run)
     * @param stale    tasks only the scan found and that are not live
     */
    public record Result(ProcessReport report, List<Finding> findings, List<ViewResult> views,
                         Optional<TaskScan.Result> scan, List<TaskScan.Candidate> stale) {
        public Result {
            findings = List.copyOf(findings);
            views = List.copyOf(views);
            stale = List.copyOf(stale);
        }

        /** One line for logs: how many processes each view saw, and what the scan read. */
        public String summary() {
            StringBuilder b = new StringBuilder("views:");
            for (ViewResult v : views) {
                b.append(' ').append(v.view().label()).append(' ').append(v.leaders().size())
                        .append(v.complete() ? "" : " (partial)").append(',');
            }
            b.setLength(b.length() - 1);
            scan.ifPresent(s -> b.append(String.format("; %s scan read %.1f MiB, %d stale task_structs, %d rejected candidates",
                    s.mode().name().toLowerCase(java.util.Locale.ROOT), s.bytesScanned() / 1048576.0, stale.size(),
                    s.rejected())));
            return b.toString();
        }
    }

    private final KernelMemory kernel;
    private final PhysicalMemory memory;
    private final LinuxProcesses processes;
    private MemoryScan scan = MemoryScan.SLAB;

    /** {@code processes} is the analysis that produced the report to check; it reads the tasks other views add. */
    public CrossView(KernelMemory kernel, PhysicalMemory memory, LinuxProcesses processes) {
        this.kernel = kernel;
        this.memory = memory;
        this.processes = processes;
    }

    /** Whether and how to scan physical memory for task_structs (default {@link MemoryScan#SLAB}). */
    public CrossView withMemoryScan(MemoryScan scan) {
        this.scan = scan;
        return this;
    }

    public Result check(ProcessReport listed) {
        KernelViews kv = new KernelViews(kernel);
        List<ViewResult> views = new ArrayList<>();
        views.add(guarded(ProcessView.TASK_LIST, kv::taskList));
        views.add(guarded(ProcessView.PID_IDR, kv::pidIdr));
        views.add(guarded(ProcessView.CHILDREN, kv::children));
        Optional<TaskScan.Result> scanned = Optional.empty();
        Map<Long, TaskScan.Candidate> candidates = new LinkedHashMap<>();
        if (scan != MemoryScan.NONE) {
            TaskScan.Result s = new TaskScan(kernel, memory).scan(scan == MemoryScan.FULL ? TaskScan.Mode.FULL : TaskScan.Mode.SLAB);
            scanned = Optional.of(s);
            Map<Long, Integer> seen = new LinkedHashMap<>();
            for (TaskScan.Candidate c : s.candidates()) {
                seen.put(c.task(), c.pid());
                candidates.put(c.task(), c);
            }
            views.add(new ViewResult(ProcessView.MEMORY_SCAN, seen, s.problems(), s.complete()));
        }
        Reconciliation r = new Reconciliation(views, candidates, listed.completeness().reasons());
        r.run();
        List<ProcessInfo> all = new ArrayList<>(listed.processes());
        for (long task : r.extra) {
            try {
                all.add(processes.process(kernel.object("task_struct", task)));
            } catch (KernelReadException | AbsentMemoryException | ProfileException x) {
                r.reasons.add(String.format("task 0x%x (found by %s): %s", task, labels(r.seenBy.get(task)), x.getMessage()));
            }
        }
        Map<Long, List<String>> viewLabels = new LinkedHashMap<>();
        for (ProcessInfo p : all) {
            Set<ProcessView> in = r.seenBy.getOrDefault(p.task(), EnumSet.noneOf(ProcessView.class));
            viewLabels.put(p.task(), in.stream().map(ProcessView::label).toList());
        }
        ProcessReport report = new ProcessReport(all, Completeness.of(r.reasons), viewLabels);
        return new Result(report, r.findings, views, scanned, r.stale);
    }

    /** Applies the rule of the class comment to what the views saw. */
    private final class Reconciliation {
        static final Set<ProcessView> LIVE = EnumSet.of(ProcessView.TASK_LIST, ProcessView.PID_IDR, ProcessView.CHILDREN);

        final Map<ProcessView, ViewResult> byView = new LinkedHashMap<>();
        final Map<Long, TaskScan.Candidate> candidates;
        final Map<Long, EnumSet<ProcessView>> seenBy = new LinkedHashMap<>();
        final Map<Long, Integer> pids = new LinkedHashMap<>();
        final List<String> reasons;
        final List<Finding> findings = new ArrayList<>();
        /** Per broken live view, the processes other views found that its walk did not reach. */
        final Map<ProcessView, List<String>> missedByBroken = new TreeMap<>();
        final List<TaskScan.Candidate> stale = new ArrayList<>();
        /** Processes to add to the report: seen by some view, not on the task list, not stale. */
        final List<Long> extra = new ArrayList<>();

        Reconciliation(List<ViewResult> views, Map<Long, TaskScan.Candidate> candidates, List<String> listReasons) {
            this.candidates = candidates;
            this.reasons = new ArrayList<>(listReasons);
            for (ViewResult v : views) {
                byView.put(v.view(), v);
                v.leaders().forEach((task, pid) -> {
                    seenBy.computeIfAbsent(task, k -> EnumSet.noneOf(ProcessView.class)).add(v.view());
                    pids.putIfAbsent(task, pid);
                });
                if (v.view() != ProcessView.TASK_LIST) { // the task list's own problems are already in listReasons
                    v.problems().forEach(p -> reasons.add("view " + v.view().label() + ": " + p));
                    if (!v.complete() && v.problems().isEmpty()) {
                        reasons.add("view " + v.view().label() + ": walk stopped early");
                    }
                }
            }
        }

        void run() {
            seenBy.forEach(this::reconcile);
            brokenViews();
            extra.sort(Comparator.comparing(pids::get));
        }

        private void reconcile(long task, Set<ProcessView> in) {
            EnumSet<ProcessView> absent = EnumSet.noneOf(ProcessView.class);
            for (ProcessView v : LIVE) {
                if (byView.containsKey(v) && !in.contains(v)) {
                    absent.add(v);
                }
            }
            if (absent.isEmpty()) {
                return;
            }
            int pid = pids.get(task);
            Facts f = facts(task);
            if (absent.size() == LIVE.size()) {
                scanOnly(task, pid, f, in, absent);
                return;
            }
            if (!in.contains(ProcessView.TASK_LIST)) {
                extra.add(task);
            }
            if ((f.exitState & EXIT_DEAD) != 0) {
                return; // being reaped: release_task unlinks it from every list at once
            }
            EnumSet<ProcessView> unexplained = EnumSet.noneOf(ProcessView.class);
            for (ProcessView v : absent) {
                if (byView.get(v).complete()) {
                    unexplained.add(v);
                } else {
                    missedByBroken.computeIfAbsent(v, k -> new ArrayList<>())
                            .add(String.format("pid %d (%s) at 0x%x", pid, f.comm, task));
                }
            }
            reasons.add(String.format("views disagree: pid %d (%s) at 0x%x is in %s but not in %s", pid, f.comm, task,
                    labels(in), labels(absent)));
            if (!unexplained.isEmpty()) {
                findings.add(hidden(task, pid, f, in, unexplained, List.of()));
            }
        }

        /** Found by the scan alone: hidden when live, else a stale task_struct. */
        private void scanOnly(long task, int pid, Facts f, Set<ProcessView> in, Set<ProcessView> absent) {
            TaskScan.Candidate c = candidates.get(task);
            if (c == null || !c.live()) {
                if (c != null) {
                    stale.add(c);
                }
                return;
            }
            extra.add(task);
            reasons.add(String.format("views disagree: pid %d (%s) at 0x%x is live but only the physical-memory scan "
                    + "found it", pid, f.comm, task));
            findings.add(hidden(task, pid, f, in, absent, List.of(String.format(
                    "found at physical 0x%x; reference count %d, exit_state 0, neighbours on the task list point back: %s",
                    c.physical(), c.usage(), c.neighboursPointBack() ? "yes" : "no"))));
        }

        /** One corrupt-process-list finding per live view whose walk broke off. */
        private void brokenViews() {
            for (ViewResult v : byView.values()) {
                if (!v.view().live() || v.complete()) {
                    continue;
                }
                List<String> ev = new ArrayList<>();
                v.problems().stream().limit(10).forEach(p -> ev.add("walk: " + p));
                List<String> missed = missedByBroken.getOrDefault(v.view(), List.of());
                String summary = "the " + describe(v.view()) + " is corrupt: its walk broke off";
                if (!missed.isEmpty()) {
                    ev.add("walk reached " + v.leaders().size() + " processes; the other views found these beyond the break:");
                    ev.addAll(missed);
                    summary += ", and other views found " + missed.size() + " processes it did not reach";
                }
                findings.add(new Finding("corrupt-process-list", "high", 0, "", summary, ev));
            }
        }
    }

    private Finding hidden(long task, int pid, Facts f, Set<ProcessView> in, Set<ProcessView> absent, List<String> more) {
        List<String> ev = new ArrayList<>();
        ev.add(String.format("task_struct 0x%x, pid %d, comm %s", task, pid, f.comm));
        ev.add("seen by: " + labels(in));
        ev.add("absent from: " + labels(absent));
        ev.addAll(more);
        String how = absent.size() == 3 ? "live process unlinked from every kernel list"
                : absent.contains(ProcessView.TASK_LIST) ? "process unlinked from the task list"
                : "process missing from the " + absent.stream().map(CrossView::describe).collect(Collectors.joining(" and the "));
        return new Finding("hidden-process", "high", pid, f.comm, how + " (seen by " + labels(in) + ")", ev);
    }

    private record Facts(String comm, long exitState) {
    }

    private Facts facts(long task) {
        String comm = "?";
        long exit = 0;
        try {
            KObject t = kernel.object("task_struct", task);
            comm = t.string("comm");
            exit = t.integer("exit_state") & 0xffffffffL;
        } catch (KernelReadException | AbsentMemoryException | ProfileException e) {
            // named as "?"
        }
        return new Facts(comm, exit);
    }

    private static String labels(Set<ProcessView> views) {
        return views.stream().map(ProcessView::label).collect(Collectors.joining(", "));
    }

    private static String describe(ProcessView v) {
        return switch (v) {
            case TASK_LIST -> "task list";
            case PID_IDR -> "PID namespace's IDR";
            case CHILDREN -> "parent/child links";
            case MEMORY_SCAN -> "physical-memory scan";
        };
    }

    private interface Walk {
        ViewResult walk();
    }

    private static ViewResult guarded(ProcessView view, Walk w) {
        try {
            return w.walk();
        } catch (KernelReadException | AbsentMemoryException | ProfileException e) {
            return new ViewResult(view, Map.of(), List.of(view.label() + ": " + e.getMessage()), false);
        }
    }
}
