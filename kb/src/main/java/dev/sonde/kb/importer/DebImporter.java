package dev.sonde.kb.importer;

import dev.sonde.kb.store.KnowledgeBase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** Imports .deb files, one source per package file; a folder means every .deb under it (an apt archive). */
public final class DebImporter {
    private DebImporter() {
    }

    /** Imports one .deb. */
    public static ImportStats importDeb(KnowledgeBase kb, Path deb) throws IOException {
        long t0 = System.nanoTime();
        DebPackage p = DebPackage.read(deb);
        kb.replaceSource("deb", deb.toAbsolutePath().normalize().toString(), p.elf());
        return new ImportStats(deb.getFileName() + " (" + p.name() + " " + p.version() + " " + p.arch() + ")",
                p.files(), p.elf().size(), p.elf().size(), p.bytesRead(), System.nanoTime() - t0);
    }

    /** The .deb files under {@code dir} (at most 4 levels down), sorted. */
    public static List<Path> debsIn(Path dir) throws IOException {
        try (Stream<Path> s = Files.find(dir, 4, (p, a) -> a.isRegularFile() && p.getFileName().toString().endsWith(".deb"))) {
            return s.sorted().toList();
        }
    }

    /** Imports every .deb under {@code dir}; {@code progress} hears of each. */
    public static ImportStats importFolder(KnowledgeBase kb, Path dir, Consumer<ImportStats> progress) throws IOException {
        long t0 = System.nanoTime();
        List<ImportStats> all = new ArrayList<>();
        for (Path deb : debsIn(dir)) {
            ImportStats s = importDeb(kb, deb);
            progress.accept(s);
            all.add(s);
        }
        return new ImportStats(dir + " (" + all.size() + " packages)", all.stream().mapToLong(ImportStats::files).sum(),
                all.stream().mapToLong(ImportStats::elfFiles).sum(), all.stream().mapToLong(ImportStats::owned).sum(),
                all.stream().mapToLong(ImportStats::bytesRead).sum(), System.nanoTime() - t0);
    }
}
