package dev.sonde.kb.match;

import dev.sonde.analyzer.linux.MappedBinary;
import dev.sonde.analyzer.linux.PageDigest;
import dev.sonde.kb.elf.CodePage;
import dev.sonde.kb.elf.ElfCode;
import dev.sonde.kb.ext4.Ext4FileSystem;
import dev.sonde.kb.ext4.Ext4Inode;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The checkpoint's own root file system, to compare a mapped file with what the disk holds at the same path. Files
 * are read and paged once.
 */
public final class CheckpointDisk {
    /** A file on the disk: its inode number, SHA-256 and code pages by offset. */
    public record DiskFile(long inode, String sha256, Map<Long, String> pages) {
    }

    private final Ext4FileSystem fs;
    private final Map<String, Optional<DiskFile>> files = new HashMap<>();

    public CheckpointDisk(Ext4FileSystem fs) {
        this.fs = fs;
    }

    /**
     * {@code same} when every resident page equals the disk file's page at its offset, {@code different (...)} naming
     * how many differ and the first offset, {@code absent} when no file is at that path.
     */
    public String compare(MappedBinary b) throws IOException {
        Optional<DiskFile> disk = file(b.path());
        if (disk.isEmpty()) {
            return "absent";
        }
        int differ = 0;
        long first = -1;
        for (PageDigest p : b.pages()) {
            if (p.fileOffset() >= 0 && !p.sha256().equals(disk.get().pages().get(p.fileOffset()))) {
                if (differ++ == 0) {
                    first = p.fileOffset();
                }
            }
        }
        return differ == 0 ? "same" : String.format("different (%d pages, first at file offset 0x%x)", differ, first);
    }

    /** The regular file at {@code path} (symlinks followed), read once. */
    public Optional<DiskFile> file(String path) throws IOException {
        Optional<DiskFile> f = files.get(path);
        if (f == null) {
            f = load(path);
            files.put(path, f);
        }
        return f;
    }

    private Optional<DiskFile> load(String path) throws IOException {
        Optional<Ext4FileSystem.Resolved> r = fs.resolve(path, true);
        if (r.isEmpty() || !r.get().inode().isRegular()) {
            return Optional.empty();
        }
        Ext4Inode ino = r.get().inode();
        byte[] content = fs.readFile(ino);
        Map<Long, String> m = new HashMap<>();
        ElfCode.of(content).ifPresent(c -> {
            for (CodePage p : c.pages()) {
                m.put(p.offset(), p.sha256());
            }
        });
        return Optional.of(new DiskFile(ino.number(), ElfCode.sha256(content), m));
    }
}
