package dev.sonde.rollback.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.ImageAnalyzer;
import dev.sonde.analyzer.linux.ProcessInfo;
import dev.sonde.rollback.ForkController;
import dev.sonde.rollback.ForkJournal;
import dev.sonde.rollback.ForkOptions;
import dev.sonde.rollback.ForkReport;
import dev.sonde.rollback.Reconciler;
import dev.sonde.rollback.RollbackVerification;
import dev.sonde.rollback.probe.CrossViewDifference;
import dev.sonde.rollback.probe.GuestAgent;
import dev.sonde.rollback.probe.Probe;
import dev.sonde.rollback.probe.ProbeContext;
import dev.sonde.rollback.probe.ProbeResult;
import dev.sonde.rollback.probe.ProcessDiff;
import dev.sonde.rollback.probe.Probes;
import dev.sonde.snapshotter.CheckpointListener;
import dev.sonde.snapshotter.CheckpointOptions;
import dev.sonde.snapshotter.CheckpointResult;
import dev.sonde.snapshotter.Checkpointer;
import dev.sonde.snapshotter.bundle.BundleVerifier;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import dev.sonde.snapshotter.store.BundleStore;
import dev.sonde.snapshotter.testing.FixtureGuest;
import dev.sonde.snapshotter.testing.Host;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.libvirt.LibvirtException;

/**
 * Forks of the debian fixture guest under the system libvirtd, beside the running original (one guest and one live
 * checkpoint bundle for the whole class): destructive probes in the clone, then the original's processes (by a fresh
 * checkpoint and analysis), its files and disk chain, and the bundle's hashes are as before, and nothing of the clone
 * remains; the cross-view probe finds a process hidden by a bind mount over its /proc directory; a fork whose Sonde
 * process is SIGKILLed mid-probe is cleaned up by reconciliation.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DebianForkTest {
    static final String URI = "qemu:///system";

    Path tmp;

    LibvirtSession session;
    FixtureGuest guest;
    CheckpointResult bundle;
    AnalysisResult bundleAnalysis;
    Path work;

    @BeforeAll
    void bootAndCheckpoint() throws IOException {
        Host.systemLibvirtUp();
        tmp = Files.createTempDirectory("sonde-fork-test");
        session = LibvirtSession.open(URI);
        guest = FixtureGuest.debian(session);
        guest.start(900);
        guest.ping(120);
        bundle = new Checkpointer(session, BundleStore.open(tmp.resolve("store"), Clock.systemUTC()),
                CheckpointOptions.defaults().withSondeVersion("test"), CheckpointListener.NONE).checkpoint(guest.name());
        bundleAnalysis = ImageAnalyzer.analyze(bundle.bundle().resolve("memory.save"), ProfileOptions.defaults());
        // QEMU (its own user) must reach the clone's files: the work directory and its parents searchable
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));
        work = tmp.resolve("work");
    }

    @AfterAll
    void shutdown() throws IOException {
        try {
            if (guest != null) {
                guest.close();
            }
        } finally {
            if (session != null) {
                session.close();
            }
            if (tmp != null) {
                Host.run(List.of("rm", "-rf", tmp.toString()));
            }
        }
    }

    ForkReport fork(Probe... probes) throws IOException {
        ForkReport r = new ForkController(session, ForkOptions.defaults(URI, work), m -> System.err.println("[fork] " + m))
                .fork(bundle.bundle(), List.of(probes));
        System.err.println("[fork] report: bounds " + r.bounds() + ", fork " + r.forkMillis() + " ms, rollback "
                + r.rollback().rollbackMillis() + " ms, error " + r.error());
        return r;
    }

    /** A probe of the test itself: the clone and the original are both running at this moment. */
    record BothRunning(List<String> seen) implements Probe {
        @Override
        public String spec() {
            return "test:both-running";
        }

        @Override
        public ProbeResult run(ProbeContext ctx) throws IOException {
            seen.add(ctx.domain().name() + "=" + ctx.domain().state().label());
            return new ProbeResult.Qmp(spec(), "", false, ctx.domain().qemuMonitorCommand("{\"execute\":\"query-status\"}", false));
        }
    }

    @Test
    void destructiveProbesInTheCloneLeaveTheOriginalAndTheBundleUntouched() throws IOException {
        Map<String, List<String>> chains = guest.chains();
        List<String> seen = new ArrayList<>();
        ForkReport r = fork(new BothRunning(seen),
                Probes.parse("exec:rm -rf /etc/nginx /opt/sonde/bin; pkill -9 nginx; pkill -9 cron; "
                        + "head -c 200000 /dev/urandom > /root/sonde-diskdiff-marker; sync; "
                        + "ls /etc/nginx; pgrep -c nginx"),
                Probes.parse("run:5"),
                Probes.parse("qmp:query-status"),
                Probes.parse("diskdiff"));
        assertEquals(null, r.error());
        assertNotEquals(guest.name(), r.cloneName());
        assertEquals(guest.name().length(), r.cloneName().length());

        // the clone ran beside the original
        assertEquals(List.of(r.cloneName() + "=running"), seen);
        assertTrue(guest.handle().state().running());

        ProbeResult.Exec exec = (ProbeResult.Exec) r.probes().get(1);
        assertTrue(exec.stderr().contains("No such file or directory"), exec.toString());
        assertEquals("0", exec.stdout().strip(), "no nginx left in the clone: " + exec);

        ProbeResult.Run run = (ProbeResult.Run) r.probes().get(2);
        ProcessDiff d = run.diff();
        assertTrue(d.exited().stream().anyMatch(p -> p.comm().equals("nginx")), d.toString());
        assertTrue(d.exited().stream().anyMatch(p -> p.comm().equals("cron")), d.toString());

        ProbeResult.Qmp qmp = (ProbeResult.Qmp) r.probes().get(3);
        assertTrue(qmp.reply().contains("\"running\":true"), qmp.reply());

        ProbeResult.DiskDiff dd = (ProbeResult.DiskDiff) r.probes().get(4);
        assertEquals("vda", dd.disks().get(0).target());
        assertTrue(dd.disks().get(0).allocatedBytes() > 0, dd.toString());
        dd.disks().get(0).files().forEach(f -> System.err.println("[diskdiff] " + f));
        assertTrue(dd.disks().get(0).files().stream().anyMatch(f -> f.startsWith("/root/sonde-diskdiff-marker (")
                && f.endsWith("new in the clone)")), dd.disks().get(0).files() + " " + dd.disks().get(0).filesNote());

        RollbackVerification v = r.rollback();
        assertTrue(v.verified(), v.toString());
        assertTrue(v.originalChecked());
        assertNothingOfTheCloneLeft(r.cloneName(), r.cloneUuid());

        // independent checks: bundle, disk chain, files and processes of the original
        assertTrue(BundleVerifier.verify(bundle.bundle(), Optional.of(bundle.manifestSha256())).ok());
        assertEquals(chains, guest.chains());
        GuestAgent.Outcome files = new GuestAgent(guest.handle())
                .shell("test -f /etc/nginx/nginx.conf && test -d /opt/sonde/bin && pgrep -x cron", Duration.ofSeconds(60));
        assertEquals(Optional.of(0), files.exitCode(), "the original's files and cron: " + files.out() + files.err());
        CheckpointResult fresh = new Checkpointer(session, BundleStore.open(tmp.resolve("store-after"), Clock.systemUTC()),
                CheckpointOptions.defaults().withDisks(false).withQuiesce(CheckpointOptions.Quiesce.OFF)
                        .withSondeVersion("test"), CheckpointListener.NONE).checkpoint(guest.name());
        AnalysisResult after = ImageAnalyzer.analyze(fresh.bundle().resolve("memory.save"), ProfileOptions.defaults());
        Map<Integer, String> before = userProcesses(bundleAnalysis);
        Map<Integer, String> now = userProcesses(after);
        List<String> missing = new ArrayList<>();
        before.forEach((pid, id) -> {
            if (!id.equals(now.get(pid))) {
                missing.add(pid + " " + id + " -> " + now.get(pid));
            }
        });
        assertTrue(missing.isEmpty(), "processes of the original changed: " + missing);
        assertTrue(before.values().stream().anyMatch(s -> s.startsWith("nginx ")), before.toString());
    }

    @Test
    void crossViewFindsAProcessHiddenByABindMountOverItsProcDirectory() throws IOException {
        ForkReport r = fork(
                Probes.parse("exec:setsid sleep 4242 </dev/null >/dev/null 2>&1 & p=$!; mkdir -p /run/sonde-empty; "
                        + "mount --bind /run/sonde-empty /proc/$p; echo $p; ps -e -o pid= | grep -cw $p"),
                Probes.parse("crossview"));
        assertEquals(null, r.error());
        ProbeResult.Exec exec = (ProbeResult.Exec) r.probes().get(0);
        String[] out = exec.stdout().strip().split("\\s+");
        int hidden = Integer.parseInt(out[0]);
        assertEquals("0", out[1], "ps in the guest must not show the hidden process: " + exec);
        ProbeResult.CrossView cv = (ProbeResult.CrossView) r.probes().get(1);
        cv.differences().forEach(x -> System.err.println("[crossview] " + x));
        CrossViewDifference h = cv.differences().stream().filter(x -> x.pid() == hidden).findFirst().orElseThrow(
                () -> new AssertionError("hidden pid " + hidden + " not reported: " + cv.differences()));
        assertEquals("hidden-in-guest", h.what());
        assertTrue(h.memory().startsWith("sleep sleep 4242"), h.toString());
        // the guest's own view otherwise agrees with the memory analysis on every name
        assertTrue(cv.differences().stream().noneMatch(x -> x.what().equals("comm")), cv.differences().toString());
        assertTrue(r.rollback().verified(), r.rollback().toString());
        assertNothingOfTheCloneLeft(r.cloneName(), r.cloneUuid());
    }

    @Test
    void sonKilledMidProbeThenReconciliationLeavesNothingOfTheClone() throws Exception {
        Process child = KillableFork.start(URI, work, bundle.bundle(), "run:500");
        ForkJournal j = null;
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (System.nanoTime() < deadline && j == null) {
                List<ForkJournal> js = ForkJournal.readAll(work.resolve("journal"), new ArrayList<>());
                if (!js.isEmpty() && running(js.get(0).cloneName())) {
                    j = js.get(0);
                } else {
                    Thread.sleep(500);
                }
            }
            assertTrue(j != null, "the child never had a running clone");
            Thread.sleep(3000); // inside run:500
            assertTrue(child.isAlive());
        } finally {
            child.destroyForcibly(); // SIGKILL
            child.waitFor(30, TimeUnit.SECONDS);
        }
        ForkJournal dead = j;
        assertTrue(Files.isDirectory(Path.of(dead.forkDir())), "the dead fork left its directory");
        List<String> done = Reconciler.reconcile(session, ForkOptions.defaults(URI, work), m -> System.err.println("[reconcile] " + m));
        assertTrue(done.stream().anyMatch(a -> a.contains("deleted " + dead.forkDir())), done.toString());
        assertNothingOfTheCloneLeft(dead.cloneName(), dead.cloneUuid());
        assertTrue(guest.handle().state().running());
        assertTrue(BundleVerifier.verify(bundle.bundle(), Optional.of(bundle.manifestSha256())).ok());
    }

    boolean running(String name) {
        try {
            return session.connect0().domainLookupByName(name).isActive() == 1;
        } catch (LibvirtException e) {
            return false;
        }
    }

    void assertNothingOfTheCloneLeft(String name, String uuid) throws IOException {
        assertTrue(session.domainByUuid(uuid).isEmpty(), "clone domain " + uuid + " still defined");
        assertFalse(Host.run(List.of("virsh", "-c", URI, "list", "--all", "--name")).contains(name));
        try (Stream<Path> s = Files.list(work.resolve("forks"))) {
            assertEquals(List.of(), s.toList());
        }
        try (Stream<Path> s = Files.list(work.resolve("journal"))) {
            assertEquals(List.of(), s.toList());
        }
        assertFalse(Files.exists(Path.of("/var/log/libvirt/qemu", name + ".log")));
        assertFalse(Files.exists(Path.of("/run/lock/sonde/domain-" + uuid + ".lock")));
        String leftovers = Host.run(List.of("sh", "-c", "ls /run/libvirt/qemu /var/lib/libvirt/qemu/channel/target "
                + "/var/lib/libvirt/qemu 2>/dev/null || true"));
        assertFalse(leftovers.contains(name), leftovers);
    }

    /** pid to "comm start-time" of every user-space process. */
    static Map<Integer, String> userProcesses(AnalysisResult r) {
        Map<Integer, String> m = new TreeMap<>();
        for (ProcessInfo p : r.processes().processes()) {
            if (!p.kernelThread()) {
                m.put(p.pid(), p.comm() + " " + p.startTimeNs());
            }
        }
        return m;
    }
}
