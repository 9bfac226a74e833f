package dev.sonde.rollback;

import dev.sonde.snapshotter.libvirt.LibvirtSession;
import java.io.IOException;
import org.libvirt.LibvirtException;
import org.libvirt.Network;

/**
 * The libvirt network clones' interfaces are attached to: a bridge with no {@code <forward>} and no {@code <ip>}, so
 * the host has no address on it, runs no DHCP or DNS for it and routes nothing from it: a clone can reach at most
 * other clones. Created (transient) when first needed; an existing network of that name must be isolated too.
 */
final class IsolatedNetwork {
    private IsolatedNetwork() {
    }

    static String ensure(LibvirtSession session, String name) throws IOException {
        try {
            Network n;
            try {
                n = session.connect0().networkLookupByName(name);
            } catch (LibvirtException e) {
                n = null;
            }
            if (n == null) {
                session.connect0().networkCreateXML("<network><name>" + name + "</name>"
                        + "<bridge name='sonde-iso0' stp='off' delay='0'/></network>");
                return "created isolated network " + name + " (no forward, no host address)";
            }
            String xml = n.getXMLDesc(0);
            if (xml.contains("<forward") || xml.contains("<ip")) {
                throw new ForkException(ForkException.Kind.ENVIRONMENT, "network " + name
                        + " is not isolated (it has <forward> or <ip>): refusing to attach clones to it");
            }
            if (n.isActive() == 0) {
                n.create();
            }
            return "isolated network " + name;
        } catch (LibvirtException e) {
            throw new ForkException(ForkException.Kind.ENVIRONMENT, "isolated network " + name + ": "
                    + e.getError().getMessage(), e);
        }
    }
}
