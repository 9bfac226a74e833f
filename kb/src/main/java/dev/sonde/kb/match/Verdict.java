package dev.sonde.kb.match;

/** What a running binary is, compared with the knowledge base and the checkpoint's disk. */
public enum Verdict {
    /** Every resident code page (or, with none resident, the build-id) matches a known file. */
    IDENTIFIED("identified"),
    /** Some resident code pages differ from every known version of the file the others match. */
    MODIFIED("modified"),
    /** Identified, but the checkpoint's disk holds a different file at the mapped path. */
    ON_DISK_MISMATCH("on-disk mismatch"),
    /** Nothing known matches. */
    UNKNOWN("unknown");

    private final String label;

    Verdict(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
