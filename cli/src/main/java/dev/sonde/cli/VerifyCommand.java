package dev.sonde.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sonde.snapshotter.bundle.BundleVerifier;
import dev.sonde.snapshotter.bundle.Sha256;
import dev.sonde.snapshotter.bundle.VerifyReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code sonde verify BUNDLE...}: recheck every hash of evidence bundles and their manifests. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Recheck an evidence bundle (directory or archive): the manifest is well formed, every file it "
                + "lists is there with its recorded size and SHA-256, nothing else is, and, inside a store, the manifest "
                + "hash is the one the store's hash-chained log recorded when the bundle was sealed.",
            "Exit 5 on any integrity failure, naming the file."})
final class VerifyCommand implements Callable<Integer> {
    enum Format { text, json }

    @Spec
    CommandSpec spec;

    @Parameters(index = "0..*", arity = "1..*", paramLabel = "BUNDLE", description = "Bundle directories or archives.")
    List<Path> bundles;

    @Option(names = "--manifest-sha256", paramLabel = "HEX",
            description = "The manifest hash 'sonde snapshot' printed: the bundle must have exactly this manifest.")
    String expected;

    @Option(names = "--format", defaultValue = "text", description = "Output format: ${COMPLETION-CANDIDATES}.")
    Format format;

    @Override
    public Integer call() throws Exception {
        if (expected != null && !Sha256.isHex(expected.toLowerCase())) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--manifest-sha256: 64 hex digits expected");
        }
        if (expected != null && bundles.size() > 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--manifest-sha256 applies to one bundle");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean failed = false;
        List<Map<String, Object>> json = new ArrayList<>();
        for (Path b : bundles) {
            VerifyReport r = BundleVerifier.verify(b, Optional.ofNullable(expected).map(String::toLowerCase));
            failed |= !r.ok();
            if (format == Format.json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("bundle", b.toString());
                m.put("ok", r.ok());
                m.put("manifestSha256", r.manifestSha256());
                m.put("filesChecked", r.filesChecked());
                m.put("bytesChecked", r.bytesChecked());
                m.put("problems", r.problems().stream().map(p -> Map.of("file", p.file(), "message", p.message())).toList());
                m.put("notes", r.notes());
                json.add(m);
                continue;
            }
            if (r.ok()) {
                out.printf("OK      %s  (%d files, %s, manifest sha256 %s)%n", b, r.filesChecked(),
                        InfoCommand.bytes(r.bytesChecked()), r.manifestSha256());
            } else {
                out.printf("FAILED  %s%n", b);
                for (VerifyReport.Problem p : r.problems()) {
                    out.printf("  %s: %s%n", p.file(), p.message());
                    err.printf("sonde: %s: integrity failure: %s: %s%n", b, p.file(), p.message());
                }
            }
            for (String n : r.notes()) {
                out.printf("  note: %s%n", n);
            }
        }
        if (format == Format.json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(json.size() == 1 ? json.get(0) : json));
        }
        out.flush();
        err.flush();
        return failed ? ExitCodes.INTEGRITY : ExitCodes.OK;
    }
}
