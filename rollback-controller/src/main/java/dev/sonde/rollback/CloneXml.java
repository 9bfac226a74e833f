package dev.sonde.rollback;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/**
 * The domain XML a clone is restored with (virDomainRestoreFlags' replacement XML): the save image's own XML, with
 * only what the guest cannot see changed, so libvirt's ABI check passes:
 * <ul>
 *   <li>each captured disk on the clone's own qcow2 overlay, over Sonde's verified copies of the bundle layers;</li>
 *   <li>network interfaces on an isolated network (no forward, no host address) with the link down;</li>
 *   <li>serial ports and the console written to files in the fork's directory; other character devices to null,
 *       the guest agent's channel on a socket libvirt chooses;</li>
 *   <li>graphics and the domain's security labels removed; every lifecycle action {@code destroy};</li>
 *   <li>a cgroup CPU quota for the whole domain ({@code <cputune><global_quota>}).</li>
 * </ul>
 * A device the clone would share with the original in a way that writes to it (a writable disk the bundle lacks, a
 * host file system, a passed-through host device, a TPM's state) makes the fork fail instead.
 */
public final class CloneXml {
    /** Namespace of the {@code <metadata>} element marking a domain as a Sonde clone. */
    public static final String METADATA_NS = "https://sonde.dev/xmlns/fork/1";

    /** A clone disk: the overlay and the chain beneath it (Sonde's copies of the bundle layers), each with its format. */
    public record DiskPlan(Path overlay, List<Layer> backing) {
    }

    /** One backing image. */
    public record Layer(Path path, String format) {
    }

    private CloneXml() {
    }

    /**
     * Builds the clone's XML from the (identity-rewritten) save image XML.
     *
     * @param disks   the clone disks by target
     * @param forkDir where console files go
     * @param network the isolated network's name
     * @param forkId  recorded in the clone's metadata
     * @param cpuPercent CPU the whole clone may use, in percent of one host CPU
     */
    public static String build(String saveXml, Map<String, DiskPlan> disks, Path forkDir, String network, String forkId,
            int cpuPercent) throws IOException {
        Document doc = parse(saveXml);
        Element root = doc.getDocumentElement();
        List<String> refused = new ArrayList<>();
        for (Element s : children(root, "seclabel")) {
            root.removeChild(s);
        }
        for (String a : List.of("on_poweroff", "on_reboot", "on_crash")) {
            Element e = child(root, a);
            if (e != null) {
                e.setTextContent("destroy");
            }
        }
        cpuQuota(doc, root, cpuPercent);
        Element devices = child(root, "devices");
        if (devices != null) {
            disks(doc, devices, disks, refused);
            for (Element i : children(devices, "interface")) {
                isolate(doc, i, network);
            }
            chardevs(doc, devices, forkDir);
            for (Element g : children(devices, "graphics")) {
                devices.removeChild(g);
            }
            for (String tag : List.of("filesystem", "hostdev", "tpm", "redirdev", "smartcard", "shmem")) {
                for (Element e : children(devices, tag)) {
                    refused.add("<" + tag + "> " + describe(e) + ": would share host state with the original");
                }
            }
        }
        if (!refused.isEmpty()) {
            throw new ForkException(ForkException.Kind.BAD_INPUT, "cannot fork this domain safely: " + String.join("; ", refused));
        }
        Element md = child(root, "metadata");
        if (md == null) {
            md = doc.createElement("metadata");
            root.appendChild(md);
        }
        Element mark = doc.createElementNS(METADATA_NS, "sonde:fork");
        mark.setAttribute("id", forkId);
        md.appendChild(mark);
        return serialize(doc);
    }

    private static void cpuQuota(Document doc, Element root, int percent) {
        Element ct = child(root, "cputune");
        if (ct == null) {
            ct = doc.createElement("cputune");
            Element devices = child(root, "devices");
            root.insertBefore(ct, devices);
        }
        for (String tag : List.of("global_period", "global_quota")) {
            for (Element e : children(ct, tag)) {
                ct.removeChild(e);
            }
        }
        Element period = doc.createElement("global_period");
        period.setTextContent("100000");
        Element quota = doc.createElement("global_quota");
        quota.setTextContent(Long.toString(Math.max(1000, 1000L * percent)));
        ct.appendChild(period);
        ct.appendChild(quota);
    }

    private static void disks(Document doc, Element devices, Map<String, DiskPlan> plans, List<String> refused) {
        for (Element d : children(devices, "disk")) {
            Element target = child(d, "target");
            String dev = target == null ? "?" : target.getAttribute("dev");
            DiskPlan plan = plans.get(dev);
            boolean readonly = child(d, "readonly") != null;
            if (plan == null) {
                if (!readonly && child(d, "source") != null) {
                    refused.add("disk " + dev + " is writable and not in the bundle (the clone would write the original's image)");
                }
                continue;
            }
            d.setAttribute("type", "file");
            for (Element e : children(d, "source")) {
                d.removeChild(e);
            }
            for (Element e : children(d, "backingStore")) {
                d.removeChild(e);
            }
            Element driver = child(d, "driver");
            if (driver == null) {
                driver = doc.createElement("driver");
                driver.setAttribute("name", "qemu");
                d.insertBefore(driver, d.getFirstChild());
            }
            driver.setAttribute("type", "qcow2");
            Element src = doc.createElement("source");
            src.setAttribute("file", plan.overlay().toString());
            insertAfter(d, driver, src);
            Element parent = d;
            Node after = src;
            for (Layer l : plan.backing()) {
                Element bs = doc.createElement("backingStore");
                bs.setAttribute("type", "file");
                Element f = doc.createElement("format");
                f.setAttribute("type", l.format());
                bs.appendChild(f);
                Element s = doc.createElement("source");
                s.setAttribute("file", l.path().toString());
                bs.appendChild(s);
                insertAfter(parent, after, bs);
                parent = bs;
                after = s;
            }
            insertAfter(parent, after, doc.createElement("backingStore"));
        }
    }

    private static void isolate(Document doc, Element iface, String network) {
        iface.setAttribute("type", "network");
        for (Node n = iface.getFirstChild(); n != null; ) {
            Node next = n.getNextSibling();
            if (n instanceof Element e && !List.of("mac", "model", "address", "rom", "driver", "alias", "acpi", "boot", "mtu")
                    .contains(e.getTagName())) {
                iface.removeChild(e);
            }
            n = next;
        }
        Element src = doc.createElement("source");
        src.setAttribute("network", network);
        iface.appendChild(src);
        Element link = doc.createElement("link");
        link.setAttribute("state", "down");
        iface.appendChild(link);
    }

    private static void chardevs(Document doc, Element devices, Path forkDir) {
        for (String tag : List.of("serial", "console", "parallel", "channel")) {
            for (Element c : children(devices, tag)) {
                Element target = child(c, "target");
                boolean agent = target != null && "org.qemu.guest_agent.0".equals(target.getAttribute("name"));
                String port = target == null || target.getAttribute("port").isEmpty() ? "0" : target.getAttribute("port");
                for (String drop : List.of("source", "log", "protocol", "reconnect")) {
                    for (Element e : children(c, drop)) {
                        c.removeChild(e);
                    }
                }
                Element src = doc.createElement("source");
                if (agent) {
                    c.setAttribute("type", "unix");
                    src.setAttribute("mode", "bind");
                } else if (tag.equals("channel")) {
                    c.setAttribute("type", "null");
                    src = null;
                } else {
                    boolean console0 = tag.equals("console") || port.equals("0");
                    c.setAttribute("type", "file");
                    src.setAttribute("path", forkDir.resolve(console0 && !tag.equals("parallel") ? "console.log"
                            : tag + port + ".log").toString());
                }
                if (src != null) {
                    c.insertBefore(src, c.getFirstChild());
                }
            }
        }
    }

    private static String describe(Element e) {
        Element t = child(e, "target");
        return t == null ? e.getAttribute("type") : (t.getAttribute("dir") + t.getAttribute("dev")).trim();
    }

    static Document parse(String xml) throws IOException {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setExpandEntityReferences(false);
            f.setNamespaceAware(true);
            return f.newDocumentBuilder().parse(new InputSource(new StringReader(xml)));
        } catch (Exception e) {
            throw new ForkException(ForkException.Kind.BAD_INPUT, "unparseable domain XML in the save image: " + e.getMessage(), e);
        }
    }

    static String serialize(Document doc) throws IOException {
        try {
            var t = TransformerFactory.newInstance().newTransformer();
            t.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
            StringWriter w = new StringWriter();
            t.transform(new DOMSource(doc), new StreamResult(w));
            return w.toString();
        } catch (Exception e) {
            throw new IOException("cannot serialise the clone XML: " + e.getMessage(), e);
        }
    }

    private static void insertAfter(Node parent, Node ref, Node n) {
        if (ref.getNextSibling() == null) {
            parent.appendChild(n);
        } else {
            parent.insertBefore(n, ref.getNextSibling());
        }
    }

    static Element child(Element parent, String tag) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(tag)) {
                return e;
            }
        }
        return null;
    }

    static List<Element> children(Element parent, String tag) {
        List<Element> out = new ArrayList<>();
        NodeList l = parent.getChildNodes();
        for (int i = 0; i < l.getLength(); i++) {
            if (l.item(i) instanceof Element e && e.getTagName().equals(tag)) {
                out.add(e);
            }
        }
        return out;
    }
}
