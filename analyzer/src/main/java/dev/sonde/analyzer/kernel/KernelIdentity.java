package dev.sonde.analyzer.kernel;

import dev.sonde.analyzer.image.MemoryImage;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Which kernel an image holds, from VMCOREINFO when present and from the version banner in memory.
 *
 * @param release      e.g. {@code 6.1.0-57-amd64}, from VMCOREINFO OSRELEASE, else from the banner
 * @param buildId      the kernel's GNU build-id from VMCOREINFO BUILD-ID
 * @param banner       the kernel's version banner found in physical memory
 * @param kernelOffset the KASLR virtual shift from VMCOREINFO KERNELOFFSET
 * @param conflicts    disagreements between the sources (the banner's release differing from OSRELEASE, ...)
 */
public record KernelIdentity(Optional<String> release, Optional<String> buildId, Optional<LinuxBanners.Banner> banner,
                             OptionalLong kernelOffset, List<String> conflicts) {

    public KernelIdentity {
        conflicts = List.copyOf(conflicts);
    }

    /** Identifies the kernel of an image: VMCOREINFO first, then a banner scan of physical memory. */
    public static KernelIdentity of(MemoryImage image) {
        Optional<Vmcoreinfo> info = image.vmcoreinfo();
        List<LinuxBanners.Banner> banners = LinuxBanners.scan(image.memory(), 16);
        Optional<LinuxBanners.Banner> banner = LinuxBanners.best(banners);
        Optional<String> osRelease = info.flatMap(Vmcoreinfo::osRelease);
        if (osRelease.isPresent()) {
            String rel = osRelease.get();
            banner = LinuxBanners.best(banners.stream().filter(b -> b.release().equals(rel)).toList())
                    .or(() -> LinuxBanners.best(banners));
        }
        List<String> conflicts = new java.util.ArrayList<>();
        if (osRelease.isPresent() && banner.isPresent() && !banner.get().release().equals(osRelease.get())) {
            conflicts.add("VMCOREINFO OSRELEASE " + osRelease.get() + " but the version banner says " + banner.get().release());
        }
        Optional<String> release = osRelease.or(() -> LinuxBanners.best(banners).map(LinuxBanners.Banner::release));
        return new KernelIdentity(release, info.flatMap(Vmcoreinfo::buildId), banner,
                info.map(Vmcoreinfo::kernelOffset).orElse(OptionalLong.empty()), conflicts);
    }
}
