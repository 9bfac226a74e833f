package dev.sonde.snapshotter;

import dev.sonde.snapshotter.bundle.BundleWriter;
import dev.sonde.snapshotter.libvirt.DomainHandle;
import dev.sonde.snapshotter.libvirt.DomainXml;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import dev.sonde.snapshotter.libvirt.VirtException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Puts a guest back the way a checkpoint found it: merges Sonde's overlays back (active block commit, then pivot to the
 * original image, then deletes the overlay), cancels or waits out a libvirt job a dead run left, thaws and resumes what
 * Sonde froze or paused, and deletes staging files and partial bundles. Used when a checkpoint fails, and by the next
 * run for the journals a crashed or killed run left. Every action is reported as one line.
 */
final class Recovery {
    /** Sonde's overlays: {@code BASENAME.sonde-ID.qcow2} next to the image they cover. */
    static final Pattern OVERLAY = Pattern.compile(".*\\.sonde-[a-z0-9]{4,32}\\.qcow2$");

    private final CheckpointOptions options;

    Recovery(CheckpointOptions options) {
        this.options = options;
    }

    static Path overlayPath(Path original, String id) {
        String n = original.getFileName().toString();
        int dot = n.lastIndexOf('.');
        String base = dot > 0 ? n.substring(0, dot) : n;
        return original.resolveSibling(base + ".sonde-" + id + ".qcow2");
    }

    /**
     * Undoes what the journal {@code j} says a checkpoint did. Throws when the guest could not be put back (libvirt
     * unreachable, commit failed): the journal must then be kept for the next run.
     */
    List<String> recover(Journal j, LibvirtSession session) throws IOException {
        List<String> msgs = new ArrayList<>();
        session.ensureAlive(options.reconnectTimeout());
        Optional<DomainHandle> od = session.domainByUuid(j.domainUuid());
        if (od.isPresent() && od.get().state().active()) {
            DomainHandle dom = od.get();
            if (dom.jobActive()) {
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (dom.jobActive() && System.nanoTime() < deadline) {
                    sleep(200);
                }
                if (dom.jobActive()) {
                    dom.abortJob();
                    msgs.add("cancelled the libvirt job checkpoint " + j.id() + " left running on " + dom.name());
                }
            }
            DomainXml dx = DomainXml.parse(dom.xml());
            for (Journal.Overlay o : j.overlays()) {
                Optional<DomainXml.Disk> d = dx.disk(o.target());
                if (d.isPresent() && o.overlay().equals(d.get().active().path())) {
                    commitAndPivot(dom, o.target(), o.overlay());
                    msgs.add("merged overlay " + o.overlay() + " back into " + o.original() + " (" + dom.name() + " "
                            + o.target() + ")");
                }
            }
            if (j.frozenBySonde()) {
                try {
                    int n = dom.fsThaw();
                    msgs.add("thawed " + n + " file system(s) of " + dom.name());
                } catch (VirtException e) {
                    msgs.add("could not thaw the file systems of " + dom.name() + " (" + e.getMessage() + ")");
                }
            }
            msgs.addAll(ensureRunning(dom, j.stateBefore()));
            dx = DomainXml.parse(dom.xml());
            for (Journal.Overlay o : j.overlays()) {
                for (DomainXml.Disk d : dx.disks()) {
                    if (d.chain().stream().anyMatch(i -> o.overlay().equals(i.path()))) {
                        throw new IOException("overlay " + o.overlay() + " is still in " + dom.name() + "'s chain of "
                                + d.target() + ": " + d.chainLabels());
                    }
                }
            }
        } else if (od.isEmpty()) {
            msgs.add("domain " + j.domainName() + " (" + j.domainUuid() + ") of checkpoint " + j.id() + " no longer exists");
        } else {
            // shut off in the middle of a checkpoint: its definition may now name an overlay that holds the guest's
            // latest writes; that overlay must not be deleted, and libvirt cannot merge it while the domain is off
            DomainXml def = DomainXml.parse(od.get().inactiveXml());
            for (Journal.Overlay o : j.overlays()) {
                for (DomainXml.Disk d : def.disks()) {
                    if (d.chain().stream().anyMatch(i -> o.overlay().equals(i.path()))) {
                        throw new IOException(j.domainName() + " is shut off and its definition uses Sonde's overlay "
                                + o.overlay() + " on " + d.target() + ": start the domain (the next run then merges it), or "
                                + "merge it by hand (qemu-img commit " + o.overlay() + ", then point " + d.target()
                                + " back to " + o.original() + ")");
                    }
                }
            }
        }
        for (Journal.Overlay o : j.overlays()) {
            if (Files.deleteIfExists(Path.of(o.overlay()))) {
                msgs.add("deleted unused overlay " + o.overlay());
            }
        }
        for (String f : j.tempFiles()) {
            if (Files.deleteIfExists(Path.of(f))) {
                msgs.add("deleted temporary file " + f);
            }
        }
        if (j.staging() != null && Files.exists(Path.of(j.staging()), LinkOption.NOFOLLOW_LINKS)) {
            BundleWriter.deleteTree(Path.of(j.staging()));
            msgs.add("deleted staging directory " + j.staging());
        }
        if (j.partialBundle() != null && Files.exists(Path.of(j.partialBundle()), LinkOption.NOFOLLOW_LINKS)) {
            BundleWriter.deleteTree(Path.of(j.partialBundle()));
            msgs.add("deleted partial bundle " + j.partialBundle());
        }
        return msgs;
    }

    /**
     * Merges any Sonde overlay found as the active image of one of the domain's disks, journal or not (the caller holds
     * the domain lock, so no other Sonde is using it).
     */
    List<String> mergeStrayOverlays(DomainHandle dom) throws IOException {
        List<String> msgs = new ArrayList<>();
        DomainXml dx = DomainXml.parse(dom.xml());
        for (DomainXml.Disk d : dx.disks()) {
            if (d.chain().isEmpty() || d.active().path() == null || !OVERLAY.matcher(d.active().path()).matches()) {
                continue;
            }
            if (d.chain().size() < 2) {
                msgs.add("WARNING: " + dom.name() + " " + d.target() + " runs on " + d.active().path()
                        + ", named like a Sonde overlay but without a backing file: left alone");
                continue;
            }
            commitAndPivot(dom, d.target(), d.active().path());
            msgs.add("merged leftover overlay " + d.active().path() + " back into " + d.chain().get(1).path() + " ("
                    + dom.name() + " " + d.target() + ")");
        }
        return msgs;
    }

    /** Resumes the domain when it was running before and is paused now. */
    static List<String> ensureRunning(DomainHandle dom, String stateBefore) throws VirtException {
        DomainHandle.State st = dom.state();
        if (st.paused() && "running".equals(stateBefore)) {
            dom.resume();
            return List.of("resumed " + dom.name() + " (it was " + st.label() + ")");
        }
        return List.of();
    }

    /** Active commit of {@code overlay} into its backing image, pivot back to that image, delete the overlay. */
    void commitAndPivot(DomainHandle dom, String target, String overlay) throws IOException {
        long deadline = System.nanoTime() + options.commitTimeout().toNanos();
        if (dom.blockJob(target).isEmpty()) {
            dom.blockCommitActive(target);
        }
        while (true) {
            try {
                dom.pivot(target);
                break;
            } catch (VirtException e) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("merging " + overlay + " back (" + dom.name() + " " + target + ") did not finish in "
                            + options.commitTimeout() + ": " + e.getMessage(), e);
                }
                if (dom.blockJob(target).isEmpty()) {
                    if (!overlay.equals(activePath(dom, target))) {
                        break; // the pivot happened (e.g. before a reconnect)
                    }
                    dom.blockCommitActive(target); // the job failed or was lost: start again
                }
                sleep(5);
            }
        }
        String now = activePath(dom, target);
        if (overlay.equals(now)) {
            throw new IOException(dom.name() + " " + target + " still runs on " + overlay + " after the pivot");
        }
        Files.deleteIfExists(Path.of(overlay));
    }

    private static String activePath(DomainHandle dom, String target) throws IOException {
        return DomainXml.parse(dom.xml()).disk(target).map(d -> d.active().path()).orElse(null);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
