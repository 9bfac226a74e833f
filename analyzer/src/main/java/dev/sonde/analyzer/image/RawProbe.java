package dev.sonde.analyzer.image;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * A raw physical memory dump: file offset equals physical address. It has no magic, so it is only used when the
 * user asks for it; guessing "raw" for an unknown file would silently give empty results.
 */
public final class RawProbe implements ImageProbe {

    @Override
    public String name() {
        return "raw";
    }

    @Override
    public Optional<MemoryImage> open(MappedFile file) throws IOException {
        if (file.length() == 0) {
            throw new BadImageException(file.path(), 0, "empty file");
        }
        SegmentedMemory memory = new SegmentedMemory(file, List.of(new FileSegment(0, 0, file.length())));
        return Optional.of(new MemoryImage(file.path(), "raw", memory, List.of(), Optional.empty(), List.of()));
    }
}
