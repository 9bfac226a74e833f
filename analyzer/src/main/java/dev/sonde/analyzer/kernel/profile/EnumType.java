package dev.sonde.analyzer.kernel.profile;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An enumeration.
 *
 * @param base      the base type name, e.g. {@code unsigned int}
 * @param constants enumerator name to value
 */
public record EnumType(String name, long size, String base, Map<String, Long> constants) {

    public EnumType {
        constants = Collections.unmodifiableMap(new LinkedHashMap<>(constants));
    }

    public Optional<Long> value(String constant) {
        return Optional.ofNullable(constants.get(constant));
    }
}
