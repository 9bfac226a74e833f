package dev.sonde.kb.importer;

import java.util.List;

/** Debian's merged /usr: {@code /bin}, {@code /sbin} and {@code /lib*} are symlinks into {@code /usr}. */
public final class UsrMerge {
    private static final List<String> MERGED = List.of("/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/");

    private UsrMerge() {
    }

    /** The path a file of a package is found at on a merged-/usr system. */
    public static String canonical(String path) {
        for (String m : MERGED) {
            if (path.startsWith(m)) {
                return "/usr" + path;
            }
        }
        return path;
    }
}
