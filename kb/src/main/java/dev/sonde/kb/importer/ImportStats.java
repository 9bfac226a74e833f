package dev.sonde.kb.importer;

/**
 * What one import did.
 *
 * @param source    what was imported
 * @param files     files listed (every regular file of a disk or package)
 * @param elfFiles  ELF files stored
 * @param owned     ELF files attributed to a package
 * @param bytesRead bytes of file content read
 * @param nanos     wall time of the import, storing included
 */
public record ImportStats(String source, long files, long elfFiles, long owned, long bytesRead, long nanos) {
    public double seconds() {
        return nanos / 1e9;
    }

    public String summary() {
        double s = Math.max(seconds(), 1e-9);
        return String.format("%s: %d files, %d ELF (%d owned by a package), %.1f MB read in %.2f s (%.0f files/s, %.1f MB/s)",
                source, files, elfFiles, owned, bytesRead / 1e6, s, files / s, bytesRead / 1e6 / s);
    }
}
