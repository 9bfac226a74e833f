package dev.sonde.kb.elf;

/**
 * SHA-256 of one 4 KiB page of a file's executable segments, keyed by its file offset: the file's 4096 bytes at
 * {@code offset}, zero-padded past end of file, which is what the loader's mapping shows in memory.
 */
public record CodePage(long offset, String sha256) {
}
