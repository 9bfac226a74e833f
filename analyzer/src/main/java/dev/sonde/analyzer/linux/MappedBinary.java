package dev.sonde.analyzer.linux;

import java.util.List;
import java.util.Optional;

/**
 * One executable file (or one executable anonymous region) mapped by one process, with what memory holds of its
 * code: the input for identifying which program and which version is running.
 *
 * @param pid        the process
 * @param path       d_path of the backing file (ending in " (deleted)" when unlinked, {@code /memfd:NAME (deleted)}
 *                   for a memfd), empty for anonymous memory
 * @param origin     file, deleted file, memfd or anonymous
 * @param inode      inode number of the backing file (0 when anonymous)
 * @param dev        device of the backing file as {@code MAJOR:MINOR} in hex
 * @param mappings   every mapping of that file (or the anonymous region) in the process, in address order
 * @param elfType    {@code EXEC}, {@code DYN}, ... from the ELF header when its page is resident
 * @param buildId    GNU build-id (lower-case hex) from the {@code .note.gnu.build-id} note when resident
 * @param pages      one digest per resident page of the executable mappings, in address order
 * @param pagesTotal pages of the executable mappings, resident or not
 * @param digest     SHA-256 over the resident page digests in order (each as {@code fileOffset:sha256\n}), empty
 *                   when no page is resident
 * @param problem    why something could not be read
 */
public record MappedBinary(int pid, String path, BinaryOrigin origin, long inode, String dev, List<Mapping> mappings,
                           Optional<String> elfType, Optional<String> buildId, List<PageDigest> pages, int pagesTotal,
                           Optional<String> digest, Optional<String> problem) {
    public MappedBinary {
        mappings = List.copyOf(mappings);
        pages = List.copyOf(pages);
    }
}
