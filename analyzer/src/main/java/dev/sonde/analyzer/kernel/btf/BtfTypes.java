package dev.sonde.analyzer.kernel.btf;

import dev.sonde.analyzer.kernel.profile.BaseType;
import dev.sonde.analyzer.kernel.profile.EnumType;
import dev.sonde.analyzer.kernel.profile.Field;
import dev.sonde.analyzer.kernel.profile.FunctionType;
import dev.sonde.analyzer.kernel.profile.TypeRef;
import dev.sonde.analyzer.kernel.profile.TypeTable;
import dev.sonde.analyzer.kernel.profile.UserType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns parsed BTF into the ISF-shaped {@link TypeTable}, following the conventions dwarf2json uses so that a profile
 * from BTF and one from a dwarf2json ISF of the same kernel compare equal: typedefs and qualifiers are resolved away,
 * except that a typedef of a struct or union is a struct or union of the typedef's name; anonymous members are
 * {@code unnamed_field_N}; a bitfield's offset is the byte holding its first bit and its position the bit within that
 * byte. Anonymous structs, unions and enums are called {@code unnamed_btf_<ID>}.
 */
public final class BtfTypes {
    private static final int MAX_REF_DEPTH = 64;

    private final Btf btf;
    private final TypeRef[] refs;
    private final byte[] state;
    private final Map<TypeRef, TypeRef> interned = new HashMap<>();
    private final List<String> notes = new ArrayList<>();

    private BtfTypes(Btf btf) {
        this.btf = btf;
        this.refs = new TypeRef[btf.count() + 1];
        this.state = new byte[btf.count() + 1];
    }

    /** The type table of a BTF blob; {@code source} describes where it was found. */
    public static TypeTable toTypeTable(Btf btf, String source) {
        return new BtfTypes(btf).build(source);
    }

    private TypeTable build(String source) {
        int n = btf.count();
        Map<String, BaseType> base = new LinkedHashMap<>();
        Map<String, UserType> user = new LinkedHashMap<>();
        Map<String, EnumType> enums = new LinkedHashMap<>();
        Map<String, FunctionType> functions = new LinkedHashMap<>();
        Map<String, TypeRef> variables = new LinkedHashMap<>();
        base.put("void", new BaseType("void", 0, false, "void"));
        base.put("pointer", new BaseType("pointer", 8, false, "int"));
        int duplicateStructs = 0;
        List<Integer> typedefs = new ArrayList<>();
        for (int id = 1; id <= n; id++) {
            int kind = btf.kind(id);
            switch (kind) {
                case Btf.KIND_INT -> {
                    String name = btf.name(id);
                    long enc = btf.extra(id, 0);
                    int encoding = (int) (enc >>> 24) & 0x0f;
                    boolean signed = (encoding & Btf.INT_SIGNED) != 0;
                    String k = (encoding & Btf.INT_BOOL) != 0 ? "bool"
                            : (encoding & Btf.INT_CHAR) != 0 || name.contains("char") ? "char" : "int";
                    base.putIfAbsent(name, new BaseType(name, btf.sizeOrType(id), signed || k.equals("bool"), k));
                }
                case Btf.KIND_FLOAT -> base.putIfAbsent(btf.name(id), new BaseType(btf.name(id), btf.sizeOrType(id), true, "float"));
                case Btf.KIND_STRUCT, Btf.KIND_UNION -> {
                    UserType ut = userType(id);
                    if (user.putIfAbsent(ut.name(), ut) != null) {
                        duplicateStructs++;
                    }
                }
                case Btf.KIND_TYPEDEF -> {
                    // Like dwarf2json: a typedef of a struct or union is a struct or union of the typedef's name.
                    int target = (int) btf.sizeOrType(id);
                    if (btf.valid(target) && isAggregate(btf.kind(target))) {
                        typedefs.add(id);
                    }
                }
                case Btf.KIND_ENUM, Btf.KIND_ENUM64 -> {
                    EnumType e = enumType(id);
                    enums.putIfAbsent(e.name(), e);
                }
                case Btf.KIND_FUNC -> {
                    int proto = (int) btf.sizeOrType(id);
                    if (btf.valid(proto) && btf.kind(proto) == Btf.KIND_FUNC_PROTO) {
                        functions.putIfAbsent(btf.name(id), prototype(btf.name(id), proto));
                    }
                }
                case Btf.KIND_VAR -> variables.putIfAbsent(btf.name(id), ref((int) btf.sizeOrType(id), 0));
                default -> {
                }
            }
        }
        for (int id : typedefs) {
            String name = btf.name(id);
            UserType target = userType((int) btf.sizeOrType(id));
            user.putIfAbsent(name, new UserType(name, target.union(), target.size(), target.fields()));
        }
        if (duplicateStructs > 0) {
            notes.add(duplicateStructs + " structs/unions repeat an earlier name; the first definition is kept");
        }
        return new TypeTable(source, base, user, enums, functions, variables);
    }

    private static boolean isAggregate(int kind) {
        return kind == Btf.KIND_STRUCT || kind == Btf.KIND_UNION;
    }

    private String aggregateName(int id) {
        String name = btf.name(id);
        return name.isEmpty() ? "unnamed_btf_" + id : name;
    }

    private UserType userType(int id) {
        boolean union = btf.kind(id) == Btf.KIND_UNION;
        boolean kindFlag = btf.kindFlag(id);
        int vlen = btf.vlen(id);
        Map<String, Field> fields = new LinkedHashMap<>();
        int anonymous = 0;
        for (int i = 0; i < vlen; i++) {
            String name = btf.string(btf.extra(id, 3 * i));
            int type = (int) btf.extra(id, 3 * i + 1);
            long off = btf.extra(id, 3 * i + 2);
            long bitOffset;
            int bitSize;
            if (kindFlag) {
                bitSize = (int) (off >>> 24);
                bitOffset = off & 0xff_ffff;
            } else {
                bitSize = 0;
                bitOffset = off;
            }
            TypeRef t = ref(type, 0);
            if (!kindFlag) {
                // Old-style bitfield: the member's int type itself has an offset or a short width.
                int intId = stripModifiers(type);
                if (btf.valid(intId) && btf.kind(intId) == Btf.KIND_INT) {
                    long enc = btf.extra(intId, 0);
                    int bits = (int) (enc & 0xff);
                    int intOffset = (int) (enc >>> 16) & 0xff;
                    if (bits != btf.sizeOrType(intId) * 8 || intOffset != 0) {
                        bitSize = bits;
                        bitOffset += intOffset;
                    }
                }
            }
            boolean anon = name.isEmpty();
            if (anon) {
                name = "unnamed_field_" + Integer.toHexString(anonymous++);
            }
            if (bitSize != 0) {
                t = intern(TypeRef.bitfield(t, (int) (bitOffset % 8), bitSize));
            }
            fields.put(name, new Field(name, t, bitOffset / 8, anon));
        }
        String name = btf.nameOffset(id) == 0 ? "unnamed_btf_" + id : btf.name(id);
        return new UserType(name, union, btf.sizeOrType(id), fields);
    }

    private int stripModifiers(int id) {
        for (int i = 0; i < MAX_REF_DEPTH && btf.valid(id); i++) {
            int k = btf.kind(id);
            if (k == Btf.KIND_TYPEDEF || k == Btf.KIND_VOLATILE || k == Btf.KIND_CONST || k == Btf.KIND_RESTRICT
                    || k == Btf.KIND_TYPE_TAG) {
                id = (int) btf.sizeOrType(id);
            } else {
                return id;
            }
        }
        return id;
    }

    private EnumType enumType(int id) {
        boolean is64 = btf.kind(id) == Btf.KIND_ENUM64;
        boolean signed = btf.kindFlag(id);
        int vlen = btf.vlen(id);
        Map<String, Long> constants = new LinkedHashMap<>();
        boolean negative = false;
        for (int i = 0; i < vlen; i++) {
            long v;
            String name;
            if (is64) {
                name = btf.string(btf.extra(id, 3 * i));
                v = btf.extra(id, 3 * i + 1) | btf.extra(id, 3 * i + 2) << 32;
            } else {
                name = btf.string(btf.extra(id, 2 * i));
                long raw = btf.extra(id, 2 * i + 1);
                v = signed ? (int) raw : raw;
            }
            negative |= v < 0;
            constants.putIfAbsent(name, v);
        }
        long size = btf.sizeOrType(id);
        boolean s = signed || negative;
        String base = switch ((int) size) {
            case 1 -> s ? "signed char" : "unsigned char";
            case 2 -> s ? "short int" : "short unsigned int";
            case 8 -> s ? "long int" : "long unsigned int";
            default -> s ? "int" : "unsigned int";
        };
        String name = btf.nameOffset(id) == 0 ? "unnamed_btf_" + id : btf.name(id);
        return new EnumType(name, size, base, constants);
    }

    private FunctionType prototype(String name, int proto) {
        List<FunctionType.Parameter> params = new ArrayList<>();
        int vlen = btf.vlen(proto);
        for (int i = 0; i < vlen; i++) {
            String p = btf.string(btf.extra(proto, 2 * i));
            int type = (int) btf.extra(proto, 2 * i + 1);
            if (type == 0 && p.isEmpty() && i == vlen - 1) {
                params.add(new FunctionType.Parameter("...", TypeRef.UNKNOWN_TYPE));
            } else {
                params.add(new FunctionType.Parameter(p, ref(type, 0)));
            }
        }
        return new FunctionType(name, ref((int) btf.sizeOrType(proto), 0), params);
    }

    /** The ISF-style reference for type {@code id}. */
    TypeRef ref(int id, int depth) {
        if (id == 0) {
            return TypeRef.VOID;
        }
        if (!btf.valid(id) || depth > MAX_REF_DEPTH) {
            return TypeRef.UNKNOWN_TYPE;
        }
        if (refs[id] != null) {
            return refs[id];
        }
        if (state[id] == 1) {
            return TypeRef.UNKNOWN_TYPE; // a cycle through pointers/typedefs: hostile BTF
        }
        state[id] = 1;
        TypeRef r = switch (btf.kind(id)) {
            case Btf.KIND_INT, Btf.KIND_FLOAT -> TypeRef.base(btf.name(id));
            case Btf.KIND_PTR -> TypeRef.pointer(ref((int) btf.sizeOrType(id), depth + 1));
            case Btf.KIND_ARRAY -> TypeRef.array(btf.extra(id, 2), ref((int) btf.extra(id, 0), depth + 1));
            case Btf.KIND_STRUCT -> TypeRef.struct(aggregateName(id));
            case Btf.KIND_UNION -> TypeRef.union(aggregateName(id));
            case Btf.KIND_ENUM, Btf.KIND_ENUM64 -> TypeRef.enumeration(btf.nameOffset(id) == 0 ? "unnamed_btf_" + id : btf.name(id));
            case Btf.KIND_FWD -> btf.kindFlag(id) ? TypeRef.union(btf.name(id)) : TypeRef.struct(btf.name(id));
            case Btf.KIND_TYPEDEF -> {
                int target = (int) btf.sizeOrType(id);
                if (btf.valid(target) && isAggregate(btf.kind(target))) {
                    yield btf.kind(target) == Btf.KIND_UNION ? TypeRef.union(btf.name(id)) : TypeRef.struct(btf.name(id));
                }
                yield ref(target, depth + 1);
            }
            case Btf.KIND_VOLATILE, Btf.KIND_CONST, Btf.KIND_RESTRICT, Btf.KIND_TYPE_TAG -> ref((int) btf.sizeOrType(id), depth + 1);
            case Btf.KIND_FUNC_PROTO, Btf.KIND_FUNC -> TypeRef.FUNCTION_TYPE;
            default -> TypeRef.UNKNOWN_TYPE;
        };
        r = intern(r);
        refs[id] = r;
        state[id] = 2;
        return r;
    }

    private TypeRef intern(TypeRef r) {
        TypeRef prev = interned.putIfAbsent(r, r);
        return prev == null ? r : prev;
    }
}
