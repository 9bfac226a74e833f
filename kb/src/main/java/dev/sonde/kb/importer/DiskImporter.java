package dev.sonde.kb.importer;

import dev.sonde.kb.disk.BlockDevice;
import dev.sonde.kb.disk.GuestDisk;
import dev.sonde.kb.ext4.Ext4FileSystem;
import dev.sonde.kb.store.KnowledgeBase;
import java.io.IOException;
import java.nio.file.Path;

/** Imports the ELF files of a guest's disk (qcow2 chain, raw image or evidence bundle) into a knowledge base. */
public final class DiskImporter {
    private DiskImporter() {
    }

    public static ImportStats importDisk(KnowledgeBase kb, Path disk) throws IOException {
        long t0 = System.nanoTime();
        try (BlockDevice dev = GuestDisk.open(disk)) {
            GuestFiles g = new GuestFiles(Ext4FileSystem.open(dev));
            GuestFiles.Scan s = g.scan();
            kb.replaceSource("disk", disk.toAbsolutePath().normalize().toString(), s.elf());
            long owned = s.elf().stream().filter(f -> f.pkg().isPresent()).count();
            return new ImportStats(disk.toString(), s.files(), s.elf().size(), owned, s.bytesRead(), System.nanoTime() - t0);
        }
    }
}
