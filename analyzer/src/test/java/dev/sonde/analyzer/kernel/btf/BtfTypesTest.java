package dev.sonde.analyzer.kernel.btf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.kernel.profile.Field;
import dev.sonde.analyzer.kernel.profile.FunctionType;
import dev.sonde.analyzer.kernel.profile.TypeRef;
import dev.sonde.analyzer.kernel.profile.TypeTable;
import dev.sonde.analyzer.kernel.profile.UserType;
import dev.sonde.analyzer.memory.ByteArrayMemory;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** BTF parsing and its conversion to ISF-shaped types, on hand-made blobs, and robustness against garbage. */
class BtfTypesTest {

    /** A small kernel-like type graph covering every kind the conversion handles. */
    static byte[] sample() {
        BtfBuilder b = new BtfBuilder();
        int intT = b.integer("int", 4, Btf.INT_SIGNED);                       // 1
        int uint = b.integer("unsigned int", 4, 0);                            // 2
        int chr = b.integer("char", 1, Btf.INT_SIGNED);                        // 3
        int listHead = 4;
        int ptrList = 5;
        b.struct("list_head", false, 16, false, new Object[] {"next", ptrList, 0}, new Object[] {"prev", ptrList, 64}); // 4
        b.ptr(listHead);                                                       // 5
        int atomicAnon = b.struct("", false, 4, false, new Object[] {"counter", intT, 0});  // 6
        int atomicT = b.typedef("atomic_t", atomicAnon);                       // 7
        int pidT = b.typedef("pid_t", intT);                                   // 8
        int constChar = b.modifier(Btf.KIND_CONST, chr);                       // 9
        int comm = b.array(chr, intT, 16);                                     // 10
        int anonUnion = b.struct("", true, 8, false, new Object[] {"a", intT, 0}, new Object[] {"b", uint, 0}); // 11
        int state = b.enumeration("task_state", 4, false, new Object[] {"RUNNING", 0}, new Object[] {"DEAD", 0x80000000}); // 12
        int signedEnum = b.enumeration("small", 4, true, new Object[] {"MINUS", -1}); // 13
        int big = b.enum64("big", false, new Object[] {"HUGE", 0x1_0000_0000L});      // 14
        int fwd = b.fwd("opaque", false);                                      // 15
        int ptrFwd = b.ptr(fwd);                                               // 16
        int proto = b.proto(intT, new Object[] {"fd", intT}, new Object[] {"name", b.ptr(constChar)}, new Object[] {"", 0}); // 17, 18
        int funcPtr = b.ptr(proto);                                            // 19
        int task = b.struct("task", false, 64, true,
                new Object[] {"pid", pidT, 0},
                new Object[] {"flag", uint, 32 + 3, 2},
                new Object[] {"other", uint, 32 + 5, 20},
                new Object[] {"comm", comm, 64},
                new Object[] {"", anonUnion, 192},
                new Object[] {"count", atomicT, 256},
                new Object[] {"tasks", listHead, 320},
                new Object[] {"state", state, 448},
                new Object[] {"hidden", ptrFwd, 384},
                new Object[] {"fn", funcPtr, 256 + 32});                       // 20
        int func = b.func("do_thing", proto);                                  // 21
        int var = b.var("runqueues", task);                                    // 22
        b.datasec(".data..percpu", 64, var);                                   // 23
        int volatileList = b.modifier(Btf.KIND_VOLATILE, listHead);            // 24
        b.struct("holder", false, 16, false, new Object[] {"l", volatileList, 0}); // 25
        assertEquals(25, volatileList + 1);
        assertEquals(21, func);
        assertEquals(20, task);
        assertEquals(14, big);
        assertEquals(13, signedEnum);
        return b.build();
    }

    @Test
    void convertsEveryKindTheWayDwarf2jsonWould() {
        Btf btf = Btf.parse(sample());
        assertEquals(25, btf.count());
        TypeTable t = BtfTypes.toTypeTable(btf, "test");
        UserType task = t.userType("task").orElseThrow();
        assertEquals(64, task.size());
        Map<String, Field> f = task.fields();
        assertEquals(TypeRef.base("int"), f.get("pid").type(), "typedefs of base types resolve to the base type");
        assertEquals(new Field("flag", TypeRef.bitfield(TypeRef.base("unsigned int"), 3, 2), 4, false), f.get("flag"));
        assertEquals(new Field("other", TypeRef.bitfield(TypeRef.base("unsigned int"), 5, 20), 4, false), f.get("other"));
        assertEquals(TypeRef.array(16, TypeRef.base("char")), f.get("comm").type());
        assertEquals(8, f.get("comm").offset());
        Field anon = f.get("unnamed_field_0");
        assertTrue(anon.anonymous());
        assertEquals(TypeRef.union("unnamed_btf_11"), anon.type());
        assertEquals(TypeRef.struct("atomic_t"), f.get("count").type(), "a typedef of a struct names it");
        assertEquals(4, t.userType("atomic_t").orElseThrow().size());
        assertEquals(TypeRef.pointer(TypeRef.struct("opaque")), f.get("hidden").type());
        assertEquals(TypeRef.pointer(TypeRef.FUNCTION_TYPE), f.get("fn").type());
        assertEquals(TypeRef.enumeration("task_state"), f.get("state").type());
        assertEquals(TypeRef.pointer(TypeRef.struct("list_head")),
                t.userType("list_head").orElseThrow().fields().get("next").type());
        assertEquals(TypeRef.struct("list_head"), t.userType("holder").orElseThrow().fields().get("l").type(),
                "qualifiers resolve away");
        // Member look-up through the anonymous union and through nested structs.
        assertEquals(24, t.member("task", "b").orElseThrow().offset());
        assertEquals(48, t.member("task", "tasks.prev").orElseThrow().offset());
        assertEquals(16, t.sizeOf(f.get("comm").type()).getAsLong());
        // Enums: unsigned 32-bit, signed, 64-bit.
        assertEquals(0x80000000L, t.enumType("task_state").orElseThrow().constants().get("DEAD"));
        assertEquals("unsigned int", t.enumType("task_state").get().base());
        assertEquals(-1L, t.enumType("small").orElseThrow().constants().get("MINUS"));
        assertEquals("int", t.enumType("small").get().base());
        assertEquals(0x1_0000_0000L, t.enumType("big").orElseThrow().constants().get("HUGE"));
        // Functions and per-CPU variables.
        FunctionType fn = t.functions().get("do_thing");
        assertEquals(TypeRef.base("int"), fn.returns());
        assertEquals(List.of("fd", "name", "..."), fn.parameters().stream().map(FunctionType.Parameter::name).toList());
        assertEquals(TypeRef.pointer(TypeRef.base("char")), fn.parameters().get(1).type());
        assertEquals(TypeRef.struct("task"), t.variables().get("runqueues"));
        // Base types.
        assertEquals("char", t.baseTypes().get("char").kind());
        assertTrue(t.baseTypes().get("int").signed());
        assertEquals(8, t.baseTypes().get("pointer").size());
        assertTrue(t.isSigned(f.get("pid").type()));
    }

    @Test
    void oldStyleBitfieldsUseTheIntEncoding() {
        BtfBuilder b = new BtfBuilder();
        int u = b.integer("unsigned int", 4, 0);
        // INT with 3 bits at bit offset 2 (pre-kind_flag encoding): written by hand.
        int threeBits = b.integer("unsigned int", 4, 0); // placeholder, patched below
        b.struct("s", false, 4, false, new Object[] {"x", threeBits, 8});
        byte[] blob = b.build();
        // Patch type 2's encoding word: offset 2, 3 bits.
        int rec2 = 24 + 16;
        int enc = (2 << 16) | 3;
        for (int i = 0; i < 4; i++) {
            blob[rec2 + 12 + i] = (byte) (enc >>> (8 * i));
        }
        TypeTable t = BtfTypes.toTypeTable(Btf.parse(blob), "test");
        Field x = t.userType("s").orElseThrow().fields().get("x");
        assertEquals(1, x.offset());
        assertEquals(TypeRef.bitfield(TypeRef.base("unsigned int"), 2, 3), x.type());
        assertEquals(1, u);
    }

    @Test
    void malformedBlobsAreRejectedWithTheOffset() {
        byte[] ok = sample();
        assertThrows(BtfFormatException.class, () -> Btf.parse(new byte[10]));
        byte[] badMagic = ok.clone();
        badMagic[0] = 0;
        assertTrue(assertThrows(BtfFormatException.class, () -> Btf.parse(badMagic)).getMessage().contains("magic"));
        byte[] truncated = java.util.Arrays.copyOf(ok, ok.length - 40);
        assertThrows(BtfFormatException.class, () -> Btf.parse(truncated));
        byte[] badKind = ok.clone();
        badKind[24 + 7] = 0x1f; // type 1's kind
        assertTrue(assertThrows(BtfFormatException.class, () -> Btf.parse(badKind)).getMessage().contains("unknown kind"));
        byte[] badString = ok.clone();
        badString[24] = (byte) 0xff; // type 1's name offset
        badString[25] = (byte) 0xff;
        Btf parsed = Btf.parse(badString);
        assertThrows(BtfFormatException.class, () -> BtfTypes.toTypeTable(parsed, "test"));
    }

    @Test
    void randomCorruptionNeverThrowsAnythingButBtfFormatException() {
        byte[] ok = sample();
        Random r = new Random(42);
        for (int i = 0; i < 5000; i++) {
            byte[] b = ok.clone();
            int flips = 1 + r.nextInt(8);
            for (int j = 0; j < flips; j++) {
                b[24 + r.nextInt(b.length - 24)] = (byte) r.nextInt(256);
            }
            try {
                TypeTable t = BtfTypes.toTypeTable(Btf.parse(b), "fuzz");
                t.member("task", "b");
                t.userTypes().values().forEach(u -> u.fields().values().forEach(f -> t.sizeOf(f.type())));
            } catch (BtfFormatException expected) {
                // fine
            }
        }
    }

    @Test
    void theLocatorFindsAKernelBtfInPhysicalMemoryAndIgnoresOthers() {
        BtfBuilder b = new BtfBuilder();
        int intT = b.integer("int", 4, Btf.INT_SIGNED);
        for (int i = 0; i < 1100; i++) {
            b.struct(i == 0 ? "task_struct" : "s" + i, false, 4, false, new Object[] {"x", intT, 0});
        }
        byte[] kernel = b.build();
        byte[] module = sample(); // no task_struct: like a module's split BTF
        byte[] mem = new byte[4 << 20];
        System.arraycopy(module, 0, mem, 0x1003, module.length);
        System.arraycopy(kernel, 0, mem, 0x200001, kernel.length);
        List<BtfLocator.Found> found = BtfLocator.scan(new ByteArrayMemory(mem), new ByteArrayMemory(mem).ranges(), 4);
        assertEquals(1, found.size());
        assertEquals(0x200001, found.get(0).physicalAddress());
        assertTrue(BtfTypes.toTypeTable(found.get(0).btf(), "t").userType("task_struct").isPresent());
    }
}
