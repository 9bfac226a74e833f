package dev.sonde.analyzer.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.profile.KObject;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelProfile;
import dev.sonde.analyzer.kernel.profile.KernelProfiles;
import dev.sonde.analyzer.memory.PatchedMemory;
import dev.sonde.analyzer.memory.x86.X86AddressSpace;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Corrupted socket and ELF structures in the committed tiny capture: a bounded read, the problem named on the
 * descriptor or binary (and the process' verdict), everything else still read.
 */
class HostileSocketsAndBinariesTest {
    private static MemoryImage image;
    private static KernelProfile profile;

    @BeforeAll
    static void open() throws IOException {
        image = ImageOpener.standard().open(Fixtures.committedTinyImage());
        profile = KernelProfiles.build(image);
    }

    @AfterAll
    static void close() {
        image.close();
    }

    private static long phys(KernelMemory k, long virtual) {
        long p = k.space().physicalAddress(virtual);
        assertTrue(p >= 0);
        return p;
    }

    /** The process holding the listening /tmp/sonde.sock, and that descriptor. */
    private static ProcessInfo listener() {
        return TinyFixture.report().processes().stream().filter(p -> p.files().stream().anyMatch(HostileSocketsAndBinariesTest::isListener))
                .findFirst().orElseThrow();
    }

    private static boolean isListener(OpenFile f) {
        return f.socket().map(s -> s.unixPath().equals(Optional.of("/tmp/sonde.sock")) && s.state().equals("LISTEN"))
                .orElse(false);
    }

    @Test
    void aUnixAddressLengthOutOfBoundsIsReportedOnItsDescriptor() {
        PatchedMemory m = new PatchedMemory(image.memory());
        KernelMemory k = new KernelMemory(profile, m);
        ProcessInfo p = listener();
        OpenFile fd = p.files().stream().filter(HostileSocketsAndBinariesTest::isListener).findFirst().orElseThrow();
        KObject sock = k.object("file", fd.file()).deref("private_data", "socket").orElseThrow().deref("sk", "sock")
                .orElseThrow();
        KObject addr = k.object("unix_address", sock.as("unix_sock").pointer("addr"));
        long lenAt = addr.addressOf("len");
        long word = k.space().readU64(lenAt);
        m.patchU64(phys(k, lenAt), (word & ~0xffffffffL) | 0x7fff_0000L);
        ProcessInfo q = new LinuxProcesses(k, m).process(k.object("task_struct", p.task()));
        OpenFile bad = q.files().stream().filter(f -> f.fd() == fd.fd()).findFirst().orElseThrow();
        assertTrue(bad.socket().isEmpty());
        assertEquals(fd.target(), bad.target(), "the descriptor itself is still listed");
        assertTrue(bad.problem().orElse("").contains("address length"), String.valueOf(bad.problem()));
        assertFalse(q.completeness().complete());
        // the accepted connection shares the listener's address (unix_stream_connect): it is unreadable too, the
        // TCP, UDP and unnamed UNIX sockets are not
        List<Integer> lost = p.files().stream().filter(f -> f.socket().flatMap(SocketInfo::unixPath)
                .equals(Optional.of("/tmp/sonde.sock"))).map(OpenFile::fd).toList();
        assertEquals(2, lost.size());
        assertEquals(lost, q.files().stream().filter(f -> f.kind().equals("socket") && f.socket().isEmpty())
                .map(OpenFile::fd).toList());
    }

    @Test
    void aWildSockPointerIsReportedOnItsDescriptor() {
        PatchedMemory m = new PatchedMemory(image.memory());
        KernelMemory k = new KernelMemory(profile, m);
        ProcessInfo p = listener();
        OpenFile fd = p.files().stream().filter(HostileSocketsAndBinariesTest::isListener).findFirst().orElseThrow();
        KObject socket = k.object("file", fd.file()).deref("private_data", "socket").orElseThrow();
        m.patchU64(phys(k, socket.addressOf("sk")), 0x1234L);
        ProcessInfo q = new LinuxProcesses(k, m).process(k.object("task_struct", p.task()));
        OpenFile bad = q.files().stream().filter(f -> f.fd() == fd.fd()).findFirst().orElseThrow();
        assertTrue(bad.problem().orElse("").contains("not a kernel address"), String.valueOf(bad.problem()));
        assertFalse(q.completeness().complete());
    }

    @Test
    void anElfHeaderWithTooManyProgramHeadersIsReportedAndPagesAreStillHashed() {
        PatchedMemory m = new PatchedMemory(image.memory());
        KernelMemory k = new KernelMemory(profile, m);
        ProcessInfo init = TinyFixture.report().processes().stream().filter(p -> p.pid() == 1).findFirst().orElseThrow();
        long pgd = k.object("task_struct", init.task()).deref("mm").orElseThrow().pointer("pgd");
        X86AddressSpace user = new X86AddressSpace(m, phys(k, pgd), k.space().mode());
        Mapping header = init.maps().stream().filter(x -> x.path().equals(Optional.of("/bin/busybox")) && x.offset() == 0)
                .findFirst().orElseThrow();
        long at = header.start() + 56; // e_phnum, e_shentsize, e_shnum, e_shstrndx
        long word = user.readU64(at);
        m.patchU64(user.physicalAddress(at), (word & ~0xffffL) | 0xffffL);
        List<MappedBinary> bins = new MappedBinaries(k, m).of(init);
        MappedBinary bb = bins.stream().filter(b -> b.path().equals("/bin/busybox")).findFirst().orElseThrow();
        assertTrue(bb.problem().orElse("").contains("out of bounds"), String.valueOf(bb.problem()));
        assertEquals(Optional.empty(), bb.buildId());
        assertFalse(bb.pages().isEmpty(), "the code pages are hashed all the same");
    }

    @Test
    void notesWithWildSizesYieldNoBuildId() {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0xffff_fff0).putInt(20).putInt(3).put("GNU\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(Optional.empty(), MappedBinaries.buildId(b.array()));
        ByteBuffer c = ByteBuffer.allocate(36).order(ByteOrder.LITTLE_ENDIAN);
        c.putInt(4).putInt(20).putInt(3).put("GNU\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        for (int i = 0; i < 20; i++) {
            c.put((byte) i);
        }
        assertEquals(Optional.of("000102030405060708090a0b0c0d0e0f10111213"), MappedBinaries.buildId(c.array()));
    }
}
