package dev.sonde.kb.match;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import dev.sonde.analyzer.linux.BinaryOrigin;
import dev.sonde.analyzer.linux.ImageAnalyzer;
import dev.sonde.analyzer.linux.MappedBinary;
import dev.sonde.kb.fixtures.KbFixtures;
import dev.sonde.kb.importer.DebImporter;
import dev.sonde.kb.store.KnowledgeBase;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tiny guest's deleted binary and memfd binary are unknown to a knowledge base of Debian packages, with their pages. */
class TinyUnknownTest {
    @Test
    void deletedAndMemfdBinariesAreUnknownWithTheirPageDigests(@TempDir Path tmp) throws Exception {
        Path image = KbFixtures.capture("tiny", "memory.elf");
        List<MappedBinary> binaries = ImageAnalyzer.analyze(image, ProfileOptions.defaults()).binaries();
        try (KnowledgeBase kb = KnowledgeBase.open(tmp.resolve("kb.sqlite"))) {
            DebImporter.importFolder(kb, KbFixtures.debianDebs(), s -> { });
            List<Identification> ids = new BinaryMatcher(kb, Optional.empty()).matchAll(binaries);
            for (BinaryOrigin o : List.of(BinaryOrigin.DELETED, BinaryOrigin.MEMFD)) {
                List<Identification> of = ids.stream().filter(i -> i.binary().origin() == o).toList();
                assertFalse(of.isEmpty(), "a " + o + " binary in the tiny guest");
                for (Identification i : of) {
                    assertEquals(Verdict.UNKNOWN, i.verdict(), i.binary().path());
                    assertFalse(i.unknownPages().isEmpty(), "page digests of " + i.binary().path());
                    assertEquals(i.binary().pages(), i.unknownPages());
                    assertTrue(i.unknownPages().stream().allMatch(p -> p.sha256().matches("[0-9a-f]{64}")));
                }
            }
        }
    }
}
