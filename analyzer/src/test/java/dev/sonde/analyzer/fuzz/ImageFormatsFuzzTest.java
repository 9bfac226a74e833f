package dev.sonde.analyzer.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.MemoryView.ReadRequest;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzz targets for the header parsers of every image format. Each target writes the input to a file and opens it with
 * the standard probes (in their fixed order, so any input can reach any parser; the targets differ by their seed
 * corpus), then reads a few pages of what opened. The only acceptable outcomes are success or a
 * {@link BadImageException} naming the file (on open, or wrapped in an {@link UncheckedIOException} on read): any other
 * exception, an {@link OutOfMemoryError} or a hang (see {@link Timeout}) is a finding.
 *
 * <p>In a normal {@code mvn test} run Jazzer runs these in regression mode only: each target on the empty input and on
 * its committed seeds and past findings in {@code src/test/resources/dev/sonde/analyzer/fuzz/ImageFormatsFuzzTestInputs/
 * <method>/} (seeds made by {@link SeedCorpusTest}; findings are added there by Jazzer). That takes a second or two.
 *
 * <p>Real fuzzing, one target per run (the generated corpus goes to {@code analyzer/.cifuzz-corpus/}, which must not
 * be committed; a finding is written to the inputs directory above, where it then becomes a regression test):
 *
 * <pre>
 *   JAZZER_FUZZ=1 mvn -pl analyzer test -Dtest='ImageFormatsFuzzTest#avml' -DargLine=-Xmx1g \
 *       -Djunit.jupiter.execution.timeout.mode=disabled -Djazzer.max_duration=2m
 * </pre>
 *
 * Targets: {@code elfCore}, {@code kdump}, {@code kdumpFlattened}, {@code saveImage}, {@code lime}, {@code avml}. A
 * small {@code -Xmx} makes absurd allocations show up as {@link OutOfMemoryError}s instead of swapping. The
 * {@link Timeout} of each target bounds one input in regression mode; when fuzzing, Jazzer passes it to libFuzzer as
 * its per-input {@code -timeout}, but JUnit would also apply it to the whole fuzzing run, hence
 * {@code timeout.mode=disabled} on the command line.
 */
class ImageFormatsFuzzTest {
    /** Compressed inputs are unwrapped into this directory, at most this many bytes each. */
    private static final long MAX_DECOMPRESSED = 16L << 20;
    private static final int PAGE = 4096;
    private static final int MAX_RANGES_READ = 8;

    private static Path work;
    private static Path file;
    private static Path cache;
    private static ImageOpener opener;

    private static synchronized void init() throws IOException {
        if (work == null) {
            work = Files.createTempDirectory("sonde-fuzz-");
            file = work.resolve("input.img");
            cache = work.resolve("decompressed");
            opener = ImageOpener.standard(cache, MAX_DECOMPRESSED);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(work)));
        }
    }

    @FuzzTest(maxDuration = "2m")
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void elfCore(byte[] input) throws IOException {
        openAndRead(input);
    }

    @FuzzTest(maxDuration = "2m")
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void kdump(byte[] input) throws IOException {
        openAndRead(input);
    }

    @FuzzTest(maxDuration = "2m")
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void kdumpFlattened(byte[] input) throws IOException {
        openAndRead(input);
    }

    @FuzzTest(maxDuration = "2m")
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void saveImage(byte[] input) throws IOException {
        openAndRead(input);
    }

    @FuzzTest(maxDuration = "2m")
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void lime(byte[] input) throws IOException {
        openAndRead(input);
    }

    @FuzzTest(maxDuration = "2m")
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void avml(byte[] input) throws IOException {
        openAndRead(input);
    }

    static void openAndRead(byte[] input) throws IOException {
        init();
        Files.write(file, input);
        try (MemoryImage img = opener.open(file)) {
            readSome(img.memory());
        } catch (BadImageException e) {
            checkNamesTheFile(e);
        } catch (UncheckedIOException e) {
            if (!(e.getCause() instanceof BadImageException bad)) {
                throw e;
            }
            checkNamesTheFile(bad);
        } finally {
            clearCache();
        }
    }

    /** A few pages of the first ranges: first, middle and last page, one batched read, and past the end. */
    static void readSome(PhysicalMemory m) {
        List<MemoryRange> ranges = m.ranges();
        byte[] buf = new byte[PAGE];
        List<ReadRequest> batch = new ArrayList<>();
        MemoryRange previous = null;
        for (int i = 0; i < ranges.size() && i < MAX_RANGES_READ; i++) {
            MemoryRange r = ranges.get(i);
            if (previous != null && r.start() < previous.end()) {
                throw new AssertionError("ranges() are not sorted and disjoint: " + previous + " then " + r);
            }
            previous = r;
            int n = m.read(r.start(), buf, 0, PAGE);
            if (n < 1 || n > PAGE || n < Math.min(PAGE, r.length())) {
                throw new AssertionError("ranges() says " + r + " is present but a read at its start returned " + n);
            }
            long last = Math.max(r.start(), r.end() - PAGE);
            n = m.read(last, buf, 0, PAGE);
            if (n < (int) Math.min(PAGE, r.end() - last)) {
                throw new AssertionError("ranges() says " + r + " is present but a read at 0x"
                        + Long.toHexString(last) + " returned " + n);
            }
            batch.add(ReadRequest.of(r.start() + r.length() / 2, PAGE));
            batch.add(ReadRequest.of(r.end(), 16));
        }
        int[] counts = m.readBatch(batch);
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] < 0 || counts[i] > batch.get(i).length()) {
                throw new AssertionError("batched read " + i + " returned " + counts[i]);
            }
        }
        m.read(m.maxAddress(), buf, 0, PAGE);
        m.read(-PAGE, buf, 0, PAGE);
        m.read(Long.MAX_VALUE - 1, buf, 0, PAGE);
    }

    private static void checkNamesTheFile(BadImageException e) {
        String msg = e.getMessage();
        if (msg == null || !(msg.startsWith(file.toString()) || msg.startsWith(cache.toString()))) {
            throw new AssertionError("a BadImageException must name the file: " + msg, e);
        }
    }

    private static void clearCache() throws IOException {
        if (Files.isDirectory(cache)) {
            try (Stream<Path> s = Files.list(cache)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort at exit
        }
    }
}
