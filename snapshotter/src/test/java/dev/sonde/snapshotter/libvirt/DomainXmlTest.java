package dev.sonde.snapshotter.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Parsing of live domain XML: disks, their backing chains, what is snapshottable, the guest agent channel. */
class DomainXmlTest {
    static final String XML = """
            <domain type='qemu' id='3'>
              <name>web-1</name>
              <uuid>0b4c3f2e-1111-2222-3333-444455556666</uuid>
              <memory unit='KiB'>262144</memory>
              <vcpu placement='static'>2</vcpu>
              <devices>
                <disk type='file' device='disk'>
                  <driver name='qemu' type='qcow2'/>
                  <source file='/images/web-1.overlay.qcow2' index='2'/>
                  <backingStore type='file' index='3'>
                    <format type='qcow2'/>
                    <source file='/images/base.qcow2'>
                      <seclabel model='dac' relabel='no'/>
                    </source>
                    <backingStore/>
                  </backingStore>
                  <target dev='vda' bus='virtio'/>
                </disk>
                <disk type='block' device='disk'>
                  <driver name='qemu' type='raw'/>
                  <source dev='/dev/vg/data' index='1'/>
                  <backingStore/>
                  <target dev='vdb' bus='virtio'/>
                </disk>
                <disk type='file' device='cdrom'>
                  <driver name='qemu' type='raw'/>
                  <source file='/iso/install.iso'/>
                  <target dev='sda' bus='sata'/>
                  <readonly/>
                </disk>
                <disk type='network' device='disk'>
                  <driver name='qemu' type='raw'/>
                  <source protocol='nbd' name='export1'><host name='nbd.example' port='10809'/></source>
                  <target dev='vdc' bus='virtio'/>
                </disk>
                <channel type='unix'>
                  <source mode='bind' path='/run/libvirt/qemu/channel/3-web-1/org.qemu.guest_agent.0'/>
                  <target type='virtio' name='org.qemu.guest_agent.0' state='connected'/>
                </channel>
              </devices>
            </domain>
            """;

    @Test
    void disksChainsAndAgent() throws IOException {
        DomainXml d = DomainXml.parse(XML);
        assertEquals("web-1", d.name());
        assertEquals("0b4c3f2e-1111-2222-3333-444455556666", d.uuid());
        assertEquals(262144, d.memoryKiB());
        assertEquals(2, d.vcpus());
        assertTrue(d.agentChannel());
        assertTrue(d.agentConnected());
        assertEquals(List.of("vda", "vdb", "sda", "vdc"), d.disks().stream().map(DomainXml.Disk::target).toList());
        DomainXml.Disk vda = d.disk("vda").orElseThrow();
        assertEquals(List.of("qcow2:/images/web-1.overlay.qcow2", "qcow2:/images/base.qcow2"), vda.chainLabels());
        assertTrue(vda.snapshottable());
        DomainXml.Disk vdb = d.disk("vdb").orElseThrow();
        assertEquals("block", vdb.active().type());
        assertEquals("/dev/vg/data", vdb.active().path());
        assertFalse(d.disk("sda").orElseThrow().snapshottable());
        assertEquals("network", d.disk("vdc").orElseThrow().active().type());
    }

    @Test
    void memoryUnitsAndBadXml() throws IOException {
        assertEquals(256 * 1024, DomainXml.parse("<domain><name>a</name><memory unit='MiB'>256</memory></domain>").memoryKiB());
        assertEquals(1024 * 1024, DomainXml.parse("<domain><name>a</name><memory unit='GiB'>1</memory></domain>").memoryKiB());
        assertThrows(IOException.class, () -> DomainXml.parse("<domain><name>a</name>"));
        assertThrows(IOException.class, () -> DomainXml.parse("<!DOCTYPE d [<!ENTITY x 'y'>]><domain>&x;</domain>"));
    }
}
