package dev.sonde.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sonde.analyzer.image.CpuState;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.KernelIdentity;
import dev.sonde.analyzer.memory.MemoryRange;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code sonde info IMAGE}: what a memory image holds, read from the image itself. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print the format, memory ranges, CPU states and kernel identity (VMCOREINFO, banner) of a memory image.")
final class InfoCommand implements Callable<Integer> {

    enum Format { text, json }

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "Memory image (ELF core; compressed with gzip, xz, zstd or bzip2 is fine).")
    Path image;

    @Option(names = "--format", defaultValue = "text", description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Format format;

    @Option(names = "--raw", description = "Read IMAGE as raw physical memory (file offset = physical address).")
    boolean raw;

    @Override
    public Integer call() throws Exception {
        ImageOpener opener = ImageOpener.standard();
        try (MemoryImage img = raw ? opener.openRaw(image) : opener.open(image)) {
            KernelIdentity kernel = KernelIdentity.of(img);
            Map<String, Object> facts = facts(img, kernel);
            PrintWriter out = spec.commandLine().getOut();
            if (format == Format.json) {
                out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(facts));
            } else {
                printText(out, img, kernel);
            }
            out.flush();
        }
        return ExitCodes.OK;
    }

    private Map<String, Object> facts(MemoryImage img, KernelIdentity kernel) throws java.io.IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", img.file().toString());
        m.put("fileBytes", Files.size(img.file()));
        m.put("format", img.format());
        m.put("presentBytes", img.memory().presentBytes());
        List<Map<String, Object>> ranges = new ArrayList<>();
        for (MemoryRange r : img.memory().ranges()) {
            ranges.add(Map.of("start", hex(r.start()), "end", hex(r.end()), "bytes", r.length()));
        }
        m.put("ranges", ranges);
        List<Map<String, Object>> cpus = new ArrayList<>();
        for (CpuState c : img.cpus()) {
            Map<String, Object> cm = new LinkedHashMap<>();
            cm.put("index", c.index());
            cm.put("source", c.source());
            Map<String, String> regs = new LinkedHashMap<>();
            c.registers().forEach((k, v) -> regs.put(k, hex(v)));
            cm.put("registers", regs);
            cpus.add(cm);
        }
        m.put("cpus", cpus);
        Map<String, Object> k = new LinkedHashMap<>();
        kernel.release().ifPresent(v -> k.put("release", v));
        kernel.buildId().ifPresent(v -> k.put("buildId", v));
        kernel.kernelOffset().ifPresent(v -> k.put("kernelOffset", hex(v)));
        kernel.banner().ifPresent(b -> {
            k.put("banner", b.text());
            k.put("bannerPhysicalAddress", hex(b.physicalAddress()));
        });
        k.put("conflicts", kernel.conflicts());
        m.put("kernel", k);
        m.put("vmcoreinfo", img.vmcoreinfo().map(v -> (Object) v.entries()).orElse(null));
        m.put("warnings", img.warnings());
        return m;
    }

    private static void printText(PrintWriter out, MemoryImage img, KernelIdentity kernel) throws java.io.IOException {
        out.printf("file        %s (%s)%n", img.file(), bytes(Files.size(img.file())));
        out.printf("format      %s%n", img.format());
        List<MemoryRange> ranges = img.memory().ranges();
        out.printf("memory      %s present in %d range%s, highest address %s%n", bytes(img.memory().presentBytes()),
                ranges.size(), ranges.size() == 1 ? "" : "s", hex(img.memory().maxAddress()));
        for (MemoryRange r : ranges) {
            out.printf("  %s  %s%n", r, bytes(r.length()));
        }
        out.printf("cpus        %d%n", img.cpus().size());
        for (CpuState c : img.cpus()) {
            out.printf("  cpu%-3d cr3=%s rip=%s rsp=%s  (%s)%n", c.index(),
                    c.cr3().isPresent() ? hex(c.cr3().getAsLong()) : "n/a",
                    reg(c, "rip"), reg(c, "rsp"), c.source());
        }
        out.println("kernel");
        out.printf("  release       %s%n", kernel.release().orElse("not found (no VMCOREINFO OSRELEASE, no banner)"));
        out.printf("  build-id      %s%n", kernel.buildId().orElse("not available (no VMCOREINFO BUILD-ID)"));
        out.printf("  kaslr offset  %s%n", kernel.kernelOffset().isPresent() ? hex(kernel.kernelOffset().getAsLong())
                : "not available (no VMCOREINFO KERNELOFFSET)");
        out.printf("  banner        %s%n", kernel.banner().map(b -> b.text() + "  [phys " + hex(b.physicalAddress()) + "]")
                .orElse("not found"));
        for (String c : kernel.conflicts()) {
            out.printf("  CONFLICT      %s%n", c);
        }
        if (img.vmcoreinfo().isPresent()) {
            Map<String, String> entries = img.vmcoreinfo().get().entries();
            out.printf("vmcoreinfo  %d entries%n", entries.size());
            entries.forEach((key, value) -> out.printf("  %s=%s%n", key, value));
        } else {
            out.println("vmcoreinfo  not present in this image");
        }
        for (String w : img.warnings()) {
            out.printf("WARNING     %s%n", w);
        }
    }

    private static String reg(CpuState c, String name) {
        Long v = c.registers().get(name);
        return v == null ? "n/a" : hex(v);
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format("%.1f %s", v, units[u]);
    }
}
