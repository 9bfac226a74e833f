package dev.sonde.analyzer.image;

import dev.sonde.analyzer.image.compressed.Compression;
import dev.sonde.analyzer.image.compressed.DecompressedCache;
import dev.sonde.analyzer.image.elf.ElfCoreProbe;
import dev.sonde.analyzer.image.kdump.KdumpProbe;
import dev.sonde.analyzer.image.lime.LimeProbe;
import dev.sonde.analyzer.image.savefile.SaveImageProbe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Opens a memory image by content: unwraps whole-file compression, then runs the format probes in a fixed order.
 * A file no probe recognises is an error, never a silent "raw" guess.
 */
public final class ImageOpener {
    private final List<ImageProbe> probes;
    private final DecompressedCache cache;

    public ImageOpener(List<ImageProbe> probes, DecompressedCache cache) {
        this.probes = List.copyOf(probes);
        this.cache = cache;
    }

    /** The probes Sonde knows, in their fixed order. */
    public static ImageOpener standard() {
        return new ImageOpener(standardProbes(new SaveImageProbe()), DecompressedCache.defaultCache());
    }

    /**
     * The standard probes, with decompressed copies kept in {@code cacheDirectory} and limited to {@code maxBytes}
     * each instead of the default cache (tests, fuzzing).
     */
    public static ImageOpener standard(Path cacheDirectory, long maxBytes) {
        return new ImageOpener(standardProbes(new SaveImageProbe(cacheDirectory, maxBytes)),
                new DecompressedCache(cacheDirectory, maxBytes));
    }

    private static List<ImageProbe> standardProbes(SaveImageProbe saveImage) {
        return List.of(new ElfCoreProbe(), new KdumpProbe(), saveImage, new LimeProbe());
    }

    /** Opens {@code file}, detecting its format. */
    public MemoryImage open(Path file) throws IOException {
        return open(file, probes);
    }

    /** Opens {@code file} as raw physical memory (file offset = physical address). */
    public MemoryImage openRaw(Path file) throws IOException {
        return open(file, List.of(new RawProbe()));
    }

    private MemoryImage open(Path file, List<ImageProbe> order) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw new BadImageException(file, "not a regular file");
        }
        byte[] head = head(file);
        Optional<Compression> compression = Compression.detect(head);
        if (compression.isPresent()) {
            Path plain = cache.decompressed(file, compression.get());
            try {
                return open(plain, order).wrapped(file, compression.get().label());
            } catch (BadImageException e) {
                // Name the user's file; the offset is one of the decompressed content.
                String where = e.offset() < 0 ? "" : String.format(" at offset 0x%x", e.offset());
                throw new BadImageException(file, "in its decompressed " + compression.get().label() + " content"
                        + where + " (copy: " + plain + "): " + e.problem());
            }
        }
        MappedFile mapped = MappedFile.open(file);
        try {
            for (ImageProbe probe : order) {
                Optional<MemoryImage> image = probe.open(mapped);
                if (image.isPresent()) {
                    return image.get();
                }
            }
        } catch (IOException | RuntimeException e) {
            mapped.close();
            throw e;
        }
        mapped.close();
        throw new BadImageException(file, 0, "unrecognised memory image format (first bytes "
                + HexFormat.ofDelimiter(" ").formatHex(head, 0, Math.min(head.length, 16)) + "); known formats: "
                + order.stream().map(ImageProbe::name).collect(Collectors.joining(", "))
                + "; a raw dump must be opened as raw explicitly");
    }

    private static byte[] head(Path file) throws IOException {
        try (var in = Files.newInputStream(file)) {
            return in.readNBytes(64);
        }
    }
}
