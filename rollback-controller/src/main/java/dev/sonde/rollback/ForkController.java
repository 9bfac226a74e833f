package dev.sonde.rollback;

import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.ImageAnalyzer;
import dev.sonde.rollback.probe.GuestAgent;
import dev.sonde.rollback.probe.Probe;
import dev.sonde.rollback.probe.ProbeContext;
import dev.sonde.rollback.probe.ProbeResult;
import dev.sonde.rollback.qcow2.Qcow2Allocation;
import dev.sonde.snapshotter.CheckpointListener;
import dev.sonde.snapshotter.CheckpointOptions;
import dev.sonde.snapshotter.CheckpointResult;
import dev.sonde.snapshotter.Checkpointer;
import dev.sonde.snapshotter.bundle.Manifest;
import dev.sonde.snapshotter.bundle.Sha256;
import dev.sonde.snapshotter.libvirt.DomainHandle;
import dev.sonde.snapshotter.libvirt.LibvirtNative;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import dev.sonde.snapshotter.store.BundleStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Forks a clone from a checkpoint bundle beside the still-running original, runs probes on it, and always rolls it
 * back: the clone destroyed, its files and journal entry removed, then the bundle's hashes, the original domain and the
 * absence of the clone verified.
 *
 * <p>The clone never opens a bundle file: Sonde copies the save image (header XML rewritten to the clone's name and
 * UUID, same length) and the disk layers into the fork's directory, hashing the bundle's bytes as it reads them and
 * checking them against the manifest, and gives the clone an empty qcow2 overlay over those copies.
 */
public final class ForkController {
    private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss").withZone(ZoneOffset.UTC);

    private final LibvirtSession session;
    private final ForkOptions options;
    private final Consumer<String> log;

    public ForkController(LibvirtSession session, ForkOptions options, Consumer<String> log) {
        this.session = session;
        this.options = options;
        this.log = log;
    }

    /** Forks {@code bundle}, runs {@code probes}, rolls back and verifies. Never leaves the clone running. */
    public ForkReport fork(Path bundle, List<Probe> probes) throws IOException {
        long t0 = System.nanoTime();
        prepareWorkDir();
        List<String> reconciled = Reconciler.reconcile(session, options, log);
        ForkSource src = ForkSource.open(bundle);
        SaveImage img = SaveImage.read(src.memoryFile());
        Manifest.Domain od = src.manifest().domain();
        if (od == null || od.uuid() == null) {
            throw new ForkException(ForkException.Kind.BAD_INPUT, bundle + ": manifest names no domain");
        }
        OriginalState before = OriginalState.read(session, od.name(), od.uuid());
        CloneIdentity id = CloneIdentity.forOriginal(img.name(), this::nameTaken);
        String forkId = ID_TIME.format(Instant.now()) + "-" + HexFormat.of().formatHex(random(4));
        Path forkDir = options.forksDir().resolve(forkId);
        ForkJournal journal = new ForkJournal(forkId, session.uri(), ProcessHandle.current().pid(),
                ForkJournal.currentStart(), id.name(), id.uuid(), forkDir.toString(), bundle.toAbsolutePath().toString(),
                od.name(), Instant.now().toString());
        journal.write(options.journalDir());
        Instant deadline = Instant.now().plus(options.maxRunTime());
        log.accept("fork " + forkId + ": clone " + id.name() + " (" + id.uuid() + ") of " + od.name());

        List<String> bounds = new ArrayList<>();
        List<ProbeResult> results = new ArrayList<>();
        Map<String, Path> overlays = new LinkedHashMap<>();
        String error = null;
        double forkMillis = -1;
        boolean started = false;
        RunTimeWatchdog watchdog = null;
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sonde-fork-deadline");
            t.setDaemon(true);
            return t;
        });
        Context ctx = null;
        try {
            Files.createDirectory(forkDir);
            Files.setPosixFilePermissions(forkDir, PosixFilePermissions.fromString("rwx--x--x"));
            watchdog = RunTimeWatchdog.arm(session.uri(), id.uuid(), forkDir.resolve(".watchdog"), deadline);
            Path memCopy = forkDir.resolve("memory.save");
            String sha = SaveImage.copyWithIdentity(src.memoryFile(), memCopy, id.name(), id.uuid());
            expectHash(src, src.memory(), sha);
            Map<String, CloneXml.DiskPlan> plans = copyDisks(src, forkDir, overlays);
            String xml = CloneXml.build(img.xmlWithIdentity(id.name(), id.uuid()), plans, forkDir, options.network(), forkId,
                    options.cpuPercent());
            Files.writeString(forkDir.resolve("clone.xml"), xml);
            if (xml.contains("<interface")) {
                bounds.add(IsolatedNetwork.ensure(session, options.network()) + ", links down");
            } else {
                bounds.add("no network interfaces");
            }
            DomainHandle.restore(session, memCopy.toString(), xml, LibvirtNative.VIR_DOMAIN_SAVE_PAUSED);
            started = true;
            DomainHandle clone = session.domainByUuid(id.uuid()).orElseThrow(
                    () -> new ForkException(ForkException.Kind.ENVIRONMENT, "restored clone " + id.uuid() + " not found"));
            bounds.add("run time at most " + options.maxRunTime().toSeconds() + " s (until " + deadline + ")");
            bounds.add(cpuBounds(session.isRemote(), id.name()));
            bounds.add("serial console to " + forkDir.resolve("console.log"));
            clone.resume();
            forkMillis = (System.nanoTime() - t0) / 1e6;
            log.accept(String.format("clone %s running after %.0f ms", id.name(), forkMillis));
            ctx = new Context(src, id, forkDir, overlays, deadline);
            String q = src.manifest().checkpoint() == null ? null : src.manifest().checkpoint().quiesce();
            if (q != null && q.startsWith("guest file systems frozen")) {
                // the checkpoint instant had the guest's file systems frozen: so has the clone; thaw them there
                ctx.agent();
                int n = clone.fsThaw();
                bounds.add("thawed " + n + " file systems in the clone (the checkpoint was quiesced)");
            }
            timer.schedule(() -> destroyQuietly(id.uuid(), "run-time limit reached"),
                    Math.max(0, Duration.between(Instant.now(), deadline).toMillis()), TimeUnit.MILLISECONDS);
            for (Probe p : probes) {
                if (p.phase() == Probe.Phase.LIVE) {
                    results.add(run(p, ctx));
                }
            }
        } catch (IOException | RuntimeException e) {
            error = e.getMessage();
            log.accept("fork " + forkId + " stopped: " + e.getMessage());
        } finally {
            timer.shutdownNow();
        }

        // Rollback: always.
        long r0 = System.nanoTime();
        List<String> actions = new ArrayList<>();
        if (started && ctx != null && probes.stream().anyMatch(p -> p.phase() == Probe.Phase.AFTER_STOP)) {
            freezeForDiskProbes(id, actions);
        }
        destroy(id, actions);
        if (watchdog != null) {
            watchdog.close();
        }
        if (started && ctx != null) {
            for (Probe p : probes) {
                if (p.phase() == Probe.Phase.AFTER_STOP) {
                    results.add(run(p, ctx));
                }
            }
        }
        Reconciler.deleteTree(forkDir);
        actions.add("deleted " + forkDir + " (save image copy, overlays, layer copies, console, clone checkpoints)");
        if (Files.deleteIfExists(cloneLockFile(id.uuid()))) {
            actions.add("deleted the clone checkpoints' lock file " + cloneLockFile(id.uuid()));
        }
        if (!session.isRemote() && Files.deleteIfExists(qemuLog(id.name()))) {
            actions.add("deleted libvirt's QEMU log " + qemuLog(id.name()));
        }
        journal.delete(options.journalDir());
        actions.add("removed journal entry " + forkId);
        RollbackVerification v = verify(src, before, id, forkDir, forkId, actions, r0);
        log.accept(String.format("rollback %s in %.0f ms", v.verified() ? "verified" : "NOT verified", v.rollbackMillis()));
        return new ForkReport(forkId, bundle.toString(), od.name(), id.name(), id.uuid(), bounds, forkMillis, error,
                reconciled, results, v);
    }

    private ProbeResult run(Probe p, Context ctx) {
        log.accept("probe " + p.spec());
        try {
            return p.run(ctx);
        } catch (IOException | RuntimeException e) {
            log.accept("probe " + p.spec() + " failed: " + e.getMessage());
            return new ProbeResult.Failed(p.spec(), e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    private void prepareWorkDir() throws IOException {
        for (Path d : List.of(options.workDir(), options.forksDir(), options.journalDir())) {
            if (!Files.isDirectory(d)) {
                Files.createDirectories(d);
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString(
                        d.equals(options.journalDir()) ? "rwx------" : "rwx--x--x"));
            }
        }
        // QEMU runs as its own user: it must be able to reach the clone's overlay
        for (Path d = options.forksDir().toAbsolutePath(); d != null; d = d.getParent()) {
            if (!Files.getPosixFilePermissions(d).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                throw new ForkException(ForkException.Kind.ENVIRONMENT, d + ": not searchable by other users (o+x), so "
                        + "QEMU cannot reach the clone's disks under " + options.forksDir() + ": choose another --work-dir");
            }
        }
    }

    /**
     * The snapshotter's per-domain lock file for the clone (left by a clone checkpoint); same place as
     * {@code dev.sonde.snapshotter.DomainLock}.
     */
    static Path cloneLockFile(String uuid) {
        String prop = System.getProperty("sonde.lockdir");
        Path run = Path.of("/run/lock");
        Path dir = prop != null ? Path.of(prop) : Files.isDirectory(run) && Files.isWritable(run) ? run.resolve("sonde")
                : Path.of(System.getProperty("java.io.tmpdir"), "sonde-locks");
        return dir.resolve("domain-" + uuid + ".lock");
    }

    /** libvirt's per-domain QEMU log, which it keeps after a transient domain is gone (local URIs). */
    static Path qemuLog(String name) {
        return Path.of("/var/log/libvirt/qemu", name + ".log");
    }

    private boolean nameTaken(String name) {
        try {
            session.connect0().domainLookupByName(name);
            return true;
        } catch (org.libvirt.LibvirtException e) {
            return false;
        }
    }

    private Map<String, CloneXml.DiskPlan> copyDisks(ForkSource src, Path forkDir, Map<String, Path> overlays)
            throws IOException {
        Map<String, CloneXml.DiskPlan> plans = new LinkedHashMap<>();
        for (ForkSource.SourceDisk d : src.disks()) {
            List<CloneXml.Layer> copies = new ArrayList<>();
            for (Manifest.Layer l : d.layers()) {
                String fmt = l.format() == null ? "qcow2" : l.format();
                Path copy = forkDir.resolve(d.target() + ".layer" + copies.size() + "." + fmt);
                expectHash(src, l.file(), copyHashing(src.dir().resolve(l.file()), copy));
                copies.add(new CloneXml.Layer(copy, fmt));
            }
            for (int i = 0; i + 1 < copies.size(); i++) {
                if (copies.get(i).format().equals("qcow2")) {
                    QemuImgTool.rebaseUnsafe(copies.get(i).path(), copies.get(i + 1).path(), copies.get(i + 1).format());
                }
            }
            CloneXml.Layer top = copies.get(0);
            long size = top.format().equals("qcow2") ? Qcow2Allocation.read(top.path()).virtualSize() : Files.size(top.path());
            Path overlay = forkDir.resolve(d.target() + ".overlay.qcow2");
            QemuImgTool.createOverlay(overlay, top.path(), top.format(), size);
            overlays.put(d.target(), overlay);
            plans.put(d.target(), new CloneXml.DiskPlan(overlay, List.copyOf(copies)));
        }
        return plans;
    }

    private static String copyHashing(Path from, Path to) throws IOException {
        MessageDigest sha = Sha256.newDigest();
        try (InputStream in = Files.newInputStream(from);
             OutputStream out = Files.newOutputStream(to, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
                out.write(buf, 0, n);
            }
        }
        Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-r--r--"));
        return Sha256.hex(sha.digest());
    }

    private static void expectHash(ForkSource src, String file, String sha) throws ForkException {
        if (!sha.equals(src.hashes().get(file))) {
            throw new ForkException(ForkException.Kind.INTEGRITY, src.dir().resolve(file) + ": SHA-256 " + sha
                    + " while copying, manifest says " + src.hashes().get(file));
        }
    }

    private String cpuBounds(boolean remote, String name) {
        String quota = "CPU quota " + options.cpuPercent() + "% of one host CPU (cgroup)";
        if (remote) {
            return quota + "; not reniced: remote URI";
        }
        int pid = CpuBounds.qemuPid(name);
        if (pid < 0) {
            return quota + "; not reniced: QEMU pid of " + name + " not found";
        }
        try {
            return "CPU quota " + options.cpuPercent() + "% of one host CPU (cgroup), " + CpuBounds.renice(pid);
        } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
            return quota + "; not reniced: " + e.getMessage();
        }
    }

    private void destroy(CloneIdentity id, List<String> actions) {
        try {
            Optional<DomainHandle> d = session.domainByUuid(id.uuid());
            if (d.isPresent()) {
                if (d.get().state().active()) {
                    d.get().destroy();
                    actions.add("destroyed clone " + id.name());
                }
                if (session.domainByUuid(id.uuid()).isPresent()) {
                    d.get().undefine();
                    actions.add("undefined clone " + id.name());
                }
            } else {
                actions.add("clone " + id.name() + " not running (never started, or stopped by its bounds)");
            }
        } catch (IOException e) {
            actions.add("destroying clone " + id.name() + " failed: " + e.getMessage());
        }
    }

    /**
     * Freezes the clone's file systems through its agent (best effort) before it is destroyed, so the guest writes its
     * journal and caches to their place and the disk probes read the file system as the clone left it.
     */
    private void freezeForDiskProbes(CloneIdentity id, List<String> actions) {
        try {
            Optional<DomainHandle> d = session.domainByUuid(id.uuid());
            if (d.isPresent() && d.get().state().running()
                    && d.get().agentCommand("{\"execute\":\"guest-ping\"}", 5).isPresent()) {
                actions.add("froze " + d.get().fsFreeze() + " file systems in the clone for the disk probes");
            }
        } catch (IOException e) {
            actions.add("could not freeze the clone's file systems: " + e.getMessage());
        }
    }

    private void destroyQuietly(String uuid, String why) {
        try {
            Optional<DomainHandle> d = session.domainByUuid(uuid);
            if (d.isPresent() && d.get().state().active()) {
                log.accept("destroying clone: " + why);
                d.get().destroy();
            }
        } catch (IOException e) {
            log.accept("destroying clone (" + why + ") failed: " + e.getMessage());
        }
    }

    private RollbackVerification verify(ForkSource src, OriginalState before, CloneIdentity id, Path forkDir,
            String forkId, List<String> actions, long r0) throws IOException {
        List<String> bundleProblems = src.reverify();
        OriginalState after = OriginalState.read(session, before.name(), before.uuid());
        List<String> originalProblems = before.differences(after);
        boolean domainGone = session.domainByUuid(id.uuid()).isEmpty() && !nameTaken(id.name());
        boolean filesGone = !Files.exists(forkDir) && !Files.exists(cloneLockFile(id.uuid()))
                && (session.isRemote() || !Files.exists(qemuLog(id.name())));
        boolean journalGone = !Files.exists(ForkJournal.file(options.journalDir(), forkId));
        double ms = (System.nanoTime() - r0) / 1e6;
        return new RollbackVerification(bundleProblems.isEmpty(), bundleProblems, before.present(),
                originalProblems.isEmpty(), after.state(), after.chains(), originalProblems, domainGone, filesGone,
                journalGone, List.copyOf(actions), ms);
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random().nextBytes(b);
        return b;
    }

    /** The probes' view of this fork. */
    private final class Context implements ProbeContext {
        private final ForkSource src;
        private final CloneIdentity id;
        private final Path forkDir;
        private final Map<String, Path> overlays;
        private final Instant deadline;
        private AnalysisResult sourceAnalysis;
        private GuestAgent agent;

        Context(ForkSource src, CloneIdentity id, Path forkDir, Map<String, Path> overlays, Instant deadline) {
            this.src = src;
            this.id = id;
            this.forkDir = forkDir;
            this.overlays = Map.copyOf(overlays);
            this.deadline = deadline;
        }

        @Override
        public DomainHandle domain() throws IOException {
            return session.domainByUuid(id.uuid()).orElseThrow(() -> new ForkException(ForkException.Kind.ENVIRONMENT,
                    "the clone " + id.name() + " is gone (run-time or CPU limit, or it crashed)"));
        }

        @Override
        public ForkSource source() {
            return src;
        }

        @Override
        public GuestAgent agent() throws IOException {
            if (agent == null) {
                GuestAgent a = new GuestAgent(domain());
                a.awaitReady(options.agentTimeout());
                agent = a;
            }
            return agent;
        }

        @Override
        public AnalysisResult sourceAnalysis() throws IOException {
            if (sourceAnalysis == null) {
                log("analyzing the bundle's memory");
                sourceAnalysis = ImageAnalyzer.analyze(src.memoryFile(), options.profile());
            }
            return sourceAnalysis;
        }

        @Override
        public Path checkpointClone() throws IOException {
            BundleStore store = BundleStore.open(forkDir.resolve("checkpoints"), Clock.systemUTC());
            CheckpointResult r = new Checkpointer(session, store, CheckpointOptions.defaults().withDisks(false)
                    .withQuiesce(CheckpointOptions.Quiesce.OFF).withStaging(CheckpointOptions.Staging.NONE, Optional.empty())
                    .withSondeVersion("sonde fork"), CheckpointListener.NONE)
                    .checkpoint(id.uuid());
            log("checkpointed the clone: " + r.bundle().getFileName());
            return r.bundle().resolve(r.manifest().checkpoint().memoryFile());
        }

        @Override
        public AnalysisResult analyze(Path image) throws IOException {
            return ImageAnalyzer.analyze(image, options.profile());
        }

        @Override
        public Map<String, Path> overlays() {
            return overlays;
        }

        @Override
        public Instant deadline() {
            return deadline;
        }

        @Override
        public void log(String message) {
            log.accept(message);
        }
    }
}
