package dev.sonde.cli.demo;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.sonde.analyzer.linux.MappedBinary;
import dev.sonde.analyzer.report.Table;
import dev.sonde.kb.disk.BlockDevice;
import dev.sonde.kb.disk.GuestDisk;
import dev.sonde.kb.ext4.Ext4FileSystem;
import dev.sonde.kb.importer.DiskImporter;
import dev.sonde.kb.importer.ImportStats;
import dev.sonde.kb.match.BinaryMatcher;
import dev.sonde.kb.match.CheckpointDisk;
import dev.sonde.kb.match.Identification;
import dev.sonde.kb.store.KnowledgeBase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The knowledge-base step of the demo: a fresh knowledge base made from the checkpoint's own disk (its ELF files and
 * dpkg database, read in Java from the bundle's qcow2 layers), then every running binary matched against it and
 * against the file at its path on that disk.
 */
public final class KnowledgeStep {
    private KnowledgeStep() {
    }

    /**
     * What the step found.
     *
     * @param kb         the knowledge base file
     * @param imported   what the import read
     * @param verdicts   binaries per verdict
     * @param notable    binaries not identified (grouped by path and verdict) and deleted or memfd binaries with what they
     *                   were identified as
     * @param identities the per-binary table for the report (in analysis.json and report.html, not in demo.json)
     */
    public record Outcome(String kb, String imported, Map<String, Long> verdicts, List<String> notable,
            @JsonIgnore Table identities) {
    }

    static Outcome run(Path bundle, Path kbFile, List<MappedBinary> binaries) throws IOException {
        Files.deleteIfExists(kbFile);
        try (KnowledgeBase kb = KnowledgeBase.open(kbFile)) {
            ImportStats st = DiskImporter.importDisk(kb, bundle);
            List<Identification> ids;
            try (BlockDevice dev = GuestDisk.open(bundle)) {
                ids = new BinaryMatcher(kb, Optional.of(new CheckpointDisk(Ext4FileSystem.open(dev)))).matchAll(binaries);
            }
            Map<String, Long> verdicts = ids.stream().collect(Collectors.groupingBy(i -> i.verdict().label(),
                    TreeMap::new, Collectors.counting()));
            Table t = new Table("identities", List.of("pid", "path", "verdict", "package", "version", "known_path",
                    "matched_by", "pages", "modified_pages", "on_disk"));
            for (Identification id : ids) {
                var best = id.best();
                String modified = id.differing().stream().map(d -> String.format("0x%x@0x%x", d.fileOffset(), d.vaddr()))
                        .collect(Collectors.joining(" "));
                t.add(id.binary().pid(), id.binary().path().isEmpty() ? "[anon]" : id.binary().path(), id.verdict().label(),
                        best.flatMap(r -> r.file().pkg()).orElse(best.isPresent() ? "(none)" : null),
                        best.flatMap(r -> r.file().version()).orElse(null), best.map(r -> r.file().path()).orElse(null),
                        id.matchedBy().orElse(null), id.pagesMatched() + "/" + id.binary().pages().size(),
                        modified.isEmpty() ? null : modified, id.onDisk());
            }
            return new Outcome(kbFile.toString(), st.summary(), verdicts, notable(ids), t);
        }
    }

    /**
     * What a reader should look at: binaries not identified, grouped by path and verdict ({@code [vdso]} has no file to
     * know it by), and deleted or memfd binaries with what the knowledge base knows them as.
     */
    static List<String> notable(List<Identification> ids) {
        Map<String, java.util.TreeSet<Integer>> groups = new java.util.LinkedHashMap<>();
        List<String> out = new java.util.ArrayList<>();
        for (Identification i : ids) {
            String path = i.binary().path().isEmpty() ? "[anon]" : i.binary().path();
            if (i.verdict() != dev.sonde.kb.match.Verdict.IDENTIFIED) {
                groups.computeIfAbsent(path + ": " + i.verdict().label(), k -> new java.util.TreeSet<>()).add(i.binary().pid());
            } else if (i.binary().origin() != dev.sonde.analyzer.linux.BinaryOrigin.FILE) {
                out.add("pid " + i.binary().pid() + " " + path + ": identified as " + i.best().map(r -> r.file().path()
                        + " (" + r.file().pkg().map(pk -> pk + " " + r.file().version().orElse("")).orElse("no package") + ")")
                        .orElse("?") + " by " + i.matchedBy().orElse("?"));
            }
        }
        List<String> grouped = new java.util.ArrayList<>();
        groups.forEach((k, pids) -> grouped.add(k + (pids.size() == 1 ? " (pid " + pids.first() + ")"
                : " (" + pids.size() + " processes)")));
        grouped.addAll(out);
        return List.copyOf(grouped);
    }

}
