package dev.sonde.rollback;

import dev.sonde.snapshotter.libvirt.DomainHandle;
import dev.sonde.snapshotter.libvirt.DomainXml;
import dev.sonde.snapshotter.libvirt.LibvirtSession;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The original domain as libvirt shows it, read before the fork and after the rollback: state, live XML, disk chains.
 *
 * @param present whether a domain with the bundle's UUID exists at the URI
 */
public record OriginalState(String name, String uuid, boolean present, String state, String xml,
        Map<String, List<String>> chains) {

    static OriginalState read(LibvirtSession session, String name, String uuid) throws IOException {
        Optional<DomainHandle> h = session.domainByUuid(uuid);
        if (h.isEmpty()) {
            return new OriginalState(name, uuid, false, "absent", "", Map.of());
        }
        String xml = h.get().xml();
        Map<String, List<String>> chains = new TreeMap<>();
        for (DomainXml.Disk d : DomainXml.parse(xml).disks()) {
            chains.put(d.target(), d.chainLabels());
        }
        return new OriginalState(h.get().name(), uuid, true, h.get().state().label(), xml, chains);
    }

    /** What differs between this (before) and {@code after}; empty when nothing does. */
    List<String> differences(OriginalState after) {
        List<String> out = new java.util.ArrayList<>();
        if (present != after.present) {
            out.add("original domain " + (present ? "disappeared" : "appeared"));
        }
        if (!state.equals(after.state)) {
            out.add("original state " + state + " -> " + after.state);
        }
        if (!chains.equals(after.chains)) {
            out.add("original disk chains " + chains + " -> " + after.chains);
        }
        if (!xml.equals(after.xml)) {
            out.add("original live XML changed");
        }
        return out;
    }
}
