package dev.sonde.analyzer.linux.crossview;

import dev.sonde.analyzer.kernel.profile.KObject;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelReadException;
import dev.sonde.analyzer.kernel.profile.ProfileException;
import dev.sonde.analyzer.kernel.profile.WalkResult;
import dev.sonde.analyzer.memory.AbsentMemoryException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The three live kernel structures that each enumerate the processes: the task list, the PID namespace's IDR and the
 * parent/child and thread-group links. Each walk is bounded (element limits, cycle detection, pointer sanity through
 * {@link KernelMemory}) and returns what it saw with what it could not read.
 */
final class KernelViews {
    static final int MAX_TASKS = 1 << 20;
    static final int MAX_THREADS = 1 << 16;
    /** List entries the children view reads in all (a hostile guest could make every task's list huge). */
    static final long MAX_STEPS = 4L * MAX_TASKS;

    private final KernelMemory kernel;

    KernelViews(KernelMemory kernel) {
        this.kernel = kernel;
    }

    /** {@code init_task.tasks}: the thread group leaders, in list order. */
    ViewResult taskList() {
        KObject init = kernel.global("init_task", "task_struct");
        WalkResult<KObject> tasks = kernel.list(init.addressOf("tasks"), "task_struct", "tasks", MAX_TASKS);
        Map<Long, Integer> leaders = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>(tasks.problems());
        for (KObject t : tasks.items()) {
            leaders.put(t.address(), pidOf(t, problems));
        }
        return new ViewResult(ProcessView.TASK_LIST, leaders, problems, tasks.complete());
    }

    /**
     * {@code init_pid_ns.idr}: every allocated pid number (all namespaces' tasks have one at level 0) and the task in
     * {@code pid->tasks[PIDTYPE_PID]}; a thread counts for its group leader. A pid that only names a process group or
     * session (its PID list empty) is no task.
     */
    ViewResult pidIdr() {
        Map<Long, Integer> leaders = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        KObject ns = kernel.global("init_pid_ns", "pid_namespace");
        WalkResult<KernelMemory.XaEntry> ids = kernel.idr(ns.addressOf("idr"), MAX_TASKS);
        problems.addAll(ids.problems());
        long type = kernel.profile().enumValue("pid_type", "PIDTYPE_PID").orElse(0);
        long headSize = kernel.profile().requireSize("hlist_head");
        long nodeSize = kernel.profile().requireSize("hlist_node");
        for (KernelMemory.XaEntry e : ids.items()) {
            if (e.value() || !kernel.plausibleKernelPointer(e.entry())) {
                problems.add(String.format("pid-idr: id %d holds 0x%x, not a struct pid pointer", e.index(), e.entry()));
                continue;
            }
            try {
                KObject pid = kernel.object("pid", e.entry());
                long first = kernel.object("hlist_head", pid.addressOf("tasks") + type * headSize).pointer("first");
                if (first == 0) {
                    continue;
                }
                if (!kernel.plausibleKernelPointer(first)) {
                    problems.add(String.format("pid-idr: pid %d (struct pid 0x%x): task link 0x%x is not a kernel address",
                            e.index(), pid.address(), first));
                    continue;
                }
                long nr = kernel.object("upid", pid.addressOf("numbers")).integer("nr");
                if (nr != e.index()) {
                    problems.add(String.format("pid-idr: id %d: struct pid 0x%x says its number is %d", e.index(),
                            pid.address(), nr));
                }
                KObject task = kernel.containerOf(first - type * nodeSize, "task_struct", "pid_links");
                long tpid = task.integer("pid");
                if (tpid != e.index()) {
                    problems.add(String.format("pid-idr: id %d: task 0x%x has pid %d", e.index(), task.address(), tpid));
                }
                KObject leader = leaderOf(task);
                leaders.putIfAbsent(leader.address(), pidOf(leader, problems));
            } catch (KernelReadException | AbsentMemoryException | ProfileException x) {
                problems.add(String.format("pid-idr: id %d (struct pid 0x%x): %s", e.index(), e.entry(), x.getMessage()));
            }
        }
        return new ViewResult(ProcessView.PID_IDR, leaders, problems, ids.complete());
    }

    /**
     * Every task reachable from {@code init_task} through {@code children}/{@code sibling} lists and thread groups
     * ({@code signal->thread_head}); children of a thread are on that thread's own list, so threads are followed too.
     */
    ViewResult children() {
        Map<Long, Integer> leaders = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        boolean complete = true;
        KObject init = kernel.global("init_task", "task_struct");
        Deque<KObject> queue = new ArrayDeque<>();
        Set<Long> seen = new HashSet<>();
        Set<Long> groups = new HashSet<>();
        queue.add(init);
        seen.add(init.address());
        long steps = 0;
        while (!queue.isEmpty()) {
            KObject t = queue.poll();
            if (seen.size() > MAX_TASKS || steps > MAX_STEPS) {
                problems.add("children: stopped at the limit of " + MAX_TASKS + " tasks or " + MAX_STEPS + " list entries");
                complete = false;
                break;
            }
            try {
                if (t.address() != init.address() && t.integer("pid") == t.integer("tgid")) {
                    leaders.put(t.address(), (int) t.integer("pid"));
                }
                WalkResult<KObject> kids = kernel.list(t.addressOf("children"), "task_struct", "sibling", MAX_TASKS);
                complete &= note(kids, "children of task 0x%x".formatted(t.address()), problems);
                steps += kids.items().size();
                for (KObject c : kids.items()) {
                    if (seen.add(c.address())) {
                        queue.add(c);
                    }
                }
                long signal = t.pointer("signal");
                if (signal != 0 && groups.add(signal)) {
                    KObject s = kernel.object("signal_struct", signal);
                    WalkResult<KObject> threads = kernel.list(s.addressOf("thread_head"), "task_struct", "thread_node",
                            MAX_THREADS);
                    complete &= note(threads, "threads of task 0x%x".formatted(t.address()), problems);
                    steps += threads.items().size();
                    for (KObject th : threads.items()) {
                        if (seen.add(th.address())) {
                            queue.add(th);
                        }
                    }
                }
            } catch (KernelReadException | AbsentMemoryException | ProfileException x) {
                problems.add(String.format("children: task 0x%x: %s", t.address(), x.getMessage()));
                complete = false;
            }
        }
        return new ViewResult(ProcessView.CHILDREN, leaders, problems, complete);
    }

    private static boolean note(WalkResult<KObject> r, String what, List<String> problems) {
        for (String p : r.problems()) {
            problems.add(what + ": " + p);
        }
        return r.complete();
    }

    private KObject leaderOf(KObject task) {
        if (task.integer("pid") == task.integer("tgid")) {
            return task;
        }
        long leader = task.pointer("group_leader");
        if (!kernel.plausibleKernelPointer(leader)) {
            throw new KernelReadException(String.format("task 0x%x: group_leader 0x%x is not a kernel address",
                    task.address(), leader));
        }
        return kernel.object("task_struct", leader);
    }

    private static int pidOf(KObject t, List<String> problems) {
        try {
            return (int) t.integer("pid");
        } catch (KernelReadException | AbsentMemoryException e) {
            problems.add(String.format("task 0x%x: %s", t.address(), e.getMessage()));
            return -1;
        }
    }
}
