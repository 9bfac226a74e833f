package dev.sonde.cli;

import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.PageDigest;
import dev.sonde.analyzer.report.Report;
import dev.sonde.analyzer.report.Table;
import dev.sonde.kb.disk.BlockDevice;
import dev.sonde.kb.disk.DiskFormatException;
import dev.sonde.kb.disk.GuestDisk;
import dev.sonde.kb.ext4.Ext4FileSystem;
import dev.sonde.kb.match.BinaryMatcher;
import dev.sonde.kb.match.CheckpointDisk;
import dev.sonde.kb.match.Identification;
import dev.sonde.kb.match.PageDiff;
import dev.sonde.kb.store.KnowledgeBase;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * {@code sonde analyze --kb KB}: adds the {@code identities} table (each running binary's verdict, package, version
 * and known path, the modified pages) and, for unknown binaries, their page digests in {@code unknown_pages}. With a
 * disk (the bundle's own, or {@code --disk}), each mapped file is also compared with the file at that path on it.
 */
final class KbIdentities {
    private KbIdentities() {
    }

    static Report enrich(Report report, AnalysisResult result, Path kbFile, Optional<Path> disk, java.io.PrintWriter err) {
        try (KnowledgeBase kb = KnowledgeBase.openExisting(kbFile);
             BlockDevice dev = disk.isPresent() ? GuestDisk.open(disk.get()) : null) {
            Optional<CheckpointDisk> cd = dev == null ? Optional.empty() : Optional.of(new CheckpointDisk(Ext4FileSystem.open(dev)));
            long t0 = System.nanoTime();
            List<Identification> ids = new BinaryMatcher(kb, cd).matchAll(result.binaries());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            Map<String, Long> verdicts = ids.stream().collect(Collectors.groupingBy(i -> i.verdict().label(), TreeMap::new, Collectors.counting()));
            err.println("sonde: kb: " + ids.size() + " binaries matched in " + ms + " ms against " + kbFile + ": " + verdicts);
            err.flush();
            Table t = new Table("identities", List.of("pid", "path", "verdict", "package", "version", "known_path",
                    "matched_by", "pages", "modified_pages", "on_disk"));
            Table u = new Table("unknown_pages", List.of("pid", "path", "vaddr", "file_offset", "sha256"));
            for (Identification id : ids) {
                var best = id.best();
                String modified = id.differing().stream().map(KbIdentities::page).collect(Collectors.joining(" "));
                t.add(id.binary().pid(), id.binary().path().isEmpty() ? "[anon]" : id.binary().path(), id.verdict().label(),
                        best.flatMap(r -> r.file().pkg()).orElse(best.isPresent() ? "(none)" : null),
                        best.flatMap(r -> r.file().version()).orElse(null),
                        best.map(r -> r.file().path()).orElse(null), id.matchedBy().orElse(null),
                        id.pagesMatched() + "/" + id.binary().pages().size(), modified.isEmpty() ? null : modified,
                        id.onDisk());
                for (PageDigest p : id.unknownPages()) {
                    u.add(id.binary().pid(), id.binary().path(), String.format("0x%x", p.vaddr()),
                            p.fileOffset() < 0 ? null : String.format("0x%x", p.fileOffset()), p.sha256());
                }
            }
            List<Table> tables = new ArrayList<>(report.tables());
            tables.add(t);
            tables.add(u);
            return new Report(report.analysis(), report.source(), report.complete(), report.reasons(), tables);
        } catch (DiskFormatException e) {
            throw new SondeException(ExitCodes.BAD_INPUT, e.getMessage(), e);
        } catch (IOException e) {
            throw new SondeException(ExitCodes.BAD_INPUT, kbFile + ": " + e.getMessage(), e);
        }
    }

    private static String page(PageDiff d) {
        return String.format("0x%x@0x%x", d.fileOffset(), d.vaddr());
    }
}
