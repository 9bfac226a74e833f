package dev.sonde.analyzer.linux;

import dev.sonde.analyzer.kernel.profile.KObject;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelReadException;
import dev.sonde.analyzer.kernel.profile.ProfileException;
import dev.sonde.analyzer.kernel.profile.WalkResult;
import dev.sonde.analyzer.memory.AbsentMemoryException;
import dev.sonde.analyzer.memory.MemoryView;
import dev.sonde.analyzer.memory.x86.X86AddressSpace;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Processes, threads, memory maps and open files of a Linux image, read from the task list through a kernel profile:
 * what /proc/PID/{stat,status,cmdline,environ,exe,maps,fd,fdinfo} would have shown at the capture instant.
 * User memory (command line, environment) is read through each process' own page tables ({@code mm->pgd}).
 * Nothing here throws for guest data: what cannot be read is left empty and recorded as a reason in the
 * {@link Completeness} of the process or of the whole report.
 */
public final class LinuxProcesses {
    static final long PF_KTHREAD = 0x0020_0000L;
    static final int MAX_TASKS = 1 << 20;
    static final int MAX_THREADS = 1 << 16;
    static final int MAX_VMAS = 1 << 20;
    static final int MAX_FDS = 1 << 20;
    /** /proc reads at most this much of the argument and environment areas for us. */
    static final int MAX_ARGS = 1 << 20;
    static final long O_CLOEXEC = 0x80000;
    private static final String STATES = "RSDTtXZPI";

    private final KernelMemory kernel;
    private final MemoryView physical;
    private final Sockets sockets;
    private PathResolver paths;
    private int maxFds = MAX_FDS;
    private final OptionalLong specialMappingOps;
    private final OptionalLong legacySpecialMappingOps;

    public LinuxProcesses(KernelMemory kernel, MemoryView physical) {
        this.kernel = kernel;
        this.physical = physical;
        this.sockets = new Sockets(kernel);
        this.paths = null;
        this.specialMappingOps = kernel.profile().symbol("special_mapping_vmops");
        this.legacySpecialMappingOps = kernel.profile().symbol("legacy_special_mapping_vmops");
    }

    /** Reads at most {@code limit} descriptor slots per process (default {@value #MAX_FDS}, the kernel's default nr_open). */
    public LinuxProcesses withFdLimit(int limit) {
        this.maxFds = limit;
        return this;
    }

    /** Every thread group on the task list, in list order. */
    public ProcessReport analyze() {
        KObject init = kernel.global("init_task", "task_struct");
        WalkResult<KObject> tasks = kernel.list(init.addressOf("tasks"), "task_struct", "tasks", MAX_TASKS);
        List<String> reasons = new ArrayList<>(tasks.problems());
        if (!tasks.complete() && reasons.isEmpty()) {
            reasons.add("task list walk stopped early");
        }
        // Paths as /proc shows them to a process sharing pid 1's root (the swapper's when there is no pid 1).
        KObject reader = init;
        for (KObject t : tasks.items()) {
            try {
                if (t.integer("pid") == 1) {
                    reader = t;
                    break;
                }
            } catch (KernelReadException e) {
                // the task is reported below
            }
        }
        paths = new PathResolver(kernel, reader);
        List<ProcessInfo> out = new ArrayList<>();
        for (KObject t : tasks.items()) {
            try {
                out.add(process(t));
            } catch (KernelReadException | AbsentMemoryException | ProfileException e) {
                reasons.add(String.format("task 0x%x: %s", t.address(), e.getMessage()));
            }
        }
        return new ProcessReport(out, Completeness.of(reasons));
    }

    /** One thread group from its leader's {@code task_struct} (paths as the initial task's root sees them). */
    public ProcessInfo process(KObject t) {
        if (paths == null) {
            paths = new PathResolver(kernel);
        }
        List<String> reasons = new ArrayList<>();
        int pid = (int) t.integer("pid");
        int tgid = (int) t.integer("tgid");
        String comm = t.string("comm");
        long flags = t.integer("flags");
        boolean kthread = (flags & PF_KTHREAD) != 0;
        int ppid = 0;
        try {
            ppid = t.deref("real_parent").map(p -> (int) p.integer("tgid")).orElse(0);
        } catch (KernelReadException e) {
            reasons.add("ppid: " + e.getMessage());
        }
        String state = state(t);
        long start = t.integer("start_boottime");
        Optional<Integer> uid = Optional.empty();
        Optional<Integer> euid = Optional.empty();
        Optional<Integer> gid = Optional.empty();
        Optional<Integer> egid = Optional.empty();
        try {
            Optional<KObject> cred = t.deref("real_cred");
            if (cred.isPresent()) {
                uid = Optional.of((int) cred.get().field("uid").integer("val"));
                euid = Optional.of((int) cred.get().field("euid").integer("val"));
                gid = Optional.of((int) cred.get().field("gid").integer("val"));
                egid = Optional.of((int) cred.get().field("egid").integer("val"));
            } else {
                reasons.add("no credentials (real_cred is NULL)");
            }
        } catch (KernelReadException e) {
            reasons.add("credentials: " + e.getMessage());
        }
        List<Integer> threads = threads(t, reasons);

        Optional<List<String>> cmdline = Optional.empty();
        Optional<List<String>> environ = Optional.empty();
        Optional<String> exe = Optional.empty();
        List<Mapping> maps = new ArrayList<>();
        long mmAddr = t.pointer("mm");
        if (mmAddr != 0) {
            KObject mm = kernel.object("mm_struct", mmAddr);
            X86AddressSpace user = null;
            try {
                long pgd = mm.pointer("pgd");
                long pgdPhys = kernel.space().physicalAddress(pgd);
                if (pgdPhys < 0) {
                    throw new KernelReadException(String.format("mm 0x%x: pgd 0x%x is not mapped", mmAddr, pgd));
                }
                user = new X86AddressSpace(physical, pgdPhys, kernel.space().mode());
            } catch (KernelReadException | AbsentMemoryException e) {
                reasons.add("page tables: " + e.getMessage());
            }
            if (user != null) {
                cmdline = guarded("cmdline", reasons, user, u -> cmdline(mm, u));
                environ = guarded("environ", reasons, user, u -> environ(mm, u));
            }
            try {
                long exeFile = mm.pointer("exe_file");
                if (exeFile != 0) {
                    exe = Optional.of(paths.file(exeFile).path());
                }
            } catch (KernelReadException | AbsentMemoryException | ProfileException e) {
                reasons.add("exe: " + e.getMessage());
            }
            maps = maps(mm, reasons);
        }
        List<OpenFile> files = files(t, reasons);
        return new ProcessInfo(t.address(), pid, tgid, ppid, comm, state, kthread, flags, uid, euid, gid, egid, start,
                start / 10_000_000L, cmdline, environ, exe, threads, maps, files, Completeness.of(reasons));
    }

    private interface UserRead<T> {
        T read(X86AddressSpace user);
    }

    private static <T> Optional<T> guarded(String what, List<String> reasons, X86AddressSpace user, UserRead<T> r) {
        try {
            return Optional.of(r.read(user));
        } catch (KernelReadException | AbsentMemoryException e) {
            reasons.add(what + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    /** The /proc state letter: {@code __task_state_index} of {@code __state} and {@code exit_state}. */
    static String state(KObject t) {
        long s = t.integer("__state") & 0xffffffffL;
        long exit = t.integer("exit_state") & 0xffffffffL;
        long report = (s | exit) & 0x7f;
        if (s == 0x402) { // TASK_IDLE = TASK_UNINTERRUPTIBLE | TASK_NOLOAD
            report = 0x80;
        }
        if (s == 0x1000) { // TASK_RTLOCK_WAIT
            report = 0x2;
        }
        int index = 64 - Long.numberOfLeadingZeros(report);
        return index < STATES.length() ? String.valueOf(STATES.charAt(index)) : "?";
    }

    private List<Integer> threads(KObject t, List<String> reasons) {
        List<Integer> tids = new ArrayList<>();
        try {
            KObject signal = t.deref("signal").orElse(null);
            if (signal == null) {
                reasons.add("threads: no signal_struct");
                return List.of((int) t.integer("pid"));
            }
            WalkResult<KObject> r = kernel.list(signal.addressOf("thread_head"), "task_struct", "thread_node", MAX_THREADS);
            reasons.addAll(r.problems());
            for (KObject x : r.items()) {
                tids.add((int) x.integer("pid"));
            }
        } catch (KernelReadException | AbsentMemoryException e) {
            reasons.add("threads: " + e.getMessage());
        }
        return tids;
    }

    // ------------------------------------------------------------------ command line and environment

    /** As {@code get_mm_cmdline}: argv area, or when its last byte was overwritten (setproctitle) up to the first NUL. */
    static List<String> cmdline(KObject mm, X86AddressSpace user) {
        long argStart = mm.integer("arg_start");
        long argEnd = mm.integer("arg_end");
        long envStart = mm.integer("env_start");
        long envEnd = mm.integer("env_end");
        if (Long.compareUnsigned(argEnd, argStart) <= 0) {
            return List.of();
        }
        if (envStart != argEnd || Long.compareUnsigned(envEnd, envStart) < 0) {
            envStart = argEnd;
            envEnd = argEnd;
        }
        long len = Math.min(envEnd - argStart, MAX_ARGS);
        int last = user.readU8(argEnd - 1);
        byte[] b;
        if (last != 0) {
            // setproctitle(): up to a page from arg_start, cut at the first NUL (kept)
            int n = (int) Math.min(len, 4096);
            b = readUser(user, argStart, n);
            int z = 0;
            while (z < b.length && b[z] != 0) {
                z++;
            }
            b = java.util.Arrays.copyOf(b, z < b.length ? z + 1 : z);
        } else {
            b = readUser(user, argStart, (int) Math.min(argEnd - argStart, MAX_ARGS));
        }
        return splitNul(b);
    }

    static List<String> environ(KObject mm, X86AddressSpace user) {
        long envStart = mm.integer("env_start");
        long envEnd = mm.integer("env_end");
        if (Long.compareUnsigned(envEnd, envStart) <= 0) {
            return List.of();
        }
        return splitNul(readUser(user, envStart, (int) Math.min(envEnd - envStart, MAX_ARGS)));
    }

    private static byte[] readUser(X86AddressSpace user, long address, int length) {
        return user.readBytes(address, length);
    }

    /** A NUL-separated block as a list; a final terminating NUL does not start a new item. */
    static List<String> splitNul(byte[] b) {
        int n = b.length;
        List<String> out = new ArrayList<>();
        if (n == 0) {
            return out;
        }
        if (b[n - 1] == 0) {
            n--;
        }
        int start = 0;
        for (int i = 0; i <= n; i++) {
            if (i == n || b[i] == 0) {
                out.add(new String(b, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ memory maps

    private List<Mapping> maps(KObject mm, List<String> reasons) {
        List<Mapping> out = new ArrayList<>();
        WalkResult<KObject> vmas;
        long brk;
        long startBrk;
        long startStack;
        try {
            vmas = kernel.vmas(mm, MAX_VMAS);
            brk = mm.integer("brk");
            startBrk = mm.integer("start_brk");
            startStack = mm.integer("start_stack");
        } catch (KernelReadException | AbsentMemoryException e) {
            reasons.add("maps: " + e.getMessage());
            return out;
        }
        reasons.addAll(vmas.problems());
        for (KObject v : vmas.items()) {
            try {
                out.add(mapping(v, brk, startBrk, startStack));
            } catch (KernelReadException | AbsentMemoryException e) {
                reasons.add(String.format("vma 0x%x: %s", v.address(), e.getMessage()));
            }
        }
        return out;
    }

    private Mapping mapping(KObject v, long brk, long startBrk, long startStack) {
        long start = v.integer("vm_start");
        long end = v.integer("vm_end");
        long flags = v.integer("vm_flags");
        String perms = "" + ((flags & Mapping.VM_READ) != 0 ? 'r' : '-') + ((flags & Mapping.VM_WRITE) != 0 ? 'w' : '-')
                + ((flags & Mapping.VM_EXEC) != 0 ? 'x' : '-') + ((flags & Mapping.VM_MAYSHARE) != 0 ? 's' : 'p');
        long file = v.pointer("vm_file");
        if (file != 0) {
            long offset = v.integer("vm_pgoff") << 12;
            try {
                PathResolver.Resolved r = paths.file(file);
                return new Mapping(start, end, perms, offset, r.dev(), r.inode(), Optional.of(r.path()), flags, Optional.empty());
            } catch (KernelReadException | AbsentMemoryException | ProfileException e) {
                return new Mapping(start, end, perms, offset, "??:??", 0, Optional.empty(), flags,
                        Optional.of("path: " + e.getMessage()));
            }
        }
        String name = "";
        long ops = v.pointer("vm_ops");
        if (ops != 0 && (matches(specialMappingOps, ops) || matches(legacySpecialMappingOps, ops))) {
            long sm = v.pointer("vm_private_data");
            if (sm != 0) {
                Optional<String> n = kernel.object("vm_special_mapping", sm).cstring("name", 64);
                if (n.isPresent()) {
                    return new Mapping(start, end, perms, 0, "00:00", 0, n, flags, Optional.empty());
                }
            }
        }
        if (Long.compareUnsigned(start, brk) <= 0 && Long.compareUnsigned(end, startBrk) >= 0) {
            name = "[heap]";
        }
        if (Long.compareUnsigned(start, startStack) <= 0 && Long.compareUnsigned(end, startStack) >= 0) {
            name = "[stack]";
        }
        return new Mapping(start, end, perms, 0, "00:00", 0, Optional.of(name), flags, Optional.empty());
    }

    private static boolean matches(OptionalLong symbol, long value) {
        return symbol.isPresent() && symbol.getAsLong() == value;
    }

    // ------------------------------------------------------------------ open files

    private List<OpenFile> files(KObject t, List<String> reasons) {
        List<OpenFile> out = new ArrayList<>();
        try {
            Optional<KObject> files = t.deref("files");
            if (files.isEmpty()) {
                return out;
            }
            Optional<KObject> fdt = files.get().deref("fdt");
            if (fdt.isEmpty()) {
                reasons.add("files: fdt is NULL");
                return out;
            }
            long max = fdt.get().integer("max_fds") & 0xffffffffL;
            if (max > maxFds) {
                reasons.add("files: max_fds " + max + " above the limit of " + maxFds + "; reading the first " + maxFds);
                max = maxFds;
            }
            long fdArray = fdt.get().pointer("fd");
            long cloexec = fdt.get().pointer("close_on_exec");
            byte[] slots = kernel.space().readBytes(fdArray, (int) max * 8);
            byte[] bits = null;
            try {
                bits = kernel.space().readBytes(cloexec, (int) ((max + 63) / 64) * 8);
            } catch (AbsentMemoryException e) {
                reasons.add("files: close_on_exec bitmap: " + e.getMessage());
            }
            for (int fd = 0; fd < max; fd++) {
                long f = le64(slots, fd * 8);
                if (f == 0) {
                    continue;
                }
                boolean ce = bits != null && (bits[fd >> 3] >> (fd & 7) & 1) != 0;
                out.add(openFile(fd, f, ce));
            }
        } catch (KernelReadException | AbsentMemoryException e) {
            reasons.add("files: " + e.getMessage());
        }
        for (OpenFile f : out) {
            f.problem().ifPresent(p -> reasons.add("fd " + f.fd() + ": " + p));
        }
        return out;
    }

    private OpenFile openFile(int fd, long f, boolean closeOnExec) {
        if (!kernel.plausibleKernelPointer(f)) {
            return new OpenFile(fd, Optional.empty(), "other", Optional.empty(), Optional.empty(), Optional.empty(), f,
                    Optional.of(String.format("file pointer 0x%x is not a kernel address", f)), Optional.empty());
        }
        KObject file = kernel.object("file", f);
        Optional<Long> flags = Optional.empty();
        Optional<Long> pos = Optional.empty();
        try {
            flags = Optional.of((file.integer("f_flags") & 0xffffffffL) | (closeOnExec ? O_CLOEXEC : 0));
            pos = Optional.of(file.integer("f_pos"));
            PathResolver.Resolved r = paths.file(f);
            Optional<SocketInfo> socket = Optional.empty();
            Optional<String> problem = Optional.empty();
            if (r.kind().equals("socket")) {
                try {
                    socket = Optional.of(sockets.read(f));
                } catch (KernelReadException | AbsentMemoryException | ProfileException e) {
                    problem = Optional.of("socket: " + e.getMessage());
                }
            }
            return new OpenFile(fd, Optional.of(r.path()), r.kind(), flags, pos, Optional.of(r.inode()), f, problem, socket);
        } catch (KernelReadException | AbsentMemoryException | ProfileException e) {
            return new OpenFile(fd, Optional.empty(), "other", flags, pos, Optional.empty(), f, Optional.of(e.getMessage()),
                    Optional.empty());
        }
    }

    private static long le64(byte[] b, int off) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return v;
    }
}
