package dev.sonde.cli.demo;

import dev.sonde.snapshotter.libvirt.DomainHandle;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.libvirt.LibvirtException;

/**
 * One fixture guest booted for the demo through the fixture scripts ({@code fixtures/tiny/build.sh},
 * {@code fixtures/debian/build.sh} + {@code mkdomain.sh}, which build their cached images under
 * {@code $SONDE_CACHE}, default {@code /var/cache/sonde}, on first use). Its run files are
 * {@code $SONDE_CACHE/run/NAME.*}; {@link #remove(String, String)} destroys and undefines the domain and deletes them
 * with libvirt's QEMU log of it.
 */
public final class DemoGuest {
    private static final Duration BUILD_LIMIT = Duration.ofHours(1);

    private final GuestKind kind;
    private final String name;
    private final Path runDir;
    private final String xml;

    private DemoGuest(GuestKind kind, String name, Path runDir, String xml) {
        this.kind = kind;
        this.name = name;
        this.runDir = runDir;
        this.xml = xml;
    }

    /** The cache root of the fixture scripts. */
    public static Path cache() {
        String env = System.getenv("SONDE_CACHE");
        return Path.of(env != null && !env.isBlank() ? env : "/var/cache/sonde");
    }

    /** Builds (or reuses the cached images of) the guest and writes its domain XML; nothing is defined yet. */
    public static DemoGuest build(GuestKind kind, Path repo, String name, Consumer<String> log) throws IOException {
        Path run = cache().resolve("run");
        Path xmlPath;
        if (kind == GuestKind.tiny) {
            xmlPath = run.resolve(name + ".xml");
            HostCommand.check(List.of(repo.resolve("fixtures/tiny/build.sh").toString()),
                    Map.of("TINY_DOMAIN_NAME", name, "TINY_DOMAIN_XML", xmlPath.toString()), BUILD_LIMIT, log);
        } else {
            HostCommand.check(List.of(repo.resolve("fixtures/debian/build.sh").toString()), null, BUILD_LIMIT, log);
            String out = HostCommand.check(List.of(repo.resolve("fixtures/debian/mkdomain.sh").toString(), name), null,
                    Duration.ofMinutes(5), log);
            xmlPath = Path.of(out.lines().filter(l -> l.endsWith(".xml")).reduce((a, b) -> b)
                    .orElseThrow(() -> new IOException("fixtures/debian/mkdomain.sh printed no domain XML path")).trim());
        }
        return new DemoGuest(kind, name, run, Files.readString(xmlPath));
    }

    public String name() {
        return name;
    }

    public GuestKind kind() {
        return kind;
    }

    /** Whether the domain has a guest-agent channel (the cross-view probe lists the guest's processes through it). */
    public boolean hasGuestAgent() {
        return xml.contains("org.qemu.guest_agent.0");
    }

    /** Defines and starts the domain, then waits for {@code SONDE-READY} on its serial console. */
    public String boot(LibvirtSession session, Consumer<String> log) throws IOException {
        Path console = runDir.resolve(name + ".console.log");
        Files.deleteIfExists(console);
        try {
            session.connect0().domainDefineXML(xml).create();
        } catch (LibvirtException e) {
            throw new DemoException(DemoException.Kind.ENVIRONMENT, "define and start " + name + ": " + e.getMessage(), e);
        }
        log.accept("domain " + name + " started; waiting for SONDE-READY on its console " + console);
        long deadline = System.nanoTime() + kind.bootTimeoutSeconds() * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            String con = Files.exists(console) ? new String(Files.readAllBytes(console), StandardCharsets.ISO_8859_1) : "";
            int i = con.indexOf("SONDE-READY");
            if (i >= 0) {
                int e = con.indexOf('\n', i);
                return con.substring(i, e < 0 ? con.length() : e).strip();
            }
            if (con.contains("Kernel panic")) {
                throw new DemoException(DemoException.Kind.ENVIRONMENT, name + ": kernel panic while booting (see " + console + ")");
            }
            if (!session.domain(name).state().active()) {
                throw new DemoException(DemoException.Kind.ENVIRONMENT, name + " stopped while booting (see " + console + ")");
            }
            LibvirtDaemons.sleep(500);
        }
        throw new DemoException(DemoException.Kind.ENVIRONMENT, name + ": no SONDE-READY on its console after "
                + kind.bootTimeoutSeconds() + " s (see " + console + ")");
    }

    /**
     * Destroys and undefines the domain {@code name} at {@code uri} when it exists, and deletes its run files
     * ({@code $SONDE_CACHE/run/NAME.*}: XML, console log, overlays, gtdump socket). Returns what it did.
     */
    public static String remove(String uri, String name) throws IOException {
        List<String> did = new ArrayList<>();
        try (LibvirtSession s = LibvirtSession.open(uri)) {
            DomainHandle d = null;
            try {
                d = s.domain(name);
            } catch (IOException e) {
                // not defined (any more)
            }
            if (d != null) {
                if (d.state().active()) {
                    d.destroy();
                    did.add("destroyed");
                }
                try {
                    d.undefine();
                    did.add("undefined");
                } catch (IOException e) {
                    // transient: gone with the destroy
                }
            }
        }
        Path run = cache().resolve("run");
        int files = 0;
        if (Files.isDirectory(run)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(run, glob(name) + ".*")) {
                for (Path p : ds) {
                    deleteTree(p);
                    files++;
                }
            }
        }
        boolean local = !uri.contains("://") || uri.contains(":///");
        if (local && Files.deleteIfExists(Path.of("/var/log/libvirt/qemu", name + ".log"))) {
            files++;
        }
        return "guest " + name + ": " + (did.isEmpty() ? "no domain left" : String.join(" and ", did)) + ", " + files
                + " run and log files deleted";
    }

    private static String glob(String name) {
        return name.replaceAll("([*?\\[\\]{}\\\\])", "\\\\$1");
    }

    static void deleteTree(Path p) throws IOException {
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (var s = Files.walk(p)) {
                for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(q);
                }
            }
        } else {
            Files.deleteIfExists(p);
        }
    }
}
