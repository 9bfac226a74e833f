package dev.sonde.snapshotter.libvirt;

import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

/** What a checkpoint needs from a (live) libvirt domain XML: identity, size, disks with their backing chains. */
public record DomainXml(String name, String uuid, long memoryKiB, int vcpus, List<Disk> disks, boolean agentChannel,
        boolean agentConnected) {

    /** One image of a disk's chain: {@code type} file/block/network/volume, its format and path (file or device). */
    public record Image(String type, String format, String path) {
        /** {@code format:path}, how chains are compared and recorded. */
        public String label() {
            return (format == null ? "?" : format) + ":" + (path == null ? "(" + type + ")" : path);
        }
    }

    /**
     * A {@code <disk>}: target name, device kind ({@code disk}, {@code cdrom}, ...), read-only flag, and its chain:
     * the active image first, then its backing images in order.
     */
    public record Disk(String target, String device, boolean readonly, boolean shareable, List<Image> chain) {
        public Image active() {
            return chain.get(0);
        }

        public List<String> chainLabels() {
            return chain.stream().map(Image::label).toList();
        }

        /** Disks a checkpoint snapshots: writable disks (not CD-ROMs, floppies, read-only or shared disks). */
        public boolean snapshottable() {
            return (device.equals("disk") || device.equals("lun")) && !readonly && !shareable && !chain.isEmpty()
                    && chain.get(0).path() != null;
        }
    }

    public Optional<Disk> disk(String target) {
        return disks.stream().filter(d -> d.target().equals(target)).findFirst();
    }

    public static DomainXml parse(String xml) throws IOException {
        Document doc;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setExpandEntityReferences(false);
            DocumentBuilder b = f.newDocumentBuilder();
            doc = b.parse(new InputSource(new StringReader(xml)));
        } catch (ParserConfigurationException | SAXException e) {
            throw new IOException("unparseable domain XML: " + e.getMessage(), e);
        }
        Element root = doc.getDocumentElement();
        String name = text(child(root, "name"));
        String uuid = text(child(root, "uuid"));
        long mem = memoryKiB(child(root, "memory"));
        int vcpus = 1;
        try {
            vcpus = Integer.parseInt(text(child(root, "vcpu")).trim());
        } catch (RuntimeException e) {
            // keep 1
        }
        List<Disk> disks = new ArrayList<>();
        boolean agent = false;
        boolean agentConnected = false;
        Element devices = child(root, "devices");
        if (devices != null) {
            for (Element d : children(devices, "disk")) {
                String target = attr(child(d, "target"), "dev");
                String device = d.getAttribute("device").isEmpty() ? "disk" : d.getAttribute("device");
                List<Image> chain = new ArrayList<>();
                Element driver = child(d, "driver");
                Image top = image(d.getAttribute("type"), attr(driver, "type"), child(d, "source"));
                if (top != null) {
                    chain.add(top);
                    Element bs = child(d, "backingStore");
                    while (bs != null && bs.hasAttribute("type")) {
                        Image i = image(bs.getAttribute("type"), attr(child(bs, "format"), "type"), child(bs, "source"));
                        if (i == null) {
                            break;
                        }
                        chain.add(i);
                        bs = child(bs, "backingStore");
                    }
                }
                disks.add(new Disk(target, device, child(d, "readonly") != null, child(d, "shareable") != null,
                        List.copyOf(chain)));
            }
            for (Element ch : children(devices, "channel")) {
                Element t = child(ch, "target");
                if (t != null && "org.qemu.guest_agent.0".equals(t.getAttribute("name"))) {
                    agent = true;
                    agentConnected = "connected".equals(t.getAttribute("state"));
                }
            }
        }
        return new DomainXml(name, uuid, mem, vcpus, List.copyOf(disks), agent, agentConnected);
    }

    private static Image image(String type, String format, Element source) {
        if (source == null) {
            return null;
        }
        String t = type == null || type.isEmpty() ? "file" : type;
        String path = switch (t) {
            case "file" -> source.getAttribute("file");
            case "block" -> source.getAttribute("dev");
            case "dir" -> source.getAttribute("dir");
            case "volume" -> source.getAttribute("pool") + "/" + source.getAttribute("volume");
            default -> source.hasAttribute("name") ? source.getAttribute("protocol") + "://" + source.getAttribute("name") : null;
        };
        if (path != null && path.isEmpty()) {
            path = null;
        }
        return new Image(t, format == null || format.isEmpty() ? null : format, path);
    }

    private static long memoryKiB(Element m) {
        if (m == null) {
            return -1;
        }
        long v;
        try {
            v = Long.parseLong(text(m).trim());
        } catch (NumberFormatException e) {
            return -1;
        }
        String unit = m.getAttribute("unit").isEmpty() ? "KiB" : m.getAttribute("unit");
        return switch (unit) {
            case "b", "bytes" -> v / 1024;
            case "KB" -> v * 1000 / 1024;
            case "k", "KiB" -> v;
            case "MB" -> v * 1_000_000 / 1024;
            case "M", "MiB" -> v * 1024;
            case "GB" -> v * 1_000_000_000L / 1024;
            case "G", "GiB" -> v * 1024 * 1024;
            default -> v;
        };
    }

    private static String attr(Element e, String a) {
        return e == null || !e.hasAttribute(a) ? null : e.getAttribute(a);
    }

    private static String text(Element e) {
        return e == null ? null : e.getTextContent();
    }

    private static Element child(Element parent, String tag) {
        if (parent == null) {
            return null;
        }
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(tag)) {
                return e;
            }
        }
        return null;
    }

    private static List<Element> children(Element parent, String tag) {
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
