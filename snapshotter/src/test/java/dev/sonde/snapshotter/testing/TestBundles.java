package dev.sonde.snapshotter.testing;

import dev.sonde.snapshotter.bundle.BundleWriter;
import dev.sonde.snapshotter.bundle.HashingFileOutput;
import dev.sonde.snapshotter.bundle.Manifest;
import dev.sonde.snapshotter.store.BundleStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Builds small but complete bundles without a hypervisor. */
public final class TestBundles {
    private TestBundles() {
    }

    public static Manifest manifest(String id, String start, String end) {
        return new Manifest(Manifest.FORMAT, Manifest.VERSION, null, id, "test",
                new Manifest.Host("host", "Linux", "test:///default", "host", "9.0.0", "QEMU", "7.2.0"),
                new Manifest.Domain("dom", "00000000-0000-0000-0000-000000000001", "running", "running", 262144L, 1),
                new Manifest.Checkpoint(start, end, "live-external-snapshot", "memory.save", "libvirt-save",
                        "external-snapshot+active-commit", "no guest agent",
                        new Manifest.Pause(3.5, "test", List.of(), 10.0), Map.of("memory", 1.0), List.of()),
                List.of(new Manifest.Disk("vda", "external-snapshot+active-commit",
                        List.of(new Manifest.Layer("disk-vda.qcow2", "/images/vda.qcow2", "qcow2", null)),
                        List.of("qcow2:/images/vda.qcow2"), List.of("qcow2:/images/vda.qcow2"))),
                List.of());
    }

    /** Writes a memory file of {@code memoryBytes} pseudo-random bytes, a disk file and a domain XML, and seals. */
    public static BundleWriter.Sealed write(BundleWriter w, int memoryBytes, long seed) throws IOException {
        Random r = new Random(seed);
        byte[] mem = new byte[memoryBytes];
        r.nextBytes(mem);
        try (HashingFileOutput out = w.create("memory.save", "memory", "libvirt-save")) {
            for (int off = 0; off < mem.length; off += 4096) {
                out.write(ByteBuffer.wrap(mem, off, Math.min(4096, mem.length - off)));
            }
            out.finish();
        }
        byte[] disk = new byte[8192];
        r.nextBytes(disk);
        w.write("disk-vda.qcow2", "disk", "qcow2", disk);
        w.write("domain.xml", "domain-xml", "libvirt-domain-xml",
                "<domain type='qemu'><name>dom</name></domain>\n".getBytes(StandardCharsets.UTF_8));
        return w.seal(manifest(w.name().substring(w.name().lastIndexOf('-') + 1), "2026-01-01T00:00:00Z",
                "2026-01-01T00:00:01Z"));
    }

    /** A sealed bundle in {@code store} at the store clock's current time, recorded in the store's log. */
    public static BundleWriter.Sealed inStore(BundleStore store, String domain, String id) throws IOException {
        BundleWriter w = store.newBundle(domain, id, BundleWriter.Observer.NONE);
        BundleWriter.Sealed s = write(w, 10000, id.hashCode());
        store.log().append(store.clock().instant(), "sealed", w.name(), s.manifestSha256());
        return s;
    }
}
