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

    /**
     * What one scan found.
     *
     * @param mode           how it scanned (a slab scan falls back to a full one when the slabs cannot be located)
     * @param candidates     the validated task_structs
     * @param rejected       self-referencing words that failed validation (the per-CPU idle tasks, pid 0, among them)
     * @param bytesScanned   bytes read: struct pages and slabs, or all of physical memory
     * @param unmanagedPages present pages without a struct page (firmware ranges the kernel does not manage)
     */
    public record Result(Mode mode, List<Candidate> candidates, int rejected, long bytesScanned, long unmanagedPages,
                         List<String> problems, boolean complete) {
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

    /** Where to look. */
    public enum Mode {
        /**
         * Only the slabs of the {@code task_struct} cache: the {@code struct page}s in {@code vmemmap} name each
         * slab's cache, so the scan reads 64 bytes per page plus the task slabs (falls back to {@link #FULL} when the
         * profile lacks {@code task_struct_cachep} or {@code struct slab}).
         */
        SLAB,
        /** All of physical memory: also finds a {@code task_struct} placed outside its slab cache. */
        FULL
    }

    /** A slab-guided scan (see {@link Mode#SLAB}). */
    public Result scan() {
        return scan(Mode.SLAB);
    }

    public Result scan(Mode mode) {
        long pageOffset;
        try {
            pageOffset = kernel.space().readU64(kernel.profile().requireSymbol("page_offset_base"));
        } catch (AbsentMemoryException | ProfileException e) {
            return new Result(mode, List.of(), 0, 0, 0, List.of("scan: page_offset_base: " + e.getMessage()), false);
        }
        long glOff = kernel.profile().offset("task_struct", "group_leader");
        int size = (int) kernel.profile().requireSize("task_struct");
        List<String> problems = new ArrayList<>();
        Hits hits = new Hits(pageOffset, glOff);
        if (mode == Mode.SLAB && !slabs(hits, problems)) {
            hits = new Hits(pageOffset, glOff);
            mode = Mode.FULL;
        }
        if (mode == Mode.FULL) {
            Hits h = hits;
            PhysicalScan.scan(memory, memory.ranges(), size, (base, buf, length, limit) -> h.visit(base, buf, length, limit));
        }
        if (hits.capped) {
            problems.add("scan: stopped at the limit of " + MAX_CANDIDATES + " candidates");
        }
        List<Candidate> out = new ArrayList<>();
        int rejected = 0;
        for (long phys : hits.found) {
            Candidate c = validate(pageOffset + phys, phys);
            if (c == null) {
                rejected++;
            } else {
                out.add(c);
            }
        }
        return new Result(mode, out, rejected, hits.bytes, hits.unmanagedPages, problems, !hits.capped && problems.isEmpty());
    }

    /** Self-referencing group_leader words found so far. */
    private static final class Hits {
        final long pageOffset;
        final long glOff;
        final List<Long> found = new ArrayList<>();
        long bytes;
        long unmanagedPages;
        boolean capped;

        Hits(long pageOffset, long glOff) {
            this.pageOffset = pageOffset;
            this.glOff = glOff;
        }

        /** Bytes [0, length) of buf are at physical base; objects may start below limit. */
        boolean visit(long base, byte[] buf, int length, int limit) {
            bytes += limit;
            int first = (int) ((ALIGN - (base & (ALIGN - 1))) & (ALIGN - 1));
            long want = pageOffset + base;
            for (int o = first; o < limit && o + glOff + 8 <= length; o += ALIGN) {
                if (le64(buf, (int) (o + glOff)) == want + o) {
                    if (found.size() >= MAX_CANDIDATES) {
                        capped = true;
                        return false;
                    }
                    found.add(base + o);
                }
            }
            return true;
        }
    }

    static final int PAGE = 4096;
    static final int PAGES_PER_READ = 512;
    /** The largest slab SLUB makes ({@code PAGE_ALLOC_COSTLY_ORDER} is 3; order 4 leaves room). */
    static final long MAX_SLAB = PAGE << 4;

    /** Scans the task_struct slabs found through vmemmap; false when the profile cannot locate them. */
    private boolean slabs(Hits hits, List<String> problems) {
        var profile = kernel.profile();
        var cachep = profile.symbol("task_struct_cachep");
        var pgSlab = profile.enumValue("pageflags", "PG_slab");
        if (cachep.isEmpty() || pgSlab.isEmpty() || profile.userType("slab").isEmpty()
                || profile.member("slab", "slab_cache").isEmpty()) {
            return false;
        }
        long cache;
        long vmemmap;
        long objectSize;
        try {
            cache = kernel.space().readU64(cachep.getAsLong());
            vmemmap = kernel.space().readU64(profile.requireSymbol("vmemmap_base"));
            objectSize = kernel.object("kmem_cache", cache).integer("size") & 0xffffffffL;
        } catch (AbsentMemoryException | KernelReadException | ProfileException e) {
            problems.add("scan: the task_struct cache: " + e.getMessage() + "; scanning all of physical memory");
            return false;
        }
        int pageSize = (int) profile.requireSize("page");
        long flagsOff = kernel.object("page", vmemmap).addressOf("flags") - vmemmap;
        long cacheOff = kernel.object("slab", vmemmap).addressOf("slab_cache") - vmemmap;
        long slabBit = 1L << pgSlab.getAsLong();
        byte[] slab = new byte[(int) MAX_SLAB];
        for (var range : memory.ranges()) {
            long firstPfn = (range.start() + PAGE - 1) / PAGE;
            long endPfn = range.end() / PAGE;
            for (long pfn = firstPfn; pfn < endPfn; pfn += PAGES_PER_READ) {
                int n = (int) Math.min(PAGES_PER_READ, endPfn - pfn);
                byte[] pages;
                try {
                    pages = kernel.space().readBytes(vmemmap + pfn * pageSize, n * pageSize);
                } catch (AbsentMemoryException e) {
                    // no struct page: memory the kernel does not manage (firmware ROM), so no slab either
                    hits.unmanagedPages += n;
                    continue;
                }
                hits.bytes += (long) n * pageSize;
                for (int i = 0; i < n; i++) {
                    int at = i * pageSize;
                    if ((le64(pages, at + (int) flagsOff) & slabBit) == 0 || le64(pages, at + (int) cacheOff) != cache) {
                        continue;
                    }
                    long head = pfn + i;
                    long objects;
                    try {
                        objects = kernel.object("slab", vmemmap + head * pageSize).integer("objects");
                    } catch (KernelReadException e) {
                        problems.add(String.format("scan: slab at pfn 0x%x: %s", head, e.getMessage()));
                        continue;
                    }
                    long extent = Math.min(objects * objectSize, MAX_SLAB);
                    long phys = head * PAGE;
                    int got = memory.read(phys, slab, 0, (int) Math.min(extent, range.end() - phys));
                    if (got > 0 && !hits.visit(phys, slab, got, got)) {
                        return true;
                    }
                }
            }
        }
        return true;
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
