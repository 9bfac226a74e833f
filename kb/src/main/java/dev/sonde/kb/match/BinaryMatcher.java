package dev.sonde.kb.match;

import dev.sonde.analyzer.linux.BinaryOrigin;
import dev.sonde.analyzer.linux.MappedBinary;
import dev.sonde.analyzer.linux.PageDigest;
import dev.sonde.kb.elf.CodePage;
import dev.sonde.kb.store.KnowledgeBase;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Matches running binaries against a knowledge base. Candidates are the known files with the binary's build-id and
 * those holding one of its resident pages at the same file offset; the best candidate is the one agreeing on most
 * pages. A binary is identified when every resident page agrees with it, modified when some pages match no
 * candidate at their offset (those pages are listed), unknown when nothing matches. With a {@link CheckpointDisk},
 * the file at the mapped path on the checkpoint's own disk is compared with memory too.
 */
public final class BinaryMatcher {
    private final KnowledgeBase kb;
    private final Optional<CheckpointDisk> disk;
    private final Map<String, Identification> cache = new HashMap<>();
    private final Map<Long, KnowledgeBase.Row> rows = new HashMap<>();

    public BinaryMatcher(KnowledgeBase kb, Optional<CheckpointDisk> disk) {
        this.kb = kb;
        this.disk = disk;
    }

    /**
     * Identifies every binary of one image, in order. A file with no resident code page and no readable build-id in
     * one process (a forked worker that has not touched a library yet) takes the identity of the same file (same
     * device, inode and path) identified in another process of the image: the page cache holds one copy of a file.
     */
    public List<Identification> matchAll(List<MappedBinary> binaries) throws IOException {
        List<Identification> out = new ArrayList<>(binaries.size());
        Map<String, Identification> byInode = new HashMap<>();
        for (MappedBinary b : binaries) {
            Identification id = match(b);
            out.add(id);
            if (b.origin() != BinaryOrigin.ANONYMOUS && id.verdict() != Verdict.UNKNOWN && !b.pages().isEmpty()) {
                byInode.putIfAbsent(inodeKey(b), id);
            }
        }
        for (int i = 0; i < out.size(); i++) {
            Identification id = out.get(i);
            MappedBinary b = id.binary();
            Identification other = byInode.get(inodeKey(b));
            if (id.verdict() == Verdict.UNKNOWN && b.origin() != BinaryOrigin.ANONYMOUS && b.pages().isEmpty()
                    && b.buildId().isEmpty() && other != null) {
                out.set(i, new Identification(b, other.verdict(), other.known(), other.alsoKnown(),
                        Optional.of("same inode as pid " + other.binary().pid()), 0, other.differing(), other.onDisk(),
                        List.of()));
            }
        }
        return out;
    }

    private static String inodeKey(MappedBinary b) {
        return b.dev() + " " + b.inode() + " " + b.path();
    }

    public Identification match(MappedBinary b) throws IOException {
        String key = b.path() + "\n" + b.buildId().orElse("") + "\n" + b.digest().orElse("") + "\n" + b.pages().size();
        Identification cached = cache.get(key);
        if (cached != null) {
            return new Identification(b, cached.verdict(), cached.known(), cached.alsoKnown(), cached.matchedBy(),
                    cached.pagesMatched(), cached.differing(), cached.onDisk(), cached.unknownPages());
        }
        Identification id = compute(b);
        cache.put(key, id);
        return id;
    }

    private KnowledgeBase.Row row(long id) throws IOException {
        KnowledgeBase.Row r = rows.get(id);
        if (r == null) {
            r = kb.byId(id);
            rows.put(id, r);
        }
        return r;
    }

    private Identification compute(MappedBinary b) throws IOException {
        List<PageDigest> resident = b.pages().stream().filter(p -> p.fileOffset() >= 0).toList();
        Set<Long> candidates = new LinkedHashSet<>();
        Set<Long> byBuildId = new LinkedHashSet<>();
        if (b.buildId().isPresent()) {
            for (KnowledgeBase.Row r : kb.byBuildId(b.buildId().get())) {
                rows.putIfAbsent(r.id(), r);
                byBuildId.add(r.id());
            }
            candidates.addAll(byBuildId);
        }
        for (PageDigest p : resident) {
            candidates.addAll(kb.filesWithPage(p.fileOffset(), p.sha256()));
        }
        String onDisk = disk.isPresent() && b.origin() == BinaryOrigin.FILE ? disk.get().compare(b) : "not checked";
        if (candidates.isEmpty() && resident.isEmpty() && b.buildId().isEmpty() && b.origin() == BinaryOrigin.FILE
                && disk.isPresent()) {
            // Nothing of the file is resident: the checkpoint's disk holds the same inode at that path, and its
            // content is a known file.
            Optional<CheckpointDisk.DiskFile> f = disk.get().file(b.path());
            if (f.isPresent() && f.get().inode() == b.inode()) {
                List<KnowledgeBase.Row> same = kb.bySha256(f.get().sha256());
                if (!same.isEmpty()) {
                    return new Identification(b, Verdict.IDENTIFIED, Optional.of(same.get(0)), same.subList(1, same.size()),
                            Optional.of("checkpoint disk (same inode " + b.inode() + ", no resident page)"), 0, List.of(),
                            onDisk, List.of());
                }
            }
        }
        if (candidates.isEmpty()) {
            return new Identification(b, Verdict.UNKNOWN, Optional.empty(), List.of(), Optional.empty(), 0, List.of(),
                    onDisk, b.pages());
        }
        Map<Long, Integer> agree = new LinkedHashMap<>();
        Map<Long, Map<Long, String>> pagesOf = new HashMap<>();
        for (long id : candidates) {
            Map<Long, String> m = new HashMap<>();
            for (CodePage c : row(id).file().pages()) {
                m.put(c.offset(), c.sha256());
            }
            pagesOf.put(id, m);
            int n = 0;
            for (PageDigest p : resident) {
                if (p.sha256().equals(m.get(p.fileOffset()))) {
                    n++;
                }
            }
            agree.put(id, n);
        }
        long best = candidates.stream().max(Comparator.<Long>comparingInt(agree::get)
                .thenComparing(id -> byBuildId.contains(id) ? 1 : 0)
                .thenComparing(id -> rows.get(id).file().pkg().isPresent() ? 1 : 0)).orElseThrow();
        List<PageDiff> differing = new ArrayList<>();
        for (PageDigest p : resident) {
            boolean anyAgrees = false;
            for (long id : candidates) {
                if (p.sha256().equals(pagesOf.get(id).get(p.fileOffset()))) {
                    anyAgrees = true;
                    break;
                }
            }
            if (!anyAgrees) {
                differing.add(new PageDiff(p.vaddr(), p.fileOffset(), p.sha256(),
                        Optional.ofNullable(pagesOf.get(best).get(p.fileOffset()))));
            }
        }
        KnowledgeBase.Row bestRow = rows.get(best);
        List<KnowledgeBase.Row> same = new ArrayList<>();
        for (long id : candidates) {
            KnowledgeBase.Row r = rows.get(id);
            if (id != best && (r.file().sha256().equals(bestRow.file().sha256())
                    || (agree.get(id).equals(agree.get(best)) && agree.get(id) == resident.size() && !resident.isEmpty()))) {
                same.add(r);
            }
        }
        boolean bid = byBuildId.contains(best);
        boolean pages = agree.get(best) > 0;
        String matchedBy = bid && pages ? "build-id+pages" : bid ? "build-id" : "pages";
        Verdict v;
        if (!differing.isEmpty()) {
            v = Verdict.MODIFIED;
        } else if (onDisk.startsWith("different")) {
            v = Verdict.ON_DISK_MISMATCH;
        } else {
            v = Verdict.IDENTIFIED;
        }
        return new Identification(b, v, Optional.of(bestRow), same, Optional.of(matchedBy), agree.get(best), differing,
                onDisk, List.of());
    }
}
