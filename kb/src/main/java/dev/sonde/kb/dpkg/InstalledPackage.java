package dev.sonde.kb.dpkg;

/**
 * One package of a dpkg status file.
 *
 * @param name    package name
 * @param version version
 * @param arch    architecture
 * @param status  the {@code Status:} field (e.g. {@code install ok installed})
 */
public record InstalledPackage(String name, String version, String arch, String status) {
    public boolean installed() {
        return status.endsWith(" installed");
    }
}
