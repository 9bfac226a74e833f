package dev.sonde.analyzer.kernel.profile;

import java.nio.file.Path;
import java.util.Optional;

/**
 * How to build a {@link KernelProfile}.
 *
 * @param isf            a Volatility ISF file ({@code --symbols}); when given, its types and symbols are used first
 * @param useBtf         look for the kernel's BTF in the image
 * @param useKallsyms    look for the kernel's kallsyms in the image
 * @param useVmcoreinfo  use the image's VMCOREINFO note (KASLR, cross-checks, fallback offsets)
 * @param crossCheck     also read BTF and kallsyms when an ISF is given, and compare
 * @param allowConflicts record disagreements between sources instead of failing
 */
public record ProfileOptions(Optional<Path> isf, boolean useBtf, boolean useKallsyms, boolean useVmcoreinfo,
                             boolean crossCheck, boolean allowConflicts) {

    /** The image's own BTF, kallsyms and VMCOREINFO; no ISF. */
    public static ProfileOptions defaults() {
        return new ProfileOptions(Optional.empty(), true, true, true, true, false);
    }

    public ProfileOptions withIsf(Path file) {
        return new ProfileOptions(Optional.of(file), useBtf, useKallsyms, useVmcoreinfo, crossCheck, allowConflicts);
    }

    public ProfileOptions withoutVmcoreinfo() {
        return new ProfileOptions(isf, useBtf, useKallsyms, false, crossCheck, allowConflicts);
    }

    public ProfileOptions withoutBtf() {
        return new ProfileOptions(isf, false, useKallsyms, useVmcoreinfo, crossCheck, allowConflicts);
    }

    public ProfileOptions withoutKallsyms() {
        return new ProfileOptions(isf, useBtf, false, useVmcoreinfo, crossCheck, allowConflicts);
    }

    public ProfileOptions withCrossCheck(boolean on) {
        return new ProfileOptions(isf, useBtf, useKallsyms, useVmcoreinfo, on, allowConflicts);
    }

    public ProfileOptions withAllowConflicts(boolean on) {
        return new ProfileOptions(isf, useBtf, useKallsyms, useVmcoreinfo, crossCheck, on);
    }
}
