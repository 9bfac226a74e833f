package dev.sonde.kb.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sonde.kb.disk.BackingResolver;
import dev.sonde.kb.disk.DiskFormatException;
import dev.sonde.kb.disk.Qcow2Image;
import dev.sonde.kb.disk.RawImage;
import dev.sonde.kb.ext4.Ext4FileSystem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz targets for the disk readers a guest controls: qcow2 headers and tables, ext4 metadata. The only acceptable
 * outcomes are success or a {@link DiskFormatException} naming the file; any other exception, an
 * {@link OutOfMemoryError} or a hang is a finding. In a normal test run Jazzer runs the committed seeds
 * ({@code src/test/resources/dev/sonde/kb/fuzz/DiskFormatsFuzzTestInputs/<method>/}, small images made with qemu-img
 * and mkfs.ext4) in regression mode; real fuzzing:
 * {@code JAZZER_FUZZ=1 mvn -pl kb test -Dtest='DiskFormatsFuzzTest#ext4' -DargLine=-Xmx1g
 * -Djunit.jupiter.execution.timeout.mode=disabled -Djazzer.max_duration=2m}.
 */
class DiskFormatsFuzzTest {
    private static Path work;

    private static synchronized Path input(byte[] data) throws IOException {
        if (work == null) {
            work = Files.createTempDirectory("sonde-kb-fuzz-");
            work.toFile().deleteOnExit();
        }
        Path f = work.resolve("input.img");
        Files.write(f, data);
        f.toFile().deleteOnExit();
        return f;
    }

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void qcow2(byte[] data) throws IOException {
        Path f = input(data);
        // backing files may only be the input itself (a loop) or absent: nothing else on this machine is read
        BackingResolver confined = BackingResolver.confinedTo(f.getParent(), java.util.Map.of());
        try (Qcow2Image q = Qcow2Image.open(f, confined)) {
            long step = Math.max(512, q.size() / 16);
            for (long pos = 0; pos + 512 <= q.size() && pos < 64L * step; pos += step) {
                q.read(pos, 512);
            }
        } catch (DiskFormatException e) {
            requireNamed(e, f);
        }
    }

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void ext4(byte[] data) throws IOException {
        Path f = input(data);
        try (RawImage dev = new RawImage(f)) {
            Ext4FileSystem fs = Ext4FileSystem.open(dev);
            int[] budget = {2000};
            fs.walk((path, ino) -> {
                if (budget[0]-- <= 0) {
                    return;
                }
                if (ino.isRegular()) {
                    fs.readFile(ino, 1 << 16);
                } else if (ino.isSymlink()) {
                    fs.readLink(ino);
                }
            });
            fs.resolve("/a/b/../c", true);
        } catch (DiskFormatException e) {
            requireNamed(e, f);
        }
    }

    private static void requireNamed(DiskFormatException e, Path f) {
        if (!e.getMessage().contains(f.getFileName().toString())) {
            throw new AssertionError("error does not name the file: " + e.getMessage(), e);
        }
    }
}
