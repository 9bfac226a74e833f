package dev.sonde.analyzer.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.Fixtures;
import dev.sonde.analyzer.image.ImageOpener;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.image.elf.ElfCoreBuilder;
import dev.sonde.analyzer.image.kdump.KdumpBuilder;
import dev.sonde.analyzer.image.kdump.KdumpHeader;
import dev.sonde.analyzer.image.lime.LimeBuilder;
import dev.sonde.analyzer.image.savefile.SaveImageBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed corpus of {@link ImageFormatsFuzzTest}: a few small valid images per format, made by the test builders.
 * The committed seeds must stay valid (each opens as its format) and small (under 64 KiB). To regenerate them after a
 * builder or format change:
 *
 * <pre>
 *   mvn -pl analyzer test -Dtest=SeedCorpusTest -Dsonde.fuzz.writeSeeds=true
 * </pre>
 */
class SeedCorpusTest {
    static final int MAX_SEED = 64 << 10;
    static final String RESOURCES = "analyzer/src/test/resources/dev/sonde/analyzer/fuzz/ImageFormatsFuzzTestInputs";

    /** Target method to (seed name to bytes). */
    static Map<String, Map<String, byte[]>> seeds() {
        Map<String, Map<String, byte[]>> all = new LinkedHashMap<>();
        String vmcoreinfo = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff82a12340\n";

        Map<String, byte[]> elf = new LinkedHashMap<>();
        elf.put("seed-qemu-notes", new ElfCoreBuilder().load(0, pattern(512, 1)).load(0x1000, pattern(256, 2))
                .prstatus(0xffffffff81000000L).qemuCpu(0xffffffff81000000L, 0x1234000).vmcoreinfo(vmcoreinfo).build());
        elf.put("seed-one-load", new ElfCoreBuilder().load(0x100000, pattern(4096, 3)).build());
        all.put("elfCore", elf);

        Map<String, byte[]> kdump = new LinkedHashMap<>();
        byte[] zlib = kdumpSample().build();
        kdump.put("seed-zlib", zlib);
        kdump.put("seed-snappy", new KdumpBuilder().maxMapnr(16).compression(KdumpHeader.COMPRESSED_SNAPPY)
                .page(0, pattern(4096, 4)).page(3, new byte[4096]).page(4, pattern(4096, 5)).build());
        kdump.put("seed-zstd-excluded", new KdumpBuilder().maxMapnr(8).compression(KdumpHeader.COMPRESSED_ZSTD)
                .page(1, pattern(4096, 6)).page(2, pattern(4096, 7)).excluded(2).cpu(0xffffffff81000000L, 0x5000)
                .build());
        all.put("kdump", kdump);

        Map<String, byte[]> flat = new LinkedHashMap<>();
        flat.put("seed-flattened-zlib", KdumpBuilder.flatten(zlib, 4096, 1));
        flat.put("seed-flattened-small-records", KdumpBuilder.flatten(new KdumpBuilder().maxMapnr(8)
                .page(0, pattern(4096, 8)).page(1, pattern(4096, 9)).build(), 1000, 2));
        all.put("kdumpFlattened", flat);

        Map<String, byte[]> save = new LinkedHashMap<>();
        save.put("seed-pc-ram", smallPadding(new SaveImageBuilder().block("pc.ram", 4 * 4096).block("vga.vram", 4096)
                .page("pc.ram", 0, pattern(4096, 10)).zero("pc.ram", 4096, 0).zero("pc.ram", 2 * 4096, 0x5a)
                .page("vga.vram", 0, pattern(4096, 11)).cookie("<cookie/>\n").build()));
        save.put("seed-q35-no-footers", smallPadding(new SaveImageBuilder().machine("pc-q35-7.2").footers(false)
                .block("pc.ram", 2 * 4096).page("pc.ram", 4096, pattern(4096, 12)).build()));
        all.put("saveImage", save);

        Map<String, byte[]> lime = new LinkedHashMap<>();
        lime.put("seed-three-ranges", LimeBuilder.bytes(b -> b.lime(0, pattern(256, 13)).lime(0x1000, pattern(4096, 14))
                .lime(0x9fc00, pattern(1024, 15))));
        lime.put("seed-one-range", LimeBuilder.bytes(b -> b.lime(0x100000, pattern(8192, 16))));
        all.put("lime", lime);

        Map<String, byte[]> avml = new LinkedHashMap<>();
        byte[] random = new byte[2048];
        new Random(17).nextBytes(random);
        avml.put("seed-compressed-and-stored", LimeBuilder.bytes(b -> b.avml(0, pattern(20000, 18)).avml(0x10000, random)));
        avml.put("seed-two-chunks", LimeBuilder.bytes(b -> b.avml(0x200000, pattern(70000, 19))));
        avml.put("seed-mixed-lime", LimeBuilder.bytes(b -> b.lime(0, pattern(512, 20)).avml(0x1000, pattern(4096, 21))));
        ByteArrayOutputStream skippable = new ByteArrayOutputStream();
        byte[] split = pattern(3000, 22);
        new LimeBuilder(skippable).frame(split, 0, 2000).chunk(0xfe, new byte[8]).chunk(0x99, new byte[2])
                .frame(split, 2000, 1000);
        avml.put("seed-skippable-chunks", LimeBuilder.bytes(b -> b.avmlStream(0x3000, 3000, skippable.toByteArray())));
        all.put("avml", avml);
        return all;
    }

    private static KdumpBuilder kdumpSample() {
        return new KdumpBuilder().maxMapnr(16).vmcoreinfo("OSRELEASE=6.1.0-test\nPAGESIZE=4096\n")
                .cpu(0xffffffff81000000L, 0x1234000)
                .page(0, pattern(4096, 23)).page(1, new byte[4096]).page(5, pattern(4096, 24));
    }

    /**
     * The same save image with 256 bytes of padding after the domain XML and cookie instead of libvirt's 64 KiB, so
     * the seed stays small (the reader takes data_len as it comes).
     */
    static byte[] smallPadding(byte[] image) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(image).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int header = 92;
        int dataLen = b.getInt(20);
        int cookieOffset = b.getInt(32);
        int used = cookieOffset;
        while (image[header + used] != 0) {
            used++;
        }
        used++;
        int newLen = used + 256;
        byte[] out = new byte[image.length - dataLen + newLen];
        System.arraycopy(image, 0, out, 0, header + used);
        System.arraycopy(image, header + dataLen, out, header + newLen, image.length - header - dataLen);
        java.nio.ByteBuffer.wrap(out).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(20, newLen);
        return out;
    }

    /** Compressible but not trivial bytes. */
    static byte[] pattern(int size, int seed) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) ((i % 97 == 0 ? i * 7 : i / 64) + seed);
        }
        return b;
    }

    private static final Map<String, String> EXPECTED_FORMAT = Map.of(
            "elfCore", "ELF64 core", "kdump", "kdump-compressed", "kdumpFlattened", "flattened kdump-compressed",
            "saveImage", "libvirt save image", "lime", "LiME", "avml", "AVML");

    @TempDir
    Path tmp;

    @Test
    void committedSeedsAreSmallAndOpenAsTheirFormat() throws IOException {
        Path root = Fixtures.repo().resolve(RESOURCES);
        ImageOpener opener = ImageOpener.standard(tmp.resolve("cache"), 1 << 24);
        for (String method : seeds().keySet()) {
            Path dir = root.resolve(method);
            assertTrue(Files.isDirectory(dir), "seed directory " + dir);
            List<Path> files;
            try (Stream<Path> s = Files.list(dir)) {
                files = s.filter(p -> p.getFileName().toString().startsWith("seed-")).sorted().toList();
            }
            assertFalse(files.isEmpty(), "no seeds in " + dir);
            for (Path f : files) {
                assertTrue(Files.size(f) < MAX_SEED, f + " is " + Files.size(f) + " bytes");
                try (MemoryImage img = opener.open(f)) {
                    assertTrue(img.format().startsWith(EXPECTED_FORMAT.get(method)), f + ": " + img.format());
                    assertFalse(img.memory().ranges().isEmpty(), f.toString());
                    ImageFormatsFuzzTest.readSome(img.memory());
                }
            }
        }
    }

    @Test
    void generatedSeedsAreSmall() {
        seeds().forEach((method, seeds) -> seeds.forEach((name, bytes) ->
                assertTrue(bytes.length < MAX_SEED, method + "/" + name + ": " + bytes.length)));
        assertEquals(EXPECTED_FORMAT.keySet(), seeds().keySet());
    }

    @Test
    @EnabledIfSystemProperty(named = "sonde.fuzz.writeSeeds", matches = "true")
    void writeSeeds() throws IOException {
        Path root = Fixtures.repo().resolve(RESOURCES);
        for (var method : seeds().entrySet()) {
            Path dir = root.resolve(method.getKey());
            Files.createDirectories(dir);
            for (var seed : method.getValue().entrySet()) {
                Files.write(dir.resolve(seed.getKey()), seed.getValue());
            }
        }
    }
}
