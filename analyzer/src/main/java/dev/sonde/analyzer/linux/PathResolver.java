package dev.sonde.analyzer.linux;

import dev.sonde.analyzer.kernel.profile.KObject;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelReadException;
import dev.sonde.analyzer.memory.AbsentMemoryException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Rebuilds the path of a {@code struct path} (vfsmount + dentry) the way the kernel's {@code d_path} does for a
 * reader with a given root (by default that of pid 1, as /proc shows paths to a process sharing init's root): component names up the {@code d_parent} chain, crossing mounts through
 * {@code mount.mnt_parent}/{@code mnt_mountpoint}; {@code " (deleted)"} appended when the dentry is unlinked; the
 * synthetic names of pseudo filesystems ({@code d_op->d_dname}: {@code pipe:[ino]}, {@code socket:[ino]},
 * {@code anon_inode:NAME}, {@code /NAME (deleted)} for memfd and other pseudo files). Every walk is bounded.
 */
public final class PathResolver {
    static final int MAX_DEPTH = 256;
    static final int MAX_PATH = 4096;
    static final int MAX_NAME = 255;

    /** What a file's path is and what kind of object it names. */
    public record Resolved(String path, String kind, long inode, String dev) {
    }

    private final KernelMemory kernel;
    private final long rootMnt;
    private final long rootDentry;
    private final Map<Long, String> dnameFunctions = new HashMap<>();

    /** Paths as a reader whose root is the initial task's ({@code init_task.fs->root}) sees them. */
    public PathResolver(KernelMemory kernel) {
        this(kernel, kernel.global("init_task", "task_struct"));
    }

    /**
     * Paths as {@code reader} sees them: up to its {@code fs->root} (as /proc shows them to a process of that root),
     * or up to the global root when its root cannot be read.
     */
    public PathResolver(KernelMemory kernel, KObject reader) {
        this.kernel = kernel;
        long mnt = 0;
        long dentry = 0;
        try {
            Optional<KObject> fs = reader.deref("fs");
            if (fs.isPresent()) {
                KObject root = fs.get().field("root");
                mnt = root.pointer("mnt");
                dentry = root.pointer("dentry");
            }
        } catch (KernelReadException | AbsentMemoryException e) {
            // No reader root: paths run up to the global root.
        }
        this.rootMnt = mnt;
        this.rootDentry = dentry;
        for (String f : new String[]{"pipefs_dname", "sockfs_dname", "anon_inodefs_dname", "simple_dname", "ns_dname",
                "dmabuf_dname"}) {
            OptionalLong a = kernel.profile().symbol(f);
            if (a.isPresent()) {
                dnameFunctions.put(a.getAsLong(), f);
            }
        }
    }

    /** The path of a {@code struct file}'s {@code f_path}, with the inode it names. */
    public Resolved file(long file) {
        KObject f = kernel.object("file", file);
        KObject p = f.field("f_path");
        return path(p.pointer("mnt"), p.pointer("dentry"));
    }

    /** The path of {@code dentry} seen through {@code vfsmount}. */
    public Resolved path(long vfsmount, long dentryAddress) {
        KObject dentry = kernel.object("dentry", dentryAddress);
        long inodeAddr = dentry.pointer("d_inode");
        long ino = 0;
        String dev = "00:00";
        if (inodeAddr != 0) {
            KObject inode = kernel.object("inode", inodeAddr);
            ino = inode.integer("i_ino");
            long sb = inode.pointer("i_sb");
            if (sb != 0) {
                dev = devString(kernel.object("super_block", sb).integer("s_dev"));
            }
        }
        long dop = dentry.pointer("d_op");
        boolean isRoot = dentry.pointer("d_parent") == dentryAddress;
        long mntRoot = vfsmount == 0 ? 0 : kernel.object("vfsmount", vfsmount).pointer("mnt_root");
        if (dop != 0 && (!isRoot || dentryAddress != mntRoot)) {
            long dname = kernel.object("dentry_operations", dop).pointer("d_dname");
            if (dname != 0) {
                String fn = dnameFunctions.get(dname);
                String name = name(dentry);
                if (fn == null) {
                    throw new KernelReadException(String.format("dentry 0x%x: d_dname 0x%x is no known function", dentryAddress, dname));
                }
                return switch (fn) {
                    case "pipefs_dname" -> new Resolved("pipe:[" + ino + "]", "pipe", ino, dev);
                    case "sockfs_dname" -> new Resolved("socket:[" + ino + "]", "socket", ino, dev);
                    case "anon_inodefs_dname" -> new Resolved("anon_inode:" + name, "anon_inode", ino, dev);
                    case "simple_dname" -> new Resolved("/" + name + " (deleted)", "file", ino, dev);
                    case "dmabuf_dname" -> new Resolved("/dmabuf:" + name, "other", ino, dev);
                    default -> new Resolved(fn.replace("_dname", "") + ":" + name, "other", ino, dev);
                };
            }
        }
        String path = prependPath(vfsmount, dentryAddress);
        if (unlinked(dentry, isRoot)) {
            path = path + " (deleted)";
        }
        return new Resolved(path, "file", ino, dev);
    }

    /** The kernel prints a dev_t as {@code %02x:%02x} of MAJOR (bits 20..) and MINOR (bits 0..19). */
    static String devString(long sdev) {
        return String.format("%02x:%02x", (sdev >>> 20) & 0xfff, sdev & 0xfffff);
    }

    private boolean unlinked(KObject dentry, boolean isRoot) {
        // d_unlinked(): hashed-list node not linked (d_hash.pprev == NULL) and not a root.
        long pprev = kernel.space().readU64(dentry.addressOf("d_hash") + kernel.profile().offset("hlist_bl_node", "pprev"));
        return pprev == 0 && !isRoot;
    }

    private String prependPath(long vfsmount, long dentry) {
        Deque<String> parts = new ArrayDeque<>();
        long mount = vfsmount - kernel.profile().offset("mount", "mnt");
        int steps = 0;
        int length = 0;
        while (true) {
            if (++steps > MAX_DEPTH) {
                throw new KernelReadException(String.format("path of dentry 0x%x: deeper than %d components", dentry, MAX_DEPTH));
            }
            if (dentry == rootDentry && vfsmount == rootMnt) {
                break;
            }
            KObject d = kernel.object("dentry", dentry);
            long parent = d.pointer("d_parent");
            long mntRoot = kernel.object("vfsmount", vfsmount).pointer("mnt_root");
            if (dentry == mntRoot || parent == dentry) {
                KObject m = kernel.object("mount", mount);
                long mparent = m.pointer("mnt_parent");
                if (dentry != mntRoot) {
                    break; // escaped: the kernel prints what it has
                }
                if (mparent != mount) {
                    dentry = m.pointer("mnt_mountpoint");
                    mount = mparent;
                    vfsmount = mount + kernel.profile().offset("mount", "mnt");
                    continue;
                }
                break; // global root or a detached/internal mount
            }
            String name = name(d);
            length += name.length() + 1;
            if (length > MAX_PATH) {
                throw new KernelReadException(String.format("path of dentry 0x%x: longer than %d bytes", dentry, MAX_PATH));
            }
            parts.addFirst(name);
            dentry = parent;
        }
        if (parts.isEmpty()) {
            return "/";
        }
        return "/" + String.join("/", parts);
    }

    /** A dentry's name ({@code d_name.name}, {@code d_name.len} bytes). */
    String name(KObject dentry) {
        KObject q = dentry.field("d_name");
        long len = q.integer("len");
        long p = q.pointer("name");
        if (len < 0 || len > MAX_NAME) {
            throw new KernelReadException(String.format("%s: name length %d", dentry, len));
        }
        try {
            byte[] b = kernel.space().readBytes(p, (int) len);
            return new String(b, StandardCharsets.UTF_8);
        } catch (AbsentMemoryException e) {
            throw new KernelReadException(String.format("%s: name at 0x%x: %s", dentry, p, e.getMessage()), e);
        }
    }
}
