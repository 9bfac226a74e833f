package dev.sonde.rollback;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The qemu-img operations a fork needs, on Sonde's own copies only (never on a bundle file). */
final class QemuImgTool {
    private QemuImgTool() {
    }

    /** An empty qcow2 overlay over {@code backing} (not opened: {@code -u}). */
    static void createOverlay(Path overlay, Path backing, String backingFormat, long size) throws IOException {
        run(List.of("qemu-img", "create", "-q", "-f", "qcow2", "-F", backingFormat, "-b", backing.toString(), "-u",
                overlay.toString(), Long.toString(size)));
        Files.setPosixFilePermissions(overlay, PosixFilePermissions.fromString("rw-r--r--"));
    }

    /** Points the copy {@code image}'s backing file at {@code backing} (header only: {@code rebase -u}). */
    static void rebaseUnsafe(Path image, Path backing, String backingFormat) throws IOException {
        run(List.of("qemu-img", "rebase", "-q", "-u", "-f", "qcow2", "-F", backingFormat, "-b", backing.toString(),
                image.toString()));
    }

    private static void run(List<String> cmd) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new ForkException(ForkException.Kind.ENVIRONMENT, "qemu-img is not installed (qemu-utils): " + e.getMessage(), e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new ForkException(ForkException.Kind.ENVIRONMENT, String.join(" ", cmd) + ": timed out");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (p.exitValue() != 0) {
            throw new ForkException(ForkException.Kind.ENVIRONMENT, String.join(" ", cmd) + " failed: " + out);
        }
    }
}
