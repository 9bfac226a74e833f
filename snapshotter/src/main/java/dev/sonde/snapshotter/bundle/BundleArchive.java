package dev.sonde.snapshotter.bundle;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorInputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorOutputStream;
import org.tukaani.xz.LZMA2Options;

/**
 * One-file form of a sealed bundle: a tar archive (optionally zstd- or xz-compressed) holding {@code NAME/} and the
 * bundle's files, {@code manifest.json} last. Written as {@code .partial-NAME.tar*} and renamed when complete, like the
 * directory form.
 */
public final class BundleArchive {
    /** Archive flavours. */
    public enum Kind {
        TAR(".tar"), TAR_ZST(".tar.zst"), TAR_XZ(".tar.xz");

        final String suffix;

        Kind(String suffix) {
            this.suffix = suffix;
        }

        public String suffix() {
            return suffix;
        }

        public static Kind parse(String s) {
            return switch (s.toLowerCase().replaceFirst("^\\.", "")) {
                case "tar" -> TAR;
                case "tar.zst", "zst", "zstd", "tzst" -> TAR_ZST;
                case "tar.xz", "xz", "txz" -> TAR_XZ;
                default -> throw new IllegalArgumentException("unknown archive kind '" + s + "' (tar, tar.zst, tar.xz)");
            };
        }
    }

    private static final List<String> SUFFIXES = List.of(".tar.zst", ".tar.xz", ".tar.gz", ".tar");

    private BundleArchive() {
    }

    /** Whether a file name is an archive form of a bundle. */
    public static boolean isArchiveName(String fileName) {
        return SUFFIXES.stream().anyMatch(fileName::endsWith);
    }

    /** The bundle name of an archive file name (its name without the archive suffix). */
    public static String bundleName(String fileName) {
        for (String s : SUFFIXES) {
            if (fileName.endsWith(s)) {
                return fileName.substring(0, fileName.length() - s.length());
            }
        }
        return fileName;
    }

    /**
     * Packs the sealed bundle directory {@code bundleDir} into {@code bundleDir + kind.suffix}, rechecking every file's
     * hash against the manifest while packing, then deletes the directory. Returns the archive.
     */
    public static Path pack(Path bundleDir, Kind kind) throws IOException {
        String name = bundleDir.getFileName().toString();
        Path parent = bundleDir.toAbsolutePath().getParent();
        Manifest m = Manifest.parse(Files.readAllBytes(bundleDir.resolve(Manifest.FILE_NAME)));
        Path partial = parent.resolve(BundleWriter.PARTIAL_PREFIX + name + kind.suffix);
        Path target = parent.resolve(name + kind.suffix);
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(target + " already exists");
        }
        boolean done = false;
        try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            OutputStream file = new NonClosing(new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 20));
            OutputStream compressed = switch (kind) {
                case TAR -> file;
                case TAR_ZST -> ZstdCompressorOutputStream.builder().setOutputStream(file).setLevel(3).setChecksum(true).get();
                case TAR_XZ -> XZCompressorOutputStream.builder().setOutputStream(file).setLzma2Options(new LZMA2Options(1)).get();
            };
            TarArchiveOutputStream tar = new TarArchiveOutputStream(compressed);
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            TarArchiveEntry d = new TarArchiveEntry(name + "/");
            d.setMode(040700);
            tar.putArchiveEntry(d);
            tar.closeArchiveEntry();
            List<FileEntry> files = new ArrayList<>(m.files());
            for (FileEntry e : files) {
                Path f = bundleDir.resolve(e.name());
                TarArchiveEntry te = new TarArchiveEntry(f.toFile(), name + "/" + e.name());
                te.setMode(0100600);
                te.setUserId(0);
                te.setGroupId(0);
                te.setUserName("");
                te.setGroupName("");
                tar.putArchiveEntry(te);
                MessageDigest md = Sha256.newDigest();
                try (InputStream in = new DigestInputStream(Files.newInputStream(f, LinkOption.NOFOLLOW_LINKS), md)) {
                    long n = in.transferTo(tar);
                    if (n != e.size()) {
                        throw new IntegrityException(e.name(), "size changed since the bundle was sealed");
                    }
                }
                if (!Sha256.hex(md.digest()).equals(e.sha256())) {
                    throw new IntegrityException(e.name(), "SHA-256 changed since the bundle was sealed; not archiving it");
                }
                tar.closeArchiveEntry();
            }
            Path mf = bundleDir.resolve(Manifest.FILE_NAME);
            TarArchiveEntry me = new TarArchiveEntry(mf.toFile(), name + "/" + Manifest.FILE_NAME);
            me.setMode(0100600);
            me.setUserId(0);
            me.setGroupId(0);
            me.setUserName("");
            me.setGroupName("");
            tar.putArchiveEntry(me);
            Files.copy(mf, tar);
            tar.closeArchiveEntry();
            tar.finish();
            compressed.close(); // finishes the compressed stream; NonClosing flushes without closing the channel
            ch.force(true);
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(partial);
            }
        }
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
        BundleWriter.fsyncDirectory(parent);
        BundleWriter.deleteTree(bundleDir);
        BundleWriter.fsyncDirectory(parent);
        return target;
    }

    /** Flushes instead of closing, so the channel stays open for the final fsync. */
    private static final class NonClosing extends OutputStream {
        private final OutputStream out;

        NonClosing(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }

    /** Unwraps zstd, xz or gzip by their magic bytes; a plain tar passes through. */
    static InputStream decompressing(InputStream in) throws IOException {
        in.mark(8);
        byte[] head = in.readNBytes(6);
        in.reset();
        if (head.length >= 4 && (head[0] & 0xff) == 0x28 && (head[1] & 0xff) == 0xb5 && (head[2] & 0xff) == 0x2f
                && (head[3] & 0xff) == 0xfd) {
            return new ZstdCompressorInputStream(in);
        }
        if (head.length >= 6 && (head[0] & 0xff) == 0xfd && head[1] == '7' && head[2] == 'z' && head[3] == 'X'
                && head[4] == 'Z' && head[5] == 0) {
            return new XZCompressorInputStream(in);
        }
        if (head.length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
            return new GzipCompressorInputStream(in);
        }
        return in;
    }
}
