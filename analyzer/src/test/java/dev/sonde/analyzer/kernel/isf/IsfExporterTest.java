package dev.sonde.analyzer.kernel.isf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sonde.analyzer.fixtures.FixtureIsf;
import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.profile.KernelLayout;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelProfile;
import dev.sonde.analyzer.kernel.profile.KernelProfiles;
import dev.sonde.analyzer.kernel.profile.KernelSymbol;
import dev.sonde.analyzer.kernel.profile.ProcessLister;
import dev.sonde.analyzer.kernel.profile.ProfileOptions;
import dev.sonde.analyzer.kernel.profile.TypeRef;
import dev.sonde.analyzer.kernel.profile.UsedByAnalyzer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Iterator;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ISF written from a profile built from the image's own BTF and kallsyms: schema-shaped, with the banner constant,
 * link-time addresses that agree with dwarf2json's, and usable as {@code --symbols} for the same image.
 */
class IsfExporterTest {
    static MemoryImage image;
    static KernelProfile profile;

    @BeforeAll
    static void open() throws IOException {
        image = ImageOpener.standard().open(Fixtures.committedTinyImage());
        profile = KernelProfiles.build(image);
    }

    @AfterAll
    static void close() {
        image.close();
    }

    @Test
    void theExportIsSchemaShapedAndCarriesTheBanner() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        IsfExporter.export(profile, out);
        JsonNode root = new ObjectMapper().readTree(out.toByteArray());
        assertEquals(Set.of("metadata", "base_types", "user_types", "enums", "symbols"), names(root));
        assertTrue(Pattern.matches("^6\\.[0-9]+\\.[0-9]+$", root.path("metadata").path("format").asText()));
        assertEquals("sonde", root.path("metadata").path("producer").path("name").asText());
        for (Iterator<JsonNode> it = root.path("base_types").elements(); it.hasNext(); ) {
            JsonNode b = it.next();
            assertEquals(Set.of("size", "signed", "kind", "endian"), names(b));
            assertTrue(Set.of("void", "int", "float", "char", "bool").contains(b.path("kind").asText()));
        }
        for (Iterator<JsonNode> it = root.path("user_types").elements(); it.hasNext(); ) {
            JsonNode u = it.next();
            assertTrue(Set.of("struct", "union").contains(u.path("kind").asText()));
            for (Iterator<JsonNode> f = u.path("fields").elements(); f.hasNext(); ) {
                JsonNode field = f.next();
                assertTrue(field.has("offset") && field.has("type"));
                checkDescriptor(field.path("type"));
            }
        }
        for (Iterator<JsonNode> it = root.path("symbols").elements(); it.hasNext(); ) {
            JsonNode s = it.next();
            assertTrue(s.path("address").isNumber());
            if (s.has("type")) {
                checkDescriptor(s.path("type"));
            }
        }
        String banner = new String(Base64.getDecoder().decode(root.path("symbols").path("linux_banner")
                .path("constant_data").asText()), StandardCharsets.ISO_8859_1);
        assertEquals(profile.banner().orElseThrow() + "\n\0", banner);
        assertEquals("task_struct", root.path("symbols").path("init_task").path("type").path("name").asText());
        assertTrue(root.path("symbols").path("tk_core").path("type").path("name").asText().startsWith("unnamed_"));
    }

    private static void checkDescriptor(JsonNode t) {
        String kind = t.path("kind").asText();
        switch (kind) {
            case "base", "struct", "union", "enum" -> assertEquals(Set.of("kind", "name"), names(t), t.toString());
            case "pointer" -> {
                assertEquals(Set.of("kind", "subtype"), names(t));
                checkDescriptor(t.path("subtype"));
            }
            case "array" -> {
                assertEquals(Set.of("kind", "count", "subtype"), names(t));
                checkDescriptor(t.path("subtype"));
            }
            case "function" -> assertEquals(Set.of("kind"), names(t));
            case "bitfield" -> {
                assertEquals(Set.of("kind", "bit_position", "bit_length", "type"), names(t));
                assertTrue(Set.of("base", "enum").contains(t.path("type").path("kind").asText()), t.toString());
            }
            default -> throw new AssertionError("kind " + kind + " in " + t);
        }
    }

    private static Set<String> names(JsonNode n) {
        Set<String> s = new java.util.TreeSet<>();
        n.fieldNames().forEachRemaining(s::add);
        return s;
    }

    @Test
    void theExportReadsBackAsTheSameProfileAndMatchesDwarf2json(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("kernel.json.xz");
        IsfExporter.export(profile, file);
        IsfFile back = IsfReader.read(file);
        assertEquals(profile.types().userTypes(), back.typeTable().userTypes());
        assertEquals(profile.types().enums(), back.typeTable().enums());
        assertEquals(profile.banner(), back.banner());
        FixtureIsf dwarf = FixtureIsf.load();
        long shift = profile.layout().virtualShift();
        for (String name : UsedByAnalyzer.SYMBOLS) {
            KernelSymbol s = back.symbolTable().get(name).orElseThrow(() -> new AssertionError(name));
            assertEquals(Long.toHexString(dwarf.symbol(name)), Long.toHexString(s.address()), name);
            long running = Long.compareUnsigned(s.address(), KernelLayout.START_KERNEL_MAP) >= 0 ? s.address() + shift : s.address();
            assertEquals(profile.requireSymbol(name), running, name);
        }
        // Given back as --symbols, it works on the image it came from.
        KernelProfile again = KernelProfiles.build(image, ProfileOptions.defaults().withIsf(file));
        assertTrue(again.types().source().startsWith("ISF"));
        assertEquals(java.util.List.of(), again.conflicts());
        assertEquals(88, ProcessLister.list(new KernelMemory(again, image.memory())).items().size());
        // Per-CPU variables keep their BTF types.
        assertEquals(TypeRef.struct("rq"), back.symbolTable().get("runqueues").orElseThrow().type());
    }
}
