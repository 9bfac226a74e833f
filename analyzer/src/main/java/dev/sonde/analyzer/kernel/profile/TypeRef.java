package dev.sonde.analyzer.kernel.profile;

import java.util.Objects;

/**
 * A reference to a type as a member or symbol uses it, shaped like a Volatility ISF type descriptor: typedefs and
 * qualifiers are resolved away (except a typedef naming an anonymous struct, which names it), so two sources describing
 * the same C layout produce equal references.
 *
 * @param kind        what the type is
 * @param name        base/struct/union/enum name; null for pointers, arrays, functions and bitfields
 * @param subtype     pointee, element, or (bitfield) storage type; null otherwise
 * @param count       array element count (0 for flexible arrays)
 * @param bitPosition bitfield: first bit, counted from the member's byte offset
 * @param bitLength   bitfield: width in bits
 */
public record TypeRef(Kind kind, String name, TypeRef subtype, long count, int bitPosition, int bitLength) {

    public enum Kind {
        BASE("base"), POINTER("pointer"), ARRAY("array"), STRUCT("struct"), UNION("union"), ENUM("enum"),
        FUNCTION("function"), BITFIELD("bitfield"), UNKNOWN("unknown");

        private final String isf;

        Kind(String isf) {
            this.isf = isf;
        }

        /** The ISF spelling of the kind. */
        public String isf() {
            return isf;
        }

        public static Kind ofIsf(String s) {
            for (Kind k : values()) {
                if (k.isf.equals(s)) {
                    return k;
                }
            }
            return UNKNOWN;
        }
    }

    public static final TypeRef VOID = base("void");
    public static final TypeRef UNKNOWN_TYPE = new TypeRef(Kind.UNKNOWN, null, null, 0, 0, 0);
    public static final TypeRef FUNCTION_TYPE = new TypeRef(Kind.FUNCTION, null, null, 0, 0, 0);

    public TypeRef {
        Objects.requireNonNull(kind, "kind");
    }

    public static TypeRef base(String name) {
        return new TypeRef(Kind.BASE, name, null, 0, 0, 0);
    }

    public static TypeRef pointer(TypeRef target) {
        return new TypeRef(Kind.POINTER, null, target, 0, 0, 0);
    }

    public static TypeRef array(long count, TypeRef element) {
        return new TypeRef(Kind.ARRAY, null, element, count, 0, 0);
    }

    public static TypeRef struct(String name) {
        return new TypeRef(Kind.STRUCT, name, null, 0, 0, 0);
    }

    public static TypeRef union(String name) {
        return new TypeRef(Kind.UNION, name, null, 0, 0, 0);
    }

    public static TypeRef enumeration(String name) {
        return new TypeRef(Kind.ENUM, name, null, 0, 0, 0);
    }

    public static TypeRef bitfield(TypeRef storage, int bitPosition, int bitLength) {
        return new TypeRef(Kind.BITFIELD, null, storage, 0, bitPosition, bitLength);
    }

    /** Struct or union. */
    public boolean isAggregate() {
        return kind == Kind.STRUCT || kind == Kind.UNION;
    }

    /** A C-like spelling for messages, e.g. {@code struct list_head *} or {@code char[16]}. */
    public String describe() {
        return switch (kind) {
            case BASE -> name;
            case STRUCT -> "struct " + name;
            case UNION -> "union " + name;
            case ENUM -> "enum " + name;
            case POINTER -> (subtype == null ? "void" : subtype.describe()) + " *";
            case ARRAY -> (subtype == null ? "?" : subtype.describe()) + "[" + count + "]";
            case FUNCTION -> "function";
            case BITFIELD -> (subtype == null ? "?" : subtype.describe()) + " :" + bitLength + "@" + bitPosition;
            case UNKNOWN -> "?";
        };
    }

    @Override
    public String toString() {
        return describe();
    }
}
