package dev.sonde.analyzer.linux.crossview;

import dev.sonde.analyzer.kernel.profile.KObject;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelReadException;
import dev.sonde.analyzer.kernel.profile.PhysicalScan;
import dev.sonde.analyzer.kernel.profile.ProfileException;
import dev.sonde.analyzer.memory.AbsentMemoryException;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds thread group leaders by scanning physical memory, independently of every kernel list. {@code task_struct}s
 * come from their slab cache in the direct map and are 64-byte aligned ({@code L1_CACHE_BYTES}); a group leader's
 * {@code group_leader} points to itself, so one 64-bit compare per 64 bytes ({@code group_leader == page_offset_base
 * + physical}) finds the candidates in one sequential pass. Each candidate is then validated on its fields (below);
 * validation asks for pid == tgid in (0, PID_MAX_LIMIT], a printable NUL-terminated comm, kernel pointers in
 * {@code tasks}, {@code real_parent}, {@code parent}, {@code cred} and {@code real_cred}, a THREAD_SIZE-aligned kernel
 * stack (NULL only once the task has died), no {@code mm} for kernel threads and {@code active_mm == mm} for user
 * processes. A validated one is {@link Candidate#live() live} when its reference count is non-zero and it has not exited, and
 * stale otherwise (a freed {@code task_struct} whose memory was not reused yet, or a zombie).
 */
public final class TaskScan {
    static final int ALIGN = 64;
    static final long PF_KTHREAD = 0x0020_0000L;
    /** {@code PID_MAX_LIMIT} on 64-bit. */
    static final long PID_MAX = 4 * 1024 * 1024;
    /** {@code THREAD_SIZE} on x86-64 without KASAN: kernel stacks are aligned to it. */
    static final long THREAD_SIZE = 16 * 1024;
    static final long TASK_DEAD = 0x80;
    static final int MAX_CANDIDATES = 1 << 20;

    /**
     * A validated {@code task_struct} found in physical memory.
     *
     * @param task                its direct-map virtual address (the address the kernel's lists use)
     * @param physical            its physical address
     * @param live                reference count non-zero, {@code exit_state} 0 and not {@code TASK_DEAD}
     * @param neighboursPointBack both neighbours on the task list point back to it
     * @param exitState           {@code exit_state}
     * @param usage               {@code usage} (the task's reference count)
     */
    public record Candidate(long task, long physical, int pid, String comm, boolean live, boolean neighboursPointBack,
                            long exitState, long usage) {
    }

    /** What one scan found: validated candidates, how many self-referencing words failed validation, bytes read. */
    public record Result(List<Candidate> candidates, int rejected, long bytesScanned, List<String> problems,
                         boolean complete) {
        public Result {
            candidates = List.copyOf(candidates);
            problems = List.copyOf(problems);
        }
    }

    private final KernelMemory kernel;
    private final PhysicalMemory memory;

    public TaskScan(KernelMemory kernel, PhysicalMemory memory) {
        this.kernel = kernel;
        this.memory = memory;
    }

    public Result scan() {
        List<String> problems = new ArrayList<>();
        long pageOffset;
        try {
            pageOffset = kernel.space().readU64(kernel.profile().requireSymbol("page_offset_base"));
        } catch (AbsentMemoryException | ProfileException e) {
            return new Result(List.of(), 0, 0, List.of("scan: page_offset_base: " + e.getMessage()), false);
        }
        long glOff = kernel.profile().offset("task_struct", "group_leader");
        int size = (int) kernel.profile().requireSize("task_struct");
        List<Long> hits = new ArrayList<>();
        long[] bytes = {0};
        boolean[] capped = {false};
        PhysicalScan.scan(memory, memory.ranges(), size, (base, buf, length, limit) -> {
            bytes[0] += limit;
            int first = (int) ((ALIGN - (base & (ALIGN - 1))) & (ALIGN - 1));
            long want = pageOffset + base;
            for (int o = first; o < limit && o + glOff + 8 <= length; o += ALIGN) {
                if (le64(buf, (int) (o + glOff)) == want + o) {
                    if (hits.size() >= MAX_CANDIDATES) {
                        capped[0] = true;
                        return false;
                    }
                    hits.add(base + o);
                }
            }
            return true;
        });
        if (capped[0]) {
            problems.add("scan: stopped at the limit of " + MAX_CANDIDATES + " candidates");
        }
        List<Candidate> out = new ArrayList<>();
        int rejected = 0;
        for (long phys : hits) {
            Candidate c = validate(pageOffset + phys, phys);
            if (c == null) {
                rejected++;
            } else {
                out.add(c);
            }
        }
        return new Result(out, rejected, bytes[0], problems, !capped[0]);
    }

    /** The candidate when its fields are those of a task_struct, else null. */
    Candidate validate(long address, long physical) {
        try {
            KObject t = kernel.object("task_struct", address);
            long pid = t.integer("pid");
            long tgid = t.integer("tgid");
            if (pid <= 0 || pid > PID_MAX || tgid != pid) {
                return null; // pid 0: the per-CPU idle tasks, in no view
            }
            String comm = comm(t.bytes("comm"));
            if (comm == null) {
                return null;
            }
            long tasks = t.addressOf("tasks");
            long next = kernel.object("list_head", tasks).pointer("next");
            long prev = kernel.object("list_head", tasks).pointer("prev");
            if (!aligned(next) || !aligned(prev) || !aligned(t.pointer("real_parent")) || !aligned(t.pointer("parent"))
                    || !aligned(t.pointer("cred")) || !aligned(t.pointer("real_cred"))) {
                return null;
            }
            long exitState = t.integer("exit_state") & 0xffffffffL;
            long state = t.integer("__state") & 0xffffffffL;
            boolean exited = exitState != 0 || (state & TASK_DEAD) != 0;
            long stack = t.pointer("stack");
            // the stack is released (stack = NULL) once a task has died, zombies included
            if (stack == 0 ? !exited : !kernel.plausibleKernelPointer(stack) || (stack & (THREAD_SIZE - 1)) != 0) {
                return null;
            }
            long mm = t.pointer("mm");
            long flags = t.integer("flags");
            if ((flags & PF_KTHREAD) != 0 ? mm != 0 : mm != 0 && (!aligned(mm) || t.pointer("active_mm") != mm)) {
                return null;
            }
            long usage = t.u32("usage");
            boolean live = usage > 0 && usage < 1 << 30 && exitState == 0 && (state & TASK_DEAD) == 0;
            boolean back = pointsBack(next, tasks, "prev") && pointsBack(prev, tasks, "next");
            return new Candidate(address, physical, (int) pid, comm, live, back, exitState, usage);
        } catch (KernelReadException | AbsentMemoryException | ProfileException e) {
            return null;
        }
    }

    private boolean pointsBack(long neighbour, long self, String member) {
        try {
            return kernel.object("list_head", neighbour).pointer(member) == self;
        } catch (KernelReadException | AbsentMemoryException e) {
            return false;
        }
    }

    private boolean aligned(long p) {
        return kernel.plausibleKernelPointer(p) && (p & 7) == 0;
    }

    /** comm when it is a non-empty NUL-terminated name without control characters, else null. */
    static String comm(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) {
            int c = b[n] & 0xff;
            if (c < 0x20 || c == 0x7f) {
                return null;
            }
            n++;
        }
        if (n == 0 || n == b.length) {
            return null;
        }
        return new String(b, 0, n, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static long le64(byte[] b, int off) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return v;
    }
}
