package dev.sonde.kb.importer;

import dev.sonde.kb.dpkg.DpkgDatabase;
import dev.sonde.kb.elf.ElfCode;
import dev.sonde.kb.ext4.Ext4Entry;
import dev.sonde.kb.ext4.Ext4FileSystem;
import dev.sonde.kb.ext4.Ext4Inode;
import dev.sonde.kb.store.KnownFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A guest's root file system as a source of known files: every ELF file on it, hashed, and named with its package by
 * the guest's own dpkg database. dpkg's paths are resolved through the file system's directory symlinks, so a file
 * dpkg installed as {@code /lib/x86_64-linux-gnu/libc.so.6} is found at {@code /usr/lib/...} on a merged-/usr
 * system.
 */
public final class GuestFiles {
    private static final String DPKG = "/var/lib/dpkg";
    /** ELF files larger than this are listed but not read (a hostile sparse file could claim any size). */
    static final long MAX_ELF = 256L << 20;
    private final Ext4FileSystem fs;
    private final DpkgDatabase dpkg;
    private final Map<String, DpkgDatabase.Owner> byCanonical;

    public GuestFiles(Ext4FileSystem fs) throws IOException {
        this.fs = fs;
        this.dpkg = readDpkg(fs);
        this.byCanonical = canonicalOwners();
    }

    public Ext4FileSystem fileSystem() {
        return fs;
    }

    public DpkgDatabase dpkg() {
        return dpkg;
    }

    /** The package owning the file at canonical {@code path}. */
    public Optional<DpkgDatabase.Owner> owner(String path) {
        return Optional.ofNullable(byCanonical.get(path));
    }

    private static DpkgDatabase readDpkg(Ext4FileSystem fs) throws IOException {
        Optional<Ext4FileSystem.Resolved> status = fs.resolve(DPKG + "/status", true);
        if (status.isEmpty() || !status.get().inode().isRegular()) {
            return DpkgDatabase.of("", Map.of(), "");
        }
        String st = new String(fs.readFile(status.get().inode()), StandardCharsets.UTF_8);
        Map<String, String> lists = new LinkedHashMap<>();
        Optional<Ext4FileSystem.Resolved> info = fs.resolve(DPKG + "/info", true);
        if (info.isPresent() && info.get().inode().isDirectory()) {
            for (Ext4Entry e : fs.list(info.get().inode())) {
                if (e.name().endsWith(".md5sums")) {
                    Ext4Inode ino = fs.inode(e.inode());
                    if (ino.isRegular()) {
                        lists.put(e.name(), new String(fs.readFile(ino), StandardCharsets.UTF_8));
                    }
                }
            }
        }
        String div = "";
        Optional<Ext4FileSystem.Resolved> d = fs.resolve(DPKG + "/diversions", true);
        if (d.isPresent() && d.get().inode().isRegular()) {
            div = new String(fs.readFile(d.get().inode()), StandardCharsets.UTF_8);
        }
        return DpkgDatabase.of(st, lists, div);
    }

    private Map<String, DpkgDatabase.Owner> canonicalOwners() throws IOException {
        Map<String, String> dirs = new HashMap<>();
        Map<String, DpkgDatabase.Owner> out = new HashMap<>();
        for (Map.Entry<String, DpkgDatabase.Owner> e : dpkg.owners().entrySet()) {
            String p = e.getKey();
            int slash = p.lastIndexOf('/');
            String dir = slash <= 0 ? "/" : p.substring(0, slash);
            String canon = dirs.get(dir);
            if (canon == null) {
                canon = fs.resolve(dir, true).map(Ext4FileSystem.Resolved::path).orElse(dir);
                dirs.put(dir, canon);
            }
            String c = (canon.equals("/") ? "" : canon) + p.substring(slash);
            // a path listed twice (the /usr-merge moved files) keeps its first owner unless that one is not found there
            out.putIfAbsent(c, e.getValue());
        }
        return out;
    }

    /** Counts of one scan. */
    public record Scan(List<KnownFile> elf, long files, long bytesRead) {
    }

    /** Lists every file, reads and hashes every ELF file, and names its package. */
    public Scan scan() throws IOException {
        List<KnownFile> out = new ArrayList<>();
        long[] counts = {0, 0};
        fs.walk((path, ino) -> {
            if (!ino.isRegular()) {
                return;
            }
            counts[0]++;
            if (ino.size() < 52 || ino.size() > MAX_ELF) {
                return;
            }
            byte[] head = fs.readFile(ino, 4);
            counts[1] += head.length;
            if (!ElfCode.isElf(head, head.length)) {
                return;
            }
            byte[] all = fs.readFile(ino);
            counts[1] += all.length;
            known(path, all).ifPresent(out::add);
        });
        return new Scan(out, counts[0], counts[1]);
    }

    /** The file at canonical {@code path} with {@code content} as a known file, when it is ELF. */
    public Optional<KnownFile> known(String path, byte[] content) {
        Optional<ElfCode> code = ElfCode.of(content);
        if (code.isEmpty()) {
            return Optional.empty();
        }
        Optional<DpkgDatabase.Owner> owner = owner(path);
        Optional<Boolean> verified = owner.map(o -> o.md5() == null || o.md5().equals(md5(content)));
        return Optional.of(new KnownFile(owner.map(o -> o.pkg().name()), owner.map(o -> o.pkg().version()),
                owner.map(o -> o.pkg().arch()), path, content.length, ElfCode.sha256(content), code.get().buildId(),
                code.get().elfType(), verified, code.get().pages()));
    }

    static String md5(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
