package dev.sonde.analyzer.kernel.isf;

import dev.sonde.analyzer.kernel.profile.BaseType;
import dev.sonde.analyzer.kernel.profile.EnumType;
import dev.sonde.analyzer.kernel.profile.Field;
import dev.sonde.analyzer.kernel.profile.KernelSymbol;
import dev.sonde.analyzer.kernel.profile.SymbolTable;
import dev.sonde.analyzer.kernel.profile.TypeRef;
import dev.sonde.analyzer.kernel.profile.TypeTable;
import dev.sonde.analyzer.kernel.profile.UserType;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A compact binary form of a loaded ISF, for the on-disk cache: strings and type descriptors are written once each and
 * referred to by index. Reading it back is several times faster than decompressing and parsing the JSON.
 */
final class IsfBinary {
    static final long MAGIC = 0x534f4e4445495346L; // "SONDEISF"
    static final int VERSION = 1;
    private static final int MAX_COUNT = 10_000_000;

    private IsfBinary() {
    }

    static void write(IsfFile f, DataOutputStream out) throws IOException {
        Map<String, Integer> strings = new LinkedHashMap<>();
        Map<TypeRef, Integer> refs = new LinkedHashMap<>();
        TypeTable t = f.typeTable();
        // Collect.
        str(strings, f.description());
        str(strings, f.format());
        str(strings, f.producer());
        for (BaseType b : t.baseTypes().values()) {
            str(strings, b.name());
            str(strings, b.kind());
        }
        for (UserType u : t.userTypes().values()) {
            str(strings, u.name());
            for (Field fl : u.fields().values()) {
                str(strings, fl.name());
                ref(refs, strings, fl.type());
            }
        }
        for (EnumType e : t.enums().values()) {
            str(strings, e.name());
            str(strings, e.base());
            e.constants().keySet().forEach(c -> str(strings, c));
        }
        for (KernelSymbol s : f.symbolTable().all()) {
            str(strings, s.name());
            if (s.type() != null) {
                ref(refs, strings, s.type());
            }
        }
        out.writeLong(MAGIC);
        out.writeInt(VERSION);
        out.writeInt(strings.size());
        for (String s : strings.keySet()) {
            out.writeUTF(s);
        }
        out.writeInt(refs.size());
        for (TypeRef r : refs.keySet()) {
            out.writeByte(r.kind().ordinal());
            out.writeInt(r.name() == null ? -1 : strings.get(r.name()));
            out.writeInt(r.subtype() == null ? -1 : refs.get(r.subtype()));
            out.writeLong(r.count());
            out.writeInt(r.bitPosition());
            out.writeInt(r.bitLength());
        }
        out.writeInt(strings.get(f.description()));
        out.writeInt(strings.get(f.format()));
        out.writeInt(strings.get(f.producer()));
        out.writeInt(t.baseTypes().size());
        for (BaseType b : t.baseTypes().values()) {
            out.writeInt(strings.get(b.name()));
            out.writeLong(b.size());
            out.writeBoolean(b.signed());
            out.writeInt(strings.get(b.kind()));
        }
        out.writeInt(t.userTypes().size());
        for (UserType u : t.userTypes().values()) {
            out.writeInt(strings.get(u.name()));
            out.writeBoolean(u.union());
            out.writeLong(u.size());
            out.writeInt(u.fields().size());
            for (Field fl : u.fields().values()) {
                out.writeInt(strings.get(fl.name()));
                out.writeInt(refs.get(fl.type()));
                out.writeLong(fl.offset());
                out.writeBoolean(fl.anonymous());
            }
        }
        out.writeInt(t.enums().size());
        for (EnumType e : t.enums().values()) {
            out.writeInt(strings.get(e.name()));
            out.writeLong(e.size());
            out.writeInt(strings.get(e.base()));
            out.writeInt(e.constants().size());
            for (Map.Entry<String, Long> c : e.constants().entrySet()) {
                out.writeInt(strings.get(c.getKey()));
                out.writeLong(c.getValue());
            }
        }
        out.writeInt(f.symbolTable().size());
        for (KernelSymbol s : f.symbolTable().all()) {
            out.writeInt(strings.get(s.name()));
            out.writeLong(s.address());
            out.writeChar(s.kind());
            out.writeInt(s.type() == null ? -1 : refs.get(s.type()));
            byte[] d = s.constantData();
            out.writeInt(d == null ? -1 : d.length);
            if (d != null) {
                out.write(d);
            }
        }
        out.writeLong(MAGIC);
    }

    private static void str(Map<String, Integer> strings, String s) {
        strings.putIfAbsent(s, strings.size());
    }

    private static void ref(Map<TypeRef, Integer> refs, Map<String, Integer> strings, TypeRef r) {
        if (refs.containsKey(r)) {
            return;
        }
        if (r.subtype() != null) {
            ref(refs, strings, r.subtype());
        }
        if (r.name() != null) {
            str(strings, r.name());
        }
        refs.putIfAbsent(r, refs.size());
    }

    /** Reads a cached ISF; {@code description} replaces the recorded one (the same bytes may be at another path). */
    static IsfFile read(DataInputStream in, String description) throws IOException {
        if (in.readLong() != MAGIC || in.readInt() != VERSION) {
            throw new IOException("not a Sonde ISF cache file of version " + VERSION);
        }
        String[] strings = new String[count(in)];
        for (int i = 0; i < strings.length; i++) {
            strings[i] = in.readUTF();
        }
        TypeRef[] refs = new TypeRef[count(in)];
        TypeRef.Kind[] kinds = TypeRef.Kind.values();
        for (int i = 0; i < refs.length; i++) {
            int k = in.readUnsignedByte();
            int name = in.readInt();
            int sub = in.readInt();
            long count = in.readLong();
            int bp = in.readInt();
            int bl = in.readInt();
            if (k >= kinds.length || sub >= i || name >= strings.length) {
                throw new IOException("corrupt type descriptor " + i);
            }
            refs[i] = new TypeRef(kinds[k], name < 0 ? null : strings[name], sub < 0 ? null : refs[sub], count, bp, bl);
        }
        index(in, strings.length); // the description when written
        String format = strings[index(in, strings.length)];
        String producer = strings[index(in, strings.length)];
        Map<String, BaseType> base = new LinkedHashMap<>();
        for (int i = count(in); i > 0; i--) {
            String n = strings[index(in, strings.length)];
            base.put(n, new BaseType(n, in.readLong(), in.readBoolean(), strings[index(in, strings.length)]));
        }
        int users = count(in);
        Map<String, UserType> user = new LinkedHashMap<>(users * 2);
        for (int i = 0; i < users; i++) {
            String n = strings[index(in, strings.length)];
            boolean union = in.readBoolean();
            long size = in.readLong();
            int nf = count(in);
            Map<String, Field> fields = new LinkedHashMap<>(nf * 2);
            for (int j = 0; j < nf; j++) {
                String fn = strings[index(in, strings.length)];
                TypeRef r = refs[index(in, refs.length)];
                fields.put(fn, new Field(fn, r, in.readLong(), in.readBoolean()));
            }
            user.put(n, new UserType(n, union, size, fields));
        }
        Map<String, EnumType> enums = new LinkedHashMap<>();
        for (int i = count(in); i > 0; i--) {
            String n = strings[index(in, strings.length)];
            long size = in.readLong();
            String b = strings[index(in, strings.length)];
            int nc = count(in);
            Map<String, Long> constants = new LinkedHashMap<>(nc * 2);
            for (int j = 0; j < nc; j++) {
                constants.put(strings[index(in, strings.length)], in.readLong());
            }
            enums.put(n, new EnumType(n, size, b, constants));
        }
        int ns = count(in);
        List<KernelSymbol> symbols = new ArrayList<>(ns);
        for (int i = 0; i < ns; i++) {
            String n = strings[index(in, strings.length)];
            long address = in.readLong();
            char kind = in.readChar();
            int r = in.readInt();
            if (r >= refs.length) {
                throw new IOException("corrupt symbol " + n);
            }
            int len = in.readInt();
            byte[] data = null;
            if (len >= 0) {
                if (len > 1 << 24) {
                    throw new IOException("corrupt symbol data " + n);
                }
                data = in.readNBytes(len);
            }
            symbols.add(new KernelSymbol(n, address, kind, r < 0 ? null : refs[r], data));
        }
        if (in.readLong() != MAGIC) {
            throw new IOException("truncated Sonde ISF cache file");
        }
        return new IsfFile(description, format, producer,
                new TypeTable(description, base, user, enums, Map.of(), Map.of()),
                new SymbolTable(description, false, symbols));
    }

    private static int count(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > MAX_COUNT) {
            throw new IOException("corrupt count " + n);
        }
        return n;
    }

    private static int index(DataInputStream in, int size) throws IOException {
        int i = in.readInt();
        if (i < 0 || i >= size) {
            throw new IOException("corrupt index " + i);
        }
        return i;
    }
}
