package dev.sonde.analyzer.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.GroundTruth;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@link MappedBinaries} on the committed tiny capture: page digests equal the SHA-256 of the same page of the real
 * file, the planted copies (deleted binary, memfd) hash like the file they were copied from, the anonymous RWX region
 * is listed, and ELF type and build-id are read for every resident file.
 */
class MappedBinariesFixtureTest {

    private static List<MappedBinary> binaries() {
        return TinyAnalysis.result().binaries();
    }

    private static MappedBinary binary(int pid, String path) {
        return binaries().stream().filter(b -> b.pid() == pid && b.path().equals(path)).findFirst()
                .orElseThrow(() -> new AssertionError("no binary " + path + " in pid " + pid));
    }

    private static int pidOf(String argPart) {
        return TinyFixture.truth().userProcesses().stream()
                .filter(p -> p.cmdline().stream().anyMatch(a -> a.contains(argPart))).findFirst()
                .orElseThrow(() -> new AssertionError("no process with " + argPart)).pid();
    }

    /** The guest's busybox is the host's busybox-static (fixtures/tiny/build.sh copies it): same bytes, same digests. */
    @Test
    void busyboxPagesHashLikeTheFileOnDisk() throws Exception {
        MappedBinary bb = binary(1, "/bin/busybox");
        assertEquals(Optional.of("EXEC"), bb.elfType());
        assertTrue(bb.buildId().isPresent());
        Path host = Files.exists(Path.of("/usr/bin/busybox")) ? Path.of("/usr/bin/busybox") : Path.of("/bin/busybox");
        assertTrue(Files.exists(host), "busybox-static is not installed (scripts/setup installs it)");
        byte[] file = Files.readAllBytes(host);
        byte[] note = HexFormat.of().parseHex("474e5500" + bb.buildId().get()); // "GNU\0" + id
        assertTrue(indexOf(file, note) >= 0, host + " is not the busybox of the capture (build-id " + bb.buildId().get()
                + "): install the busybox-static the fixtures were built with");
        assertFalse(bb.pages().isEmpty());
        assertTrue(bb.pages().size() <= bb.pagesTotal());
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (PageDigest p : bb.pages()) {
            byte[] page = Arrays.copyOf(Arrays.copyOfRange(file, (int) Math.min(p.fileOffset(), file.length),
                    (int) Math.min(p.fileOffset() + 4096, file.length)), 4096);
            assertEquals(HexFormat.of().formatHex(sha.digest(page)), p.sha256(),
                    "page at file offset " + p.fileOffset() + " (vaddr " + Long.toHexString(p.vaddr()) + ")");
        }
        assertEquals(bb.digest(), Optional.of(combined(bb.pages())));
    }

    /** The deleted binary and the memfd scenario are copies of sleeper: same build-id, same page digests. */
    @Test
    void plantedCopiesHashLikeTheirOriginal() {
        int deleted = pidOf("--role=deleted");
        int fileless = pidOf("--role=fileless");
        MappedBinary original = binary(pidOf("--role=plain-alpha"), "/opt/sonde/bin/sleeper");
        MappedBinary del = binary(deleted, "/tmp/sonde-deleted (deleted)");
        MappedBinary mem = binary(fileless, "/memfd:sonde-fileless (deleted)");
        assertEquals(BinaryOrigin.FILE, original.origin());
        assertEquals(BinaryOrigin.DELETED, del.origin());
        assertEquals(BinaryOrigin.MEMFD, mem.origin());
        for (MappedBinary copy : List.of(del, mem)) {
            assertEquals(original.buildId(), copy.buildId(), copy.path());
            assertEquals(original.elfType(), copy.elfType(), copy.path());
            Map<Long, String> byOffset = new HashMap<>();
            original.pages().forEach(p -> byOffset.put(p.fileOffset(), p.sha256()));
            int compared = 0;
            for (PageDigest p : copy.pages()) {
                if (byOffset.containsKey(p.fileOffset())) {
                    assertEquals(byOffset.get(p.fileOffset()), p.sha256(), copy.path() + " at " + p.fileOffset());
                    compared++;
                }
            }
            assertTrue(compared > 10, copy.path() + ": only " + compared + " pages to compare");
        }
    }

    @Test
    void theRwxRegionIsAnAnonymousBinaryHoldingTheMarker() {
        GroundTruth.Marker rwx = TinyFixture.truth().userProcesses().stream().flatMap(p -> p.markers().stream())
                .filter(m -> m.kind().equals("rwx")).findFirst().orElseThrow();
        int pid = pidOf("/opt/sonde/bin/rwxinject");
        MappedBinary anon = binaries().stream().filter(b -> b.pid() == pid && b.origin() == BinaryOrigin.ANONYMOUS
                        && b.mappings().get(0).writableAndExecutable()).findFirst().orElseThrow();
        Mapping m = anon.mappings().get(0);
        assertTrue(rwx.address() >= m.start() && rwx.address() < m.end());
        assertTrue(anon.pages().stream().allMatch(p -> p.fileOffset() == -1));
        assertEquals(Optional.empty(), anon.buildId());
    }

    @Test
    void everyUserProcessHasItsExecutableWithTypeAndBuildId() {
        List<String> wrong = new ArrayList<>();
        for (ProcessInfo p : TinyAnalysis.result().processes().processes()) {
            if (p.kernelThread()) {
                continue;
            }
            String exe = p.exe().orElseThrow();
            Optional<MappedBinary> b = binaries().stream().filter(x -> x.pid() == p.pid() && x.path().equals(exe)).findFirst();
            if (b.isEmpty() || b.get().elfType().isEmpty() || b.get().buildId().isEmpty() || b.get().problem().isPresent()
                    || b.get().pages().isEmpty()) {
                wrong.add(p.pid() + " " + exe + ": " + b.map(x -> x.elfType() + " " + x.buildId() + " " + x.problem()
                        + " pages " + x.pages().size()).orElse("not listed"));
            }
        }
        assertEquals(List.of(), wrong);
    }

    /** The same physical page is hashed once and every process sees the same digest for the same file page. */
    @Test
    void aSharedFileHashesTheSameInEveryProcess() {
        Map<String, String> seen = new HashMap<>();
        int shared = 0;
        for (MappedBinary b : binaries()) {
            if (b.origin() != BinaryOrigin.FILE) {
                continue;
            }
            for (PageDigest p : b.pages()) {
                String prev = seen.putIfAbsent(b.path() + "@" + p.fileOffset(), p.sha256());
                if (prev != null) {
                    assertEquals(prev, p.sha256(), b.pid() + " " + b.path() + " at " + p.fileOffset());
                    shared++;
                }
            }
        }
        assertTrue(shared > 1000, "pages seen in more than one process: " + shared);
    }

    /** The page-cache route (used when no process maps a file's header) reads the same build-id as the mapping. */
    @Test
    void thePageCacheGivesTheSameBuildIdAsTheMapping() throws Exception {
        ProcessInfo init = TinyAnalysis.result().processes().processes().stream().filter(p -> p.pid() == 1).findFirst()
                .orElseThrow();
        Mapping first = init.maps().stream().filter(m -> m.path().equals(Optional.of("/bin/busybox"))).findFirst()
                .orElseThrow();
        try (dev.sonde.analyzer.image.MemoryImage image = dev.sonde.analyzer.image.ImageOpener.standard()
                .open(dev.sonde.analyzer.fixtures.Fixtures.committedTinyImage())) {
            dev.sonde.analyzer.kernel.profile.KernelMemory k = new dev.sonde.analyzer.kernel.profile.KernelMemory(
                    dev.sonde.analyzer.kernel.profile.KernelProfiles.build(image), image.memory());
            assertEquals(binary(1, "/bin/busybox").buildId(), new MappedBinaries(k, image.memory()).pageCacheBuildId(init, first));
        }
    }

    /**
     * On the debian capture every file-backed binary gets its ELF type and build-id, nginx's (whose header page no
     * process maps after its daemonizing forks) from the page cache.
     */
    @Test
    void everyFileBinaryOfTheDebianCaptureHasABuildId() {
        AnalysisResult r = TinyAnalysis.debian();
        List<String> without = r.binaries().stream().filter(b -> b.origin() != BinaryOrigin.ANONYMOUS)
                .filter(b -> b.elfType().isEmpty() || b.buildId().isEmpty() || b.problem().isPresent())
                .map(b -> b.pid() + " " + b.path() + " " + b.problem().orElse("")).toList();
        assertEquals(List.of(), without);
        System.out.println("debian: " + r.binaries().size() + " binaries, "
                + r.binaries().stream().mapToInt(b -> b.pages().size()).sum() + " resident executable pages");
    }

    static String combined(List<PageDigest> pages) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (PageDigest p : pages) {
            sha.update((p.fileOffset() + ":" + p.sha256() + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

}
