package dev.sonde.kb.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.kb.disk.BlockDevice;
import dev.sonde.kb.disk.GuestDisk;
import dev.sonde.kb.dpkg.InstalledPackage;
import dev.sonde.kb.ext4.Ext4FileSystem;
import dev.sonde.kb.fixtures.KbFixtures;
import dev.sonde.kb.store.KnownFile;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The debian fixture's disk read in Java (qcow2, then ext4, then dpkg's database) against what build.sh recorded. */
class GuestFilesTest {
    static BlockDevice dev;
    static GuestFiles guest;

    @BeforeAll
    static void open() throws Exception {
        dev = GuestDisk.open(KbFixtures.debianDisk());
        guest = new GuestFiles(Ext4FileSystem.open(dev));
    }

    @AfterAll
    static void close() throws Exception {
        if (dev != null) {
            dev.close();
        }
    }

    @Test
    void dpkgStatusEqualsThePackageListOfTheBuild() throws Exception {
        Map<String, String> expected = new TreeMap<>();
        for (String l : Files.readAllLines(Fixtures.repo().resolve("fixtures/debian/packages.txt"))) {
            if (!l.startsWith("#") && !l.isBlank()) {
                String[] f = l.split("\t");
                expected.put(f[0], f[1]);
            }
        }
        Map<String, String> got = guest.dpkg().packages().stream().filter(InstalledPackage::installed)
                .collect(Collectors.toMap(InstalledPackage::name, InstalledPackage::version, (a, b) -> a, TreeMap::new));
        assertEquals(expected, got);
    }

    @Test
    void usrMergedLibcBelongsToLibc6() throws Exception {
        var r = guest.fileSystem().resolve("/lib/x86_64-linux-gnu/libc.so.6", true).orElseThrow();
        assertEquals("/usr/lib/x86_64-linux-gnu/libc.so.6", r.path());
        KnownFile libc = guest.known(r.path(), guest.fileSystem().readFile(r.inode())).orElseThrow();
        assertEquals("libc6 2.36-9+deb12u14", libc.identity());
        assertEquals(Boolean.TRUE, libc.verified().orElseThrow(), "MD5 equals dpkg's");
        DebPackage deb = DebPackage.read(KbFixtures.debianDebs().resolve("libc6_2.36-9+deb12u14_amd64.deb"));
        KnownFile fromDeb = deb.elf().stream().filter(f -> f.path().equals(libc.path())).findFirst().orElseThrow();
        assertEquals(fromDeb.sha256(), libc.sha256());
        assertEquals(fromDeb.pages(), libc.pages());
    }

    @Test
    void fastAndSlowSymlinks() throws Exception {
        Ext4FileSystem fs = guest.fileSystem();
        assertEquals("usr/bin", fs.readLink(fs.resolve("/bin", false).orElseThrow().inode()));
        List<String> targets = new java.util.ArrayList<>();
        fs.walk((path, ino) -> {
            if (ino.isSymlink()) {
                targets.add(fs.readLink(ino));
            }
        });
        assertTrue(targets.stream().anyMatch(t -> t.length() >= 60), "a slow symlink (target of 60 bytes or more)");
        assertTrue(targets.stream().anyMatch(t -> t.length() < 60), "a fast symlink");
        assertTrue(targets.stream().allMatch(t -> !t.isEmpty() && t.indexOf('\0') < 0), "well-formed targets");
    }

    @Test
    void scanHashesEveryElfFileAndNamesItsPackage() throws Exception {
        GuestFiles.Scan s = guest.scan();
        assertTrue(s.files() > 5000, "files: " + s.files());
        assertTrue(s.elf().size() > 300, "ELF files: " + s.elf().size());
        KnownFile sshd = s.elf().stream().filter(f -> f.path().equals("/usr/sbin/sshd")).findFirst().orElseThrow();
        assertEquals("openssh-server 1:9.2p1-2+deb12u10", sshd.identity());
        KnownFile sleeper = s.elf().stream().filter(f -> f.path().equals("/opt/sonde/bin/sleeper")).findFirst().orElseThrow();
        assertTrue(sleeper.pkg().isEmpty(), "the scenario binaries belong to no package");
    }
}
