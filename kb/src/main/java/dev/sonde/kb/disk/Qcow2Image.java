package dev.sonde.kb.disk;

import com.github.luben.zstd.Zstd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A qcow2 image (versions 2 and 3) read as the guest's disk: L1/L2 cluster tables, zero clusters, zlib- and
 * zstd-compressed clusters, and the backing chain (unallocated clusters read from the backing file, or zeros past
 * its end or without one). Everything read from the headers and tables is checked against the file's size before
 * use. External data files, extended L2 entries and encryption are refused.
 */
public final class Qcow2Image implements BlockDevice {
    /** Longest backing chain followed. */
    public static final int MAX_CHAIN = 32;
    static final int MAGIC = 0x514649fb;
    private static final long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L;
    private static final int L2_CACHE = 64;

    private final Path file;
    private final FileChannel ch;
    private final long fileSize;
    private final int clusterBits;
    private final int clusterSize;
    private final long size;
    private final long[] l1;
    private final boolean zstd;
    private final BlockDevice backing;
    private final Map<Long, long[]> l2Cache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, long[]> e) {
            return size() > L2_CACHE;
        }
    };
    private long cachedCluster = -1;
    private byte[] cachedData;

    /** True when {@code file} starts with the qcow2 magic. */
    public static boolean probe(Path file) throws IOException {
        if (Files.size(file) < 4) {
            return false;
        }
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(4);
            c.read(b, 0);
            return b.flip().getInt() == MAGIC;
        }
    }

    /** Opens {@code file} and its backing chain with qemu's rules for backing file names. */
    public static Qcow2Image open(Path file) throws IOException {
        return open(file, BackingResolver.qemu());
    }

    public static Qcow2Image open(Path file, BackingResolver resolver) throws IOException {
        return new Qcow2Image(file, resolver, new ArrayList<>());
    }

    private Qcow2Image(Path file, BackingResolver resolver, List<Path> chain) throws IOException {
        this.file = file;
        Path real = file.toAbsolutePath().normalize();
        try {
            real = file.toRealPath();
        } catch (IOException e) {
            // reported by open below
        }
        if (chain.contains(real)) {
            throw new DiskFormatException(chain.get(chain.size() - 1), 8,
                    "backing file loop: " + real + " is already in the chain " + chain);
        }
        if (chain.size() >= MAX_CHAIN) {
            throw new DiskFormatException(file, 8, "backing chain longer than " + MAX_CHAIN + " images");
        }
        chain.add(real);
        this.ch = FileChannel.open(file, StandardOpenOption.READ);
        boolean ok = false;
        try {
            this.fileSize = ch.size();
            if (fileSize < 72) {
                throw new DiskFormatException(file, 0, "file too small for a qcow2 header (" + fileSize + " bytes)");
            }
            ByteBuffer h = ByteBuffer.allocate((int) Math.min(fileSize, 4096)).order(ByteOrder.BIG_ENDIAN);
            RawImage.readFully(ch, file, 0, h.array(), 0, h.capacity());
            if (h.getInt(0) != MAGIC) {
                throw new DiskFormatException(file, 0, String.format("not a qcow2 image (magic 0x%08x)", h.getInt(0)));
            }
            int version = h.getInt(4);
            if (version != 2 && version != 3) {
                throw new DiskFormatException(file, 4, "unsupported qcow2 version " + version);
            }
            long backingOffset = h.getLong(8);
            int backingSize = h.getInt(16);
            clusterBits = h.getInt(20);
            if (clusterBits < 9 || clusterBits > 21) {
                throw new DiskFormatException(file, 20, "cluster_bits " + clusterBits + " outside 9..21");
            }
            clusterSize = 1 << clusterBits;
            size = h.getLong(24);
            if (size < 0 || size > (1L << 56)) {
                throw new DiskFormatException(file, 24, "virtual size " + size + " out of range");
            }
            if (h.getInt(32) != 0) {
                throw new DiskFormatException(file, 32, "encrypted image (crypt_method " + h.getInt(32) + ") not supported");
            }
            int l1Size = h.getInt(36);
            long l1Offset = h.getLong(40);
            long entriesPerL2 = clusterSize / 8;
            long needed = (size + (long) clusterSize * entriesPerL2 - 1) / ((long) clusterSize * entriesPerL2);
            if (l1Size < 0 || l1Size < needed || l1Size > (1 << 25)) {
                throw new DiskFormatException(file, 36, "l1_size " + l1Size + " does not fit the virtual size (" + needed + " needed)");
            }
            checkRange(l1Offset, (long) l1Size * 8, 40, "L1 table");
            boolean zstdCompression = false;
            int headerLength = 72;
            if (version == 3) {
                if (fileSize < 104) {
                    throw new DiskFormatException(file, 72, "file too small for a version 3 header");
                }
                long incompatible = h.getLong(72);
                headerLength = h.getInt(100);
                if (headerLength < 104 || headerLength > h.capacity()) {
                    throw new DiskFormatException(file, 100, "header_length " + headerLength + " out of range");
                }
                if ((incompatible & 0x4) != 0) {
                    throw new DiskFormatException(file, 72, "external data file not supported");
                }
                if ((incompatible & 0x10) != 0) {
                    throw new DiskFormatException(file, 72, "extended L2 entries (subclusters) not supported");
                }
                if ((incompatible & ~0x1fL) != 0) {
                    throw new DiskFormatException(file, 72, String.format("unknown incompatible features 0x%x", incompatible));
                }
                if ((incompatible & 0x8) != 0) {
                    if (headerLength < 105) {
                        throw new DiskFormatException(file, 100, "compression type flag set but no compression type field");
                    }
                    int type = h.get(104) & 0xff;
                    if (type > 1) {
                        throw new DiskFormatException(file, 104, "unknown compression type " + type);
                    }
                    zstdCompression = type == 1;
                }
            }
            this.zstd = zstdCompression;
            String backingFormat = readExtensions(h, headerLength, backingOffset);
            this.l1 = new long[l1Size];
            ByteBuffer l1b = ByteBuffer.allocate(l1Size * 8);
            RawImage.readFully(ch, file, l1Offset, l1b.array(), 0, l1b.capacity());
            for (int i = 0; i < l1Size; i++) {
                l1[i] = l1b.getLong(i * 8);
            }
            if (backingOffset != 0) {
                if (backingSize <= 0 || backingSize > 1023) {
                    throw new DiskFormatException(file, 16, "backing file name length " + backingSize + " out of range");
                }
                checkRange(backingOffset, backingSize, 8, "backing file name");
                byte[] nb = new byte[backingSize];
                RawImage.readFully(ch, file, backingOffset, nb, 0, backingSize);
                String name = new String(nb, StandardCharsets.UTF_8);
                Path bp = resolver.resolve(file, name, backingOffset);
                if (!Files.isRegularFile(bp)) {
                    throw new DiskFormatException(file, backingOffset, "backing file '" + name + "' not found (" + bp + ")");
                }
                boolean q = probe(bp);
                if ("raw".equals(backingFormat) || (backingFormat == null && !q)) {
                    this.backing = new RawImage(bp);
                } else if (q) {
                    this.backing = new Qcow2Image(bp, resolver, chain);
                } else {
                    throw new DiskFormatException(file, backingOffset, "backing file " + bp + " is not " + backingFormat);
                }
            } else {
                this.backing = null;
            }
            ok = true;
        } finally {
            if (!ok) {
                ch.close();
            }
        }
    }

    private String readExtensions(ByteBuffer h, int at, long backingOffset) throws IOException {
        String format = null;
        long end = backingOffset != 0 ? Math.min(backingOffset, h.capacity()) : h.capacity();
        int p = at;
        for (int n = 0; n < 256 && p + 8 <= end; n++) {
            int type = h.getInt(p);
            int len = h.getInt(p + 4);
            if (type == 0) {
                return format;
            }
            if (len < 0 || p + 8L + len > end) {
                throw new DiskFormatException(file, p, "header extension 0x" + Integer.toHexString(type) + " of " + len + " bytes runs past the header");
            }
            if (type == 0xe2792aca) {
                byte[] f = new byte[len];
                h.get(p + 8, f);
                format = new String(f, StandardCharsets.US_ASCII);
            }
            p += 8 + ((len + 7) & ~7);
        }
        return format;
    }

    private void checkRange(long offset, long len, long fieldOffset, String what) throws DiskFormatException {
        if (offset < 0 || len < 0 || offset > fileSize - len) {
            throw new DiskFormatException(file, fieldOffset, String.format("%s at 0x%x (+%d bytes) lies outside the file (%d bytes)",
                    what, offset, len, fileSize));
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public String name() {
        return file.toString();
    }

    /** The backing image, if any. */
    public java.util.Optional<BlockDevice> backing() {
        return java.util.Optional.ofNullable(backing);
    }

    @Override
    public synchronized void read(long pos, byte[] buf, int off, int len) throws IOException {
        if (pos < 0 || len < 0 || pos > size - len) {
            throw new DiskFormatException(file, pos, "guest read of " + len + " bytes past the virtual size " + size);
        }
        while (len > 0) {
            long cluster = pos >>> clusterBits;
            int within = (int) (pos & (clusterSize - 1));
            int n = Math.min(len, clusterSize - within);
            readInCluster(cluster, within, pos, buf, off, n);
            pos += n;
            off += n;
            len -= n;
        }
    }

    private void readInCluster(long cluster, int within, long guestPos, byte[] buf, int off, int n) throws IOException {
        long entriesPerL2 = clusterSize / 8;
        int l1Index = (int) (cluster / entriesPerL2);
        int l2Index = (int) (cluster % entriesPerL2);
        long l1e = l1Index < l1.length ? l1[l1Index] : 0;
        long l2Offset = l1e & OFFSET_MASK;
        long entry = 0;
        if (l2Offset != 0) {
            entry = l2(l2Offset, l1Index)[l2Index];
        }
        if ((entry & (1L << 62)) != 0) {
            byte[] data = compressed(cluster, entry);
            System.arraycopy(data, within, buf, off, n);
            return;
        }
        long host = entry & OFFSET_MASK;
        if (host == 0) {
            if ((entry & 1) != 0 || backing == null || guestPos >= backing.size()) {
                java.util.Arrays.fill(buf, off, off + n, (byte) 0);
            } else {
                int fromBacking = (int) Math.min(n, backing.size() - guestPos);
                backing.read(guestPos, buf, off, fromBacking);
                java.util.Arrays.fill(buf, off + fromBacking, off + n, (byte) 0);
            }
            return;
        }
        if ((entry & 1) != 0) {
            java.util.Arrays.fill(buf, off, off + n, (byte) 0);
            return;
        }
        if ((host & (clusterSize - 1)) != 0) {
            throw new DiskFormatException(file, l2Offset + l2Index * 8L, String.format(
                    "L2 entry for guest cluster %d: host offset 0x%x not cluster aligned", cluster, host));
        }
        if (host + within + n > fileSize) {
            throw new DiskFormatException(file, l2Offset + l2Index * 8L, String.format("L2 entry for guest cluster %d: data at 0x%x lies outside the file (%d bytes)", cluster, host, fileSize));
        }
        RawImage.readFully(ch, file, host + within, buf, off, n);
    }

    private long[] l2(long l2Offset, int l1Index) throws IOException {
        long[] t = l2Cache.get(l2Offset);
        if (t != null) {
            return t;
        }
        if ((l2Offset & (clusterSize - 1)) != 0 || l2Offset > fileSize - clusterSize) {
            throw new DiskFormatException(file, 0, String.format("L1 entry %d: L2 table at 0x%x is unaligned or outside the file", l1Index, l2Offset));
        }
        ByteBuffer b = ByteBuffer.allocate(clusterSize);
        RawImage.readFully(ch, file, l2Offset, b.array(), 0, clusterSize);
        t = new long[clusterSize / 8];
        for (int i = 0; i < t.length; i++) {
            t[i] = b.getLong(i * 8);
        }
        l2Cache.put(l2Offset, t);
        return t;
    }

    private byte[] compressed(long cluster, long entry) throws IOException {
        if (cluster == cachedCluster) {
            return cachedData;
        }
        int x = 62 - (clusterBits - 8);
        long host = entry & ((1L << x) - 1);
        long sectors = ((entry & ((1L << 62) - 1)) >>> x) + 1;
        long len = sectors * 512 - (host & 511);
        if (host >= fileSize) {
            throw new DiskFormatException(file, host, "compressed cluster for guest cluster " + cluster + " starts past the end of the file");
        }
        len = Math.min(len, fileSize - host);
        if (len > 2L * clusterSize + 512) {
            throw new DiskFormatException(file, host, "compressed cluster of " + len + " bytes for a " + clusterSize + "-byte cluster");
        }
        byte[] in = new byte[(int) len];
        RawImage.readFully(ch, file, host, in, 0, in.length);
        byte[] out = new byte[clusterSize];
        if (zstd) {
            long frame = Zstd.findFrameCompressedSize(in);
            if (Zstd.isError(frame) || frame > in.length) {
                throw new DiskFormatException(file, host, "zstd cluster for guest cluster " + cluster + " has no valid frame");
            }
            long r = Zstd.decompressByteArray(out, 0, clusterSize, in, 0, (int) frame);
            if (Zstd.isError(r) || r != clusterSize) {
                throw new DiskFormatException(file, host, "zstd cluster for guest cluster " + cluster + " does not decompress to "
                        + clusterSize + " bytes" + (Zstd.isError(r) ? ": " + Zstd.getErrorName(r) : ""));
            }
        } else {
            Inflater inf = new Inflater(true);
            try {
                inf.setInput(in);
                int got = 0;
                while (got < clusterSize) {
                    int k = inf.inflate(out, got, clusterSize - got);
                    if (k == 0) {
                        if (inf.finished() || inf.needsInput() || inf.needsDictionary()) {
                            break;
                        }
                    }
                    got += k;
                }
                if (got != clusterSize) {
                    throw new DiskFormatException(file, host, "deflate cluster for guest cluster " + cluster + " gives " + got + " bytes, not " + clusterSize);
                }
            } catch (DataFormatException e) {
                throw new DiskFormatException(file, host, "deflate cluster for guest cluster " + cluster + " is corrupt: " + e.getMessage());
            } finally {
                inf.end();
            }
        }
        cachedCluster = cluster;
        cachedData = out;
        return out;
    }

    @Override
    public void close() throws IOException {
        try {
            ch.close();
        } finally {
            if (backing != null) {
                backing.close();
            }
        }
    }
}
