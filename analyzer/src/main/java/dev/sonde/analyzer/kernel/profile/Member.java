package dev.sonde.analyzer.kernel.profile;

/**
 * A resolved member: where {@code path} lies in {@code owner} (looking inside anonymous structs and unions as C does)
 * and its type.
 *
 * @param owner  the type the path was resolved in
 * @param path   the member path as asked, e.g. {@code mm} or {@code signal.pids}
 * @param offset byte offset from the start of {@code owner}
 * @param type   the member's type ({@link TypeRef#UNKNOWN_TYPE} when the source knows only the offset)
 */
public record Member(String owner, String path, long offset, TypeRef type) {
}
