package dev.sonde.cli.demo;

import java.nio.file.Path;
import java.util.Optional;

/**
 * How the demo runs.
 *
 * @param guest           which fixture guest to boot
 * @param out             the output directory (bundle store, knowledge base, fork work directory, JSON, HTML)
 * @param uri             the libvirt URI
 * @param fixtures        the checkout whose fixture scripts build the guest (located when empty)
 * @param runSeconds      how long the run-and-diff probe lets the clone run
 * @param cloneCpuPercent CPU the clone may use, in percent of one host CPU
 */
public record DemoOptions(GuestKind guest, Path out, String uri, Optional<Path> fixtures, int runSeconds,
        int cloneCpuPercent) {
}
