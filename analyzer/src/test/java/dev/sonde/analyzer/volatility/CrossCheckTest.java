package dev.sonde.analyzer.volatility;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.fixtures.GroundTruth;
import dev.sonde.analyzer.fixtures.VolatilityFixture;
import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.ImageAnalyzer;
import dev.sonde.analyzer.linux.Mapping;
import dev.sonde.analyzer.linux.OpenFile;
import dev.sonde.analyzer.linux.ProcessInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiPredicate;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Volatility 3 through the bridge (with the fixture kernel's dwarf2json ISF) and the native analyzer (no symbol file:
 * the kernel's own BTF and kallsyms) must report the same processes (pid, ppid, comm), the same memory mappings and
 * the same open files on every fixture image of the fixture kernel. Each disagreement must be one of the
 * {@link Difference}s named below, and on each the native side must agree with the ground truth the guest recorded.
 *
 * <p>Images: the committed tiny capture (always), and the cached captures of the tiny and debian guests when
 * {@code fixtures/*}{@code /capture.sh} has built them (skipped with the reason otherwise, as the other
 * capture tests do); the bridge itself is required in CI. Formats
 * Volatility cannot read are differences too: kdump (Volatility 3 has no kdump layer), and the libvirt save image
 * (see {@link #formatsVolatilityDoesNotRead}).
 */
class CrossCheckTest {

    /** A disagreement by design between Volatility and Sonde, and why. */
    record Difference(String name, String why, BiPredicate<String, String> explains) {
    }

    static final List<Difference> MAP_DIFFERENCES = List.of(
            new Difference("[vvar] named anonymous",
                    "Volatility names only [heap], [stack] and [vdso] among special mappings; /proc and Sonde name the"
                            + " vvar pages from the mapping's vm_special_mapping name",
                    (nat, vol) -> nat.endsWith(" [vvar]") && vol.equals(nat.substring(0, nat.length() - 6))),
            new Difference("unlinked file's path with a leading space",
                    "Volatility's d_path emulation prefixes the path of an unlinked file with a space before its"
                            + " \" (deleted)\" suffix; the kernel's d_path (and /proc) does not",
                    (nat, vol) -> nat.endsWith(" (deleted)") && vol.equals(leadingSpace(nat))),
            new Difference("[heap] split across VMAs named anonymous",
                    "Volatility names a VMA [heap] only when it holds the whole brk area (start_brk..brk); the kernel"
                            + " names every VMA that overlaps it, so a heap split in two VMAs is anonymous for Volatility",
                    (nat, vol) -> nat.endsWith(" [heap]") && vol.equals(nat.substring(0, nat.length() - 6))));
    static final List<Difference> FILE_DIFFERENCES = List.of(
            new Difference("unlinked file's path with a leading space", MAP_DIFFERENCES.get(1).why(),
                    (nat, vol) -> nat.endsWith(" (deleted)") && vol.equals(" " + nat)),
            new Difference("anonymous-inode files named by inode number",
                    "Volatility prints anon_inode:[INODE] (the shared anonymous inode's number) for eventpoll, signalfd,"
                            + " timerfd, inotify, bpf-prog ... files; the kernel's d_path prints the file's own name",
                    (nat, vol) -> nat.startsWith("anon_inode:") && vol.matches("anon_inode:\\[\\d+\\]")));

    /** A mapping's "END PERMS PGOFF INODE PATH" with a space before PATH. */
    private static String leadingSpace(String mapping) {
        String[] f = mapping.split(" ", 5);
        return f.length < 5 ? mapping : String.join(" ", f[0], f[1], f[2], f[3], " " + f[4]);
    }

    record Image(String name, Path file, Path groundTruth) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Image> images() {
        List<Image> l = new ArrayList<>();
        l.add(new Image("committed tiny ELF", Fixtures.committedTinyImage(), Fixtures.committedTinyGroundTruth()));
        for (String guest : List.of("tiny", "debian")) {
            Path dir = Fixtures.captureDir(guest);
            l.add(new Image("cached " + guest + " ELF", dir.resolve("memory.elf"), dir.resolve("groundtruth.jsonl")));
        }
        return l.stream();
    }

    /** Cached captures are built by the fixture scripts, not by the test run: skipped, with the reason, when absent. */
    static void requirePresent(Path file) {
        if (!Files.isRegularFile(file)) {
            String reason = file + " is absent: build it with fixtures/*/capture.sh";
            System.err.println("SKIPPED: " + reason);
            assumeTrue(false, reason);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void volatilityAndTheNativeAnalyzerAgree(Image image) throws Exception {
        requirePresent(image.file());
        VolatilityBridge bridge = VolatilityFixture.bridge();
        GroundTruth gt = GroundTruth.read(image.groundTruth());
        Path readable = VolatilityInput.readable(image.file());
        List<Path> isf = List.of(VolatilityFixture.isfDir());
        VolResult pslist = bridge.run(VolRequest.of("linux.pslist.PsList", readable, isf));
        VolResult maps = bridge.run(VolRequest.of("linux.proc.Maps", readable, isf));
        VolResult lsof = bridge.run(VolRequest.of("linux.lsof.Lsof", readable, isf));
        AnalysisResult nat = ImageAnalyzer.analyze(image.file(), ProfileOptions.defaults());

        // processes: pid -> "ppid comm"
        Map<String, String> vProc = new TreeMap<>();
        for (VolRow r : pslist.rows()) {
            vProc.put(key(r.get(pslist.column("PID"))), r.get(pslist.column("PPID")) + " " + r.get(pslist.column("COMM")));
        }
        Map<String, String> nProc = new TreeMap<>();
        Map<String, String> gProc = new TreeMap<>();
        for (ProcessInfo p : nat.processes().processes()) {
            nProc.put(key(p.pid()), p.ppid() + " " + p.comm());
        }
        for (GroundTruth.Process p : gt.processes()) {
            String comm = p.raw().path("task_comm").asText(p.comm());
            gProc.put(key(p.pid()), p.ppid() + " " + comm.substring(0, Math.min(15, comm.length())));
        }
        compare(image + " processes", nProc, vProc, gProc, List.of());

        // mappings of the processes whose maps the guest recorded: "pid start" -> "end rwx pgoff inode path"
        Set<Integer> withMaps = new TreeSet<>();
        gt.processes().stream().filter(p -> !p.maps().isEmpty()).forEach(p -> withMaps.add(p.pid()));
        Map<String, String> vMaps = new TreeMap<>();
        for (VolRow r : maps.rows()) {
            int pid = ((Long) r.get(maps.column("PID"))).intValue();
            if (withMaps.contains(pid)) {
                Object path = r.get(maps.column("File Path"));
                String p = path instanceof String s ? (s.equals("Anonymous Mapping") ? "" : s) : "<" + path + ">";
                vMaps.put(key(pid) + " " + hex(r.get(maps.column("Start"))), hex(r.get(maps.column("End"))) + " "
                        + rwx(String.valueOf(r.get(maps.column("Flags")))) + " " + hex(r.get(maps.column("PgOff"))) + " "
                        + r.get(maps.column("Inode")) + " " + p);
            }
        }
        Map<String, String> nMaps = new TreeMap<>();
        Map<String, String> gMaps = new TreeMap<>();
        for (ProcessInfo p : nat.processes().processes()) {
            if (withMaps.contains(p.pid())) {
                for (Mapping m : p.maps()) {
                    nMaps.put(key(p.pid()) + " " + hex(m.start()), hex(m.end()) + " " + rwx(m.perms()) + " "
                            + hex(m.offset()) + " " + m.inode() + " " + m.path().orElse(""));
                }
            }
        }
        for (GroundTruth.Process p : gt.processes()) {
            for (GroundTruth.Mapping m : p.maps()) {
                gMaps.put(key(p.pid()) + " " + hex(m.start()), hex(m.end()) + " " + rwx(m.perms()) + " "
                        + hex(m.offset()) + " " + m.inode() + " " + m.path());
            }
        }
        compare(image + " mappings", nMaps, vMaps, gMaps, MAP_DIFFERENCES);

        // open files of the processes whose descriptors the guest recorded: "pid fd" -> target
        Set<Integer> withFds = new TreeSet<>();
        gt.processes().stream().filter(p -> !p.fds().isEmpty()).forEach(p -> withFds.add(p.pid()));
        Map<String, String> vFiles = new TreeMap<>();
        for (VolRow r : lsof.rows()) {
            int pid = ((Long) r.get(lsof.column("PID"))).intValue();
            if (withFds.contains(pid)) {
                vFiles.put(key(pid) + " " + r.get(lsof.column("FD")), String.valueOf(r.get(lsof.column("Path"))));
            }
        }
        Map<String, String> nFiles = new TreeMap<>();
        Map<String, String> gFiles = new TreeMap<>();
        for (ProcessInfo p : nat.processes().processes()) {
            if (withFds.contains(p.pid())) {
                for (OpenFile f : p.files()) {
                    nFiles.put(key(p.pid()) + " " + f.fd(), f.target().orElse("<unreadable>"));
                }
            }
        }
        for (GroundTruth.Process p : gt.processes()) {
            for (GroundTruth.Fd f : p.fds()) {
                gFiles.put(key(p.pid()) + " " + f.fd(), f.target());
            }
        }
        compare(image + " open files", nFiles, vFiles, gFiles, FILE_DIFFERENCES);
    }

    /**
     * Every key of either side must be on both with the same value, unless a named difference explains the pair; on
     * every disagreement the native value must be the ground truth's (when the ground truth has the key).
     */
    static void compare(String what, Map<String, String> nat, Map<String, String> vol, Map<String, String> gt,
                        List<Difference> known) {
        Set<String> keys = new TreeSet<>(nat.keySet());
        keys.addAll(vol.keySet());
        List<String> unexplained = new ArrayList<>();
        List<String> nativeWrong = new ArrayList<>();
        Map<String, Integer> counts = new TreeMap<>();
        for (String k : keys) {
            String n = nat.get(k);
            String v = vol.get(k);
            if (Objects.equals(n, v)) {
                continue;
            }
            Optional<Difference> d = n == null || v == null ? Optional.empty()
                    : known.stream().filter(x -> x.explains().test(n, v)).findFirst();
            if (d.isEmpty()) {
                unexplained.add(k + ": sonde=" + n + " volatility=" + v + " truth=" + gt.get(k));
                continue;
            }
            counts.merge(d.get().name(), 1, Integer::sum);
            if (gt.containsKey(k) && !gt.get(k).equals(n)) {
                nativeWrong.add(k + ": sonde=" + n + " truth=" + gt.get(k) + " (" + d.get().name() + ")");
            }
        }
        System.err.printf("cross-check %s: %d sonde, %d volatility, %d agree; differences by design: %s%n", what,
                nat.size(), vol.size(), keys.size() - unexplained.size() - counts.values().stream().mapToInt(i -> i).sum(),
                counts);
        if (!unexplained.isEmpty() || !nativeWrong.isEmpty()) {
            fail(what + ": " + unexplained.size() + " unexplained disagreements " + unexplained.subList(0,
                    Math.min(30, unexplained.size())) + "; native not at the ground truth on " + nativeWrong);
        }
        assertTrue(nat.size() > 0, what + ": nothing compared");
    }

    /**
     * Formats Volatility 3 cannot read, with the reason, checked on the cached tiny capture: on each the bridge says
     * so, and the native analyzer lists the ground-truth processes from the same file.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("unreadable")
    void formatsVolatilityDoesNotRead(String format, String why) throws Exception {
        Path file = Fixtures.captureDir("tiny").resolve(format);
        requirePresent(file);
        VolatilityBridge bridge = VolatilityFixture.bridge();
        GroundTruth gt = GroundTruth.read(Fixtures.captureDir("tiny").resolve("groundtruth.jsonl"));
        Set<Integer> truth = new TreeSet<>();
        gt.processes().forEach(p -> truth.add(p.pid()));
        Set<Integer> nat = new TreeSet<>();
        ImageAnalyzer.analyze(file, ProfileOptions.defaults()).processes().processes().forEach(p -> nat.add(p.pid()));
        assertEquals(truth, nat, "native analyzer on " + format);
        VolRequest req = VolRequest.of("linux.pslist.PsList", file, List.of(VolatilityFixture.isfDir()));
        if (format.equals("memory.kdump")) {
            VolatilityPluginException e = assertThrows(VolatilityPluginException.class, () -> bridge.run(req));
            System.err.println("cross-check " + format + ": " + e.getMessage() + " — " + why);
            assertTrue(e.getMessage().contains("unsatisfied requirements"), e.getMessage());
        } else {
            VolResult r = bridge.run(req);
            System.err.println("cross-check " + format + ": Volatility lists " + r.rows().size() + " processes, the"
                    + " ground truth " + truth.size() + " — " + why);
            assertTrue(r.rows().size() < truth.size(), "Volatility now reads " + format + ": make it a cross-checked image");
        }
    }

    static Stream<org.junit.jupiter.params.provider.Arguments> unreadable() {
        return Stream.of(
                org.junit.jupiter.params.provider.Arguments.of("memory.kdump",
                        "Volatility 3 has no layer for kdump-compressed files (makedumpfile/virsh dump --format kdump-*)"),
                org.junit.jupiter.params.provider.Arguments.of("memory.save",
                        "Volatility 3's QEMU layer stacks on a libvirt save image but finds no process list in it"));
    }

    private static String key(Object pid) {
        return String.format("%7s", pid);
    }

    private static String hex(Object v) {
        return v instanceof Long l ? "0x" + Long.toHexString(l) : String.valueOf(v);
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    private static String rwx(String perms) {
        return perms.length() >= 3 ? perms.substring(0, 3) : perms;
    }
}
