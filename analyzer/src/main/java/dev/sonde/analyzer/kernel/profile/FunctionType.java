package dev.sonde.analyzer.kernel.profile;

import java.util.List;

/**
 * A function's prototype (from BTF FUNC / FUNC_PROTO).
 *
 * @param name       function name
 * @param returns    return type ({@link TypeRef#VOID} for void)
 * @param parameters parameters in order; a trailing {@code ...} is a parameter named "..." of unknown type
 */
public record FunctionType(String name, TypeRef returns, List<Parameter> parameters) {

    public record Parameter(String name, TypeRef type) {
    }

    public FunctionType {
        parameters = List.copyOf(parameters);
    }
}
