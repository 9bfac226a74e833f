package dev.sonde.analyzer.image;

import java.io.IOException;
import java.util.Optional;

/**
 * Recognises one image format by content and opens it. Probes run in a fixed order; each must answer
 * "not mine" cheaply (empty) when the magic does not match, and throw {@link BadImageException} when the
 * magic matches but the content is malformed.
 */
public interface ImageProbe {

    /** A short name of the format, e.g. {@code "elf"}. */
    String name();

    Optional<MemoryImage> open(MappedFile file) throws IOException;
}
