package dev.sonde.cli;

import dev.sonde.kb.disk.DiskFormatException;
import dev.sonde.kb.disk.GuestDisk;
import dev.sonde.kb.importer.DebImporter;
import dev.sonde.kb.importer.DiskImporter;
import dev.sonde.kb.importer.ImportStats;
import dev.sonde.kb.store.KnowledgeBase;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code sonde kb import}: fills the known-binary knowledge base from Debian packages and guest disks. */
@Command(name = "kb", mixinStandardHelpOptions = true, description = "The known-binary knowledge base.",
        subcommands = {KbCommand.Import.class})
final class KbCommand {

    /** The knowledge base file: {@code --kb}, else {@code $SONDE_KB}, else /var/lib/sonde/kb.sqlite. */
    static Path kbPath(Path option) {
        if (option != null) {
            return option;
        }
        String env = System.getenv("SONDE_KB");
        return Path.of(env != null && !env.isBlank() ? env : "/var/lib/sonde/kb.sqlite");
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = "Import .deb files, apt archive folders (every .deb under them), guest disk images (qcow2 with"
                    + " its backing chain, or raw; ext4 read in Java, no mounting) and evidence bundles (their disk)."
                    + " Each source replaces what an earlier import of it wrote. One line per source on stdout.")
    static final class Import implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--kb", paramLabel = "KB", description = "Knowledge base file (default: $SONDE_KB, else /var/lib/sonde/kb.sqlite).")
        Path kb;

        @Parameters(arity = "1..*", paramLabel = "SOURCE", description = "DEB | DIR (apt archive or bundle) | DISK image")
        List<Path> sources;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            for (Path s : sources) {
                if (!Files.exists(s)) {
                    throw new java.nio.file.NoSuchFileException(s.toString());
                }
            }
            Path file = kbPath(kb);
            try (KnowledgeBase base = KnowledgeBase.open(file)) {
                for (Path s : sources) {
                    err.println("sonde: importing " + s);
                    err.flush();
                    ImportStats st = importOne(base, s, err);
                    out.println(st.summary());
                    out.flush();
                }
                Map<String, Long> c = base.counts();
                err.println("sonde: " + file + ": " + c.get("sources") + " sources, " + c.get("files") + " files, "
                        + c.get("pages") + " code pages");
            } catch (DiskFormatException e) {
                throw new SondeException(ExitCodes.BAD_INPUT, e.getMessage(), e);
            }
            return ExitCodes.OK;
        }

        private static ImportStats importOne(KnowledgeBase base, Path s, PrintWriter err) throws IOException {
            if (Files.isDirectory(s)) {
                if (GuestDisk.isBundle(s)) {
                    return DiskImporter.importDisk(base, s);
                }
                if (DebImporter.debsIn(s).isEmpty()) {
                    throw new SondeException(ExitCodes.BAD_INPUT, s + ": neither an evidence bundle (no manifest.json) nor a"
                            + " folder of .deb files");
                }
                return DebImporter.importFolder(base, s, st -> {
                    err.println("sonde:   " + st.summary());
                    err.flush();
                });
            }
            if (s.getFileName().toString().endsWith(".deb")) {
                return DebImporter.importDeb(base, s);
            }
            return DiskImporter.importDisk(base, s);
        }
    }
}
