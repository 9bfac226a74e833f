package dev.sonde.analyzer.kernel.profile;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A struct or union with its members.
 *
 * @param name   the tag (or typedef) name; anonymous types get a generated {@code unnamed_...} name
 * @param union  whether it is a union
 * @param size   size in bytes
 * @param fields members by name, in declaration order when the source keeps it
 */
public record UserType(String name, boolean union, long size, Map<String, Field> fields) {

    public UserType {
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    public String kindName() {
        return union ? "union" : "struct";
    }

    public TypeRef ref() {
        return union ? TypeRef.union(name) : TypeRef.struct(name);
    }
}
