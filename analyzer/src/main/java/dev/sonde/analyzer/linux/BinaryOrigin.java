package dev.sonde.analyzer.linux;

/** Where the code of an executable mapping comes from. */
public enum BinaryOrigin {
    /** A file that is still linked in the file system. */
    FILE,
    /** A file unlinked while mapped (its path ends in " (deleted)"). */
    DELETED,
    /** A memfd (anonymous shared memory file, {@code /memfd:NAME}): fileless. */
    MEMFD,
    /** Executable memory backed by no file at all. */
    ANONYMOUS
}
