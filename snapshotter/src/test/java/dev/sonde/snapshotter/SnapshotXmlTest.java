package dev.sonde.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.snapshotter.libvirt.DomainXml;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The XML Sonde hands libvirt, and the names of its overlays, without a hypervisor. */
class SnapshotXmlTest {
    static final String DOMAIN = """
            <domain type='qemu'><name>d</name><devices>
              <disk type='file' device='disk'><driver type='qcow2'/><source file='/img/a b&amp;.qcow2'/>
                <target dev='vda'/></disk>
              <disk type='file' device='cdrom'><driver type='raw'/><source file='/iso/x.iso'/><target dev='sda'/><readonly/></disk>
            </devices></domain>
            """;

    @Test
    void liveSnapshotXmlListsEveryDiskAndEscapesPaths() throws IOException {
        DomainXml dx = DomainXml.parse(DOMAIN);
        Path overlay = Recovery.overlayPath(Path.of(dx.disk("vda").orElseThrow().active().path()), "abcd1234");
        assertEquals("/img/a b&.sonde-abcd1234.qcow2", overlay.toString());
        assertTrue(Recovery.OVERLAY.matcher(overlay.toString()).matches());
        String xml = Checkpointer.snapshotXml("abcd1234", dx, Path.of("/dev/shm/s/memory.save"),
                List.of(new Checkpointer.PlannedDisk(dx.disk("vda").orElseThrow(), overlay)));
        assertTrue(xml.contains("<memory snapshot='external' file='/dev/shm/s/memory.save'/>"), xml);
        assertTrue(xml.contains("<disk name='vda' snapshot='external' type='file'>"), xml);
        assertTrue(xml.contains("<source file='/img/a b&amp;.sonde-abcd1234.qcow2'/>"), xml);
        assertTrue(xml.contains("<disk name='sda' snapshot='no'/>"), xml);
        String diskOnly = Checkpointer.snapshotXml("abcd1234", dx, null, List.of());
        assertTrue(diskOnly.contains("<memory snapshot='no'/>") && diskOnly.contains("<disk name='vda' snapshot='no'/>"),
                diskOnly);
    }

    @Test
    void idsAreShortLowerCaseAndDistinct() {
        String a = Checkpointer.newId();
        String b = Checkpointer.newId();
        assertTrue(a.matches("[a-z0-9]{10}"), a);
        assertTrue(!a.equals(b));
    }
}
