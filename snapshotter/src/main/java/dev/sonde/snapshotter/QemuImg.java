package dev.sonde.snapshotter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The one qemu-img operation Sonde needs: an empty qcow2 overlay over an image, without opening that image. */
final class QemuImg {
    private static Boolean available;

    private QemuImg() {
    }

    static synchronized boolean available() {
        if (available == null) {
            try {
                Process p = new ProcessBuilder("qemu-img", "--version").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                available = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
            } catch (IOException e) {
                available = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                available = false;
            }
        }
        return available;
    }

    static void createOverlay(Path overlay, Path backing, String backingFormat, long capacity) throws IOException {
        List<String> cmd = List.of("qemu-img", "create", "-q", "-f", "qcow2", "-F", backingFormat, "-b",
                backing.toString(), "-u", overlay.toString(), Long.toString(capacity));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("qemu-img create " + overlay + " timed out");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (p.exitValue() != 0) {
            Files.deleteIfExists(overlay);
            throw new IOException("qemu-img create " + overlay + " failed: " + out);
        }
    }
}
