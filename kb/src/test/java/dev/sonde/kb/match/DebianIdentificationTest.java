package dev.sonde.kb.match;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.linux.BinaryOrigin;
import dev.sonde.analyzer.linux.MappedBinary;
import dev.sonde.analyzer.linux.PageDigest;
import dev.sonde.kb.disk.ToolsAccess;
import dev.sonde.kb.disk.BlockDevice;
import dev.sonde.kb.disk.GuestDisk;
import dev.sonde.kb.ext4.Ext4FileSystem;
import dev.sonde.kb.fixtures.KbFixtures;
import dev.sonde.kb.importer.DebImporter;
import dev.sonde.kb.importer.DiskImporter;
import dev.sonde.kb.importer.GuestFiles;
import dev.sonde.kb.store.KnowledgeBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance of issue 6 on the debian fixture guest: every binary and shared library its processes map is identified
 * with the right Debian package and version, from a knowledge base built from the guest's disk image and from one built
 * from the .deb files of those packages. The expected owner of each path is dpkg's own answer on that disk, and its
 * version the one build.sh recorded in fixtures/debian/packages.txt.
 *
 * <p>The capture's own disk overlay is not kept by capture.sh; the guest booted from the cached base disk, whose
 * packaged files are the ones it ran.
 */
class DebianIdentificationTest {
    @TempDir
    static Path tmp;
    static List<MappedBinary> binaries;
    static Map<String, String> expected = new TreeMap<>();
    static Map<String, String> versions = new TreeMap<>();
    static BlockDevice disk;
    static Ext4FileSystem fs;

    @BeforeAll
    static void analyze() throws Exception {
        Path image = KbFixtures.capture("debian", "memory.elf");
        Path diskImage = KbFixtures.debianDisk();
        KbFixtures.debianDebs();
        binaries = KbFixtures.binaries(image);
        for (String l : Files.readAllLines(Fixtures.repo().resolve("fixtures/debian/packages.txt"))) {
            if (!l.startsWith("#") && !l.isBlank()) {
                versions.put(l.split("\t")[0], l.split("\t")[1]);
            }
        }
        disk = GuestDisk.open(diskImage);
        fs = Ext4FileSystem.open(disk);
        GuestFiles g = new GuestFiles(fs);
        for (MappedBinary b : binaries) {
            if (b.origin() == BinaryOrigin.FILE && !b.path().startsWith("/opt/sonde/")) {
                String pkg = g.owner(b.path()).orElseThrow(() -> new AssertionError("dpkg owns no " + b.path())).pkg().name();
                expected.put(b.path(), pkg + " " + versions.get(pkg));
            }
        }
    }

    @AfterAll
    static void close() throws Exception {
        if (disk != null) {
            disk.close();
        }
    }

    @Test
    void everyMappedFileIsIdentifiedFromTheGuestsDisk() throws Exception {
        Path kbFile = tmp.resolve("disk.kb");
        try (KnowledgeBase kb = KnowledgeBase.open(kbFile)) {
            DiskImporter.importDisk(kb, KbFixtures.debianDisk());
            check(kb, true);
        }
    }

    @Test
    void everyMappedFileIsIdentifiedFromTheDebFiles() throws Exception {
        Path kbFile = tmp.resolve("debs.kb");
        try (KnowledgeBase kb = KnowledgeBase.open(kbFile)) {
            DebImporter.importFolder(kb, KbFixtures.debianDebs(), s -> { });
            check(kb, false);
        }
    }

    @Test
    void aFileChangedOnTheCheckpointsDiskIsAnOnDiskMismatch() throws Exception {
        MappedBinary sshd = binaries.stream().filter(b -> b.path().equals("/usr/sbin/sshd") && !b.pages().isEmpty())
                .findFirst().orElseThrow();
        PageDigest page = sshd.pages().get(0);
        // the guest wrote over one code page of /usr/sbin/sshd after it started: an overlay on the fixture disk
        Path overlay = tmp.resolve("changed.qcow2");
        ToolsAccess.run(tmp, "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                KbFixtures.debianDisk().toAbsolutePath().toString(), overlay.toString());
        long at;
        try (BlockDevice d = GuestDisk.open(overlay)) {
            Ext4FileSystem f = Ext4FileSystem.open(d);
            at = f.deviceOffset(f.resolve("/usr/sbin/sshd", true).orElseThrow().inode(), page.fileOffset());
        }
        assertTrue(at > 0 && at % 512 == 0, "device offset " + at);
        ToolsAccess.run(tmp, "qemu-io", "-c", "write -P 0xcc " + at + " 512", overlay.toString());
        try (KnowledgeBase kb = KnowledgeBase.open(tmp.resolve("sshd.kb"));
             BlockDevice d = GuestDisk.open(overlay)) {
            DebImporter.importDeb(kb, Files.list(KbFixtures.debianDebs())
                    .filter(p -> p.getFileName().toString().startsWith("openssh-server_")).findFirst().orElseThrow());
            Identification id = new BinaryMatcher(kb, Optional.of(new CheckpointDisk(Ext4FileSystem.open(d)))).match(sshd);
            assertEquals(Verdict.ON_DISK_MISMATCH, id.verdict());
            assertEquals("openssh-server 1:9.2p1-2+deb12u10", id.packageVersion(), "memory still holds the packaged sshd");
            assertEquals(String.format("different (1 pages, first at file offset 0x%x)", page.fileOffset()), id.onDisk());
        }
    }

    private void check(KnowledgeBase kb, boolean fromDisk) throws Exception {
        assertTrue(expected.size() > 50, "packaged files mapped: " + expected.keySet());
        BinaryMatcher m = new BinaryMatcher(kb, Optional.of(new CheckpointDisk(fs)));
        List<String> wrong = new ArrayList<>();
        int packaged = 0;
        for (Identification id : m.matchAll(binaries)) {
            MappedBinary b = id.binary();
            String want = expected.get(b.path());
            if (want != null) {
                packaged++;
                if (id.verdict() != Verdict.IDENTIFIED || !id.packageVersion().equals(want)) {
                    wrong.add(b.pid() + " " + b.path() + ": " + id.verdict().label() + " " + id.packageVersion() + ", expected " + want
                            + " (" + b.pages().size() + " resident pages, build-id " + b.buildId().orElse("-") + ")");
                }
                if (!id.onDisk().equals("same")) {
                    wrong.add(b.path() + ": disk " + id.onDisk());
                }
            } else if (b.origin() == BinaryOrigin.DELETED || b.origin() == BinaryOrigin.MEMFD) {
                // the deleted and memfd scenario binaries are copies of the planted programs in /opt/sonde/bin: the
                // disk's knowledge base knows them as such (in no package), the packages' does not know them at all
                boolean ok = fromDisk
                        ? id.verdict() == Verdict.IDENTIFIED && id.packageVersion().equals("(no package)")
                            && id.known().orElseThrow().file().path().startsWith("/opt/sonde/bin/")
                        : id.verdict() == Verdict.UNKNOWN && !id.unknownPages().isEmpty();
                if (!ok) {
                    wrong.add(b.path() + " (" + b.origin() + "): " + id.verdict().label() + " " + id.packageVersion());
                }
            } else if (b.origin() == BinaryOrigin.FILE && b.path().startsWith("/opt/sonde/") && !fromDisk) {
                if (id.verdict() != Verdict.UNKNOWN) {
                    wrong.add(b.path() + ": " + id.verdict().label() + " " + id.packageVersion() + ", expected unknown");
                }
            }
        }
        assertTrue(packaged > 100, "mapped packaged files over all processes: " + packaged);
        assertEquals(List.of(), wrong);
    }
}
