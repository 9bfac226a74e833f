package dev.sonde.kb.dpkg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** dpkg's status, md5sums and diversions, in the formats dpkg writes them. */
class DpkgDatabaseTest {
    static final String STATUS = """
            Package: coreutils
            Status: install ok installed
            Architecture: amd64
            Version: 9.1-1
            Description: GNU core utilities
             multi-line description

            Package: busybox-diverter
            Status: install ok installed
            Architecture: amd64
            Version: 1.0

            Package: removed
            Status: deinstall ok config-files
            Architecture: amd64
            Version: 2.0
            """;

    @Test
    void diversionsMoveTheOwnershipOfTheDivertedFile() {
        String a = "0123456789abcdef0123456789abcdef";
        String b = "fedcba9876543210fedcba9876543210";
        DpkgDatabase db = DpkgDatabase.of(STATUS, Map.of(
                "coreutils.md5sums", a + "  usr/bin/ls\n" + a + "  usr/bin/cat\n",
                "busybox-diverter:amd64.md5sums", b + "  usr/bin/ls\n",
                "removed.md5sums", a + "  usr/bin/gone\n"),
                "/usr/bin/ls\n/usr/bin/ls.distrib\nbusybox-diverter\n/usr/bin/cat\n/usr/bin/cat.orig\n:\n");
        assertEquals("busybox-diverter", db.owner("/usr/bin/ls").orElseThrow().pkg().name());
        assertEquals(b, db.owner("/usr/bin/ls").orElseThrow().md5());
        assertEquals("coreutils", db.owner("/usr/bin/ls.distrib").orElseThrow().pkg().name());
        assertEquals(a, db.owner("/usr/bin/ls.distrib").orElseThrow().md5());
        // a local diversion: the file at the original path belongs to no package
        assertTrue(db.owner("/usr/bin/cat").isEmpty());
        assertEquals("coreutils", db.owner("/usr/bin/cat.orig").orElseThrow().pkg().name());
        // files of a package that is not installed are nobody's
        assertTrue(db.owner("/usr/bin/gone").isEmpty());
        assertEquals(3, db.packages().size());
        assertEquals("9.1-1", db.packages().get(0).version());
    }
}
