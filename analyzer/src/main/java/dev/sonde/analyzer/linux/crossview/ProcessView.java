package dev.sonde.analyzer.linux.crossview;

/**
 * An independent way of enumerating the guest's processes. The first three are the kernel's own live structures; the
 * physical-memory scan looks for {@code task_struct}s wherever they are, so it also sees freed ones.
 */
public enum ProcessView {
    /** The task list: {@code init_task.tasks}, every thread group leader. */
    TASK_LIST("tasks"),
    /** The PID namespace's IDR ({@code init_pid_ns.idr}): every {@code struct pid} and the task using it. */
    PID_IDR("pid-idr"),
    /** Parent/child and thread-group links: every task reachable from {@code init_task} through {@code children}. */
    CHILDREN("children"),
    /** A scan of physical memory for {@code task_struct}s that point to themselves as their group leader. */
    MEMORY_SCAN("scan");

    private final String label;

    ProcessView(String label) {
        this.label = label;
    }

    /** The short name used in reports ({@code tasks}, {@code pid-idr}, {@code children}, {@code scan}). */
    public String label() {
        return label;
    }

    /** Whether the view is one of the kernel's live structures (a process must be in all of them). */
    public boolean live() {
        return this != MEMORY_SCAN;
    }
}
