package dev.sonde.analyzer.linux.crossview;

/** Whether and how the cross-view check scans physical memory for {@code task_struct}s. */
public enum MemoryScan {
    /** No scan: the three kernel views only. */
    NONE,
    /** The task_struct slabs only ({@link TaskScan.Mode#SLAB}), the default. */
    SLAB,
    /** All of physical memory ({@link TaskScan.Mode#FULL}). */
    FULL
}
