package dev.sonde.kb.importer;

import dev.sonde.kb.disk.DiskFormatException;
import dev.sonde.kb.dpkg.ControlFields;
import dev.sonde.kb.elf.ElfCode;
import dev.sonde.kb.store.KnownFile;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorInputStream;

/**
 * One Debian binary package read from its .deb file (an ar archive of {@code debian-binary}, {@code control.tar.*}
 * and {@code data.tar.*}, compressed with xz, zstd, gzip or bzip2, or not): its name, version, architecture and the
 * ELF files it installs, with their code pages.
 *
 * @param name      {@code Package:}
 * @param version   {@code Version:}
 * @param arch      {@code Architecture:}
 * @param files     regular files in the data archive
 * @param bytesRead bytes of file content read
 * @param elf       the ELF files, paths usr-merged
 */
public record DebPackage(String name, String version, String arch, long files, long bytesRead, List<KnownFile> elf) {
    static final long MAX_MEMBER = 1L << 30;

    public static DebPackage read(Path deb) throws IOException {
        Map<String, String> control = null;
        long[] counts = {0, 0};
        List<KnownFile> elf = new ArrayList<>();
        boolean sawData = false;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(deb), 1 << 16);
             ArArchiveInputStream ar = new ArArchiveInputStream(in)) {
            ArArchiveEntry e;
            boolean first = true;
            while ((e = ar.getNextEntry()) != null) {
                String member = e.getName().replaceAll("/$", "");
                if (first && !member.equals("debian-binary")) {
                    throw new DiskFormatException(deb, 8, "not a Debian package: first member is '" + member + "', not debian-binary");
                }
                first = false;
                if (member.startsWith("control.tar")) {
                    control = control(deb, member, ar);
                } else if (member.startsWith("data.tar")) {
                    if (control == null) {
                        throw new DiskFormatException(deb, ar.getBytesRead(), "data archive before the control archive");
                    }
                    data(deb, member, ar, control, counts, elf);
                    sawData = true;
                }
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof DiskFormatException d) {
                throw d;
            }
            throw new DiskFormatException(deb, 0, "unreadable Debian package: " + e.getMessage());
        }
        if (control == null || !sawData) {
            throw new DiskFormatException(deb, 0, "not a Debian package: no " + (control == null ? "control" : "data") + " archive");
        }
        return new DebPackage(control.get("Package"), control.getOrDefault("Version", "?"),
                control.getOrDefault("Architecture", "?"), counts[0], counts[1], elf);
    }

    private static InputStream decompress(Path deb, String member, InputStream raw) throws IOException {
        InputStream in = new java.io.FilterInputStream(raw) {
            @Override
            public void close() {
                // the ar stream stays open
            }
        };
        if (member.endsWith(".xz")) {
            return new XZCompressorInputStream(in);
        } else if (member.endsWith(".zst")) {
            return new ZstdCompressorInputStream(in);
        } else if (member.endsWith(".gz")) {
            return new GzipCompressorInputStream(in);
        } else if (member.endsWith(".bz2")) {
            return new BZip2CompressorInputStream(in);
        } else if (member.endsWith(".tar")) {
            return in;
        }
        throw new DiskFormatException(deb, 0, "member " + member + ": unknown compression");
    }

    private static Map<String, String> control(Path deb, String member, InputStream ar) throws IOException {
        TarArchiveInputStream tar = new TarArchiveInputStream(decompress(deb, member, ar));
        TarArchiveEntry t;
        while ((t = tar.getNextEntry()) != null) {
            if (t.isFile() && t.getName().replaceFirst("^\\./", "").equals("control")) {
                if (t.getSize() > 1 << 20) {
                    throw new DiskFormatException(deb, 0, "control file of " + t.getSize() + " bytes");
                }
                List<Map<String, String>> p = ControlFields.paragraphs(new String(tar.readAllBytes(), StandardCharsets.UTF_8));
                if (p.isEmpty() || !p.get(0).containsKey("Package")) {
                    throw new DiskFormatException(deb, 0, "control file without a Package field");
                }
                return p.get(0);
            }
        }
        throw new DiskFormatException(deb, 0, member + " has no control file");
    }

    private static void data(Path deb, String member, InputStream ar, Map<String, String> control, long[] counts,
                             List<KnownFile> elf) throws IOException {
        TarArchiveInputStream tar = new TarArchiveInputStream(decompress(deb, member, ar));
        Map<String, KnownFile> byName = new HashMap<>();
        Optional<String> pkg = Optional.of(control.get("Package"));
        Optional<String> version = Optional.ofNullable(control.get("Version"));
        Optional<String> arch = Optional.ofNullable(control.get("Architecture"));
        TarArchiveEntry t;
        while ((t = tar.getNextEntry()) != null) {
            String path = UsrMerge.canonical("/" + t.getName().replaceFirst("^\\./", "").replaceFirst("^/", ""));
            if (t.isLink()) {
                KnownFile target = byName.get(UsrMerge.canonical("/" + t.getLinkName().replaceFirst("^\\./", "").replaceFirst("^/", "")));
                if (target != null) {
                    elf.add(new KnownFile(pkg, version, arch, path, target.size(), target.sha256(), target.buildId(),
                            target.elfType(), Optional.empty(), target.pages()));
                }
                continue;
            }
            if (!t.isFile()) {
                continue;
            }
            counts[0]++;
            if (t.getSize() < 52 || t.getSize() > MAX_MEMBER) {
                continue;
            }
            byte[] head = new byte[4];
            int n = tar.readNBytes(head, 0, 4);
            counts[1] += n;
            if (!ElfCode.isElf(head, n)) {
                continue;
            }
            byte[] rest = tar.readNBytes((int) t.getSize() - 4);
            counts[1] += rest.length;
            byte[] all = new byte[4 + rest.length];
            System.arraycopy(head, 0, all, 0, 4);
            System.arraycopy(rest, 0, all, 4, rest.length);
            Optional<ElfCode> code = ElfCode.of(all);
            if (code.isEmpty()) {
                continue;
            }
            KnownFile f = new KnownFile(pkg, version, arch, path, all.length, ElfCode.sha256(all), code.get().buildId(),
                    code.get().elfType(), Optional.empty(), code.get().pages());
            byName.put(path, f);
            elf.add(f);
        }
    }
}
