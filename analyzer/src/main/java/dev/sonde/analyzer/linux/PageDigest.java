package dev.sonde.analyzer.linux;

/**
 * SHA-256 of one resident 4 KiB page of an executable mapping, as it sits in memory.
 *
 * @param vaddr      virtual address of the page in the process
 * @param fileOffset offset of that page in the backing file ({@code vm_pgoff * 4096 + (vaddr - vm_start)}), the key
 *                   under which a knowledge base stores the same page of a known file (the file's bytes from that
 *                   offset, zero-padded to 4096 past end of file); -1 for anonymous memory
 * @param sha256     lower-case hex digest of the 4096 bytes
 */
public record PageDigest(long vaddr, long fileOffset, String sha256) {
}
