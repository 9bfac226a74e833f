package dev.sonde.analyzer.kernel.profile;

import java.util.ArrayList;
import java.util.List;

/**
 * The kernel's thread groups from the task list ({@code init_task.tasks}), read through the profile: a proof that a
 * profile built from the image's own BTF and kallsyms is enough to walk kernel data. The full process analysis builds
 * on the same typed view.
 */
public final class ProcessLister {
    /** {@code PF_KTHREAD}: the task is a kernel thread. */
    static final long PF_KTHREAD = 0x0020_0000L;
    static final int MAX_TASKS = 1 << 20;

    private ProcessLister() {
    }

    /**
     * One thread group leader.
     *
     * @param address      the {@code task_struct}'s virtual address
     * @param ppid         the thread group ID of {@code real_parent} (0 for tasks whose parent is the idle task)
     * @param comm         {@code task_struct.comm}
     * @param kernelThread {@code PF_KTHREAD} is set
     * @param mm           the {@code mm_struct} address, 0 for kernel threads
     */
    public record Task(long address, int pid, int tgid, int ppid, String comm, boolean kernelThread, long mm) {
    }

    public static WalkResult<Task> list(KernelMemory kernel) {
        KObject init = kernel.global("init_task", "task_struct");
        WalkResult<KObject> tasks = kernel.list(init.addressOf("tasks"), "task_struct", "tasks", MAX_TASKS);
        List<Task> out = new ArrayList<>();
        List<String> problems = new ArrayList<>(tasks.problems());
        for (KObject t : tasks.items()) {
            try {
                int ppid = t.deref("real_parent").map(p -> (int) p.integer("tgid")).orElse(0);
                long flags = t.integer("flags");
                out.add(new Task(t.address(), (int) t.integer("pid"), (int) t.integer("tgid"), ppid, t.string("comm"),
                        (flags & PF_KTHREAD) != 0, t.pointer("mm")));
            } catch (KernelReadException e) {
                problems.add(e.getMessage());
            }
        }
        return new WalkResult<>(out, problems, tasks.complete() && problems.isEmpty());
    }
}
