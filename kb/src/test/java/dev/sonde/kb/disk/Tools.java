package dev.sonde.kb.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** Runs the real tools (qemu-img, qemu-io, mkfs.ext4, e2fsck) that make the test images. */
final class Tools {
    private Tools() {
    }

    static String run(Path dir, String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(List.of(cmd)).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("E2FSPROGS_FAKE_TIME", "1700000000");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        if (!(cmd[0].equals("e2fsck") && rc <= 2)) {
            assertEquals(0, rc, String.join(" ", cmd) + ": " + out);
        }
        return out;
    }
}
