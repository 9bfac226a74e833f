package dev.sonde.snapshotter;

import dev.sonde.snapshotter.bundle.BundleArchive;
import dev.sonde.snapshotter.bundle.BundleWriter;
import dev.sonde.snapshotter.bundle.FileEntry;
import dev.sonde.snapshotter.bundle.Manifest;
import dev.sonde.snapshotter.libvirt.DomainHandle;
import dev.sonde.snapshotter.libvirt.DomainXml;
import dev.sonde.snapshotter.libvirt.LibvirtNative;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import dev.sonde.snapshotter.libvirt.PauseRecorder;
import dev.sonde.snapshotter.libvirt.VirtException;
import dev.sonde.snapshotter.store.BundleStore;
import dev.sonde.snapshotter.store.StoreBusyException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Takes one consistent checkpoint of a running domain into a sealed evidence bundle.
 *
 * <p>Live mode (default): one {@code virDomainSnapshotCreateXML(LIVE | NO_METADATA | ATOMIC [| QUIESCE])} with an
 * external memory file and an external overlay per writable disk. QEMU migrates memory while the guest runs, stops the
 * vCPUs for the last dirty pages, libvirt switches every disk to its new overlay in that same stop and resumes: memory
 * and disks describe the same instant. Sonde then copies the images the guest no longer writes to (the pre-checkpoint
 * chain of each disk) into the bundle, merges each overlay back (active block commit + pivot), so the guest's chain is
 * exactly what it was, and seals the bundle.
 *
 * <p>Dump modes: pause; disk-only external snapshot; memory-only ELF/kdump dump; resume.
 *
 * <p>Safety: a journal in the store records each change to the guest before it is made; any failure puts the guest
 * back (running, overlays merged) and deletes the partial bundle; after a SIGKILL the next run does the same from the
 * journal, and says what it cleaned.
 */
public final class Checkpointer {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final LibvirtSession session;
    private final BundleStore store;
    private final CheckpointOptions options;
    private final CheckpointListener listener;
    private final Clock clock;
    private final Recovery recovery;

    public Checkpointer(LibvirtSession session, BundleStore store, CheckpointOptions options, CheckpointListener listener) {
        this.session = session;
        this.store = store;
        this.options = options;
        this.listener = listener;
        this.clock = store.clock();
        this.recovery = new Recovery(options);
    }

    /** A new checkpoint id: 10 characters of [a-z0-9]. */
    static String newId() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 10; i++) {
            b.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    /**
     * Cleans what interrupted runs left in this store (journals: overlays, paused guests, staging; partial bundles),
     * under the store lock. Returns what it did.
     */
    public List<String> recover() throws IOException {
        try (BundleStore.Lock lock = store.lock()) {
            return recover(lock);
        }
    }

    private List<String> recover(BundleStore.Lock lock) throws IOException {
        List<String> msgs = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        Path jdir = store.journalDir();
        for (Journal j : Journal.readAll(jdir, bad)) {
            List<String> done;
            try {
                if (j.uri().equals(session.uri())) {
                    done = recovery.recover(j, session);
                } else {
                    try (LibvirtSession other = LibvirtSession.open(j.uri())) {
                        done = recovery.recover(j, other);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // keep the journal for a later run; a stray overlay on the domain being checkpointed now is still
                // merged (or makes this checkpoint fail) through the domain check
                msgs.add("WARNING: could not recover interrupted checkpoint " + j.id() + " of " + j.domainName() + " at "
                        + j.uri() + " (" + e.getMessage() + "); its journal is kept for a later run");
                continue;
            }
            msgs.add("recovered interrupted checkpoint " + j.id() + " of " + j.domainName() + " (started " + j.startedAt()
                    + ")");
            msgs.addAll(done.stream().map(s -> "  " + s).toList());
            j.delete(jdir);
        }
        msgs.addAll(bad);
        msgs.addAll(store.cleanLeftovers(lock));
        return msgs;
    }

    /** Checkpoints {@code domain} (name or UUID). */
    @SuppressWarnings("try") // the domain lock is held by the try block, not used in it
    public CheckpointResult checkpoint(String domain) throws IOException {
        Instant start = clock.instant();
        try (BundleStore.Lock lock = store.lock()) {
            listener.step(CheckpointListener.LOCKED);
            List<String> cleaned = new ArrayList<>();
            try {
                cleaned.addAll(recover(lock));
            } catch (IOException e) {
                throw new CheckpointException(CheckpointException.Kind.UNRESTORED,
                        "an earlier interrupted checkpoint could not be cleaned up: " + e.getMessage(), cleaned, e);
            }
            cleaned.forEach(listener::info);
            DomainHandle dom;
            try {
                session.ensureAlive(options.reconnectTimeout());
                dom = session.domain(domain);
            } catch (VirtException e) {
                throw new CheckpointException(session.alive() ? CheckpointException.Kind.DOMAIN
                        : CheckpointException.Kind.LIBVIRT, e.getMessage(), cleaned, e);
            }
            try (DomainLock dl = DomainLock.acquire(dom.uuid())) {
                List<String> stray = recovery.mergeStrayOverlays(dom);
                stray.forEach(listener::info);
                cleaned.addAll(stray);
                return run(dom, start, cleaned);
            } catch (StoreBusyException e) {
                throw new CheckpointException(CheckpointException.Kind.STORE, e.getMessage(), cleaned, e);
            }
        } catch (StoreBusyException e) {
            throw new CheckpointException(CheckpointException.Kind.STORE, e.getMessage(), List.of(), e);
        }
    }

    /** A disk this checkpoint snapshots: its chain before, and the overlay that takes its writes meanwhile. */
    record PlannedDisk(DomainXml.Disk disk, Path overlay) {
    }

    private CheckpointResult run(DomainHandle dom, Instant start, List<String> cleaned) throws IOException {
        DomainHandle.State before = dom.state();
        if (!before.running()) {
            throw new CheckpointException(CheckpointException.Kind.DOMAIN,
                    "domain " + dom.name() + " is " + before.label() + ", not running", cleaned, null);
        }
        String xml = dom.xml();
        DomainXml dx = DomainXml.parse(xml);
        String id = newId();
        List<PlannedDisk> planned = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        if (options.disks()) {
            for (DomainXml.Disk d : dx.disks()) {
                if (!d.snapshottable()) {
                    notes.add("disk " + d.target() + " (" + d.device() + (d.readonly() ? ", read-only" : "")
                            + (d.shareable() ? ", shareable" : "") + ") not captured");
                    continue;
                }
                if (options.excludeDisks().contains(d.target())) {
                    notes.add("disk " + d.target() + " excluded on request");
                    continue;
                }
                DomainXml.Image a = d.active();
                if (!a.type().equals("file")) {
                    throw new CheckpointException(CheckpointException.Kind.DOMAIN, "disk " + d.target() + " is a "
                            + a.type() + " disk; only file-backed disks can be captured (exclude it with --exclude-disk "
                            + d.target() + ")", cleaned, null);
                }
                for (DomainXml.Image i : d.chain()) {
                    if (!(i.type().equals("file") || i.type().equals("block")) || i.path() == null) {
                        throw new CheckpointException(CheckpointException.Kind.DOMAIN, "disk " + d.target()
                                + " has a " + i.type() + " image in its chain, which cannot be copied (exclude it with "
                                + "--exclude-disk " + d.target() + ")", cleaned, null);
                    }
                }
                if (session.isRemote()) {
                    for (DomainXml.Image i : d.chain()) {
                        if (!Files.isReadable(Path.of(i.path()))) {
                            throw new CheckpointException(CheckpointException.Kind.DOMAIN, "disk " + d.target() + ": "
                                    + i.path() + " is on the remote host " + session.uri() + " and not visible here at "
                                    + "the same path; share it, or use --no-disks / --exclude-disk " + d.target(),
                                    cleaned, null);
                        }
                    }
                }
                planned.add(new PlannedDisk(d, options.diskMethod() == CheckpointOptions.DiskMethod.BACKUP ? null
                        : Recovery.overlayPath(Path.of(a.path()), id)));
            }
        } else {
            notes.add("disks not captured (--no-disks)");
        }
        if (options.diskMethod() == CheckpointOptions.DiskMethod.BACKUP && mode().live() && !planned.isEmpty()) {
            throw new CheckpointException(CheckpointException.Kind.DOMAIN, "the backup disk method needs a memory-only "
                    + "dump (--memory elf or kdump-*): a live memory snapshot gives no pause to start the backup in",
                    cleaned, null);
        }
        for (PlannedDisk p : planned) {
            if (p.overlay() != null && Files.exists(p.overlay())) {
                throw new CheckpointException(CheckpointException.Kind.DOMAIN, "overlay " + p.overlay() + " already exists",
                        cleaned, null);
            }
        }
        Path jdir = store.journalDir();
        Optional<Path> staging = staging(dx, id);
        Journal journal = new Journal(id, session.uri(), dom.uuid(), dom.name(), "running", start.toString(),
                null, staging.map(Path::toString).orElse(null),
                planned.stream().filter(p -> p.overlay() != null).map(p -> new Journal.Overlay(p.disk().target(),
                        p.overlay().toString(), p.disk().active().path())).toList(), false, false,
                backup(planned) ? planned.stream().map(p -> backupTarget(p, id).toString()).toList() : List.of());
        BundleWriter bw = null;
        try {
            bw = store.newBundle(dom.name(), id, listener::wrote);
            journal = new Journal(journal.id(), journal.uri(), journal.domainUuid(), journal.domainName(),
                    journal.stateBefore(), journal.startedAt(), bw.directory().toString(), journal.staging(),
                    journal.overlays(), false, false, journal.tempFiles());
            journal.write(jdir);
        } catch (IOException e) {
            try {
                if (bw != null) {
                    bw.abort();
                }
                journal.delete(jdir);
            } catch (IOException e2) {
                e.addSuppressed(e2);
            }
            throw new CheckpointException(CheckpointException.Kind.STORE, "cannot start a bundle in " + store.root() + ": "
                    + e.getMessage(), cleaned, e);
        }
        listener.step(CheckpointListener.JOURNAL_WRITTEN);
        Journal[] current = {journal};
        try {
            if (staging.isPresent()) {
                Files.createDirectory(staging.get());
                Files.setPosixFilePermissions(staging.get(), PosixFilePermissions.fromString("rwx------"));
                if (options.hypervisorUser().isPresent()) {
                    Files.setOwner(staging.get(), user(options.hypervisorUser().get()));
                }
            }
            if (options.hypervisorUser().isPresent() && staging.isEmpty()) {
                bw.shareWith(user(options.hypervisorUser().get()));
            }
            CheckpointResult r = capture(dom, xml, dx, id, planned, staging, bw, start, cleaned, notes, current, jdir);
            current[0].delete(jdir);
            return r;
        } catch (IOException | RuntimeException | Error e) {
            List<String> undone = new ArrayList<>();
            boolean restored = true;
            try {
                undone.addAll(recovery.recover(current[0], session));
            } catch (IOException | RuntimeException e2) {
                restored = false;
                undone.add("COULD NOT PUT THE GUEST BACK: " + e2.getMessage() + " (journal "
                        + jdir.resolve(id + ".json") + " kept: the next sonde run on this store retries)");
            }
            try {
                boolean existed = Files.exists(bw.directory());
                bw.abort();
                if (existed) {
                    undone.add("deleted partial bundle " + bw.directory());
                }
            } catch (IOException e3) {
                undone.add("could not delete partial bundle " + bw.directory() + ": " + e3.getMessage());
            }
            if (staging.isPresent() && Files.exists(staging.get())) {
                try {
                    BundleWriter.deleteTree(staging.get());
                } catch (IOException e4) {
                    undone.add("could not delete staging directory " + staging.get() + ": " + e4.getMessage());
                }
            }
            if (restored) {
                try {
                    current[0].delete(jdir);
                } catch (IOException e5) {
                    undone.add("could not delete journal: " + e5.getMessage());
                }
            }
            undone.forEach(listener::info);
            CheckpointException.Kind kind = !restored ? CheckpointException.Kind.UNRESTORED
                    : e instanceof VirtException ? CheckpointException.Kind.LIBVIRT
                    : e instanceof CheckpointException ce ? ce.kind()
                    : CheckpointException.Kind.STORE;
            String msg = "checkpoint of " + dom.name() + " failed: " + e.getMessage();
            throw new CheckpointException(kind, msg, undone, e);
        }
    }

    private UserPrincipal user(String name) throws IOException {
        return store.root().getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(name);
    }

    private Optional<Path> staging(DomainXml dx, String id) throws IOException {
        Path base;
        switch (options.staging()) {
            case NONE:
                return Optional.empty();
            case DIR:
                base = options.stagingDir().orElseThrow(() -> new IllegalArgumentException("staging directory not set"));
                break;
            default:
                if (session.isRemote()) {
                    return Optional.empty();
                }
                base = Path.of("/dev/shm");
                if (!Files.isDirectory(base)) {
                    return Optional.empty();
                }
                FileStore fs = Files.getFileStore(base);
                long need = Math.max(0, dx.memoryKiB()) * 1024 * 11 / 10 + (64L << 20);
                if (!"tmpfs".equals(fs.type()) || fs.getUsableSpace() < need) {
                    return Optional.empty();
                }
        }
        return Optional.of(base.resolve("sonde-staging-" + id));
    }

    private CheckpointResult capture(DomainHandle dom, String xml, DomainXml dx, String id, List<PlannedDisk> planned,
            Optional<Path> staging, BundleWriter bw, Instant start, List<String> cleaned, List<String> notes,
            Journal[] journal, Path jdir) throws IOException {
        Map<String, Double> steps = new LinkedHashMap<>();
        long t = System.nanoTime();
        bw.write("domain.xml", "domain-xml", "libvirt-domain-xml", xml.getBytes(StandardCharsets.UTF_8));
        MemoryMode mode = options.memory();
        Path memTarget = staging.isPresent() ? staging.get().resolve(mode.fileName()) : bw.reserve(mode.fileName());

        boolean agent = dx.agentChannel() && dom.agentCommand("{\"execute\":\"guest-ping\"}", 2).isPresent();
        boolean freeze = switch (options.quiesce()) {
            case OFF -> false;
            case ON -> true;
            case AUTO -> agent && !planned.isEmpty();
        };
        if (options.quiesce() == CheckpointOptions.Quiesce.ON && !agent) {
            throw new CheckpointException(CheckpointException.Kind.DOMAIN, "--quiesce needs a guest agent, and "
                    + dom.name() + (dx.agentChannel() ? "'s agent does not answer" : " has no guest agent channel"),
                    cleaned, null);
        }
        String quiesceLabel = freeze ? "guest file systems frozen through the QEMU guest agent during the snapshot"
                : options.quiesce() == CheckpointOptions.Quiesce.OFF ? "not requested"
                : planned.isEmpty() ? "no disks captured" : "no guest agent answering";
        steps.put("prepare", ms(t));

        String memoryMethod;
        String diskMethod = planned.isEmpty() ? null : backup(planned)
                ? "push-mode backup job started while the guest was paused (guest chain never changed)"
                : mode.live()
                ? "external disk snapshot in the same libvirt snapshot as memory, pre-checkpoint images copied, "
                + "overlay merged back by active block commit + pivot"
                : "disk-only external snapshot while paused, pre-checkpoint images copied, overlay merged back by active "
                + "block commit + pivot";
        double callMillis;
        long pausedNanos = -1;
        try (PauseRecorder rec = PauseRecorder.start(dom)) {
            listener.step(CheckpointListener.BEFORE_SNAPSHOT);
            boolean reuse = precreateOverlays(dom, planned);
            int reuseFlag = reuse ? LibvirtNative.VIR_DOMAIN_SNAPSHOT_CREATE_REUSE_EXT : 0;
            if (!planned.isEmpty() && !backup(planned)) {
                notes.add(reuse ? "overlays created with qemu-img before the snapshot (REUSE_EXT), outside the pause"
                        : "overlays created by libvirt inside the snapshot");
            }
            steps.put("overlays", ms(t));
            t = System.nanoTime();
            int frozen = -1;
            if (freeze) {
                // libvirt's QUIESCE flag only goes with disk-only snapshots: freeze through the agent ourselves
                journal[0] = journal[0].withFrozenBySonde(true);
                journal[0].write(jdir);
                frozen = dom.fsFreeze();
            }
            try {
                if (mode.live()) {
                    int flags = LibvirtNative.VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA
                            | LibvirtNative.VIR_DOMAIN_SNAPSHOT_CREATE_LIVE
                            | LibvirtNative.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC | reuseFlag;
                    long s0 = System.nanoTime();
                    dom.snapshotCreate(snapshotXml(id, dx, memTarget, planned), flags);
                    callMillis = ms(s0);
                    memoryMethod = "live external memory snapshot (virDomainSnapshotCreateXML LIVE|NO_METADATA|ATOMIC"
                            + (reuse ? "|REUSE_EXT" : "") + ")";
                } else {
                    journal[0] = journal[0].withPausedBySonde(true);
                    journal[0].write(jdir);
                    long p0 = System.nanoTime();
                    ResumeWatchdog watchdog = ResumeWatchdog.arm(session.uri(), dom.uuid(), jdir);
                    try {
                        dom.suspend();
                        listener.step(CheckpointListener.PAUSED);
                        if (!planned.isEmpty() && !backup(planned)) {
                            dom.snapshotCreate(snapshotXml(id, dx, null, planned),
                                    LibvirtNative.VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA
                                    | LibvirtNative.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
                                    | LibvirtNative.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC | reuseFlag);
                        }
                        dom.coreDump(memTarget.toString(), mode.dumpFormat(), LibvirtNative.VIR_DUMP_MEMORY_ONLY);
                        if (backup(planned)) {
                            // one async job at a time: the backup starts after the dump, the guest still paused
                            dom.backupBegin(backupXml(dx, planned, id));
                        }
                        dom.resume();
                    } finally {
                        try {
                            Recovery.ensureRunning(dom, "running");
                        } catch (VirtException e) {
                            // libvirt unreachable: the failure path retries after reconnecting
                        }
                        watchdog.close();
                    }
                    pausedNanos = System.nanoTime() - p0;
                    callMillis = ms(p0);
                    memoryMethod = "memory-only dump, format " + mode.label()
                            + " (virDomainCoreDumpWithFormat MEMORY_ONLY) of the paused guest";
                }
            } finally {
                if (freeze) {
                    Recovery.ensureRunning(dom, "running"); // the agent only answers a running guest
                    dom.fsThaw();
                    journal[0] = journal[0].withFrozenBySonde(false);
                    journal[0].write(jdir);
                }
            }
            if (freeze) {
                quiesceLabel = quiesceLabel + " (" + frozen + " file system(s), frozen "
                        + Math.round((System.nanoTime() - t) / 1e6) + " ms)";
            }
            steps.put("snapshot", callMillis);
            listener.step(CheckpointListener.AFTER_SNAPSHOT);
            List<String> resumed = Recovery.ensureRunning(dom, "running");
            notes.addAll(resumed);
            rec.awaitBalanced(Duration.ofSeconds(5));
            Manifest.Pause pause = pause(rec, callMillis, pausedNanos, mode);

            t = System.nanoTime();
            FileEntry mem;
            if (staging.isPresent()) {
                checkMagic(memTarget, mode);
                mem = bw.copyFrom(memTarget, mode.fileName(), "memory", mode.format());
                Files.delete(memTarget);
            } else {
                if (session.isRemote() && !Files.exists(memTarget)) {
                    throw new IOException("libvirt at " + session.uri() + " wrote the memory image on its own host: for a "
                            + "remote URI the store must be shared with that host at the same path (" + store.root() + ")");
                }
                checkMagic(memTarget, mode);
                mem = bw.adopt(mode.fileName(), "memory", mode.format());
            }
            steps.put("copy memory", ms(t));
            listener.step(CheckpointListener.MEMORY_COPIED);

            t = System.nanoTime();
            List<Manifest.Disk> disks = new ArrayList<>();
            if (backup(planned)) {
                awaitBackup(dom);
                for (PlannedDisk p : planned) {
                    String f = "disk-" + safe(p.disk().target()) + ".qcow2";
                    Path target = backupTarget(p, id);
                    bw.copyFrom(target, f, "disk", "qcow2");
                    Files.delete(target);
                    disks.add(new Manifest.Disk(p.disk().target(), "backup (virDomainBackupBegin push, full, started while "
                            + "the guest was paused after the memory dump): one flattened qcow2 of the whole chain",
                            List.of(new Manifest.Layer(f, p.disk().active().path(), "qcow2", null)),
                            p.disk().chainLabels(), null));
                }
            } else {
                for (PlannedDisk p : planned) {
                    disks.add(copyDisk(bw, p));
                }
            }
            steps.put("copy disks", ms(t));
            listener.step(CheckpointListener.DISKS_COPIED);

            t = System.nanoTime();
            for (PlannedDisk p : planned) {
                if (p.overlay() != null) {
                    recovery.commitAndPivot(dom, p.disk().target(), p.overlay().toString());
                }
            }
            steps.put("merge overlays", ms(t));
            listener.step(CheckpointListener.AFTER_COMMIT);

            DomainXml after = DomainXml.parse(dom.xml());
            List<Manifest.Disk> withAfter = new ArrayList<>();
            for (Manifest.Disk d : disks) {
                List<String> now = after.disk(d.target()).map(DomainXml.Disk::chainLabels).orElse(List.of());
                if (!now.equals(d.chainBefore())) {
                    throw new IOException("disk " + d.target() + " chain changed: before " + d.chainBefore() + ", after " + now);
                }
                withAfter.add(new Manifest.Disk(d.target(), d.method(), d.layers(), d.chainBefore(), now));
            }
            if (staging.isPresent()) {
                BundleWriter.deleteTree(staging.get());
            }
            DomainHandle.State stateAfter = dom.state();
            Instant end = clock.instant();
            Manifest m = new Manifest(Manifest.FORMAT, Manifest.VERSION, null, id, options.sondeVersion(),
                    host(), new Manifest.Domain(dom.name(), dom.uuid(), "running", stateAfter.label(), dx.memoryKiB(),
                            dx.vcpus()),
                    new Manifest.Checkpoint(start.toString(), end.toString(), memoryMethod, mem.name(), mode.format(),
                            diskMethod, quiesceLabel, pause, steps, notes),
                    withAfter, List.of());
            listener.step(CheckpointListener.BEFORE_SEAL);
            t = System.nanoTime();
            BundleWriter.Sealed sealed = bw.seal(m);
            store.log().append(clock.instant(), "sealed", sealed.manifest().bundle(), sealed.manifestSha256());
            Path result = sealed.path();
            if (options.archive().isPresent()) {
                result = BundleArchive.pack(sealed.path(), options.archive().get());
                store.log().append(clock.instant(), "archived", sealed.manifest().bundle(), sealed.manifestSha256());
            }
            listener.step(CheckpointListener.SEALED);
            return new CheckpointResult(result, sealed.manifestSha256(), sealed.manifest(), cleaned,
                    pause.millis() == null ? -1 : pause.millis());
        }
    }

    /**
     * Creates each overlay with {@code qemu-img create -u} (without opening the image in use) before the snapshot, so
     * that libvirt only has to open it inside the guest's pause (REUSE_EXT) instead of creating and formatting it
     * there. Not possible for remote URIs or without qemu-img: libvirt then creates them.
     */
    private boolean precreateOverlays(DomainHandle dom, List<PlannedDisk> planned) throws IOException {
        if (planned.isEmpty() || backup(planned) || session.isRemote() || !QemuImg.available()) {
            return false;
        }
        for (PlannedDisk p : planned) {
            DomainXml.Image a = p.disk().active();
            long capacity;
            try {
                capacity = dom.raw().blockInfo(p.disk().target()).getCapacity();
            } catch (org.libvirt.LibvirtException e) {
                throw new VirtException("virDomainGetBlockInfo " + dom.name() + " " + p.disk().target(), e);
            }
            QemuImg.createOverlay(p.overlay(), Path.of(a.path()), a.format() == null ? "raw" : a.format(), capacity);
            if (options.hypervisorUser().isPresent()) {
                Files.setOwner(p.overlay(), user(options.hypervisorUser().get()));
            }
        }
        return true;
    }

    private static Manifest.Pause pause(PauseRecorder rec, double callMillis, long pausedNanos, MemoryMode mode) {
        if (rec.measuring() && !rec.intervals().isEmpty() && rec.totalMicros() >= 0) {
            List<Manifest.PauseInterval> iv = rec.intervals().stream()
                    .map(i -> new Manifest.PauseInterval(i.stoppedAt().toString(), i.resumedAt().toString(), i.micros()))
                    .toList();
            return new Manifest.Pause(rec.totalMicros() / 1000.0,
                    "QEMU STOP/RESUME monitor event timestamps (libvirt-qemu)", iv, callMillis);
        }
        String why = rec.measuring() ? "no STOP/RESUME event pair seen" : rec.failure();
        if (pausedNanos >= 0) {
            return new Manifest.Pause(pausedNanos / 1e6, "wall clock from suspend to resume returning (" + why + ")",
                    List.of(), callMillis);
        }
        return new Manifest.Pause(callMillis, "upper bound: wall clock of the snapshot call (" + why + ")", List.of(),
                callMillis);
    }

    private Manifest.Disk copyDisk(BundleWriter bw, PlannedDisk p) throws IOException {
        DomainXml.Disk d = p.disk();
        List<DomainXml.Image> chain = d.chain();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < chain.size(); i++) {
            String f = chain.get(i).format();
            String ext = f == null ? "img" : f.equals("qcow2") ? "qcow2" : f.equals("raw") ? "raw" : "img";
            names.add(chain.size() == 1 ? "disk-" + safe(d.target()) + "." + ext
                    : "disk-" + safe(d.target()) + "." + i + "." + ext);
        }
        List<Manifest.Layer> layers = new ArrayList<>();
        for (int i = 0; i < chain.size(); i++) {
            DomainXml.Image img = chain.get(i);
            bw.copyFrom(Path.of(img.path()), names.get(i), "disk", img.format() == null ? "unknown" : img.format());
            layers.add(new Manifest.Layer(names.get(i), img.path(), img.format(), i + 1 < chain.size() ? names.get(i + 1) : null));
        }
        return new Manifest.Disk(d.target(), "external-snapshot+active-commit", layers, d.chainLabels(), null);
    }

    private boolean backup(List<PlannedDisk> planned) {
        return options.diskMethod() == CheckpointOptions.DiskMethod.BACKUP && !planned.isEmpty();
    }

    private MemoryMode mode() {
        return options.memory();
    }

    /**
     * Where QEMU writes a disk's backup: next to the disk's image (QEMU opens backup targets by path itself, so they
     * must be where it can reach them); Sonde then copies it into the bundle, hashing it, and deletes it.
     */
    static Path backupTarget(PlannedDisk p, String id) {
        Path a = Path.of(p.disk().active().path());
        return a.resolveSibling(a.getFileName() + ".sonde-backup-" + id + ".qcow2");
    }

    /** The push-mode backup XML: a full qcow2 of each planned disk. */
    private static String backupXml(DomainXml dx, List<PlannedDisk> planned, String id) {
        StringBuilder b = new StringBuilder("<domainbackup mode='push'>\n  <disks>\n");
        for (DomainXml.Disk d : dx.disks()) {
            Optional<PlannedDisk> yes = planned.stream().filter(p -> p.disk().target().equals(d.target())).findFirst();
            if (yes.isPresent()) {
                Path target = backupTarget(yes.get(), id);
                b.append("    <disk name='").append(xmlEscape(d.target())).append("' backup='yes' type='file'>\n")
                        .append("      <target file='").append(xmlEscape(target.toString())).append("'/>\n")
                        .append("      <driver type='qcow2'/>\n    </disk>\n");
            } else if (d.device().equals("disk") || d.device().equals("lun")) {
                b.append("    <disk name='").append(xmlEscape(d.target())).append("' backup='no'/>\n");
            }
        }
        return b.append("  </disks>\n</domainbackup>\n").toString();
    }

    /** Waits for the backup job to end, and fails unless it completed. */
    private void awaitBackup(DomainHandle dom) throws IOException {
        long deadline = System.nanoTime() + options.commitTimeout().toNanos();
        while (dom.jobActive()) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the backup of " + dom.name() + " did not finish in " + options.commitTimeout());
            }
            Recovery.sleep(50);
        }
        int type = dom.lastCompletedJobType();
        if (type != 3) {
            throw new IOException("the backup job of " + dom.name() + " did not complete (job type " + type + ")");
        }
    }

    private static String safe(String s) {
        return s.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    /** The libvirt snapshot XML; {@code memory} null for a disk-only snapshot. */
    static String snapshotXml(String id, DomainXml dx, Path memory, List<PlannedDisk> planned) {
        StringBuilder b = new StringBuilder();
        b.append("<domainsnapshot>\n  <name>sonde-").append(id).append("</name>\n");
        b.append("  <description>Sonde checkpoint ").append(id)
                .append(" (not kept by libvirt; overlays are merged back by sonde)</description>\n");
        if (memory != null) {
            b.append("  <memory snapshot='external' file='").append(xmlEscape(memory.toString())).append("'/>\n");
        } else {
            b.append("  <memory snapshot='no'/>\n");
        }
        b.append("  <disks>\n");
        for (DomainXml.Disk d : dx.disks()) {
            Optional<PlannedDisk> p = planned.stream().filter(x -> x.disk().target().equals(d.target())).findFirst();
            if (p.isPresent()) {
                b.append("    <disk name='").append(xmlEscape(d.target())).append("' snapshot='external' type='file'>\n")
                        .append("      <driver type='qcow2'/>\n")
                        .append("      <source file='").append(xmlEscape(p.get().overlay().toString())).append("'/>\n")
                        .append("    </disk>\n");
            } else {
                b.append("    <disk name='").append(xmlEscape(d.target())).append("' snapshot='no'/>\n");
            }
        }
        b.append("  </disks>\n</domainsnapshot>\n");
        return b.toString();
    }

    static String xmlEscape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;").replace("\"", "&quot;");
    }

    /** The first bytes of the memory image must be what its format says. */
    private static void checkMagic(Path f, MemoryMode mode) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(f)) {
            head = in.readNBytes(16);
        }
        String expect = switch (mode) {
            case LIVE -> "LibvirtQemudSave";
            case ELF -> "\u007fELF";
            default -> "makedumpfile";
        };
        String got = new String(head, StandardCharsets.ISO_8859_1);
        if (!got.startsWith(expect)) {
            throw new IOException(f + ": libvirt left no complete " + mode.format() + " image (first bytes '"
                    + got.replaceAll("[^\\x20-\\x7e]", ".") + "', expected '" + expect.replaceAll("[^\\x20-\\x7e]", ".") + "')");
        }
    }

    private Manifest.Host host() {
        String hostname;
        try {
            hostname = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (IOException e) {
            hostname = System.getenv().getOrDefault("HOSTNAME", "unknown");
        }
        String os = System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch");
        return new Manifest.Host(hostname, os, session.uri(), session.hostname(), session.libvirtVersion(),
                session.hypervisorType(), session.hypervisorVersion());
    }

    private static double ms(long startNanos) {
        return Math.round((System.nanoTime() - startNanos) / 1e3) / 1e3;
    }
}
