package dev.sonde.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sonde.snapshotter.store.BundleStore;
import dev.sonde.snapshotter.store.RetentionPolicy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.LinkedHashMap;

import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sonde prune}: apply a retention policy to a bundle store. */
@Command(name = "prune", mixinStandardHelpOptions = true,
        description = {"Delete the bundles of a store that the retention policy does not keep, and the leftovers of "
                + "interrupted runs. A bundle is kept when any keep rule selects it (newest N; newest of each of the last "
                + "N hours, days, ISO weeks that have bundles) and it is not older than --max-age; the newest "
                + "--min-count are always kept. With no rule, nothing is deleted.",
            "--dry-run only prints the decisions."})
final class PruneCommand implements Callable<Integer> {
    enum Format { text, json }

    @Spec
    CommandSpec spec;

    /** Tests replace it. */
    Clock clock = Clock.systemUTC();

    @Option(names = "--store", paramLabel = "DIR",
            description = "Bundle store (default: $SONDE_STORE, else /var/lib/sonde/bundles).")
    Path store;

    @Option(names = "--keep-last", paramLabel = "N", defaultValue = "0", description = "Keep the newest N bundles.")
    int keepLast;

    @Option(names = "--keep-hourly", paramLabel = "N", defaultValue = "0",
            description = "Keep the newest bundle of each of the last N hours that have bundles.")
    int hourly;

    @Option(names = "--keep-daily", paramLabel = "N", defaultValue = "0",
            description = "Keep the newest bundle of each of the last N days that have bundles.")
    int daily;

    @Option(names = "--keep-weekly", paramLabel = "N", defaultValue = "0",
            description = "Keep the newest bundle of each of the last N ISO weeks that have bundles.")
    int weekly;

    @Option(names = "--max-age", paramLabel = "AGE",
            description = "Delete bundles older than AGE (e.g. 12h, 7d, 4w, 1d12h), whatever the keep rules say.")
    String maxAge;

    @Option(names = "--min-count", paramLabel = "N", defaultValue = "0",
            description = "Always keep the newest N bundles.")
    int minCount;

    @Option(names = "--timezone", paramLabel = "ZONE", defaultValue = "UTC",
            description = "Zone of the hour/day/week buckets (default UTC), e.g. Europe/Paris.")
    String zone;

    @Option(names = {"-n", "--dry-run"}, description = "Print what would be deleted; delete nothing.")
    boolean dryRun;

    @Option(names = "--format", defaultValue = "text", description = "Output format: ${COMPLETION-CANDIDATES}.")
    Format format;

    @Override
    public Integer call() throws Exception {
        RetentionPolicy policy;
        try {
            policy = RetentionPolicy.none().withKeepLast(keepLast).withHourly(hourly).withDaily(daily).withWeekly(weekly)
                    .withMinCount(minCount).withZone(ZoneId.of(zone));
            if (maxAge != null) {
                policy = policy.withMaxAge(RetentionPolicy.parseDuration(maxAge));
            }
        } catch (IllegalArgumentException | DateTimeException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        Path dir = store != null ? store : SnapshotCommand.defaultStore();
        if (!Files.isDirectory(dir)) {
            throw new SondeException(ExitCodes.BAD_INPUT, dir + ": no such store");
        }
        BundleStore s = BundleStore.open(dir, clock);
        BundleStore.PruneResult r = s.prune(policy, dryRun);
        int pending = pendingJournals(s);
        PrintWriter out = spec.commandLine().getOut();
        if (format == Format.json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("store", dir.toString());
            m.put("dryRun", dryRun);
            m.put("decisions", r.decisions().stream().map(d -> Map.of("bundle", d.bundle().name(), "time",
                    d.bundle().time().toString(), "keep", d.keep(), "reasons", d.reasons())).toList());
            m.put("leftovers", r.leftovers());
            m.put("interruptedCheckpointsPendingRecovery", pending);
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m));
        } else {
            if (policy.isEmpty()) {
                out.println("no retention rule given: nothing to delete (see --help)");
            }
            for (var d : r.decisions()) {
                String verb = d.keep() ? "keep  " : dryRun ? "WOULD DELETE" : "deleted";
                out.printf("%-12s %s  (%s)%n", verb, d.bundle().name(), String.join(", ", d.reasons()));
            }
            for (String l : r.leftovers()) {
                out.println(l);
            }
            if (pending > 0) {
                out.printf("%d interrupted checkpoint(s) still to recover: the next 'sonde snapshot' on this store "
                        + "puts their guests back%n", pending);
            }
            out.printf("%s: kept %d, %s %d%n", dir, r.kept().size(), dryRun ? "would delete" : "deleted",
                    r.deleted().size());
        }
        out.flush();
        return ExitCodes.OK;
    }

    private static int pendingJournals(BundleStore s) throws IOException {
        try (Stream<Path> j = Files.list(s.journalDir())) {
            return (int) j.filter(p -> p.getFileName().toString().endsWith(".json")).count();
        }
    }

}
