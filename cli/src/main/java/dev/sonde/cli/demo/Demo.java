package dev.sonde.cli.demo;

import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.ImageAnalyzer;
import dev.sonde.analyzer.report.ProcessTables;
import dev.sonde.analyzer.report.Report;
import dev.sonde.analyzer.report.Table;
import dev.sonde.rollback.ForkController;
import dev.sonde.rollback.ForkOptions;
import dev.sonde.rollback.ForkReport;
import dev.sonde.rollback.Reconciler;
import dev.sonde.rollback.probe.Probe;
import dev.sonde.rollback.probe.Probes;
import dev.sonde.snapshotter.CheckpointListener;
import dev.sonde.snapshotter.CheckpointOptions;
import dev.sonde.snapshotter.CheckpointResult;
import dev.sonde.snapshotter.Checkpointer;
import dev.sonde.snapshotter.bundle.BundleVerifier;
import dev.sonde.snapshotter.bundle.FileEntry;
import dev.sonde.snapshotter.bundle.VerifyReport;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import dev.sonde.snapshotter.store.BundleStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code sonde demo}: the whole product on a fixture guest, with nothing to configure. Starts libvirt when it does not
 * answer, boots the guest through the fixture scripts, checkpoints it (live memory snapshot and disks) into a bundle
 * store under the output directory, analyzes the checkpoint (processes, maps, files, sockets, binaries, cross-view
 * findings), builds a knowledge base from the checkpoint's disk and matches the running binaries, forks the checkpoint
 * and runs the cross-view and run-and-diff probes on the clone, rolls back and verifies, tears everything down, then
 * writes the JSON result and the HTML report.
 *
 * <p>Whatever happens — an error, Ctrl-C, SIGTERM — the {@link Teardown} destroys and undefines the demo guest and any
 * clone (the rollback controller's reconciliation), and stops the libvirt daemons the demo started.
 */
public final class Demo {
    /** The number of steps the progress counts. */
    public static final int STEPS = 8;

    /** What the exec probe does in a clone with a guest agent: stops two services and deletes a configuration. */
    static final String DESTRUCTIVE = "systemctl stop nginx cron; rm -rf /etc/nginx";

    private final DemoOptions options;
    private final Progress progress;
    private final Teardown teardown;
    private final Map<String, Double> steps = new LinkedHashMap<>();
    private String currentStep;
    private DemoException.Kind failure;

    public Demo(DemoOptions options, Progress progress) {
        this.options = options;
        this.progress = progress;
        this.teardown = new Teardown(progress::detail);
    }

    /** Runs the demo; the result says how far it got ({@link DemoResult#error()}). */
    public DemoResult run() throws IOException {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        teardown.installShutdownHook();
        Path out = options.out().toAbsolutePath().normalize();
        String name = "sonde-demo-" + HexFormat.of().formatHex(random(4));
        List<String> environment = new ArrayList<>();
        List<String> probesSkipped = new ArrayList<>();
        String ready = null;
        CheckpointResult checkpoint = null;
        boolean bundleVerified = false;
        AnalysisResult analysis = null;
        Report report = null;
        List<PlantedScenarios.Seen> scenarios = null;
        KnowledgeStep.Outcome kb = null;
        String kbSkipped = null;
        ForkReport fork = null;
        String error = null;
        List<String> cleanup;
        try {
            step("environment");
            prepareOutput(out);
            Path repo = FixtureRepo.locate(options.fixtures());
            environment.add("fixtures: " + repo.resolve("fixtures"));
            LibvirtDaemons daemons = new LibvirtDaemons(options.uri(), progress::detail);
            environment.add(daemons.ensure());
            teardown.add("stop the libvirt daemons the demo started", daemons::stop);
            progress.detail(environment.get(environment.size() - 1));

            step("guest image (" + options.guest() + ", fixture scripts, cached under " + DemoGuest.cache() + ")");
            teardown.add("remove the demo guest", () -> DemoGuest.remove(options.uri(), name));
            DemoGuest guest = DemoGuest.build(options.guest(), repo, name, progress::detail);

            try (LibvirtSession session = LibvirtSession.open(options.uri())) {
                step("boot " + name);
                ready = guest.boot(session, progress::detail);
                progress.detail(ready);

                step("checkpoint (live memory snapshot" + (guest.kind() == GuestKind.tiny ? ", no disk" : " + disk") + ")");
                BundleStore store = BundleStore.open(out.resolve("store"), Clock.systemUTC());
                long memBytes = session.domain(name).memoryKiB() * 1024;
                checkpoint = new Checkpointer(session, store, CheckpointOptions.defaults().withSondeVersion("sonde demo"),
                        listener(memBytes)).checkpoint(name);
                VerifyReport v = BundleVerifier.verify(checkpoint.bundle(), Optional.of(checkpoint.manifestSha256()));
                bundleVerified = v.ok();
                if (!bundleVerified) {
                    throw new DemoException(DemoException.Kind.INTEGRITY, checkpoint.bundle() + " does not verify: " + v.problems());
                }
                progress.detail(checkpoint.bundle() + " (manifest sha256 " + checkpoint.manifestSha256() + ", verified)");

                step("analyze the checkpoint");
                Path memory = checkpoint.bundle().resolve(checkpoint.manifest().checkpoint().memoryFile());
                analysis = ImageAnalyzer.analyze(memory, ProfileOptions.defaults());
                report = ProcessTables.of(analysis, new LinkedHashSet<>(ProcessTables.VIEWS));
                scenarios = PlantedScenarios.look(analysis);
                progress.detail(analysis.processes().processes().size() + " processes, " + analysis.binaries().size()
                        + " binaries, " + analysis.findings().size() + " findings; planted scenarios found: "
                        + scenarios.stream().filter(PlantedScenarios.Seen::found).count() + "/" + scenarios.size());

                step("knowledge base from the checkpoint's disk");
                if (checkpoint.manifest().disks() == null || checkpoint.manifest().disks().isEmpty()) {
                    kbSkipped = "the " + guest.kind() + " guest has no disk: nothing to import (use the debian guest)";
                    progress.detail("skipped: " + kbSkipped);
                } else {
                    kb = KnowledgeStep.run(checkpoint.bundle(), out.resolve("kb.sqlite"), analysis.binaries());
                    report = withTable(report, kb.identities());
                    progress.detail(kb.imported());
                    progress.detail("binaries: " + kb.verdicts());
                }

                step("fork, probe, roll back");
                List<Probe> probes = new ArrayList<>();
                if (guest.hasGuestAgent()) {
                    probes.add(Probes.parse("crossview"));
                    // something destructive, so the run-and-diff probe has a difference to show and the rollback
                    // something to undo
                    probes.add(Probes.parse("exec:" + DESTRUCTIVE));
                } else {
                    probesSkipped.add("crossview: the " + guest.kind() + " guest has no guest agent to list its own"
                            + " processes with (the analysis' cross-view of kernel lists ran on the checkpoint)");
                    progress.detail("crossview probe skipped: no guest agent in the " + guest.kind() + " guest");
                }
                probes.add(Probes.parse("run:" + options.runSeconds()));
                ForkOptions fo = ForkOptions.defaults(options.uri(), out.resolve("work")).withCpuPercent(options.cloneCpuPercent());
                teardown.add("reconcile forks", () -> reconcile(fo));
                fork = new ForkController(session, fo, progress::detail).fork(checkpoint.bundle(), probes);
                if (fork.error() != null) {
                    error = "fork: " + fork.error();
                }
            }
        } catch (IOException | RuntimeException e) {
            failure = e instanceof DemoException d ? d.kind() : DemoException.Kind.ENVIRONMENT;
            error = (currentStep == null ? "" : currentStep + ": ") + (e.getMessage() == null ? e.toString() : e.getMessage());
            progress.detail("ERROR: " + error);
        }
        step("tear down");
        cleanup = teardown.run(null);
        if (teardown.interrupted()) {
            // the JVM is exiting (Ctrl-C, SIGTERM): no result that looks complete
            throw new DemoException(DemoException.Kind.INTERRUPTED, "interrupted; cleaned up: " + String.join("; ", cleanup));
        }
        steps.put(currentStep, Math.round(progress.stepSeconds() * 10) / 10.0);
        progress.close();
        double seconds = (System.nanoTime() - t0) / 1e9;
        DemoResult.Outputs outputs = new DemoResult.Outputs(out.toString(),
                checkpoint == null ? null : checkpoint.bundle().toString(), out.resolve("demo.json").toString(),
                report == null ? null : out.resolve("report.html").toString(),
                report == null ? null : out.resolve("analysis.json").toString());
        DemoResult result = new DemoResult(options.guest().name(), name, ready, started.toString(), seconds,
                java.util.Collections.unmodifiableMap(steps), environment, outputs, checkpoint == null ? null : summary(checkpoint, bundleVerified),
                analysis == null ? null : summary(analysis), scenarios, kb, kbSkipped, fork, probesSkipped, error, cleanup);
        DemoOutputs.write(result, report, checkpoint, analysis);
        return result;
    }

    /** Why the run stopped early (null when it ran to the end): decides the exit code. */
    public DemoException.Kind failure() {
        return failure;
    }

    private void step(String title) {
        if (currentStep != null) {
            steps.put(currentStep, Math.round(progress.stepSeconds() * 10) / 10.0);
        }
        currentStep = title.replaceAll(" \\(.*", "").replaceAll(" sonde-demo-\\S+", "");
        progress.step(title);
    }

    private CheckpointListener listener(long memBytes) {
        return new CheckpointListener() {
            @Override
            public void wrote(String file, long bytesSoFar) {
                progress.amount(bytesSoFar, file.startsWith("memory") ? memBytes : -1, file);
            }

            @Override
            public void info(String message) {
                progress.detail(message);
            }
        };
    }

    private String reconcile(ForkOptions fo) throws IOException {
        List<String> done = Reconciler.reconcile(null, fo, m -> { });
        return done.isEmpty() ? "forks: no clone left" : "forks: " + String.join("; ", done);
    }

    /** Creates the output directory, searchable by QEMU (o+x), as the clone's disks live under it. */
    private static void prepareOutput(Path out) throws IOException {
        Files.createDirectories(out);
        Set<PosixFilePermission> p = Files.getPosixFilePermissions(out);
        if (!p.contains(PosixFilePermission.OTHERS_EXECUTE)) {
            p = new java.util.HashSet<>(p);
            p.add(PosixFilePermission.OTHERS_EXECUTE);
            Files.setPosixFilePermissions(out, p);
        }
        for (String f : List.of("demo.json", "report.html", "analysis.json")) {
            Files.deleteIfExists(out.resolve(f));
        }
    }

    private static Report withTable(Report r, Table t) {
        List<Table> tables = new ArrayList<>(r.tables());
        tables.add(t);
        return new Report(r.analysis(), r.source(), r.complete(), r.reasons(), tables);
    }

    private static DemoResult.Checkpoint summary(CheckpointResult c, boolean verified) {
        List<DemoResult.FileHash> files = new ArrayList<>();
        for (FileEntry f : c.manifest().files()) {
            files.add(new DemoResult.FileHash(f.name(), f.size(), f.sha256()));
        }
        Double pause = c.manifest().checkpoint() == null || c.manifest().checkpoint().pause() == null ? null
                : c.manifest().checkpoint().pause().millis();
        return new DemoResult.Checkpoint(c.bundle().toString(), c.manifestSha256(), verified, pause, files);
    }

    private static DemoResult.Analysis summary(AnalysisResult a) {
        return new DemoResult.Analysis(a.kernelRelease(), a.processes().processes().size(), a.binaries().size(),
                a.processes().completeness().complete() && a.problems().isEmpty(), a.problems(), a.findings());
    }

    /** One line on what a probe found. */
    public static String describe(dev.sonde.rollback.probe.ProbeResult p) {
        return DemoOutputs.describe(p);
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new java.security.SecureRandom().nextBytes(b);
        return b;
    }
}
