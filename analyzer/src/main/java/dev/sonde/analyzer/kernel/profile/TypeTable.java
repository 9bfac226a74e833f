package dev.sonde.analyzer.kernel.profile;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The kernel's types as one source describes them, in the shape of a Volatility ISF (base types, structs and unions,
 * enums), plus what only BTF carries (function prototypes and the types of per-CPU variables).
 */
public final class TypeTable {
    /** Anonymous members nest this deep at most when a member is looked up (the kernel needs 3 or 4). */
    static final int MAX_ANONYMOUS_DEPTH = 12;

    private final String source;
    private final Map<String, BaseType> baseTypes;
    private final Map<String, UserType> userTypes;
    private final Map<String, EnumType> enums;
    private final Map<String, FunctionType> functions;
    private final Map<String, TypeRef> variables;

    public TypeTable(String source, Map<String, BaseType> baseTypes, Map<String, UserType> userTypes,
                     Map<String, EnumType> enums, Map<String, FunctionType> functions, Map<String, TypeRef> variables) {
        this.source = source;
        this.baseTypes = Collections.unmodifiableMap(new LinkedHashMap<>(baseTypes));
        this.userTypes = Collections.unmodifiableMap(new LinkedHashMap<>(userTypes));
        this.enums = Collections.unmodifiableMap(new LinkedHashMap<>(enums));
        this.functions = Collections.unmodifiableMap(new LinkedHashMap<>(functions));
        this.variables = Collections.unmodifiableMap(new LinkedHashMap<>(variables));
    }

    /** Where the types came from, e.g. {@code BTF in memory at physical 0x2c1b88}. */
    public String source() {
        return source;
    }

    public Map<String, BaseType> baseTypes() {
        return baseTypes;
    }

    public Map<String, UserType> userTypes() {
        return userTypes;
    }

    public Map<String, EnumType> enums() {
        return enums;
    }

    public Map<String, FunctionType> functions() {
        return functions;
    }

    /** Types of variables the source describes (BTF: the per-CPU variables), by symbol name. */
    public Map<String, TypeRef> variables() {
        return variables;
    }

    public Optional<UserType> userType(String name) {
        return Optional.ofNullable(userTypes.get(name));
    }

    public Optional<EnumType> enumType(String name) {
        return Optional.ofNullable(enums.get(name));
    }

    /**
     * Resolves a member path ({@code "tasks"}, {@code "signal.pids"}: dots go through nested struct members, not
     * through pointers) in {@code type}, looking inside anonymous members as C does.
     */
    public Optional<Member> member(String type, String path) {
        long offset = 0;
        String current = type;
        TypeRef last = null;
        for (String part : path.split("\\.", -1)) {
            if (last != null) {
                if (!last.isAggregate()) {
                    return Optional.empty();
                }
                current = last.name();
            }
            UserType ut = userTypes.get(current);
            if (ut == null) {
                return Optional.empty();
            }
            Optional<Member> m = find(ut, part, 0);
            if (m.isEmpty()) {
                return Optional.empty();
            }
            offset += m.get().offset();
            last = m.get().type();
        }
        return Optional.of(new Member(type, path, offset, last));
    }

    private Optional<Member> find(UserType ut, String name, int depth) {
        Field f = ut.fields().get(name);
        if (f != null && !f.anonymous()) {
            return Optional.of(new Member(ut.name(), name, f.offset(), f.type()));
        }
        if (depth >= MAX_ANONYMOUS_DEPTH) {
            return Optional.empty();
        }
        for (Field a : ut.fields().values()) {
            if (a.anonymous() && a.type().isAggregate()) {
                UserType inner = userTypes.get(a.type().name());
                if (inner != null) {
                    Optional<Member> m = find(inner, name, depth + 1);
                    if (m.isPresent()) {
                        return Optional.of(new Member(ut.name(), name, a.offset() + m.get().offset(), m.get().type()));
                    }
                }
            }
        }
        return f == null ? Optional.empty() : Optional.of(new Member(ut.name(), name, f.offset(), f.type()));
    }

    /** Size in bytes of a struct, union, enum or base type named {@code name}. */
    public OptionalLong size(String name) {
        UserType ut = userTypes.get(name);
        if (ut != null && ut.size() >= 0) {
            return OptionalLong.of(ut.size());
        }
        EnumType e = enums.get(name);
        if (e != null) {
            return OptionalLong.of(e.size());
        }
        BaseType b = baseTypes.get(name);
        return b == null ? OptionalLong.empty() : OptionalLong.of(b.size());
    }

    /** Size in bytes of what {@code ref} refers to, when known. */
    public OptionalLong sizeOf(TypeRef ref) {
        return sizeOf(ref, 0);
    }

    private OptionalLong sizeOf(TypeRef ref, int depth) {
        if (ref == null || depth > 64) {
            return OptionalLong.empty();
        }
        return switch (ref.kind()) {
            case BASE -> {
                BaseType b = baseTypes.get(ref.name());
                yield b == null ? OptionalLong.empty() : OptionalLong.of(b.size());
            }
            case POINTER -> {
                BaseType p = baseTypes.get("pointer");
                yield OptionalLong.of(p == null ? 8 : p.size());
            }
            case ARRAY -> {
                OptionalLong e = sizeOf(ref.subtype(), depth + 1);
                yield e.isPresent() ? OptionalLong.of(e.getAsLong() * ref.count()) : OptionalLong.empty();
            }
            case STRUCT, UNION -> size(ref.name());
            case ENUM -> {
                EnumType e = enums.get(ref.name());
                yield e == null ? OptionalLong.empty() : OptionalLong.of(e.size());
            }
            case BITFIELD -> sizeOf(ref.subtype(), depth + 1);
            case FUNCTION, UNKNOWN -> OptionalLong.empty();
        };
    }

    /** Whether the integer type {@code ref} (base, enum or bitfield storage) is signed. */
    public boolean isSigned(TypeRef ref) {
        if (ref == null) {
            return false;
        }
        return switch (ref.kind()) {
            case BASE -> {
                BaseType b = baseTypes.get(ref.name());
                yield b != null && b.signed() && !b.kind().equals("bool");
            }
            case ENUM -> {
                EnumType e = enums.get(ref.name());
                BaseType b = e == null ? null : baseTypes.get(e.base());
                yield b != null ? b.signed() : e != null && e.constants().values().stream().anyMatch(v -> v < 0);
            }
            case BITFIELD -> isSigned(ref.subtype());
            default -> false;
        };
    }

    @Override
    public String toString() {
        return source + ": " + userTypes.size() + " structs/unions, " + enums.size() + " enums, " + baseTypes.size()
                + " base types" + (functions.isEmpty() ? "" : ", " + functions.size() + " functions");
    }
}
