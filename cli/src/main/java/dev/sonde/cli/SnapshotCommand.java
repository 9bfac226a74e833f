package dev.sonde.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sonde.snapshotter.CheckpointException;
import dev.sonde.snapshotter.CheckpointListener;
import dev.sonde.snapshotter.CheckpointOptions;
import dev.sonde.snapshotter.CheckpointResult;
import dev.sonde.snapshotter.Checkpointer;
import dev.sonde.snapshotter.MemoryMode;
import dev.sonde.snapshotter.bundle.BundleArchive;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import dev.sonde.snapshotter.libvirt.VirtException;
import dev.sonde.snapshotter.store.BundleStore;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code sonde snapshot DOMAIN}: a consistent checkpoint of a running domain into a sealed evidence bundle. */
@Command(name = "snapshot", mixinStandardHelpOptions = true,
        description = {"Checkpoint a running domain's memory and disks, with minimal pause, into a sealed evidence bundle "
                + "in the store, and print the bundle's path and the SHA-256 of its manifest (keep that hash: it is what "
                + "'sonde verify --manifest-sha256' checks the bundle against).",
            "The guest is left running with its disk chain unchanged, also when the checkpoint fails; leftovers of "
                + "interrupted runs (overlays, partial bundles) are cleaned first and reported."})
final class SnapshotCommand implements Callable<Integer> {
    enum Format { text, json }

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DOMAIN", description = "Domain name or UUID.")
    String domain;

    @Option(names = {"-c", "--connect"}, paramLabel = "URI",
            description = "libvirt URI (default: $LIBVIRT_DEFAULT_URI, else qemu:///system).")
    String uri;

    @Option(names = "--store", paramLabel = "DIR",
            description = "Bundle store (default: $SONDE_STORE, else /var/lib/sonde/bundles).")
    Path store;

    @Option(names = "--memory", paramLabel = "MODE", defaultValue = "live",
            description = "live (external memory snapshot, lowest pause; default), or a memory-only dump of the paused "
                    + "guest: elf, kdump-zlib, kdump-lzo, kdump-snappy.")
    String memory;

    @Option(names = "--no-disks", description = "Capture memory only.")
    boolean noDisks;

    @Option(names = "--disk-method", paramLabel = "METHOD", defaultValue = "overlay",
            description = "overlay (external snapshot in the same instant as memory, images copied, overlay merged "
                    + "back; default) or backup (dump modes only: a backup job started while the guest is paused; the "
                    + "guest's disk chain is never touched).")
    String diskMethod;

    @Option(names = "--exclude-disk", paramLabel = "TARGET", description = "Leave this disk out (repeatable), e.g. vdb.")
    List<String> exclude = new ArrayList<>();

    @Option(names = "--quiesce", paramLabel = "WHEN", defaultValue = "auto",
            description = "Freeze guest file systems through the QEMU guest agent during the disk snapshot: auto "
                    + "(when an agent answers; default), on (fail without one), off.")
    String quiesce;

    @Option(names = "--archive", paramLabel = "KIND", arity = "0..1", fallbackValue = "tar",
            description = "Also pack the bundle into one archive file (tar, tar.zst, tar.xz; default tar) and remove "
                    + "the directory.")
    String archive;

    @Option(names = "--staging", paramLabel = "auto|none|DIR", defaultValue = "auto",
            description = "Where libvirt first writes the memory image: auto (/dev/shm when the guest's memory fits: "
                    + "shortest pause; default), none (straight into the bundle), or a directory.")
    String staging;

    @Option(names = "--hypervisor-user", paramLabel = "USER", hidden = true,
            description = "The user an unprivileged libvirtd writes files as, when it is not this user.")
    String hypervisorUser;

    @Option(names = "--format", defaultValue = "text", description = "Output format: ${COMPLETION-CANDIDATES}.")
    Format format;

    static String defaultUri() {
        String env = System.getenv("LIBVIRT_DEFAULT_URI");
        return env != null && !env.isBlank() ? env : "qemu:///system";
    }

    static Path defaultStore() {
        String env = System.getenv("SONDE_STORE");
        return Path.of(env != null && !env.isBlank() ? env : "/var/lib/sonde/bundles");
    }

    @Override
    public Integer call() throws Exception {
        CheckpointOptions o;
        try {
            o = options();
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String u = uri != null ? uri : defaultUri();
        Path storeDir = store != null ? store : defaultStore();
        BundleStore s = BundleStore.open(storeDir, Clock.systemUTC());
        CheckpointResult r;
        try (LibvirtSession session = open(u)) {
            CheckpointListener listener = new CheckpointListener() {
                @Override
                public void info(String message) {
                    err.println("sonde: " + message);
                    err.flush();
                }
            };
            r = new Checkpointer(session, s, o, listener).checkpoint(domain);
        } catch (CheckpointException e) {
            int code = e.kind() == CheckpointException.Kind.DOMAIN ? ExitCodes.BAD_INPUT : ExitCodes.MISSING_ENVIRONMENT;
            throw new SondeException(code, e.getMessage(), e);
        }
        if (format == Format.json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("bundle", r.bundle().toString());
            m.put("manifestSha256", r.manifestSha256());
            m.put("pauseMillis", r.pauseMillis());
            m.put("pauseMethod", r.manifest().checkpoint().pause().method());
            m.put("cleaned", r.cleaned());
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m));
        } else {
            out.println(r.bundle());
            out.println("manifest sha256 " + r.manifestSha256());
            err.printf("sonde: %s checkpointed; guest paused %.1f ms (%s); %d files%n", r.manifest().domain().name(),
                    r.pauseMillis(), r.manifest().checkpoint().pause().method(), r.manifest().files().size());
        }
        out.flush();
        err.flush();
        return ExitCodes.OK;
    }

    private static LibvirtSession open(String u) {
        try {
            return LibvirtSession.open(u);
        } catch (VirtException e) {
            throw new SondeException(ExitCodes.MISSING_ENVIRONMENT, e.getMessage(), e);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new SondeException(ExitCodes.MISSING_ENVIRONMENT, "libvirt is not installed (libvirt0): " + e.getMessage(), e);
        }
    }

    CheckpointOptions options() {
        CheckpointOptions o = CheckpointOptions.defaults()
                .withMemory(MemoryMode.parse(memory))
                .withDisks(!noDisks)
                .withDiskMethod(switch (diskMethod.toLowerCase()) {
                    case "overlay" -> CheckpointOptions.DiskMethod.OVERLAY;
                    case "backup" -> CheckpointOptions.DiskMethod.BACKUP;
                    default -> throw new IllegalArgumentException("--disk-method: overlay or backup, not '" + diskMethod + "'");
                })
                .withExcludeDisks(Set.copyOf(exclude))
                .withQuiesce(switch (quiesce.toLowerCase()) {
                    case "auto" -> CheckpointOptions.Quiesce.AUTO;
                    case "on", "yes", "true" -> CheckpointOptions.Quiesce.ON;
                    case "off", "no", "false" -> CheckpointOptions.Quiesce.OFF;
                    default -> throw new IllegalArgumentException("--quiesce: auto, on or off, not '" + quiesce + "'");
                })
                .withArchive(archive == null ? Optional.empty() : Optional.of(BundleArchive.Kind.parse(archive)))
                .withHypervisorUser(Optional.ofNullable(hypervisorUser));
        o = switch (staging) {
            case "auto" -> o.withStaging(CheckpointOptions.Staging.AUTO, Optional.empty());
            case "none" -> o.withStaging(CheckpointOptions.Staging.NONE, Optional.empty());
            default -> o.withStaging(CheckpointOptions.Staging.DIR, Optional.of(Path.of(staging)));
        };
        String v = SnapshotCommand.class.getPackage().getImplementationVersion();
        return o.withSondeVersion(v == null ? "development build" : v);
    }
}
