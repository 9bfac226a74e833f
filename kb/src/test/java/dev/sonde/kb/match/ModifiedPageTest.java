package dev.sonde.kb.match;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import dev.sonde.analyzer.linux.ImageAnalyzer;
import dev.sonde.analyzer.linux.MappedBinary;
import dev.sonde.analyzer.linux.PageDigest;
import dev.sonde.kb.fixtures.KbFixtures;
import dev.sonde.kb.importer.DebImporter;
import dev.sonde.kb.store.KnowledgeBase;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Patches bytes of one resident code page of libc in a copy of the debian fixture's memory image: libc becomes
 * "modified" and the matcher names that page.
 */
class ModifiedPageTest {
    static final String LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6";

    @Test
    void patchedLibcPageIsNamed(@TempDir Path tmp) throws Exception {
        Path original = KbFixtures.capture("debian", "memory.elf");
        Path kbFile = tmp.resolve("kb.sqlite");
        try (KnowledgeBase kb = KnowledgeBase.open(kbFile)) {
            DebImporter.importDeb(kb, KbFixtures.debianDebs().resolve("libc6_2.36-9+deb12u14_amd64.deb"));
            List<MappedBinary> before = KbFixtures.binaries(original);
            MappedBinary libc = before.stream().filter(b -> b.path().equals(LIBC) && b.pages().size() > 10).findFirst().orElseThrow();
            assertEquals(Verdict.IDENTIFIED, new BinaryMatcher(kb, Optional.empty()).match(libc).verdict());
            PageDigest target = libc.pages().get(libc.pages().size() / 2);

            Path copy = tmp.resolve("memory.elf");
            Files.copy(original, copy);
            long at = findPage(copy, target.sha256());
            try (RandomAccessFile f = new RandomAccessFile(copy.toFile(), "rw")) {
                f.seek(at + 0x123);
                f.write(new byte[]{(byte) 0xcc, (byte) 0xcc, (byte) 0x90, (byte) 0x90});
            }

            List<MappedBinary> after = ImageAnalyzer.analyze(copy, ProfileOptions.defaults()).binaries();
            MappedBinary patched = after.stream().filter(b -> b.pid() == libc.pid() && b.path().equals(LIBC)).findFirst().orElseThrow();
            Identification id = new BinaryMatcher(kb, Optional.empty()).match(patched);
            assertEquals(Verdict.MODIFIED, id.verdict());
            assertEquals("libc6 2.36-9+deb12u14", id.packageVersion());
            assertEquals(1, id.differing().size(), id.differing().toString());
            PageDiff d = id.differing().get(0);
            assertEquals(target.vaddr(), d.vaddr());
            assertEquals(target.fileOffset(), d.fileOffset());
            assertEquals(Optional.of(target.sha256()), d.expected());
            assertTrue(id.pagesMatched() == patched.pages().size() - 1);
        }
    }

    /** The file offset, in the ELF core {@code image}, of the physical page with this SHA-256 (once, or the test fails). */
    private static long findPage(Path image, String sha) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        long found = -1;
        int hits = 0;
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            ByteBuffer eh = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(eh, 0);
            long phoff = eh.getLong(32);
            int phentsize = eh.getShort(54) & 0xffff;
            int phnum = eh.getShort(56) & 0xffff;
            ByteBuffer ph = ByteBuffer.allocate(phentsize * phnum).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(ph, phoff);
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            byte[] page = new byte[4096];
            for (int i = 0; i < phnum; i++) {
                int h = i * phentsize;
                if (ph.getInt(h) != 1) {
                    continue;
                }
                long off = ph.getLong(h + 8);
                long filesz = ph.getLong(h + 32);
                for (long pos = off; pos < off + filesz; pos += buf.capacity()) {
                    buf.clear();
                    buf.limit((int) Math.min(buf.capacity(), off + filesz - pos));
                    int n = 0;
                    while (buf.hasRemaining()) {
                        int k = ch.read(buf, pos + n);
                        if (k <= 0) {
                            break;
                        }
                        n += k;
                    }
                    for (int o = 0; o + 4096 <= n; o += 4096) {
                        buf.get(o, page);
                        if (HexFormat.of().formatHex(md.digest(page)).equals(sha)) {
                            found = pos + o;
                            hits++;
                        }
                    }
                }
            }
        }
        assertEquals(1, hits, "the page occurs once in the image");
        return found;
    }
}
