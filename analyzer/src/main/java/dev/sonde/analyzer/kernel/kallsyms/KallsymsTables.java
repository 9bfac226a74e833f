package dev.sonde.analyzer.kernel.kallsyms;

import java.util.List;

/**
 * Where the kernel's kallsyms tables lie in physical memory ({@code scripts/kallsyms.c} writes them, in Linux 6.1 in
 * this order: {@code kallsyms_offsets}, {@code kallsyms_relative_base}, {@code kallsyms_num_syms},
 * {@code kallsyms_names}, {@code kallsyms_markers}, {@code kallsyms_seqs_of_names} (newer and backported kernels),
 * {@code kallsyms_token_table}, {@code kallsyms_token_index}; from Linux 6.4 on in this one:
 * {@code kallsyms_num_syms}, {@code kallsyms_names}, {@code kallsyms_markers}, {@code kallsyms_token_table},
 * {@code kallsyms_token_index}, {@code kallsyms_offsets}, {@code kallsyms_relative_base},
 * {@code kallsyms_seqs_of_names}).
 *
 * @param addresses      physical address of {@code kallsyms_offsets} (base-relative) or {@code kallsyms_addresses}
 * @param relativeBase   the value of {@code kallsyms_relative_base} (a running-kernel virtual address), 0 when not
 *                       base-relative
 * @param numSyms        the value of {@code kallsyms_num_syms}
 * @param names          physical address of {@code kallsyms_names}
 * @param markers        physical address of {@code kallsyms_markers}
 * @param markerWidth    bytes per marker (4, or 8 on old kernels)
 * @param tokenTable     physical address of {@code kallsyms_token_table}
 * @param tokenIndex     physical address of {@code kallsyms_token_index}
 * @param baseRelative   CONFIG_KALLSYMS_BASE_RELATIVE: 32-bit offsets from {@code relativeBase}
 * @param absolutePercpu CONFIG_KALLSYMS_ABSOLUTE_PERCPU: non-negative offsets are absolute (per-CPU) values
 * @param seqsOfNames    whether {@code kallsyms_seqs_of_names} sits between the markers and the token table (the
 *                       order up to Linux 6.3; from 6.4 on it comes after {@code kallsyms_relative_base})
 * @param foundBy        how the tables were found
 * @param notes          what was checked or assumed
 */
public record KallsymsTables(long addresses, long relativeBase, int numSyms, long names, long markers, int markerWidth,
                             long tokenTable, long tokenIndex, boolean baseRelative, boolean absolutePercpu,
                             boolean seqsOfNames, String foundBy, List<String> notes) {
    public KallsymsTables {
        notes = List.copyOf(notes);
    }
}
