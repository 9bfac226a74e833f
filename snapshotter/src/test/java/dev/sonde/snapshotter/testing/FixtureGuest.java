package dev.sonde.snapshotter.testing;

import dev.sonde.snapshotter.libvirt.DomainHandle;
import dev.sonde.snapshotter.libvirt.DomainXml;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * A fixture guest booted for a test and kept running: the domain XML comes from the fixture scripts
 * ({@code fixtures/tiny/build.sh}, {@code fixtures/debian/mkdomain.sh}), optionally with extra qcow2 disks; the domain
 * is defined and started through libvirt-java, and {@link #close()} always destroys and undefines it and deletes the
 * files of the run.
 */
public final class FixtureGuest implements AutoCloseable {
    private final LibvirtSession session;
    private final String name;
    private final Path consoleLog;
    private final Path gtSocket;
    private final List<Path> files = new ArrayList<>();
    private Domain domain;

    private FixtureGuest(LibvirtSession session, String name, Path consoleLog, Path gtSocket) {
        this.session = session;
        this.name = name;
        this.consoleLog = consoleLog;
        this.gtSocket = gtSocket;
    }

    /** An extra disk: a qcow2 of {@code sizeMiB}, over a backing qcow2 when {@code backed}. */
    public record ExtraDisk(String target, int sizeMiB, boolean backed) {
    }

    /** The tiny guest with {@code memoryMiB} of RAM and extra disks (in a world-writable directory of its own). */
    public static FixtureGuest tiny(LibvirtSession session, int memoryMiB, List<ExtraDisk> disks) throws IOException {
        Host.waitForIdleMachine(120);
        String name = "sonde-snap-" + HexFormat.of().formatHex(randomBytes(4));
        Path run = Host.cache().resolve("run");
        Path xml = run.resolve(name + ".xml");
        Host.run(List.of(Host.repo().resolve("fixtures/tiny/build.sh").toString()),
                Map.of("TINY_MEMORY_MIB", Integer.toString(memoryMiB), "TINY_DOMAIN_NAME", name,
                        "TINY_DOMAIN_XML", xml.toString()), 900);
        FixtureGuest g = new FixtureGuest(session, name, run.resolve(name + ".console.log"), run.resolve(name + ".gt.sock"));
        g.files.add(xml);
        String x = Files.readString(xml);
        if (!disks.isEmpty()) {
            Path dir = run.resolve(name + ".disks");
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
            g.files.add(dir);
            StringBuilder devs = new StringBuilder();
            for (ExtraDisk d : disks) {
                Path top = dir.resolve(d.target() + ".qcow2");
                if (d.backed()) {
                    Path base = dir.resolve(d.target() + "-base.qcow2");
                    Host.run(List.of("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), d.sizeMiB() + "M"));
                    Host.run(List.of("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base.toString(),
                            top.toString()));
                    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rw-rw-rw-"));
                } else {
                    Host.run(List.of("qemu-img", "create", "-q", "-f", "qcow2", top.toString(), d.sizeMiB() + "M"));
                }
                Files.setPosixFilePermissions(top, PosixFilePermissions.fromString("rw-rw-rw-"));
                devs.append("    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n")
                        .append("      <source file='").append(top).append("'/>\n")
                        .append("      <target dev='").append(d.target()).append("' bus='virtio'/>\n    </disk>\n");
            }
            x = x.replaceFirst("(\\s*)<controller type='usb'", "\n" + Matcher.quoteReplacement(devs.toString())
                    + "$1<controller type='usb'");
        }
        g.define(x);
        return g;
    }

    /** The debian guest (a fresh overlay over the cached base disk; builds the base disk the first time). */
    public static FixtureGuest debian(LibvirtSession session) throws IOException {
        Host.waitForIdleMachine(120);
        Host.run(List.of(Host.repo().resolve("fixtures/debian/build.sh").toString()), null, 3600);
        String name = "sonde-snapdeb-" + HexFormat.of().formatHex(randomBytes(4));
        Path run = Host.cache().resolve("run");
        Path xml = Path.of(Host.run(List.of(Host.repo().resolve("fixtures/debian/mkdomain.sh").toString(), name), null, 300)
                .lines().filter(l -> l.endsWith(".xml")).reduce((a, b) -> b).orElseThrow().trim());
        FixtureGuest g = new FixtureGuest(session, name, run.resolve(name + ".console.log"), run.resolve(name + ".gt.sock"));
        g.files.add(xml);
        g.files.add(run.resolve(name + ".overlay.qcow2"));
        g.define(Files.readString(xml));
        return g;
    }

    private void define(String xml) throws IOException {
        Files.deleteIfExists(consoleLog);
        files.add(consoleLog);
        files.add(gtSocket);
        try {
            domain = session.connect0().domainDefineXML(xml);
        } catch (LibvirtException e) {
            throw new IOException("define " + name + ": " + e.getMessage(), e);
        }
    }

    /** Starts the domain and waits for {@code SONDE-READY} on its console. */
    public FixtureGuest start(int bootTimeoutSeconds) throws IOException {
        try {
            domain.create();
        } catch (LibvirtException e) {
            throw new IOException("start " + name + ": " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + bootTimeoutSeconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            String con = console();
            if (con.contains("SONDE-READY")) {
                return this;
            }
            if (con.contains("Kernel panic")) {
                throw new IOException(name + ": kernel panic:\n" + tail(con));
            }
            PrivateLibvirtd.sleep(500);
        }
        throw new IOException(name + ": no SONDE-READY after " + bootTimeoutSeconds + " s:\n" + tail(console()));
    }

    public String console() {
        try {
            return Files.exists(consoleLog) ? new String(Files.readAllBytes(consoleLog), StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static String tail(String s) {
        return s.length() > 3000 ? s.substring(s.length() - 3000) : s;
    }

    public String name() {
        return name;
    }

    /** A fresh handle (after a reconnect, old handles are stale). */
    public DomainHandle handle() throws IOException {
        return session.domain(name);
    }

    /** The disk chains of the running domain, as {@code format:path} labels per target. */
    public Map<String, List<String>> chains() throws IOException {
        Map<String, List<String>> m = new java.util.TreeMap<>();
        for (DomainXml.Disk d : DomainXml.parse(handle().xml()).disks()) {
            m.put(d.target(), d.chainLabels());
        }
        return m;
    }

    /** The disk sources of the persistent definition (what the guest boots with next time). */
    public Map<String, List<String>> persistentChains() throws IOException {
        Map<String, List<String>> m = new java.util.TreeMap<>();
        for (DomainXml.Disk d : DomainXml.parse(handle().inactiveXml()).disks()) {
            m.put(d.target(), d.chainLabels());
        }
        return m;
    }

    /**
     * Asks gtdump inside the guest for a pong over the second serial port: proof that the guest runs and answers, not
     * just that libvirt says "running".
     */
    public String ping(int timeoutSeconds) throws IOException {
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(gtSocket));
            ch.configureBlocking(false);
            StringBuilder buf = new StringBuilder();
            ByteBuffer bb = ByteBuffer.allocate(4096);
            long nextPing = 0;
            Pattern pong = Pattern.compile("SONDE-GT-PONG [^\\n]*");
            while (System.nanoTime() < deadline) {
                if (System.nanoTime() >= nextPing) {
                    ch.write(ByteBuffer.wrap("ping\n".getBytes(StandardCharsets.US_ASCII)));
                    nextPing = System.nanoTime() + 1_000_000_000L;
                }
                bb.clear();
                int n = ch.read(bb);
                if (n < 0) {
                    throw new IOException("gtdump channel closed");
                }
                if (n > 0) {
                    buf.append(new String(bb.array(), 0, n, StandardCharsets.ISO_8859_1));
                    Matcher m = pong.matcher(buf);
                    if (m.find()) {
                        return m.group();
                    }
                } else {
                    PrivateLibvirtd.sleep(20);
                }
            }
        }
        throw new IOException(name + ": gtdump did not answer within " + timeoutSeconds + " s");
    }

    /**
     * Sends {@code command} once to gtdump and reads its answer until {@code end} matches (then returns everything
     * read), within {@code timeoutSeconds}.
     */
    private String request(String command, Pattern end, int timeoutSeconds) throws IOException {
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(gtSocket));
            ch.configureBlocking(false);
            ch.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII)));
            // bytes kept as ISO-8859-1 characters (one per byte) while reading, decoded as UTF-8 at the end
            StringBuilder buf = new StringBuilder();
            ByteBuffer bb = ByteBuffer.allocate(65536);
            while (System.nanoTime() < deadline) {
                bb.clear();
                int n = ch.read(bb);
                if (n < 0) {
                    throw new IOException("gtdump channel closed");
                }
                if (n > 0) {
                    buf.append(new String(bb.array(), 0, n, StandardCharsets.ISO_8859_1));
                    if (end.matcher(buf).find()) {
                        return new String(buf.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
                    }
                    if (buf.indexOf("SONDE-GT-ERR") >= 0 && buf.indexOf("\n", buf.indexOf("SONDE-GT-ERR")) >= 0) {
                        throw new IOException(name + ": gtdump: " + buf.substring(buf.indexOf("SONDE-GT-ERR")).trim());
                    }
                } else {
                    PrivateLibvirtd.sleep(20);
                }
            }
        }
        throw new IOException(name + ": gtdump did not answer '" + command + "' within " + timeoutSeconds + " s");
    }

    /**
     * Starts a new process in the guest through gtdump's {@code spawn NAME}: a sleeper hard-linked as
     * {@code /opt/sonde/spawn/NAME} (a binary path the guest never ran), comm NAME. Returns its pid.
     */
    public int spawn(String processName) throws IOException {
        String r = request("spawn " + processName, Pattern.compile("SONDE-GT-SPAWNED (\\d+) (\\S+)\n"), 30);
        Matcher m = Pattern.compile("SONDE-GT-SPAWNED (\\d+) (\\S+)\n").matcher(r);
        if (!m.find()) {
            throw new IOException("unexpected spawn answer: " + r);
        }
        return Integer.parseInt(m.group(1));
    }

    /** The ground truth gtdump takes in the guest now (its JSON lines, written to {@code out}). */
    public Path groundTruth(Path out) throws IOException {
        String nonce = "t" + HexFormat.of().formatHex(randomBytes(4));
        String r = request("dump " + nonce, Pattern.compile("SONDE-GT-END " + nonce + "\n"), 300);
        int b = r.indexOf("SONDE-GT-BEGIN " + nonce + "\n");
        int e = r.indexOf("SONDE-GT-END " + nonce + "\n");
        if (b < 0 || e < b) {
            throw new IOException(name + ": malformed ground truth answer");
        }
        Files.writeString(out, r.substring(b + ("SONDE-GT-BEGIN " + nonce + "\n").length(), e), StandardCharsets.UTF_8);
        return out;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        try {
            DomainHandle h = handle();
            if (h.state().active()) {
                h.destroy();
            }
            h.undefine();
        } catch (IOException e) {
            first = e;
        }
        for (Path p : files) {
            try {
                Host.run(List.of("rm", "-rf", p.toString()));
            } catch (IOException e) {
                // keep going
            }
        }
        if (first != null && !first.getMessage().contains("no domain")) {
            throw first;
        }
    }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new Random().nextBytes(b);
        return b;
    }
}
