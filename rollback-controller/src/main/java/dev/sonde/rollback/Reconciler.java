package dev.sonde.rollback;

import dev.sonde.snapshotter.libvirt.DomainHandle;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Removes what forks whose Sonde process died left behind, from the fork journal: the clone domain (only when its
 * name and UUID both match the journal) and the clone's directory (only inside the work directory's {@code forks/}).
 * Runs before every fork and as {@code sonde fork --reconcile}.
 */
public final class Reconciler {
    private Reconciler() {
    }

    /**
     * Reconciles the journals of {@code options.workDir()} whose owner is dead; {@code session} serves journals of its
     * URI, others are opened as needed. Returns what was done.
     */
    public static List<String> reconcile(LibvirtSession session, ForkOptions options, Consumer<String> log)
            throws IOException {
        List<String> actions = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        for (ForkJournal j : ForkJournal.readAll(options.journalDir(), bad)) {
            if (j.ownerAlive() && j.ownerPid() != ProcessHandle.current().pid()) {
                continue;
            }
            LibvirtSession s = session;
            boolean own = false;
            try {
                if (s == null || !s.uri().equals(j.uri())) {
                    s = LibvirtSession.open(j.uri());
                    own = true;
                }
                Optional<DomainHandle> d = s.domainByUuid(j.cloneUuid());
                if (d.isPresent()) {
                    if (!d.get().name().equals(j.cloneName())) {
                        actions.add("fork " + j.id() + ": domain " + j.cloneUuid() + " is named " + d.get().name()
                                + ", not " + j.cloneName() + ": left alone");
                    } else {
                        if (d.get().state().active()) {
                            d.get().destroy();
                            actions.add("fork " + j.id() + ": destroyed clone " + j.cloneName());
                        }
                        try {
                            d.get().undefine();
                        } catch (IOException e) {
                            // transient: gone with the destroy
                        }
                    }
                }
            } finally {
                if (own && s != null) {
                    s.close();
                }
            }
            Path dir = Path.of(j.forkDir()).toAbsolutePath().normalize();
            Path forks = options.forksDir().toAbsolutePath().normalize();
            if (dir.startsWith(forks) && !dir.equals(forks)) {
                if (Files.exists(dir)) {
                    deleteTree(dir);
                    actions.add("fork " + j.id() + ": deleted " + dir);
                }
            } else {
                actions.add("fork " + j.id() + ": directory " + dir + " is outside " + forks + ": left alone");
            }
            if (Files.deleteIfExists(ForkController.cloneLockFile(j.cloneUuid()))) {
                actions.add("fork " + j.id() + ": deleted " + ForkController.cloneLockFile(j.cloneUuid()));
            }
            if (!isRemote(j.uri()) && Files.deleteIfExists(ForkController.qemuLog(j.cloneName()))) {
                actions.add("fork " + j.id() + ": deleted " + ForkController.qemuLog(j.cloneName()));
            }
            j.delete(options.journalDir());
            actions.add("fork " + j.id() + ": journal entry removed");
        }
        actions.addAll(bad);
        actions.forEach(a -> log.accept("reconcile: " + a));
        return actions;
    }

    private static boolean isRemote(String uri) {
        try {
            String h = java.net.URI.create(uri).getHost();
            return h != null && !h.isEmpty();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Deletes a directory tree (files first). */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
