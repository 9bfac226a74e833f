package dev.sonde.bench;

import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.isf.IsfCache;
import dev.sonde.analyzer.kernel.isf.IsfReader;
import dev.sonde.analyzer.kernel.profile.KernelProfiles;
import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import dev.sonde.analyzer.linux.ImageAnalyzer;
import dev.sonde.analyzer.volatility.VolRequest;
import dev.sonde.analyzer.volatility.VolResult;
import dev.sonde.analyzer.volatility.VolatilityBridge;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * In-process timings for bench/vol-bridge.sh and bench/profile.sh: the first (cold) and the following (warm) runs of
 * one step in one JVM, printed as one JSON object on stdout (milliseconds).
 *
 * <pre>
 * WarmTimings bridge  IMAGE ISF_DIR RUNS   Volatility linux.pslist through the bridge, then the native analyzer
 * WarmTimings profile IMAGE ISF RUNS       profile from BTF+kallsyms; ISF streaming parse; ISF from the binary cache
 * </pre>
 */
public final class WarmTimings {
    private WarmTimings() {
    }

    interface Step {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        Path image = Path.of(args[1]);
        Path symbols = Path.of(args[2]);
        int runs = Integer.parseInt(args[3]);
        StringBuilder json = new StringBuilder("{");
        if (args[0].equals("bridge")) {
            VolatilityBridge bridge = VolatilityBridge.get();
            long[] startup = new long[1];
            json.append(series("bridge_pslist", runs, () -> {
                VolResult r = bridge.run(VolRequest.of("linux.pslist.PsList", image, List.of(symbols)));
                if (r.timing().interpreterStart().toMillis() > 0) {
                    startup[0] = r.timing().interpreterStart().toMillis();
                }
            }));
            json.append(",\"interpreter_start\":").append(startup[0]).append(',');
            json.append(series("native_analyze", runs, () -> ImageAnalyzer.analyze(image, ProfileOptions.defaults())));
        } else {
            try (MemoryImage img = ImageOpener.standard().open(image)) {
                json.append(series("profile_btf_kallsyms", runs, () -> KernelProfiles.build(img, ProfileOptions.defaults())));
            }
            json.append(',').append(series("isf_streaming_parse", runs, () -> IsfReader.read(symbols)));
            Path cacheDir = Files.createTempDirectory("sonde-bench-isf");
            IsfCache cache = new IsfCache(Optional.of(cacheDir));
            cache.load(symbols); // writes the binary form
            json.append(',').append(series("isf_binary_cache", runs, () -> new IsfCache(Optional.of(cacheDir)).load(symbols)));
        }
        System.out.println(json.append('}'));
        System.exit(0);
    }

    /** "name": {"first": ms, "warm": [ms...]}. */
    private static String series(String name, int runs, Step step) throws Exception {
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            step.run();
            ms.add((System.nanoTime() - t0) / 1e6);
            System.err.printf("%s run %d: %.1f ms%n", name, i + 1, ms.get(i));
        }
        return "\"" + name + "\":{\"first\":" + ms.get(0) + ",\"warm\":" + ms.subList(1, ms.size()) + "}";
    }
}
