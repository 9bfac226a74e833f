package dev.sonde.analyzer.image.kdump;

import java.util.ArrayList;
import java.util.List;

/**
 * What the headers of a kdump-compressed file say ({@code disk_dump_header} and {@code kdump_sub_header}).
 *
 * @param flattened      true when the file is in makedumpfile's flattened layout
 * @param headerVersion  {@code header_version} (QEMU and current makedumpfile write 6)
 * @param machine        {@code utsname.machine}, e.g. {@code x86_64}
 * @param release        {@code utsname.release} (makedumpfile fills it in; QEMU leaves it empty)
 * @param status         {@code status} flags (compression in use, incomplete dump, excluded vmemmap)
 * @param blockSize      {@code block_size}: the page size
 * @param maxMapnr       highest page frame number + 1 ({@code max_mapnr_64} from header version 6)
 * @param dumpLevel      makedumpfile {@code -d} level (QEMU writes 1)
 * @param physBase       {@code phys_base}: where the kernel was loaded relative to its link address
 * @param nrCpus         {@code nr_cpus}
 * @param split          true for one part of a split dump ({@code makedumpfile --split})
 * @param startPfn       first page frame this part holds (0 unless split)
 * @param endPfn         one past the last page frame this part holds ({@code maxMapnr} unless split)
 * @param dumpablePages  pages set in the 2nd (dumpable) bitmap, i.e. page descriptors in the file
 * @param excludedPages  pages in the 1st bitmap (RAM) but not the 2nd: excluded by the dump level, absent
 */
public record KdumpHeader(boolean flattened, int headerVersion, String machine, String release, long status,
                          int blockSize, long maxMapnr, int dumpLevel, long physBase, int nrCpus, boolean split,
                          long startPfn, long endPfn, long dumpablePages, long excludedPages) {
    public static final int COMPRESSED_ZLIB = 0x1;
    public static final int COMPRESSED_LZO = 0x2;
    public static final int COMPRESSED_SNAPPY = 0x4;
    public static final int INCOMPLETE = 0x8;
    public static final int EXCLUDED_VMEMMAP = 0x10;
    public static final int COMPRESSED_ZSTD = 0x20;

    /** The page compressions the status announces, e.g. {@code "zlib"}; {@code "uncompressed"} when none. */
    public String compression() {
        List<String> names = new ArrayList<>();
        if ((status & COMPRESSED_ZLIB) != 0) {
            names.add("zlib");
        }
        if ((status & COMPRESSED_LZO) != 0) {
            names.add("lzo");
        }
        if ((status & COMPRESSED_SNAPPY) != 0) {
            names.add("snappy");
        }
        if ((status & COMPRESSED_ZSTD) != 0) {
            names.add("zstd");
        }
        return names.isEmpty() ? "uncompressed" : String.join("+", names);
    }

    /** True when the dump says it was not finished ({@code DUMP_DH_COMPRESSED_INCOMPLETE}). */
    public boolean incomplete() {
        return (status & INCOMPLETE) != 0;
    }

    /** The format string Sonde reports, e.g. {@code "kdump-compressed (zlib)"}. */
    public String format() {
        return (flattened ? "flattened kdump-compressed" : "kdump-compressed") + " (" + compression() + ")";
    }
}
