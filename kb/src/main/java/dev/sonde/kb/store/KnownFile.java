package dev.sonde.kb.store;

import dev.sonde.kb.elf.CodePage;
import java.util.List;
import java.util.Optional;

/**
 * One known ELF file.
 *
 * @param pkg      Debian package name, empty for a file no package owns (or not known)
 * @param version  package version, empty with {@code pkg}
 * @param arch     package architecture, empty with {@code pkg}
 * @param path     absolute path as installed (usr-merged: {@code /lib/...} of a package is {@code /usr/lib/...})
 * @param size     file size
 * @param sha256   SHA-256 of the whole file
 * @param buildId  GNU build-id (lower-case hex)
 * @param elfType  ELF type
 * @param verified for a file found on a disk and owned by a package: whether its MD5 matched dpkg's list (a file
 *                 changed after installation does not); empty otherwise
 * @param pages    SHA-256 of each page of the executable segments, by file offset
 */
public record KnownFile(Optional<String> pkg, Optional<String> version, Optional<String> arch, String path, long size,
                        String sha256, Optional<String> buildId, String elfType, Optional<Boolean> verified,
                        List<CodePage> pages) {
    public KnownFile {
        pages = List.copyOf(pages);
    }

    /** {@code package version} or {@code (no package)}. */
    public String identity() {
        return pkg.map(p -> p + " " + version.orElse("?")).orElse("(no package)");
    }
}
