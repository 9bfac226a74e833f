package dev.sonde.snapshotter.bundle;

/**
 * One file of an evidence bundle as the manifest lists it.
 *
 * @param name   file name inside the bundle (no directories)
 * @param role   {@code memory}, {@code disk}, {@code domain-xml}, ...
 * @param format what the bytes are ({@code libvirt-save}, {@code elf-core}, {@code qcow2}, {@code libvirt-domain-xml}, ...)
 * @param size   size in bytes
 * @param sha256 lower-case hex SHA-256 of the whole file
 */
public record FileEntry(String name, String role, String format, long size, String sha256) {
}
