package dev.sonde.rollback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.snapshotter.libvirt.DomainXml;
import dev.sonde.snapshotter.testing.Host;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The clone XML built from the debian fixture's domain XML (fixtures/debian/domain.xml.in), with a network interface
 * added as libvirt writes one: what the clone may share with the original and what it must not.
 */
class CloneXmlTest {
    static final Path FORK = Path.of("/var/lib/sonde/forks/F1");

    static String fixtureXml(String extraDevices) throws IOException {
        String x = Files.readString(Host.repo().resolve("fixtures/debian/domain.xml.in"))
                .replaceAll("(?s)<!--.*?-->", "")
                .replace("@NAME@", "sonde-debian-0a1b2c3d").replace("@MEMORY_MIB@", "256").replace("@VCPUS@", "2")
                .replace("@KERNEL@", "/k").replace("@INITRD@", "/i").replace("@CMDLINE@", "console=ttyS0")
                .replace("@DISK@", "/var/cache/sonde/run/x.overlay.qcow2").replace("@BASE_DISK@", "/var/cache/sonde/debian/disk.qcow2")
                .replace("@CONSOLE_LOG@", "/var/cache/sonde/run/x.console.log").replace("@GT_SOCKET@", "/var/cache/sonde/run/x.gt.sock")
                .replace("<name>", "<uuid>f0cdbe51-4354-48c2-bf1f-e048f7261a1b</uuid>\n  <name>");
        return x.replace("    <controller type='usb' model='none'/>", extraDevices + "    <controller type='usb' model='none'/>");
    }

    static final String NIC = "    <interface type='bridge'>\n      <mac address='52:54:00:12:34:56'/>\n"
            + "      <source bridge='br0'/>\n      <target dev='vnet3'/>\n      <model type='virtio'/>\n"
            + "      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>\n    </interface>\n";

    static Map<String, CloneXml.DiskPlan> plan() {
        return Map.of("vda", new CloneXml.DiskPlan(FORK.resolve("vda.overlay.qcow2"), List.of(
                new CloneXml.Layer(FORK.resolve("vda.layer0.qcow2"), "qcow2"),
                new CloneXml.Layer(FORK.resolve("vda.layer1.qcow2"), "qcow2"))));
    }

    @Test
    void cloneGetsItsOwnDisksConsoleIsolatedNetworkAndCpuQuota() throws IOException {
        String x = CloneXml.build(fixtureXml(NIC), plan(), FORK, "sonde-isolated", "F1", 50);
        DomainXml d = DomainXml.parse(x);
        assertEquals(List.of("qcow2:" + FORK.resolve("vda.overlay.qcow2"), "qcow2:" + FORK.resolve("vda.layer0.qcow2"),
                "qcow2:" + FORK.resolve("vda.layer1.qcow2")), d.disk("vda").orElseThrow().chainLabels());
        assertFalse(x.contains("/var/cache/sonde/"), "nothing of the original's files: " + x);
        assertTrue(x.contains("<source network=\"sonde-isolated\"/>"), x);
        assertTrue(x.contains("<link state=\"down\"/>"), x);
        assertTrue(x.contains("52:54:00:12:34:56"), "the MAC is guest-visible: kept");
        assertFalse(x.contains("br0") || x.contains("vnet3"), x);
        assertTrue(x.contains("<serial type=\"file\"><source path=\"" + FORK.resolve("console.log") + "\"/>"), x);
        assertTrue(x.contains("<source path=\"" + FORK.resolve("serial1.log") + "\"/>"), x);
        assertTrue(x.contains("<channel type=\"unix\"><source mode=\"bind\"/>"), "agent socket chosen by libvirt: " + x);
        assertTrue(x.contains("<global_quota>50000</global_quota>"), x);
        assertTrue(x.contains("sonde:fork") && x.contains("id=\"F1\""), x);
        assertTrue(d.agentChannel());
    }

    @Test
    void devicesSharedWithTheOriginalAreRefused() throws IOException {
        String fs = "    <filesystem type='mount' accessmode='passthrough'>\n      <source dir='/srv'/>\n"
                + "      <target dir='srv'/>\n    </filesystem>\n";
        ForkException e = assertThrows(ForkException.class,
                () -> CloneXml.build(fixtureXml(fs), plan(), FORK, "n", "F1", 50));
        assertTrue(e.getMessage().contains("<filesystem> srv"), e.getMessage());
        String vdb = "    <disk type='file' device='disk'>\n      <driver name='qemu' type='raw'/>\n"
                + "      <source file='/var/lib/data.img'/>\n      <target dev='vdb' bus='virtio'/>\n    </disk>\n";
        e = assertThrows(ForkException.class, () -> CloneXml.build(fixtureXml(vdb), plan(), FORK, "n", "F1", 50));
        assertTrue(e.getMessage().contains("disk vdb is writable and not in the bundle"), e.getMessage());
        String cdrom = "    <disk type='file' device='cdrom'>\n      <source file='/iso/x.iso'/>\n"
                + "      <target dev='sda' bus='sata'/>\n      <readonly/>\n    </disk>\n";
        assertTrue(CloneXml.build(fixtureXml(cdrom), plan(), FORK, "n", "F1", 50).contains("/iso/x.iso"),
                "a read-only CD-ROM may be shared");
    }
}
