package dev.sonde.cli;

import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.isf.IsfExporter;
import dev.sonde.analyzer.kernel.profile.KernelProfile;
import dev.sonde.analyzer.kernel.profile.KernelProfiles;
import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code sonde symbols}: kernel symbol tables. */
@Command(name = "symbols", mixinStandardHelpOptions = true,
        description = "Kernel symbol tables (Volatility ISF).",
        subcommands = {SymbolsCommand.Export.class, SymbolsCommand.Show.class})
final class SymbolsCommand {

    /** Options shared by the subcommands that build a kernel profile. */
    static final class ProfileArgs {
        @Option(names = "--symbols", paramLabel = "ISF",
                description = "A Volatility ISF (.json, .json.xz, .json.gz) of this exact kernel; by default Sonde uses the BTF and kallsyms in the image.")
        Path isf;

        @Option(names = "--no-vmcoreinfo", description = "Ignore the image's VMCOREINFO (find KASLR and the page tables by scanning).")
        boolean noVmcoreinfo;

        @Option(names = "--allow-conflicts", description = "Use the profile even when its sources disagree (the disagreements are still reported).")
        boolean allowConflicts;

        ProfileOptions options() {
            ProfileOptions o = ProfileOptions.defaults().withAllowConflicts(allowConflicts);
            if (isf != null) {
                o = o.withIsf(isf);
            }
            return noVmcoreinfo ? o.withoutVmcoreinfo() : o;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Write a Volatility 3 ISF (schema 6.2.0) built from the kernel's own BTF and kallsyms in IMAGE,"
                    + " so Volatility can analyze a kernel for which nobody has debug symbols. .xz and .gz outputs are compressed.")
    static final class Export implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "IMAGE", description = "Memory image.")
        Path image;

        @Option(names = {"-o", "--output"}, required = true, paramLabel = "ISF", description = "Output file, e.g. kernel.json.xz.")
        Path output;

        @Mixin
        ProfileArgs profile;

        @Override
        public Integer call() throws Exception {
            try (MemoryImage img = ImageOpener.standard().open(image)) {
                KernelProfile p = KernelProfiles.build(img, profile.options());
                IsfExporter.export(p, output);
                spec.commandLine().getErr().println("sonde: wrote " + output);
                spec.commandLine().getOut().println(output);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Describe the kernel profile Sonde builds for IMAGE: its sources, KASLR shifts, page tables and cross-checks.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "IMAGE", description = "Memory image.")
        Path image;

        @Mixin
        ProfileArgs profile;

        @Override
        public Integer call() throws Exception {
            try (MemoryImage img = ImageOpener.standard().open(image)) {
                spec.commandLine().getOut().print(KernelProfiles.build(img, profile.options()).describe());
            }
            return ExitCodes.OK;
        }
    }
}
