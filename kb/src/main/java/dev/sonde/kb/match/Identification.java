package dev.sonde.kb.match;

import dev.sonde.analyzer.linux.MappedBinary;
import dev.sonde.analyzer.linux.PageDigest;
import dev.sonde.kb.store.KnowledgeBase;
import java.util.List;
import java.util.Optional;

/**
 * The identity of one running binary.
 *
 * @param binary        what the analyzer found in memory
 * @param verdict       identified, modified, on-disk mismatch or unknown
 * @param known         the best-matching known file (its package, version, path), empty when unknown
 * @param alsoKnown     other known files with the same content (e.g. the disk's copy and the package's)
 * @param matchedBy     {@code build-id}, {@code pages} or {@code build-id+pages}; empty when unknown
 * @param pagesMatched  resident pages equal to the known file's
 * @param differing     resident pages no known version holds (the modified ones)
 * @param onDisk        the checkpoint's disk compared with memory: {@code same}, {@code different},
 *                      {@code absent}, {@code not checked}
 * @param unknownPages  for an unknown binary, its resident page digests
 */
public record Identification(MappedBinary binary, Verdict verdict, Optional<KnowledgeBase.Row> known,
                             List<KnowledgeBase.Row> alsoKnown, Optional<String> matchedBy, int pagesMatched,
                             List<PageDiff> differing, String onDisk, List<PageDigest> unknownPages) {
    public Identification {
        alsoKnown = List.copyOf(alsoKnown);
        differing = List.copyOf(differing);
        unknownPages = List.copyOf(unknownPages);
    }

    /** {@code package version} of the best match (or of an equal copy that has a package), or {@code -}. */
    public String packageVersion() {
        return best().map(r -> r.file().identity()).orElse("-");
    }

    /** The match that names a package when one does. */
    public Optional<KnowledgeBase.Row> best() {
        if (known.isPresent() && known.get().file().pkg().isPresent()) {
            return known;
        }
        for (KnowledgeBase.Row r : alsoKnown) {
            if (r.file().pkg().isPresent()) {
                return Optional.of(r);
            }
        }
        return known;
    }
}
