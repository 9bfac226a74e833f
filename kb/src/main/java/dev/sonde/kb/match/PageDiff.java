package dev.sonde.kb.match;

import java.util.Optional;

/**
 * A resident code page that no known version of the file holds.
 *
 * @param vaddr      where it is mapped
 * @param fileOffset its offset in the file
 * @param sha256     its hash in memory
 * @param expected   the hash the best-matching known file has at that offset, when it has a page there
 */
public record PageDiff(long vaddr, long fileOffset, String sha256, Optional<String> expected) {
}
