package dev.sonde.analyzer.kernel.profile;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;

/** The committed tiny capture, opened once for the profile tests, and views of it with parts taken away. */
final class ProfileFixture {
    private static MemoryImage image;
    private static KernelProfile imageProfile;

    private ProfileFixture() {
    }

    static synchronized MemoryImage image() {
        if (image == null) {
            try {
                image = ImageOpener.standard().open(Fixtures.committedTinyImage());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return image;
    }

    /** The profile from the image's own BTF, kallsyms and VMCOREINFO (no ISF). */
    static synchronized KernelProfile imageProfile() {
        if (imageProfile == null) {
            imageProfile = KernelProfiles.build(image());
        }
        return imageProfile;
    }

    /** The same memory as a LiME capture would give it: no CPU state, no VMCOREINFO. */
    static MemoryImage bare(PhysicalMemory memory) {
        MemoryImage i = image();
        return new MemoryImage(i.file(), "test: " + i.format() + " without notes", memory, List.of(), Optional.empty(),
                List.of());
    }
}
