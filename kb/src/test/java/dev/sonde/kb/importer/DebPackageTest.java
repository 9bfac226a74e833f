package dev.sonde.kb.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.kb.disk.DiskFormatException;
import dev.sonde.kb.fixtures.KbFixtures;
import dev.sonde.kb.store.KnownFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DebPackageTest {
    @Test
    void readsNameVersionAndCodePagesOfLibc6() throws Exception {
        DebPackage p = DebPackage.read(KbFixtures.debianDebs().resolve("libc6_2.36-9+deb12u14_amd64.deb"));
        assertEquals("libc6", p.name());
        assertEquals("2.36-9+deb12u14", p.version());
        assertEquals("amd64", p.arch());
        KnownFile libc = p.elf().stream().filter(f -> f.path().equals("/usr/lib/x86_64-linux-gnu/libc.so.6"))
                .findFirst().orElseThrow(() -> new AssertionError("no libc.so.6 in " + p.elf().stream().map(KnownFile::path).toList()));
        assertTrue(libc.buildId().isPresent());
        assertTrue(libc.pages().size() > 100, "libc has hundreds of code pages: " + libc.pages().size());
        assertTrue(libc.pages().stream().allMatch(c -> c.offset() % 4096 == 0));
        assertEquals("DYN", libc.elfType());
    }

    @Test
    void zstdCompressedDataOfSystemd() throws Exception {
        // bookworm's systemd packages use xz; whatever the member compression, the package reads
        Path deb = Files.list(KbFixtures.debianDebs()).filter(d -> d.getFileName().toString().startsWith("systemd_")).findFirst().orElseThrow();
        DebPackage p = DebPackage.read(deb);
        assertEquals("systemd", p.name());
        assertTrue(p.elf().stream().anyMatch(f -> f.path().equals("/usr/lib/systemd/systemd")));
    }

    @Test
    void notADebianPackageIsAClearError(@TempDir Path tmp) throws Exception {
        Path bad = tmp.resolve("bad.deb");
        Files.write(bad, "!<arch>\nnotdebian/      0           0     0     644     4         `\nabcd".getBytes());
        DiskFormatException e = assertThrows(DiskFormatException.class, () -> DebPackage.read(bad));
        assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("debian-binary"), e.getMessage());
    }
}
