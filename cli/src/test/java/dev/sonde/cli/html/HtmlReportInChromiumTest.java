package dev.sonde.cli.html;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.fixtures.GroundTruth;
import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.analyzer.linux.ImageAnalyzer;
import dev.sonde.analyzer.report.ProcessTables;
import dev.sonde.analyzer.report.Report;
import dev.sonde.analyzer.report.html.CheckpointSection;
import dev.sonde.analyzer.report.html.HtmlReport;
import dev.sonde.analyzer.report.html.ReportContext;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTML report of the committed tiny capture, loaded in headless Chromium: no script error, no network request,
 * the key elements hold what the ground truth says, sorting and filtering work. Screenshots (viewport and whole
 * page) and the page itself are kept in {@code cli/target/report-artefacts/}.
 */
class HtmlReportInChromiumTest {
    private static final int WIDTH = 1400;
    private static final int HEIGHT = 1000;
    private static final Path ARTEFACTS = Fixtures.repo().resolve("cli/target/report-artefacts");

    private static HeadlessChromium chromium;
    private static GroundTruth truth;
    private static AnalysisResult result;
    private static Report report;

    @BeforeAll
    static void renderAndLoad() throws Exception {
        Path image = Fixtures.committedTinyImage();
        truth = GroundTruth.read(Fixtures.committedTinyGroundTruth());
        result = ImageAnalyzer.analyze(image, ProfileOptions.defaults());
        report = ProcessTables.of(result, new LinkedHashSet<>(ProcessTables.DEFAULT_VIEWS));
        ReportContext context = ReportContext.empty().withKernel(result.kernelRelease())
                .withCheckpoint(captureOf(image.getParent()));
        Files.createDirectories(ARTEFACTS);
        Path html = ARTEFACTS.resolve("report.html");
        try (Writer w = Files.newBufferedWriter(html, StandardCharsets.UTF_8)) {
            HtmlReport.render(report, context, w);
        }
        chromium = HeadlessChromium.start(WIDTH, HEIGHT);
        for (String domain : List.of("Runtime", "Log", "Page", "Network")) {
            chromium.send(domain + ".enable", Map.of());
        }
        chromium.send("Emulation.setDeviceMetricsOverride", Map.of("width", WIDTH, "height", HEIGHT,
                "deviceScaleFactor", 1, "mobile", false));
        chromium.send("Page.navigate", Map.of("url", html.toUri().toString()));
        chromium.awaitEvent(e -> e.path("method").asText().equals("Page.loadEventFired"), "load event");
        Files.write(ARTEFACTS.resolve("report.png"), chromium.screenshot(false));
        Files.write(ARTEFACTS.resolve("report-full.png"), chromium.screenshot(true));
    }

    /** The capture directory of the fixture as the checkpoint section: its files, re-hashed against SHA256SUMS. */
    private static CheckpointSection captureOf(Path dir) throws Exception {
        List<CheckpointSection.FileHash> files = new ArrayList<>();
        boolean verified = true;
        for (String line : Files.readAllLines(dir.resolve("SHA256SUMS"))) {
            String[] f = line.split("\\s+", 2);
            Path p = dir.resolve(f[1]);
            String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
            verified &= actual.equals(f[0]);
            files.add(new CheckpointSection.FileHash(f[1], Files.size(p), actual));
        }
        JsonNode capture = new ObjectMapper().readTree(dir.resolve("capture.json").toFile());
        List<ReportContext.Fact> facts = List.of(new ReportContext.Fact("Domain", capture.path("domain").asText()),
                new ReportContext.Fact("Hypervisor", capture.path("qemu_version").asText()));
        return new CheckpointSection(dir.toString(), Optional.empty(), Optional.of(verified), facts, files);
    }

    @AfterAll
    static void stop() throws Exception {
        if (chromium != null) {
            chromium.close();
        }
    }

    @Test
    void noScriptErrorAndNoNetworkRequest() throws Exception {
        assertEquals("1", chromium.eval("'1'").asText(), "the page answers");
        List<String> problems = new ArrayList<>();
        for (JsonNode e : chromium.events()) {
            String m = e.path("method").asText();
            JsonNode p = e.path("params");
            if (m.equals("Runtime.exceptionThrown")
                    || (m.equals("Runtime.consoleAPICalled") && Set.of("error", "assert").contains(p.path("type").asText()))
                    || (m.equals("Log.entryAdded") && p.path("entry").path("level").asText().equals("error"))
                    || m.equals("sonde.badMessage")) {
                problems.add(e.toString());
            }
            if (m.equals("Network.requestWillBeSent")) {
                String url = p.path("request").path("url").asText();
                if (!url.startsWith("file:") && !url.startsWith("data:") && !url.equals("about:blank")) {
                    problems.add("network request: " + url);
                }
            }
        }
        assertEquals(List.of(), problems);
        // One table per table of the report (the default views of sonde analyze), plus the checkpoint's files.
        assertEquals(String.valueOf(report.tables().size() + 1),
                chromium.eval("document.documentElement.getAttribute('data-sonde-ready')").asText(), "the script ran to its end");
        assertTrue(chromium.eval("document.getElementById('sonde-status').value").asText().startsWith("ready "));
    }

    @Test
    void summaryHeaderHasImageKernelVerdictAndCounts() throws Exception {
        String header = chromium.eval("document.querySelector('header').innerText").asText();
        assertTrue(header.contains("memory.elf.xz"), header);
        assertTrue(header.contains("6.1.0-57-amd64"), header);
        assertEquals("complete", chromium.eval("document.getElementById('verdict').textContent").asText());
        assertEquals(truth.processes().size(),
                chromium.eval("Number(document.querySelector('dd[data-count=processes]').textContent)").asInt());
        assertEquals(result.findings().size(),
                chromium.eval("Number(document.querySelector('dd[data-count=findings]').textContent)").asInt());
    }

    @Test
    void processTreePutsEveryProcessUnderItsParent() throws Exception {
        JsonNode nodes = chromium.eval("Array.from(document.querySelectorAll('ul.tree > li, ul.tree li')).map(li => {"
                + " const p = li.parentElement.closest('li');"
                + " return [Number(li.querySelector(':scope > details > summary > .pid').textContent),"
                + "         p ? Number(p.querySelector(':scope > details > summary > .pid').textContent) : 0]; })");
        Map<Integer, Integer> parentOf = new java.util.HashMap<>();
        nodes.forEach(n -> parentOf.put(n.get(0).asInt(), n.get(1).asInt()));
        assertEquals(truth.processes().stream().map(GroundTruth.Process::pid).collect(Collectors.toCollection(TreeSet::new)),
                new TreeSet<>(parentOf.keySet()));
        for (GroundTruth.Process p : truth.processes()) {
            assertEquals(p.ppid(), parentOf.get(p.pid()), "parent of pid " + p.pid());
        }
        assertTrue(chromium.eval("document.querySelectorAll('ul.tree details[open]').length > 0").asBoolean());
        chromium.eval("document.querySelector('button[data-tree=close]').click()");
        assertEquals(0, chromium.eval("document.querySelectorAll('ul.tree details[open]').length").asInt());
        chromium.eval("document.querySelector('button[data-tree=open]').click()");
        assertEquals(chromium.eval("document.querySelectorAll('ul.tree details:not(.leaf)').length").asInt(),
                chromium.eval("document.querySelectorAll('ul.tree details[open]').length").asInt());
    }

    @Test
    void findingsCarryTheirEvidenceAndSeverityColour() throws Exception {
        JsonNode rows = chromium.eval("Array.from(document.querySelectorAll('#findings-table tbody tr')).map(r =>"
                + " [r.className, r.cells[2].textContent, getComputedStyle(r.cells[0]).boxShadow,"
                + "  r.querySelectorAll('td .item').length, getComputedStyle(r).backgroundColor])");
        assertEquals(result.findings().size(), rows.size());
        Set<String> kinds = new TreeSet<>();
        for (JsonNode r : rows) {
            kinds.add(r.get(1).asText());
            assertTrue(r.get(0).asText().startsWith("sev-"), r.toString());
            assertTrue(r.get(2).asText().contains("inset"), "severity bar: " + r);
            if (r.get(0).asText().equals("sev-high")) {
                assertEquals("rgb(253, 236, 235)", r.get(4).asText(), "high findings stand out: " + r);
            }
            assertTrue(r.get(3).asInt() > 0, "evidence items: " + r);
        }
        assertTrue(kinds.contains("kernel-thread-impostor"), kinds.toString());
        assertEquals("sev-high", rows.get(0).get(0).asText(), "most severe first");
    }

    @Test
    void processTableSortsNumericallyAndFilters() throws Exception {
        String rows = "Array.from(document.querySelectorAll('#t-processes tbody tr')).filter(r => !r.hidden)";
        chromium.eval("document.querySelector('#t-processes th').click()");
        chromium.eval("document.querySelector('#t-processes th').click()"); // descending
        JsonNode pids = chromium.eval(rows + ".map(r => Number(r.cells[0].textContent))");
        List<Integer> want = truth.processes().stream().map(GroundTruth.Process::pid).sorted((a, b) -> b - a).toList();
        List<Integer> got = new ArrayList<>();
        pids.forEach(p -> got.add(p.asInt()));
        assertEquals(want, got);

        String comm = truth.userProcesses().get(truth.userProcesses().size() - 1).comm();
        chromium.eval("(() => { const f = document.querySelector('input.filter[data-for=t-processes]');"
                + " f.value = " + new ObjectMapper().writeValueAsString(comm) + "; f.dispatchEvent(new Event('input')); })()");
        JsonNode shown = chromium.eval(rows + ".map(r => r.textContent)");
        assertTrue(shown.size() >= 1 && shown.size() < truth.processes().size(), shown.toString());
        shown.forEach(t -> assertTrue(t.asText().toLowerCase().contains(comm.toLowerCase()), t.asText()));
        assertTrue(chromium.eval("document.getElementById('t-processes-shown').textContent").asText().contains(" of "));
        chromium.eval("(() => { const f = document.querySelector('input.filter[data-for=t-processes]');"
                + " f.value = ''; f.dispatchEvent(new Event('input')); })()");
        assertEquals(truth.processes().size(), chromium.eval(rows + ".length").asInt());

        chromium.eval("(() => { const s = document.querySelector('select.kind[data-for=t-files]');"
                + " s.value = 'socket'; s.dispatchEvent(new Event('change')); })()");
        JsonNode kinds = chromium.eval("Array.from(document.querySelectorAll('#t-files tbody tr')).filter(r => !r.hidden)"
                + ".map(r => r.getAttribute('data-kind'))");
        assertTrue(kinds.size() > 0);
        kinds.forEach(k -> assertEquals("socket", k.asText()));
    }

    @Test
    void checkpointSectionListsTheVerifiedFiles() throws Exception {
        assertEquals("every hash matches", chromium.eval("document.querySelector('#checkpoint .badge').textContent").asText());
        assertTrue(chromium.eval("document.querySelector('#checkpoint-files').innerText").asText().contains("memory.elf.xz"));
    }

    @Test
    void screenshotShowsThePage() throws Exception {
        BufferedImage png = ImageIO.read(new ByteArrayInputStream(Files.readAllBytes(ARTEFACTS.resolve("report.png"))));
        assertEquals(WIDTH, png.getWidth());
        assertEquals(HEIGHT, png.getHeight());
        // The header band is drawn in the report's accent colour (#24476b), not left blank.
        assertEquals(0x24476b, png.getRGB(5, 5) & 0xffffff);
        BufferedImage full = ImageIO.read(ARTEFACTS.resolve("report-full.png").toFile());
        assertTrue(full.getHeight() > HEIGHT, "the whole page is longer than the viewport");
    }
}
