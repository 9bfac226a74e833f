package dev.sonde.analyzer.kernel.kallsyms;

import dev.sonde.analyzer.kernel.profile.KernelLayout;
import dev.sonde.analyzer.kernel.profile.PhysicalScan;
import dev.sonde.analyzer.kernel.Vmcoreinfo;
import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Finds and decodes the kernel's kallsyms tables in physical memory (the kernel image, where they live, is physically
 * contiguous), either from the VMCOREINFO {@code SYMBOL(kallsyms_*)} entries or by scanning.
 *
 * <p>The scan looks for {@code kallsyms_token_index}: 256 increasing 16-bit offsets starting at 0, 8-byte aligned,
 * right after {@code kallsyms_token_table}, 256 NUL-terminated strings at exactly those offsets. Going back from
 * the token table it then looks for {@code kallsyms_num_syms} followed by {@code kallsyms_names}: a count N such that
 * N length-prefixed names end right before {@code kallsyms_markers}, whose entries are the offsets of every 256th name,
 * and the markers end right before the token table (or before {@code kallsyms_seqs_of_names}, 3N bytes, which end
 * right before it). The addresses are then looked for where {@code scripts/kallsyms.c} put them:
 * <ul>
 * <li>up to Linux 6.3: before {@code kallsyms_num_syms} come {@code kallsyms_relative_base} and, before it, the
 * {@code kallsyms_offsets} (or, without CONFIG_KALLSYMS_BASE_RELATIVE, {@code kallsyms_addresses});
 * <li>from Linux 6.4 on (commit "scripts/kallsyms: change the output order"): the {@code kallsyms_offsets} (or
 * {@code kallsyms_addresses}) right after the token index, then {@code kallsyms_relative_base}, then
 * {@code kallsyms_seqs_of_names}.
 * </ul>
 * Every count and offset read is checked against the space it claims.
 */
public final class KallsymsReader {
    /** Refuse counts above this (a big distribution kernel has about 200,000 symbols). */
    static final int MAX_SYMBOLS = 4_000_000;
    /** How far before the token table {@code kallsyms_num_syms} may lie. */
    static final int MAX_NAMES_BYTES = 16 << 20;
    static final int TOKEN_INDEX_BYTES = 512;
    private static final String TYPE_LETTERS = "AaBbCcDdGgNnRrSsTtUuVvWw?-";

    private KallsymsReader() {
    }

    /** The decoded symbols of the tables found by {@link #scan} or {@link #fromVmcoreinfo}. */
    public static Kallsyms read(PhysicalMemory memory, KallsymsTables t) {
        byte[][] tokens = tokens(memory, t.tokenTable(), t.tokenIndex());
        long namesLength = t.markers() - t.names();
        if (namesLength <= 0 || namesLength > MAX_NAMES_BYTES) {
            throw new KallsymsFormatException(String.format("kallsyms_names at 0x%x: implausible length %d", t.names(), namesLength));
        }
        byte[] names = readExactly(memory, t.names(), (int) namesLength, "kallsyms_names");
        int n = t.numSyms();
        String[] out = new String[n];
        char[] types = new char[n];
        int pos = 0;
        byte[] sb = new byte[1024];
        for (int i = 0; i < n; i++) {
            if (pos >= names.length) {
                throw new KallsymsFormatException(String.format("kallsyms_names at 0x%x: symbol %d starts past the table", t.names(), i));
            }
            int len = names[pos++] & 0xff;
            if ((len & 0x80) != 0) {
                if (pos >= names.length) {
                    throw new KallsymsFormatException(String.format("kallsyms_names at 0x%x: truncated length of symbol %d", t.names(), i));
                }
                len = (len & 0x7f) | (names[pos++] & 0xff) << 7;
            }
            if (len == 0 || pos + len > names.length) {
                throw new KallsymsFormatException(String.format("kallsyms_names at 0x%x: symbol %d has a bad length %d at +%d",
                        t.names(), i, len, pos));
            }
            int m = 0;
            for (int k = 0; k < len; k++) {
                byte[] tok = tokens[names[pos + k] & 0xff];
                if (m + tok.length > sb.length) {
                    sb = java.util.Arrays.copyOf(sb, Math.max(sb.length * 2, m + tok.length));
                }
                System.arraycopy(tok, 0, sb, m, tok.length);
                m += tok.length;
            }
            pos += len;
            types[i] = m > 0 ? (char) (sb[0] & 0xff) : '?';
            out[i] = m > 1 ? new String(sb, 1, m - 1, StandardCharsets.ISO_8859_1) : "";
        }
        long[] addresses = addresses(memory, t);
        return new Kallsyms(t, out, types, addresses);
    }

    private static long[] addresses(PhysicalMemory memory, KallsymsTables t) {
        int n = t.numSyms();
        long[] a = new long[n];
        if (t.baseRelative()) {
            byte[] b = readExactly(memory, t.addresses(), 4 * n, "kallsyms_offsets");
            for (int i = 0; i < n; i++) {
                int off = (int) u32(b, 4 * i);
                a[i] = address(off, t.relativeBase(), t.absolutePercpu());
            }
        } else {
            byte[] b = readExactly(memory, t.addresses(), 8 * n, "kallsyms_addresses");
            for (int i = 0; i < n; i++) {
                a[i] = u64(b, 8 * i);
            }
        }
        return a;
    }

    static long address(int off, long base, boolean absolutePercpu) {
        if (!absolutePercpu) {
            return base + (off & 0xffff_ffffL);
        }
        return off >= 0 ? off : base - 1 - off;
    }

    /** The 256 tokens (their bytes, without the NUL). */
    static byte[][] tokens(PhysicalMemory memory, long tokenTable, long tokenIndex) {
        byte[] idx = readExactly(memory, tokenIndex, TOKEN_INDEX_BYTES, "kallsyms_token_index");
        if (u16(idx, 0) != 0 || !isTokenIndex(idx, 0)) {
            throw new KallsymsFormatException(String.format("kallsyms_token_index at 0x%x: not 256 increasing offsets "
                    + "starting at 0", tokenIndex));
        }
        int last = u16(idx, 255 * 2);
        byte[] table = readExactly(memory, tokenTable, last + 256, "kallsyms_token_table");
        byte[][] tokens = new byte[256][];
        for (int i = 0; i < 256; i++) {
            int s = u16(idx, 2 * i);
            int e = s;
            while (e < table.length && table[e] != 0) {
                e++;
            }
            if (e >= table.length) {
                throw new KallsymsFormatException(String.format("kallsyms_token_table at 0x%x: token %d is not terminated", tokenTable, i));
            }
            tokens[i] = java.util.Arrays.copyOfRange(table, s, e);
        }
        return tokens;
    }

    /**
     * The tables from the VMCOREINFO {@code SYMBOL(kallsyms_*)} entries (Linux 6.0 and later, and backports), the
     * virtual addresses mapped to physical ones with {@code physBase}.
     */
    public static Optional<KallsymsTables> fromVmcoreinfo(PhysicalMemory memory, Vmcoreinfo info, long physBase) {
        OptionalLong names = info.symbol("kallsyms_names");
        OptionalLong num = info.symbol("kallsyms_num_syms");
        OptionalLong tt = info.symbol("kallsyms_token_table");
        OptionalLong ti = info.symbol("kallsyms_token_index");
        OptionalLong offsets = info.symbol("kallsyms_offsets");
        OptionalLong rb = info.symbol("kallsyms_relative_base");
        OptionalLong addrs = info.symbol("kallsyms_addresses");
        if (names.isEmpty() || num.isEmpty() || tt.isEmpty() || ti.isEmpty() || (offsets.isEmpty() && addrs.isEmpty())) {
            return Optional.empty();
        }
        long namesP = phys(names.getAsLong(), physBase);
        long ttP = phys(tt.getAsLong(), physBase);
        long tiP = phys(ti.getAsLong(), physBase);
        long n = readExactlyU32(memory, phys(num.getAsLong(), physBase), "kallsyms_num_syms");
        if (n <= 0 || n > MAX_SYMBOLS) {
            throw new KallsymsFormatException(String.format("kallsyms_num_syms at 0x%x: implausible count %d",
                    phys(num.getAsLong(), physBase), n));
        }
        tokens(memory, ttP, tiP); // validates the token table
        Layout layout = namesLayout(memory, namesP, (int) n, ttP);
        if (layout == null) {
            throw new KallsymsFormatException(String.format("kallsyms_names at 0x%x (from VMCOREINFO) does not hold %d names "
                    + "followed by kallsyms_markers before kallsyms_token_table at 0x%x", namesP, n, ttP));
        }
        List<String> notes = new ArrayList<>(layout.notes);
        if (offsets.isPresent() && rb.isPresent()) {
            long base = readExactlyU64(memory, phys(rb.getAsLong(), physBase), "kallsyms_relative_base");
            long offP = phys(offsets.getAsLong(), physBase);
            boolean percpu = absolutePercpu(memory, offP, (int) n);
            return Optional.of(new KallsymsTables(offP, base, (int) n, namesP, layout.markers, layout.markerWidth, ttP, tiP,
                    true, percpu, layout.seqs, "VMCOREINFO SYMBOL(kallsyms_*)", notes));
        }
        return Optional.of(new KallsymsTables(phys(addrs.getAsLong(), physBase), 0, (int) n, namesP, layout.markers,
                layout.markerWidth, ttP, tiP, false, false, layout.seqs, "VMCOREINFO SYMBOL(kallsyms_*)", notes));
    }

    private static long phys(long virt, long physBase) {
        return virt - KernelLayout.START_KERNEL_MAP + physBase;
    }

    /** Scans {@code ranges} of physical memory for the kallsyms tables; the first complete set found wins. */
    public static Optional<KallsymsTables> scan(PhysicalMemory memory, List<MemoryRange> ranges, List<String> diagnostics) {
        List<Long> candidates = new ArrayList<>();
        PhysicalScan.scan(memory, ranges, TOKEN_INDEX_BYTES, (base, buf, length, limit) -> {
            int first = (int) ((8 - (base & 7)) & 7);
            for (int i = first; i < limit && i + TOKEN_INDEX_BYTES <= length; i += 8) {
                if (buf[i] != 0 || buf[i + 1] != 0) {
                    continue;
                }
                int a = u16(buf, i + 2);
                if (a < 2 || a > 256) {
                    continue;
                }
                if (isTokenIndex(buf, i)) {
                    candidates.add(base + i);
                    if (candidates.size() > 256) {
                        return false;
                    }
                }
            }
            return true;
        });
        for (long tokenIndex : candidates) {
            try {
                Optional<KallsymsTables> t = fromTokenIndex(memory, tokenIndex, diagnostics);
                if (t.isPresent()) {
                    return t;
                }
            } catch (KallsymsFormatException | dev.sonde.analyzer.memory.AbsentMemoryException e) {
                diagnostics.add(e.getMessage());
            }
        }
        if (candidates.isEmpty()) {
            diagnostics.add("no kallsyms_token_index (256 increasing offsets into a token table) found");
        }
        return Optional.empty();
    }

    static boolean isTokenIndex(byte[] b, int i) {
        int prev = 0;
        for (int k = 1; k < 256; k++) {
            int v = u16(b, i + 2 * k);
            int d = v - prev;
            if (d < 2 || d > 256) {
                return false;
            }
            prev = v;
        }
        return true;
    }

    private static Optional<KallsymsTables> fromTokenIndex(PhysicalMemory memory, long tokenIndex, List<String> diagnostics) {
        byte[] idx = readExactly(memory, tokenIndex, TOKEN_INDEX_BYTES, "kallsyms_token_index");
        int last = u16(idx, 510);
        int span = last + 256 + 8;
        if (tokenIndex < span) {
            return Optional.empty();
        }
        byte[] before = new byte[span];
        if (memory.read(tokenIndex - span, before, 0, span) != span) {
            return Optional.empty();
        }
        long tokenTable = -1;
        for (int len = 1; len < 256; len++) {
            int tableLen = last + len + 1;
            int padded = (tableLen + 7) & ~7;
            int t = span - padded; // table start within 'before'
            if (t < 0) {
                break;
            }
            if (before[t + tableLen - 1] != 0 || !allNonZero(before, t + last, len) || !allZero(before, t + tableLen, padded - tableLen)) {
                continue;
            }
            if (tokensMatch(before, t, idx)) {
                tokenTable = tokenIndex - padded;
                break;
            }
        }
        if (tokenTable < 0) {
            return Optional.empty();
        }
        return locateNames(memory, tokenTable, tokenIndex, diagnostics);
    }

    private static boolean tokensMatch(byte[] b, int t, byte[] idx) {
        for (int k = 0; k < 256; k++) {
            int s = t + u16(idx, 2 * k);
            int e = k < 255 ? t + u16(idx, 2 * k + 2) - 1 : -1;
            if (k < 255) {
                if (b[e] != 0 || !allPrintable(b, s, e - s)) {
                    return false;
                }
            }
        }
        return true;
    }

    private static Optional<KallsymsTables> locateNames(PhysicalMemory memory, long tokenTable, long tokenIndex,
                                                        List<String> diagnostics) {
        byte[][] tokens = tokens(memory, tokenTable, tokenIndex);
        long start = Math.max(0, tokenTable - MAX_NAMES_BYTES) & ~7L;
        // Only the contiguous present bytes right before the token table count.
        long from = tokenTable;
        while (from > start) {
            long step = Math.min(1 << 20, from - start);
            byte[] probe = new byte[(int) step];
            if (memory.read(from - step, probe, 0, probe.length) != probe.length) {
                break;
            }
            from -= step;
        }
        int len = (int) (tokenTable - from);
        byte[] region = new byte[len];
        if (len < 16 || memory.read(from, region, 0, len) != len) {
            return Optional.empty();
        }
        for (int s = len - 8; s >= 16; s -= 8) {
            if (u32(region, s - 4) != 0) {
                continue;
            }
            long n = u32(region, s - 8);
            if (n < 1 || n > MAX_SYMBOLS || 2 * n > len - s) {
                continue;
            }
            if (!plausibleFirstName(region, s, tokens)) {
                continue;
            }
            Layout layout = namesLayout(region, s, (int) n, len, from);
            if (layout == null || !layout.exact) {
                continue;
            }
            long names = from + s;
            List<String> notes = new ArrayList<>(layout.notes);
            // kallsyms_relative_base right before kallsyms_num_syms, kallsyms_offsets before it.
            if (s >= 16) {
                long base = u64(region, s - 16);
                long offsets = names - 16 - ((4L * n + 7) & ~7L);
                if (Long.compareUnsigned(base, KernelLayout.START_KERNEL_MAP) >= 0 && offsets >= 0) {
                    Optional<Boolean> percpu = checkOffsets(memory, offsets, (int) n, base);
                    if (percpu.isPresent()) {
                        return Optional.of(new KallsymsTables(offsets, base, (int) n, names, layout.markers,
                                layout.markerWidth, tokenTable, tokenIndex, true, percpu.get(), layout.seqs,
                                "scan of physical memory", notes));
                    }
                }
            }
            // Linux 6.4 and later: kallsyms_offsets right after kallsyms_token_index, kallsyms_relative_base after them.
            long after = (tokenIndex + TOKEN_INDEX_BYTES + 7) & ~7L;
            {
                long baseAt = after + ((4L * n + 7) & ~7L);
                byte[] b8 = new byte[8];
                if (memory.read(baseAt, b8, 0, 8) == 8) {
                    long base = u64(b8, 0);
                    if (Long.compareUnsigned(base, KernelLayout.START_KERNEL_MAP) >= 0) {
                        Optional<Boolean> percpu = checkOffsets(memory, after, (int) n, base);
                        if (percpu.isPresent()) {
                            List<String> newNotes = new ArrayList<>(notes);
                            newNotes.add("kallsyms_offsets and kallsyms_relative_base after kallsyms_token_index "
                                    + "(the table order of Linux 6.4 and later)");
                            if (!layout.seqs && seqsOfNames(memory, baseAt + 8, (int) n)) {
                                newNotes.add("kallsyms_seqs_of_names (" + 3L * n + " bytes) after kallsyms_relative_base");
                            }
                            return Optional.of(new KallsymsTables(after, base, (int) n, names, layout.markers,
                                    layout.markerWidth, tokenTable, tokenIndex, true, percpu.get(), layout.seqs,
                                    "scan of physical memory", newNotes));
                        }
                    }
                }
            }
            // Without CONFIG_KALLSYMS_BASE_RELATIVE: kallsyms_addresses right before kallsyms_num_syms (up to 6.3) ...
            long addrs = names - 8 - 8L * n;
            if (addrs >= 0 && checkAddresses(memory, addrs, (int) n)) {
                return Optional.of(new KallsymsTables(addrs, 0, (int) n, names, layout.markers, layout.markerWidth,
                        tokenTable, tokenIndex, false, false, layout.seqs, "scan of physical memory", notes));
            }
            // ... or right after kallsyms_token_index (6.4 to 6.10; 6.11 made base-relative offsets the only kind).
            if (checkAddresses(memory, after, (int) n)) {
                List<String> newNotes = new ArrayList<>(notes);
                newNotes.add("kallsyms_addresses after kallsyms_token_index (the table order of Linux 6.4 and later)");
                return Optional.of(new KallsymsTables(after, 0, (int) n, names, layout.markers, layout.markerWidth,
                        tokenTable, tokenIndex, false, false, layout.seqs, "scan of physical memory", newNotes));
            }
            diagnostics.add(String.format("kallsyms_names at 0x%x (%d symbols) found, but no kallsyms_offsets with "
                    + "kallsyms_relative_base or kallsyms_addresses before it or after kallsyms_token_index", names, n));
        }
        diagnostics.add(String.format("kallsyms_token_table at 0x%x found, but no kallsyms_num_syms/kallsyms_names/"
                + "kallsyms_markers before it", tokenTable));
        return Optional.empty();
    }

    private static boolean plausibleFirstName(byte[] region, int s, byte[][] tokens) {
        int l = region[s] & 0xff;
        if (l == 0 || (l & 0x80) != 0 || s + 1 + l > region.length) {
            return false;
        }
        byte[] first = tokens[region[s + 1] & 0xff];
        return first.length > 0 && TYPE_LETTERS.indexOf((char) first[0]) >= 0;
    }

    /**
     * @param exact whether the markers (or the {@code kallsyms_seqs_of_names} after them) end right before the token
     *              table, as {@code scripts/kallsyms.c} lays them out; the scan accepts only exact layouts
     */
    private record Layout(long markers, int markerWidth, boolean seqs, boolean exact, List<String> notes) {
    }

    private static Layout namesLayout(PhysicalMemory memory, long names, int n, long tokenTable) {
        long len = tokenTable - names;
        if (len <= 0 || len > MAX_NAMES_BYTES) {
            return null;
        }
        byte[] region = readExactly(memory, names, (int) len, "kallsyms_names");
        return namesLayout(region, 0, n, region.length, names);
    }

    /**
     * Walks n names from {@code s} in {@code region} (which ends at the token table) and checks the markers after
     * them; null when they do not fit.
     */
    private static Layout namesLayout(byte[] region, int s, int n, int end, long regionAddress) {
        int markerCount = (n + 255) / 256;
        long[] expected = new long[markerCount];
        int pos = s;
        for (int i = 0; i < n; i++) {
            if ((i & 255) == 0) {
                expected[i >>> 8] = pos - s;
            }
            if (pos >= end) {
                return null;
            }
            int l = region[pos++] & 0xff;
            if ((l & 0x80) != 0) {
                if (pos >= end) {
                    return null;
                }
                l = (l & 0x7f) | (region[pos++] & 0xff) << 7;
            }
            if (l == 0) {
                return null;
            }
            pos += l;
            if (pos > end) {
                return null;
            }
        }
        int markers = (pos + 7) & ~7;
        for (int width : new int[] {4, 8}) {
            int markersEnd = markers + width * markerCount;
            if (markersEnd > end) {
                continue;
            }
            boolean ok = true;
            for (int k = 0; k < markerCount && ok; k++) {
                long v = width == 4 ? u32(region, markers + 4 * k) : u64(region, markers + 8 * k);
                ok = v == expected[k];
            }
            if (!ok) {
                continue;
            }
            List<String> notes = new ArrayList<>();
            int gap = end - markersEnd;
            boolean seqs = false;
            boolean exact = gap < 8;
            if (gap >= 8) {
                long seqEnd = ((long) markersEnd + 3L * n + 7) & ~7L;
                if (seqEnd == end) {
                    seqs = true;
                    exact = true;
                    notes.add("kallsyms_seqs_of_names (" + 3L * n + " bytes) between the markers and the token table");
                } else {
                    notes.add(gap + " unexplained bytes between kallsyms_markers and kallsyms_token_table");
                }
            }
            return new Layout(regionAddress + markers, width, seqs, exact, notes);
        }
        return null;
    }

    /** Empty when the offsets do not decode to mostly ascending addresses; else whether absolute per-CPU is in effect. */
    private static Optional<Boolean> checkOffsets(PhysicalMemory memory, long offsets, int n, long base) {
        byte[] b = new byte[4 * n];
        if (memory.read(offsets, b, 0, b.length) != b.length) {
            return Optional.empty();
        }
        boolean negative = false;
        for (int i = 0; i < n; i++) {
            if ((int) u32(b, 4 * i) < 0) {
                negative = true;
                break;
            }
        }
        long prev = Long.MIN_VALUE;
        int descending = 0;
        for (int i = 0; i < n; i++) {
            long a = address((int) u32(b, 4 * i), base, negative);
            if (prev != Long.MIN_VALUE && Long.compareUnsigned(a, prev) < 0) {
                descending++;
            }
            prev = a;
        }
        return descending <= n / 100 ? Optional.of(negative) : Optional.empty();
    }

    /** Whether {@code n} 3-byte big-endian symbol indices below {@code n} start at {@code at} (sampled). */
    private static boolean seqsOfNames(PhysicalMemory memory, long at, int n) {
        int count = Math.min(n, 4096);
        byte[] b = new byte[3 * count];
        if (memory.read(at, b, 0, b.length) != b.length) {
            return false;
        }
        for (int i = 0; i < count; i++) {
            int v = (b[3 * i] & 0xff) << 16 | (b[3 * i + 1] & 0xff) << 8 | (b[3 * i + 2] & 0xff);
            if (v >= n) {
                return false;
            }
        }
        return true;
    }

    private static boolean checkAddresses(PhysicalMemory memory, long addrs, int n) {
        byte[] b = new byte[8 * n];
        if (memory.read(addrs, b, 0, b.length) != b.length) {
            return false;
        }
        int descending = 0;
        int kernel = 0;
        for (int i = 0; i < n; i++) {
            long a = u64(b, 8 * i);
            if (Long.compareUnsigned(a, KernelLayout.START_KERNEL_MAP) >= 0) {
                kernel++;
            }
            if (i > 0 && Long.compareUnsigned(a, u64(b, 8 * i - 8)) < 0) {
                descending++;
            }
        }
        return descending <= n / 100 && kernel >= n / 2;
    }

    static boolean absolutePercpu(PhysicalMemory memory, long offsets, int n) {
        byte[] b = readExactly(memory, offsets, 4 * n, "kallsyms_offsets");
        for (int i = 0; i < n; i++) {
            if ((int) u32(b, 4 * i) < 0) {
                return true;
            }
        }
        return false;
    }

    private static boolean allNonZero(byte[] b, int off, int len) {
        for (int i = 0; i < len; i++) {
            if (b[off + i] == 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean allZero(byte[] b, int off, int len) {
        for (int i = 0; i < len; i++) {
            if (b[off + i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean allPrintable(byte[] b, int off, int len) {
        if (len <= 0) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            int c = b[off + i] & 0xff;
            if (c < 0x20 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    static byte[] readExactly(PhysicalMemory memory, long address, int length, String what) {
        byte[] b = new byte[length];
        if (memory.read(address, b, 0, length) != length) {
            throw new KallsymsFormatException(String.format("%s at physical 0x%x: %d bytes not all present in %s",
                    what, address, length, memory.name()));
        }
        return b;
    }

    private static long readExactlyU32(PhysicalMemory memory, long address, String what) {
        return u32(readExactly(memory, address, 4, what), 0);
    }

    private static long readExactlyU64(PhysicalMemory memory, long address, String what) {
        return u64(readExactly(memory, address, 8, what), 0);
    }

    static int u16(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8;
    }

    static long u32(byte[] b, int off) {
        return (b[off] & 0xffL) | (b[off + 1] & 0xffL) << 8 | (b[off + 2] & 0xffL) << 16 | (b[off + 3] & 0xffL) << 24;
    }

    static long u64(byte[] b, int off) {
        return u32(b, off) | u32(b, off + 4) << 32;
    }
}
