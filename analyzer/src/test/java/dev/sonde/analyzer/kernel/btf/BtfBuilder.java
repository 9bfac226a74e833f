package dev.sonde.analyzer.kernel.btf;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes BTF blobs for tests: add types in ID order (the first is ID 1), then {@link #build()}. */
final class BtfBuilder {
    private final ByteArrayOutputStream types = new ByteArrayOutputStream();
    private final ByteArrayOutputStream strings = new ByteArrayOutputStream();
    private final Map<String, Integer> stringOffsets = new LinkedHashMap<>();
    private int next = 1;

    BtfBuilder() {
        strings.write(0);
        stringOffsets.put("", 0);
    }

    int str(String s) {
        return stringOffsets.computeIfAbsent(s, k -> {
            int off = strings.size();
            strings.writeBytes(k.getBytes(StandardCharsets.UTF_8));
            strings.write(0);
            return off;
        });
    }

    private void u32(long v) {
        for (int i = 0; i < 4; i++) {
            types.write((int) (v >>> (8 * i)));
        }
    }

    private int head(String name, int kind, int vlen, boolean kindFlag, long sizeOrType) {
        u32(str(name));
        u32((long) kind << 24 | vlen | (kindFlag ? 1L << 31 : 0));
        u32(sizeOrType);
        return next++;
    }

    int integer(String name, int size, int encoding) {
        int id = head(name, Btf.KIND_INT, 0, false, size);
        u32((long) encoding << 24 | size * 8L);
        return id;
    }

    int ptr(int target) {
        return head("", Btf.KIND_PTR, 0, false, target);
    }

    int array(int element, int index, int count) {
        int id = head("", Btf.KIND_ARRAY, 0, false, 0);
        u32(element);
        u32(index);
        u32(count);
        return id;
    }

    /** members: {name, type, bitOffset, bitfieldSize} as Object[] rows. */
    int struct(String name, boolean union, int size, boolean kindFlag, Object[]... members) {
        int id = head(name, union ? Btf.KIND_UNION : Btf.KIND_STRUCT, members.length, kindFlag, size);
        for (Object[] m : members) {
            u32(str((String) m[0]));
            u32((Integer) m[1]);
            long bitOffset = (Integer) m[2];
            long bitSize = m.length > 3 ? (Integer) m[3] : 0;
            u32(kindFlag ? bitSize << 24 | bitOffset : bitOffset);
        }
        return id;
    }

    int enumeration(String name, int size, boolean signed, Object[]... values) {
        int id = head(name, Btf.KIND_ENUM, values.length, signed, size);
        for (Object[] v : values) {
            u32(str((String) v[0]));
            u32((Integer) v[1]);
        }
        return id;
    }

    int enum64(String name, boolean signed, Object[]... values) {
        int id = head(name, Btf.KIND_ENUM64, values.length, signed, 8);
        for (Object[] v : values) {
            u32(str((String) v[0]));
            long val = (Long) v[1];
            u32(val & 0xffffffffL);
            u32(val >>> 32);
        }
        return id;
    }

    int typedef(String name, int target) {
        return head(name, Btf.KIND_TYPEDEF, 0, false, target);
    }

    int modifier(int kind, int target) {
        return head("", kind, 0, false, target);
    }

    int fwd(String name, boolean union) {
        return head(name, Btf.KIND_FWD, 0, union, 0);
    }

    /** params: {name, type} rows. */
    int proto(int returns, Object[]... params) {
        int id = head("", Btf.KIND_FUNC_PROTO, params.length, false, returns);
        for (Object[] p : params) {
            u32(str((String) p[0]));
            u32((Integer) p[1]);
        }
        return id;
    }

    int func(String name, int proto) {
        return head(name, Btf.KIND_FUNC, 1, false, proto);
    }

    int var(String name, int type) {
        int id = head(name, Btf.KIND_VAR, 0, false, type);
        u32(1);
        return id;
    }

    int datasec(String name, int size, int... vars) {
        int id = head(name, Btf.KIND_DATASEC, vars.length, false, size);
        for (int v : vars) {
            u32(v);
            u32(0);
            u32(8);
        }
        return id;
    }

    byte[] build() {
        byte[] t = types.toByteArray();
        byte[] s = strings.toByteArray();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x9f);
        out.write(0xeb);
        out.write(1);
        out.write(0);
        long[] header = {24, 0, t.length, t.length, s.length};
        for (long h : header) {
            for (int i = 0; i < 4; i++) {
                out.write((int) (h >>> (8 * i)));
            }
        }
        out.writeBytes(t);
        out.writeBytes(s);
        return out.toByteArray();
    }
}
