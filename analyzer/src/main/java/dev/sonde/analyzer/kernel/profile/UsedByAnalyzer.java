package dev.sonde.analyzer.kernel.profile;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernel structure members, type sizes and symbols Sonde's analyses read. Profiles are cross-checked on these
 * (every source that has them must agree), and the fixture tests assert that BTF and the dwarf2json ISF give the same
 * layout for each. An analysis that starts reading a new member adds it here; {@link KernelMemory#accessed()} lists
 * what a run really touched, so a test can check the list is complete.
 */
public final class UsedByAnalyzer {
    private UsedByAnalyzer() {
    }

    /** Type to the member paths read (dots go through nested struct members). */
    public static final Map<String, List<String>> MEMBERS = members();

    /** Symbols whose running addresses the analyses use. */
    public static final List<String> SYMBOLS = List.of(
            "init_task", "linux_banner", "init_top_pgt", "init_uts_ns", "init_pid_ns", "init_mm",
            "init_files", "init_fs", "init_net", "net_namespace_list", "modules", "super_blocks", "_text", "_stext",
            "_etext", "_end", "__start_notes", "__stop_notes", "__start_BTF", "__stop_BTF", "page_offset_base",
            "vmemmap_base", "vmalloc_base", "jiffies", "init_nsproxy", "mount_hashtable", "idt_table",
            "sys_call_table", "pipefs_dname", "sockfs_dname", "anon_inodefs_dname", "simple_dname", "ns_dname",
            "special_mapping_vmops", "legacy_special_mapping_vmops", "tk_core", "task_struct_cachep");

    private static Map<String, List<String>> members() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("list_head", List.of("next", "prev"));
        m.put("hlist_head", List.of("first"));
        m.put("hlist_node", List.of("next", "pprev"));
        m.put("task_struct", List.of("__state", "flags", "tasks", "pid", "tgid", "comm", "real_parent", "parent",
                "children", "sibling", "group_leader", "thread_group", "mm", "active_mm", "cred", "real_cred", "files",
                "fs", "nsproxy", "signal", "thread_pid", "start_time", "start_boottime", "exit_state", "exit_code",
                "stack", "thread_node", "pid_links", "usage"));
        m.put("signal_struct", List.of("thread_head", "nr_threads", "pids"));
        m.put("mm_struct", List.of("mm_mt", "pgd", "map_count", "start_code", "end_code", "start_data", "end_data",
                "start_brk", "brk", "start_stack", "arg_start", "arg_end", "env_start", "env_end", "exe_file",
                "mm_users", "mm_count", "owner"));
        m.put("maple_tree", List.of("ma_root", "ma_flags"));
        m.put("maple_node", List.of("parent", "slot", "mr64", "ma64"));
        m.put("maple_range_64", List.of("parent", "pivot", "slot", "meta"));
        m.put("maple_arange_64", List.of("parent", "pivot", "slot", "gap", "meta"));
        m.put("maple_metadata", List.of("end", "gap"));
        m.put("vm_area_struct", List.of("vm_start", "vm_end", "vm_mm", "vm_page_prot", "vm_flags", "vm_pgoff",
                "vm_file", "vm_private_data", "anon_vma", "vm_ops"));
        m.put("vm_special_mapping", List.of("name"));
        m.put("file", List.of("f_path", "f_inode", "f_op", "f_flags", "f_mode", "f_pos", "f_count", "f_mapping",
                "private_data"));
        m.put("path", List.of("mnt", "dentry"));
        m.put("dentry", List.of("d_flags", "d_parent", "d_name", "d_inode", "d_iname", "d_sb", "d_child", "d_subdirs",
                "d_op", "d_hash"));
        m.put("dentry_operations", List.of("d_dname"));
        m.put("hlist_bl_node", List.of("next", "pprev"));
        m.put("qstr", List.of("hash", "len", "hash_len", "name"));
        m.put("inode", List.of("i_mode", "i_uid", "i_gid", "i_flags", "i_sb", "i_mapping", "i_ino", "i_nlink",
                "i_rdev", "i_size", "i_atime", "i_mtime", "i_ctime", "i_fop", "i_private"));
        m.put("super_block", List.of("s_list", "s_dev", "s_blocksize", "s_type", "s_op", "s_flags", "s_magic",
                "s_root", "s_id", "s_fs_info"));
        m.put("file_system_type", List.of("name"));
        m.put("vfsmount", List.of("mnt_root", "mnt_sb", "mnt_flags"));
        m.put("mount", List.of("mnt_hash", "mnt_parent", "mnt_mountpoint", "mnt", "mnt_mounts", "mnt_child",
                "mnt_instance", "mnt_devname", "mnt_list", "mnt_ns", "mnt_id"));
        m.put("mnt_namespace", List.of("ns", "root", "list", "mounts"));
        m.put("fs_struct", List.of("root", "pwd"));
        m.put("files_struct", List.of("count", "fdt", "fdtab", "next_fd", "fd_array"));
        m.put("fdtable", List.of("max_fds", "fd", "close_on_exec", "open_fds"));
        m.put("cred", List.of("usage", "uid", "gid", "suid", "sgid", "euid", "egid", "fsuid", "fsgid", "user_ns"));
        m.put("kuid_t", List.of("val"));
        m.put("kgid_t", List.of("val"));
        m.put("pid", List.of("count", "level", "tasks", "numbers"));
        m.put("upid", List.of("nr", "ns"));
        m.put("pid_namespace", List.of("idr", "level", "parent"));
        m.put("idr", List.of("idr_rt", "idr_base", "idr_next"));
        m.put("xarray", List.of("xa_flags", "xa_head"));
        m.put("xa_node", List.of("shift", "offset", "count", "nr_values", "parent", "array", "slots"));
        m.put("nsproxy", List.of("uts_ns", "ipc_ns", "mnt_ns", "pid_ns_for_children", "net_ns"));
        m.put("uts_namespace", List.of("name"));
        m.put("new_utsname", List.of("sysname", "nodename", "release", "version", "machine"));
        m.put("socket", List.of("state", "type", "flags", "file", "sk", "ops"));
        m.put("socket_alloc", List.of("socket", "vfs_inode"));
        m.put("sock_common", List.of("skc_daddr", "skc_rcv_saddr", "skc_dport", "skc_num", "skc_family", "skc_state",
                "skc_v6_daddr", "skc_v6_rcv_saddr", "skc_net"));
        m.put("sock", List.of("__sk_common", "sk_type", "sk_protocol", "sk_socket", "sk_receive_queue"));
        m.put("unix_sock", List.of("sk", "addr", "path", "peer"));
        m.put("unix_address", List.of("refcnt", "len", "name"));
        m.put("inet_sock", List.of("sk", "inet_saddr", "inet_sport"));
        m.put("net", List.of("list", "ns"));
        m.put("ns_common", List.of("inum"));
        m.put("module", List.of("state", "list", "name", "core_layout"));
        m.put("module_layout", List.of("base", "size"));
        m.put("thread_info", List.of("flags"));
        m.put("address_space", List.of("i_pages", "host"));
        m.put("page", List.of("flags", "mapping", "index"));
        m.put("slab", List.of("slab_cache", "objects"));
        m.put("kmem_cache", List.of("size"));
        m.put("timekeeper", List.of("xtime_sec", "offs_real", "offs_boot", "tkr_mono"));
        m.put("seqcount_raw_spinlock", List.of("seqcount"));
        m.put("tk_read_base", List.of("xtime_nsec", "shift"));
        return java.util.Collections.unmodifiableMap(m);
    }
}
