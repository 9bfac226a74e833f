package dev.sonde.analyzer.kernel.isf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.FixtureIsf;
import dev.sonde.analyzer.kernel.profile.Field;
import dev.sonde.analyzer.kernel.profile.KernelSymbol;
import dev.sonde.analyzer.kernel.profile.TypeRef;
import dev.sonde.analyzer.kernel.profile.UserType;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The streaming ISF reader, its compressed forms, its errors and its caches. */
class IsfReaderTest {
    static final String SMALL = """
            {"metadata": {"format": "6.2.0", "producer": {"name": "dwarf2json", "version": "0.9.0"}, "linux": {}},
             "base_types": {"int": {"size": 4, "signed": true, "kind": "int", "endian": "little"},
                            "unsigned int": {"size": 4, "signed": false, "kind": "int", "endian": "little"},
                            "char": {"size": 1, "signed": true, "kind": "char", "endian": "little"},
                            "pointer": {"size": 8, "signed": false, "kind": "int", "endian": "little"}},
             "user_types": {
               "list_head": {"size": 16, "kind": "struct", "fields": {
                  "next": {"type": {"kind": "pointer", "subtype": {"kind": "struct", "name": "list_head"}}, "offset": 0},
                  "prev": {"offset": 8, "type": {"kind": "pointer", "subtype": {"kind": "struct", "name": "list_head"}}}}},
               "task_struct": {"kind": "struct", "size": 64, "fields": {
                  "flag": {"type": {"kind": "bitfield", "bit_position": 3, "bit_length": 2, "type": {"kind": "base", "name": "unsigned int"}}, "offset": 4},
                  "comm": {"type": {"kind": "array", "count": 16, "subtype": {"kind": "base", "name": "char"}}, "offset": 8},
                  "unnamed_field_0": {"type": {"kind": "union", "name": "u"}, "offset": 24, "anonymous": true},
                  "tasks": {"type": {"kind": "struct", "name": "list_head"}, "offset": 32},
                  "fn": {"type": {"kind": "pointer", "subtype": {"kind": "function"}}, "offset": 48},
                  "state": {"type": {"kind": "enum", "name": "task_state"}, "offset": 56},
                  "future": {"type": {"kind": "struct", "name": "x"}, "offset": 60, "extra": [1, {"a": 2}]}}},
               "u": {"kind": "union", "size": 8, "fields": {"a": {"type": {"kind": "base", "name": "int"}, "offset": 0}}}},
             "enums": {"task_state": {"size": 4, "base": "unsigned int", "constants": {"RUNNING": 0, "DEAD": 2147483648, "NEG": -1}}},
             "symbols": {
               "init_task": {"type": {"kind": "struct", "name": "task_struct"}, "address": 18446744071606217280},
               "runqueues": {"address": 203840},
               "linux_banner": {"address": 18446744071597070592, "constant_data": "TGludXggdmVyc2lvbiA2LjEuMAoA"}},
             "unknown_section": {"ignored": [1, 2, 3]}}
            """;

    @Test
    void readsEverySectionStreaming() throws IOException {
        IsfFile f = IsfReader.read(new ByteArrayInputStream(SMALL.getBytes(StandardCharsets.UTF_8)), "small.json");
        assertEquals("6.2.0", f.format());
        assertEquals("dwarf2json 0.9.0", f.producer());
        UserType task = f.typeTable().userType("task_struct").orElseThrow();
        assertEquals(64, task.size());
        assertEquals(TypeRef.bitfield(TypeRef.base("unsigned int"), 3, 2), task.fields().get("flag").type());
        assertEquals(new Field("unnamed_field_0", TypeRef.union("u"), 24, true), task.fields().get("unnamed_field_0"));
        assertEquals(24, f.typeTable().member("task_struct", "a").orElseThrow().offset());
        assertEquals(40, f.typeTable().member("task_struct", "tasks.prev").orElseThrow().offset());
        assertEquals(TypeRef.pointer(TypeRef.FUNCTION_TYPE), task.fields().get("fn").type());
        assertEquals(16, f.typeTable().sizeOf(task.fields().get("comm").type()).getAsLong());
        assertEquals(2147483648L, f.typeTable().enumType("task_state").orElseThrow().constants().get("DEAD"));
        assertEquals(-1L, f.typeTable().enumType("task_state").orElseThrow().constants().get("NEG"));
        KernelSymbol init = f.symbolTable().get("init_task").orElseThrow();
        assertEquals(0xffffffff82a1aa40L, init.address());
        assertEquals(TypeRef.struct("task_struct"), init.type());
        assertTrue(f.symbolTable().get("runqueues").orElseThrow().perCpu());
        assertEquals(Optional.of("Linux version 6.1.0"), f.banner());
        // Identical descriptors are one object.
        assertSame(f.typeTable().userType("list_head").get().fields().get("next").type(),
                f.typeTable().userType("list_head").get().fields().get("prev").type());
    }

    @Test
    void compressedFilesAreRecognisedByContent(@TempDir Path tmp) throws IOException {
        byte[] json = SMALL.getBytes(StandardCharsets.UTF_8);
        Path xz = tmp.resolve("a.json.xz");
        try (OutputStream o = new XZCompressorOutputStream(Files.newOutputStream(xz))) {
            o.write(json);
        }
        Path gz = tmp.resolve("b.json"); // misnamed on purpose: content decides
        try (OutputStream o = new GzipCompressorOutputStream(Files.newOutputStream(gz))) {
            o.write(json);
        }
        Path plain = tmp.resolve("c.json");
        Files.write(plain, json);
        for (Path p : new Path[] {xz, gz, plain}) {
            IsfFile f = IsfReader.read(p);
            assertEquals(3, f.symbolTable().size(), p.toString());
            assertEquals(3, f.typeTable().userTypes().size());
        }
    }

    @Test
    void malformedInputNamesTheFileAndPosition() {
        IsfFormatException e = assertThrows(IsfFormatException.class, () -> IsfReader.read(
                new ByteArrayInputStream("{\"user_types\": {\"a\": {\"size\": \"big\"}}}".getBytes(StandardCharsets.UTF_8)), "bad.json"));
        assertTrue(e.getMessage().startsWith("bad.json: user type a size is VALUE_STRING"), e.getMessage());
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
        IsfFormatException e2 = assertThrows(IsfFormatException.class, () -> IsfReader.read(
                new ByteArrayInputStream("{\"user_types\": {".getBytes(StandardCharsets.UTF_8)), "cut.json"));
        assertTrue(e2.getMessage().startsWith("cut.json: not a valid ISF"), e2.getMessage());
        IsfFormatException e3 = assertThrows(IsfFormatException.class, () -> IsfReader.read(
                new ByteArrayInputStream("{\"user_types\": {}}".getBytes(StandardCharsets.UTF_8)), "half.json"));
        assertTrue(e3.getMessage().contains("no symbols section"), e3.getMessage());
        StringBuilder deep = new StringBuilder("{\"user_types\": {\"a\": {\"fields\": {\"f\": {\"type\": ");
        deep.append("{\"kind\": \"pointer\", \"subtype\": ".repeat(100)).append("{}").append("}".repeat(100));
        deep.append("}}}}, \"symbols\": {}}");
        assertThrows(IsfFormatException.class, () -> IsfReader.read(
                new ByteArrayInputStream(deep.toString().getBytes(StandardCharsets.UTF_8)), "deep.json"));
    }

    @Test
    void theDiskCacheGivesBackTheSameTablesAndSurvivesCorruption(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("cache");
        IsfFile parsed = IsfReader.read(FixtureIsf.path());
        IsfFile first = new IsfCache(Optional.of(dir)).load(FixtureIsf.path());
        Path[] files = Files.list(dir).toArray(Path[]::new);
        assertEquals(1, files.length);
        IsfFile cached = new IsfCache(Optional.of(dir)).load(FixtureIsf.path());
        for (IsfFile f : new IsfFile[] {first, cached}) {
            assertEquals(parsed.typeTable().userTypes(), f.typeTable().userTypes());
            assertEquals(parsed.typeTable().enums(), f.typeTable().enums());
            assertEquals(parsed.typeTable().baseTypes(), f.typeTable().baseTypes());
            assertEquals(parsed.symbolTable().size(), f.symbolTable().size());
            assertEquals(parsed.banner(), f.banner());
            for (KernelSymbol s : parsed.symbolTable().all()) {
                KernelSymbol c = f.symbolTable().get(s.name()).orElseThrow();
                assertEquals(s.address(), c.address(), s.name());
                assertEquals(s.type(), c.type(), s.name());
            }
        }
        // A damaged cache file is ignored and rewritten.
        byte[] b = Files.readAllBytes(files[0]);
        Files.write(files[0], java.util.Arrays.copyOf(b, b.length / 2));
        IsfFile again = new IsfCache(Optional.of(dir)).load(FixtureIsf.path());
        assertEquals(parsed.symbolTable().size(), again.symbolTable().size());
        assertEquals(b.length, Files.size(files[0]));
        // The in-process cache hands back the same object.
        IsfCache c = new IsfCache(Optional.empty());
        assertSame(c.load(FixtureIsf.path()), c.load(FixtureIsf.path()));
    }
}
