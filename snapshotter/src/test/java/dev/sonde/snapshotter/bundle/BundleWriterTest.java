package dev.sonde.snapshotter.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.snapshotter.testing.TestBundles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bundle format, the atomic writer and verification, without a hypervisor. */
class BundleWriterTest {
    @TempDir
    Path dir;

    @Test
    void sealedBundleVerifiesAndListsSizesAndHashesOfWhatWasWritten() throws IOException {
        BundleWriter w = BundleWriter.create(dir, "b1-dom-abcd", BundleWriter.Observer.NONE);
        BundleWriter.Sealed s = TestBundles.write(w, 1 << 20, 1);
        assertEquals(dir.resolve("b1-dom-abcd"), s.path());
        assertFalse(Files.exists(dir.resolve(".partial-b1-dom-abcd")));
        assertEquals(Sha256.of(s.path().resolve("manifest.json")), s.manifestSha256());
        Manifest m = Manifest.parse(Files.readAllBytes(s.path().resolve("manifest.json")));
        assertEquals("b1-dom-abcd", m.bundle());
        assertEquals(3, m.files().size());
        for (FileEntry e : m.files()) {
            Path f = s.path().resolve(e.name());
            assertEquals(Files.size(f), e.size(), e.name());
            assertEquals(Sha256.of(f), e.sha256(), e.name());
        }
        VerifyReport r = BundleVerifier.verify(s.path(), Optional.of(s.manifestSha256()));
        assertTrue(r.ok(), r.problems().toString());
        assertEquals(3, r.filesChecked());
    }

    @Test
    void aPartialBundleNeverVerifiesEvenWithACompleteManifest() throws IOException {
        BundleWriter w = BundleWriter.create(dir, "b2-dom-abcd", BundleWriter.Observer.NONE);
        BundleWriter.Sealed s = TestBundles.write(w, 4096, 2);
        // what a crash between writing the manifest and the rename would leave
        Path partial = dir.resolve(".partial-b2-dom-abcd");
        Files.move(s.path(), partial);
        VerifyReport r = BundleVerifier.verify(partial, Optional.empty());
        assertFalse(r.ok());
        assertEquals(".partial-b2-dom-abcd", r.problems().get(0).file());
    }

    @Test
    void anUnsealedBundleHasNoManifestAndFails() throws IOException {
        BundleWriter w = BundleWriter.create(dir, "b3-dom-abcd", BundleWriter.Observer.NONE);
        w.write("memory.save", "memory", "libvirt-save", new byte[100]);
        VerifyReport r = BundleVerifier.verify(w.directory(), Optional.empty());
        assertFalse(r.ok());
        assertTrue(r.problems().stream().anyMatch(p -> p.file().equals("manifest.json")), r.problems().toString());
        w.abort();
        assertFalse(Files.exists(w.directory()));
    }

    @Test
    void oneChangedByteFailsVerifyNamingTheFile() throws IOException {
        BundleWriter.Sealed s = TestBundles.write(BundleWriter.create(dir, "b4-dom-abcd", BundleWriter.Observer.NONE), 65536, 4);
        flipByte(s.path().resolve("memory.save"), 40000);
        VerifyReport r = BundleVerifier.verify(s.path(), Optional.empty());
        assertFalse(r.ok());
        assertEquals(1, r.problems().size(), r.problems().toString());
        assertEquals("memory.save", r.problems().get(0).file());
        assertTrue(r.problems().get(0).message().contains("SHA-256 mismatch"));
    }

    @Test
    void aChangedManifestFailsAgainstTheRecordedHash() throws IOException {
        BundleWriter.Sealed s = TestBundles.write(BundleWriter.create(dir, "b5-dom-abcd", BundleWriter.Observer.NONE), 4096, 5);
        Path mf = s.path().resolve("manifest.json");
        String json = Files.readString(mf).replace("\"hostname\" : \"host\"", "\"hostname\" : \"hast\"");
        Files.writeString(mf, json);
        VerifyReport r = BundleVerifier.verify(s.path(), Optional.of(s.manifestSha256()));
        assertFalse(r.ok());
        assertEquals("manifest.json", r.problems().get(0).file());
    }

    @Test
    void missingExtraAndTruncatedFilesAreNamed() throws IOException {
        BundleWriter.Sealed s = TestBundles.write(BundleWriter.create(dir, "b6-dom-abcd", BundleWriter.Observer.NONE), 4096, 6);
        Files.delete(s.path().resolve("domain.xml"));
        Files.writeString(s.path().resolve("extra.bin"), "x");
        try (FileChannel ch = FileChannel.open(s.path().resolve("disk-vda.qcow2"), StandardOpenOption.WRITE)) {
            ch.truncate(100);
        }
        VerifyReport r = BundleVerifier.verify(s.path(), Optional.empty());
        List<String> files = r.problems().stream().map(VerifyReport.Problem::file).sorted().toList();
        assertEquals(List.of("disk-vda.qcow2", "domain.xml", "extra.bin"), files, r.problems().toString());
    }

    @Test
    void aManifestPointingOutsideTheBundleIsRejected() throws IOException {
        BundleWriter.Sealed s = TestBundles.write(BundleWriter.create(dir, "b7-dom-abcd", BundleWriter.Observer.NONE), 4096, 7);
        Path mf = s.path().resolve("manifest.json");
        Files.writeString(mf, Files.readString(mf).replace("\"name\" : \"domain.xml\"", "\"name\" : \"../../etc/passwd\""));
        VerifyReport r = BundleVerifier.verify(s.path(), Optional.empty());
        assertFalse(r.ok());
        assertTrue(r.problems().stream().anyMatch(p -> p.message().contains("unsafe file name")), r.problems().toString());
    }

    @Test
    void sealRefusesFilesItDidNotWrite() throws IOException {
        BundleWriter w = BundleWriter.create(dir, "b8-dom-abcd", BundleWriter.Observer.NONE);
        w.write("domain.xml", "domain-xml", "x", new byte[1]);
        Files.writeString(w.directory().resolve("stray"), "?");
        assertThrows(IOException.class, () -> w.seal(TestBundles.manifest("abcd", "a", "b")));
    }

    @Test
    void adoptedFilesAreHashedAndListed() throws IOException {
        BundleWriter w = BundleWriter.create(dir, "b9-dom-abcd", BundleWriter.Observer.NONE);
        Path p = w.reserve("memory.save");
        Files.write(p, "LibvirtQemudSave and more".getBytes(StandardCharsets.US_ASCII));
        FileEntry e = w.adopt("memory.save", "memory", "libvirt-save");
        assertEquals(Sha256.of(p), e.sha256());
        w.write("domain.xml", "domain-xml", "x", new byte[1]);
        w.write("disk-vda.qcow2", "disk", "qcow2", new byte[2]);
        BundleWriter.Sealed s = w.seal(TestBundles.manifest("abcd", "a", "b"));
        assertTrue(BundleVerifier.verify(s.path(), Optional.empty()).ok());
    }

    @Test
    void archivesVerifyAndATamperedArchiveNamesTheFile() throws IOException {
        for (BundleArchive.Kind kind : BundleArchive.Kind.values()) {
            String name = "ba-" + kind.name().toLowerCase().replace('_', '-') + "-abcd";
            BundleWriter.Sealed s = TestBundles.write(BundleWriter.create(dir, name, BundleWriter.Observer.NONE), 200000, 9);
            Path a = BundleArchive.pack(s.path(), kind);
            assertFalse(Files.exists(s.path()), "directory removed after packing");
            assertEquals(name + kind.suffix(), a.getFileName().toString());
            VerifyReport r = BundleVerifier.verify(a, Optional.of(s.manifestSha256()));
            assertTrue(r.ok(), kind + ": " + r.problems());
            assertEquals(3, r.filesChecked());
            if (kind == BundleArchive.Kind.TAR) {
                flipByte(a, 2048 + 100000); // inside memory.save, the first file after the directory entry
                VerifyReport bad = BundleVerifier.verify(a, Optional.empty());
                assertFalse(bad.ok());
                assertEquals("memory.save", bad.problems().get(0).file(), bad.problems().toString());
            }
        }
    }

    @Test
    void observerSeesEveryWrite() throws IOException {
        long[] last = {0};
        BundleWriter w = BundleWriter.create(dir, "bo-dom-abcd", (f, n) -> last[0] = n);
        w.write("domain.xml", "domain-xml", "x", new byte[12345]);
        assertEquals(12345, last[0]);
        w.abort();
    }

    static void flipByte(Path f, long at) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 0x01));
            b.rewind();
            ch.write(b, at);
        }
    }
}
