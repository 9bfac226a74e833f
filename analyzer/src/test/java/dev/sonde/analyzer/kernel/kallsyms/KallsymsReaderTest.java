package dev.sonde.analyzer.kernel.kallsyms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.kernel.profile.SymbolTable;
import dev.sonde.analyzer.memory.ByteArrayMemory;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** kallsyms tables written the way scripts/kallsyms.c lays them out, found by scanning and decoded. */
class KallsymsReaderTest {
    static final long BASE = 0xffffffff9a000000L;

    record Sym(String name, long address) {
    }

    /**
     * The table orders of scripts/kallsyms.c. Up to Linux 6.3: addresses (or offsets + relative base), num_syms,
     * names, markers, [seqs_of_names], token table, token index. {@code V64_*}, Linux 6.4 and later: num_syms, names,
     * markers, token table, token index, addresses (or offsets + relative base), seqs_of_names.
     */
    enum Layout {
        RELATIVE_PERCPU_SEQS, RELATIVE_PERCPU, RELATIVE_UNSIGNED, ABSOLUTE, V64_RELATIVE_PERCPU_SEQS, V64_RELATIVE_UNSIGNED_SEQS,
        V64_ABSOLUTE_SEQS;

        boolean after() {
            return name().startsWith("V64_");
        }

        boolean absolute() {
            return this == ABSOLUTE || this == V64_ABSOLUTE_SEQS;
        }

        boolean unsigned() {
            return this == RELATIVE_UNSIGNED || this == V64_RELATIVE_UNSIGNED_SEQS;
        }
    }

    static List<Sym> symbols() {
        List<Sym> s = new ArrayList<>();
        s.add(new Sym("Afixed_percpu_data", 0));
        s.add(new Sym("Acpu_tss_rw", 0x6000));
        for (int i = 0; i < 700; i++) {
            s.add(new Sym((i % 3 == 0 ? "T" : i % 3 == 1 ? "t" : "d") + (i % 2 == 0 ? "sys_" : "init_") + "thing_" + i,
                    BASE + 0x1000L * i));
        }
        s.add(new Sym("T" + "x".repeat(200), BASE + 0x1000L * 700)); // needs the two-byte length
        s.add(new Sym("D_end", BASE + 0x1000L * 701));
        return s;
    }

    static String token(int i) {
        if (i >= 0x20 && i < 0x7f) {
            return String.valueOf((char) i);
        }
        return switch (i) {
            case 0x80 -> "sys_";
            case 0x81 -> "init_";
            case 0x82 -> "thing_";
            default -> "q" + i;
        };
    }

    static byte[] encode(String name) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int p = 0;
        outer:
        while (p < name.length()) {
            for (int t = 0x80; t <= 0x82; t++) {
                if (name.startsWith(token(t), p)) {
                    out.write(t);
                    p += token(t).length();
                    continue outer;
                }
            }
            out.write(name.charAt(p++));
        }
        return out.toByteArray();
    }

    /** Writes the tables at {@code at} in {@code mem}; returns the token index's address. */
    static long write(byte[] mem, int at, List<Sym> syms, Layout layout) {
        Out o = new Out(mem, at);
        int n = syms.size();
        if (!layout.after()) {
            addresses(o, syms, layout);
        }
        o.u32(n);
        o.align();
        long names = o.pos;
        List<Long> markers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (i % 256 == 0) {
                markers.add(o.pos - names);
            }
            byte[] e = encode(syms.get(i).name());
            if (e.length >= 128) {
                o.u8(0x80 | (e.length & 0x7f));
                o.u8(e.length >>> 7);
            } else {
                o.u8(e.length);
            }
            o.bytes(e);
        }
        o.align();
        for (long m : markers) {
            o.u32(m);
        }
        o.align();
        if (layout == Layout.RELATIVE_PERCPU_SEQS) {
            seqs(o, n);
        }
        long table = o.pos;
        int[] index = new int[256];
        for (int i = 0; i < 256; i++) {
            index[i] = (int) (o.pos - table);
            o.bytes(token(i).getBytes(StandardCharsets.US_ASCII));
            o.u8(0);
        }
        o.align();
        long tokenIndex = o.pos;
        for (int i : index) {
            o.u8(i);
            o.u8(i >>> 8);
        }
        if (layout.after()) {
            o.align();
            addresses(o, syms, layout);
            seqs(o, n);
        }
        return tokenIndex;
    }

    private static void addresses(Out o, List<Sym> syms, Layout layout) {
        if (layout.absolute()) {
            for (Sym s : syms) {
                o.u64(s.address());
            }
            return;
        }
        for (Sym s : syms) {
            long off;
            if (layout.unsigned()) {
                off = s.address() - BASE;
            } else {
                off = s.address() < BASE ? s.address() : BASE - 1 - s.address();
            }
            o.u32(off);
        }
        o.align();
        o.u64(BASE);
    }

    /** kallsyms_seqs_of_names: 3-byte big-endian symbol indices (the order does not matter to the reader). */
    private static void seqs(Out o, int n) {
        for (int i = 0; i < n; i++) {
            o.u8(i >>> 16);
            o.u8(i >>> 8);
            o.u8(i);
        }
        o.align();
    }

    static final class Out {
        final byte[] mem;
        long pos;

        Out(byte[] mem, long pos) {
            this.mem = mem;
            this.pos = pos;
        }

        void u8(int v) {
            mem[(int) pos++] = (byte) v;
        }

        void u32(long v) {
            for (int i = 0; i < 4; i++) {
                u8((int) (v >>> (8 * i)));
            }
        }

        void u64(long v) {
            for (int i = 0; i < 8; i++) {
                u8((int) (v >>> (8 * i)));
            }
        }

        void bytes(byte[] b) {
            for (byte x : b) {
                u8(x);
            }
        }

        void align() {
            while ((pos & 7) != 0) {
                u8(0);
            }
        }
    }

    @Test
    void everyLayoutIsFoundAndDecoded() {
        for (Layout layout : Layout.values()) {
            byte[] mem = new byte[1 << 20];
            new Random(layout.ordinal()).nextBytes(mem); // surrounding noise
            List<Sym> syms = symbols();
            long tokenIndex = write(mem, 0x40008, syms, layout);
            ByteArrayMemory m = new ByteArrayMemory(mem);
            List<String> diagnostics = new ArrayList<>();
            KallsymsTables t = KallsymsReader.scan(m, m.ranges(), diagnostics)
                    .orElseThrow(() -> new AssertionError(layout + ": " + diagnostics));
            assertEquals(tokenIndex, t.tokenIndex(), layout.toString());
            assertEquals(syms.size(), t.numSyms());
            assertEquals(!layout.absolute(), t.baseRelative(), layout.toString());
            assertEquals(!layout.absolute() && !layout.unsigned(), t.absolutePercpu(), layout.toString());
            assertEquals(layout == Layout.RELATIVE_PERCPU_SEQS, t.seqsOfNames(), layout.toString());
            Kallsyms k = KallsymsReader.read(m, t);
            for (int i = 0; i < syms.size(); i++) {
                assertEquals(syms.get(i).name().substring(1), k.name(i), layout + " " + i);
                assertEquals(syms.get(i).name().charAt(0), k.type(i));
                assertEquals(Long.toHexString(syms.get(i).address()), Long.toHexString(k.address(i)), layout + " " + k.name(i));
            }
            SymbolTable table = k.toSymbolTable();
            assertTrue(table.relocated());
            assertEquals(BASE + 0x1000L * 701, table.get("_end").orElseThrow().address());
            assertTrue(table.get("fixed_percpu_data").orElseThrow().perCpu());
        }
    }

    @Test
    void noTablesMeansADiagnosticNotAnException() {
        byte[] mem = new byte[1 << 20];
        new Random(7).nextBytes(mem);
        ByteArrayMemory m = new ByteArrayMemory(mem);
        List<String> diagnostics = new ArrayList<>();
        assertEquals(Optional.empty(), KallsymsReader.scan(m, m.ranges(), diagnostics));
        assertFalse(diagnostics.isEmpty());
    }

    @Test
    void corruptedTablesAreRejectedOrDecodedWithoutRunningAway() {
        for (Layout layout : List.of(Layout.RELATIVE_PERCPU_SEQS, Layout.V64_RELATIVE_PERCPU_SEQS)) {
            byte[] clean = new byte[1 << 20];
            long tokenIndex = write(clean, 0x1000, symbols(), layout);
            long end = tokenIndex + 512 + (layout.after() ? 4L * symbols().size() + 16 : 0);
            Random r = new Random(3);
            int decoded = 0;
            for (int i = 0; i < 300; i++) {
                byte[] mem = clean.clone();
                for (int j = 0; j < 4; j++) {
                    mem[0x1000 + r.nextInt((int) (end - 0x1000))] = (byte) r.nextInt(256);
                }
                ByteArrayMemory m = new ByteArrayMemory(mem);
                try {
                    Optional<KallsymsTables> t = KallsymsReader.scan(m, m.ranges(), new ArrayList<>());
                    if (t.isPresent()) {
                        KallsymsReader.read(m, t.get());
                        decoded++;
                    }
                } catch (KallsymsFormatException expected) {
                    // fine
                }
            }
            assertTrue(decoded > 0, layout.toString());
            // A token index that is not increasing is refused.
            byte[] bad = clean.clone();
            bad[(int) tokenIndex + 20] = (byte) 0xff;
            bad[(int) tokenIndex + 21] = (byte) 0xff;
            ByteArrayMemory m = new ByteArrayMemory(bad);
            assertThrows(KallsymsFormatException.class, () -> KallsymsReader.tokens(m, tokenIndex - 2000, tokenIndex));
        }
    }

    @Test
    void namesWhoseMarkersDoNotEndAtTheTokenTableAreNotTaken() {
        // Linux 6.4+ order, but the addresses after the token index wiped: the names are found, the addresses are
        // not, and the scan must not settle for a shorter "names" table further back (bytes left over before the
        // token table are not a layout scripts/kallsyms.c writes).
        byte[] mem = new byte[1 << 20];
        long tokenIndex = write(mem, 0x1000, symbols(), Layout.V64_RELATIVE_PERCPU_SEQS);
        java.util.Arrays.fill(mem, (int) tokenIndex + 512, (int) tokenIndex + 512 + 4 * symbols().size() + 16, (byte) 0);
        ByteArrayMemory m = new ByteArrayMemory(mem);
        List<String> diagnostics = new ArrayList<>();
        assertEquals(Optional.empty(), KallsymsReader.scan(m, m.ranges(), diagnostics));
        assertTrue(diagnostics.stream().anyMatch(d -> d.contains("after kallsyms_token_index")), diagnostics.toString());
    }
}
