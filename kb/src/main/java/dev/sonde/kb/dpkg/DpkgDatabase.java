package dev.sonde.kb.dpkg;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What dpkg knows of an installed system: its packages ({@code /var/lib/dpkg/status}), the files each installed
 * with their MD5 ({@code /var/lib/dpkg/info/PKG[:ARCH].md5sums}) and the diversions
 * ({@code /var/lib/dpkg/diversions}). Paths are as dpkg wrote them (before /usr-merge resolution).
 */
public final class DpkgDatabase {
    /** A file a package installed. */
    public record Owner(InstalledPackage pkg, String md5) {
    }

    private final Map<String, InstalledPackage> packages;
    private final Map<String, Owner> owners;

    private DpkgDatabase(Map<String, InstalledPackage> packages, Map<String, Owner> owners) {
        this.packages = packages;
        this.owners = owners;
    }

    /**
     * Builds the database.
     *
     * @param status     the status file's text
     * @param md5sums    per list file name ({@code libc6:amd64.md5sums}), its text
     * @param diversions the diversions file's text, empty when absent
     */
    public static DpkgDatabase of(String status, Map<String, String> md5sums, String diversions) {
        Map<String, InstalledPackage> pkgs = new LinkedHashMap<>();
        for (Map<String, String> p : ControlFields.paragraphs(status)) {
            String name = p.get("Package");
            if (name == null) {
                continue;
            }
            InstalledPackage ip = new InstalledPackage(name, p.getOrDefault("Version", "?"),
                    p.getOrDefault("Architecture", "?"), p.getOrDefault("Status", "?"));
            pkgs.merge(name, ip, (a, b) -> a.installed() ? a : b);
        }
        Map<String, List<Owner>> listed = new HashMap<>();
        for (Map.Entry<String, String> e : md5sums.entrySet()) {
            String pkgName = e.getKey().replaceFirst("\\.md5sums$", "").replaceFirst(":.*$", "");
            InstalledPackage ip = pkgs.get(pkgName);
            if (ip == null || !ip.installed()) {
                continue;
            }
            for (String line : e.getValue().split("\n")) {
                if (line.length() < 35 || line.charAt(32) != ' ' || line.charAt(33) != ' ') {
                    continue;
                }
                String path = "/" + line.substring(34);
                listed.computeIfAbsent(path, k -> new ArrayList<>()).add(new Owner(ip, line.substring(0, 32)));
            }
        }
        Map<String, Owner> owners = new HashMap<>();
        listed.forEach((path, l) -> owners.put(path, l.get(0)));
        // Diversions (from, to, diverting package): the file at "from" is the diverting package's own (or a local
        // file when the package is ":"), the file the other package shipped as "from" now lives at "to".
        String[] d = diversions.split("\n");
        for (int i = 0; i + 2 < d.length; i += 3) {
            String from = d[i].strip();
            String to = d[i + 1].strip();
            String by = d[i + 2].strip();
            List<Owner> l = listed.getOrDefault(from, List.of());
            l.stream().filter(o -> !o.pkg().name().equals(by)).findFirst().ifPresent(o -> owners.put(to, o));
            Optional<Owner> own = l.stream().filter(o -> o.pkg().name().equals(by)).findFirst();
            if (own.isPresent()) {
                owners.put(from, own.get());
            } else {
                owners.remove(from);
            }
        }
        return new DpkgDatabase(pkgs, owners);
    }

    /** Every package of the status file, in its order. */
    public List<InstalledPackage> packages() {
        return List.copyOf(packages.values());
    }

    /** The package that installed {@code path} (as dpkg names it) and the file's MD5. */
    public Optional<Owner> owner(String path) {
        return Optional.ofNullable(owners.get(path));
    }

    /** Every path dpkg lists, with its owner. */
    public Map<String, Owner> owners() {
        return java.util.Collections.unmodifiableMap(owners);
    }
}
