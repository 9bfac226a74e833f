package dev.sonde.snapshotter.bundle;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** SHA-256 helpers: every hash in a bundle is lower-case hex SHA-256, as {@code sha256sum} prints it. */
public final class Sha256 {
    static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

    private Sha256() {
    }

    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    public static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }

    public static String of(byte[] data) {
        return hex(newDigest().digest(data));
    }

    /** Hashes a whole file with one sequential read. */
    public static String of(Path file) throws IOException {
        MessageDigest md = newDigest();
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (ch.read(buf) >= 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
        }
        return hex(md.digest());
    }

    /** Hashes a stream to its end; returns the digest and counts the bytes. */
    public static Sized of(InputStream in) throws IOException {
        MessageDigest md = newDigest();
        byte[] buf = new byte[1 << 16];
        long n = 0;
        int r;
        while ((r = in.read(buf)) >= 0) {
            md.update(buf, 0, r);
            n += r;
        }
        return new Sized(n, hex(md.digest()));
    }

    public static boolean isHex(String s) {
        return s != null && HEX.matcher(s).matches();
    }

    /** A size and a SHA-256. */
    public record Sized(long size, String sha256) {
    }
}
