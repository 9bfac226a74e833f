package dev.sonde.analyzer.image;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A read-only, memory-mapped file of any size, mapped in fixed windows so reads are zero-copy from the page cache.
 * Every access is bounds-checked against the file length and reported as a {@link BadImageException}.
 * Safe for concurrent readers: windows are mapped on first use and published with release/acquire semantics.
 */
public final class MappedFile implements AutoCloseable {
    private static final int WINDOW_SHIFT = 30; // 1 GiB windows
    private static final long WINDOW = 1L << WINDOW_SHIFT;
    private static final VarHandle WINDOWS = MethodHandles.arrayElementVarHandle(MappedByteBuffer[].class);

    private final Path path;
    private final FileChannel channel;
    private final long length;
    private final MappedByteBuffer[] windows;

    private MappedFile(Path path, FileChannel channel) throws IOException {
        this.path = path;
        this.channel = channel;
        this.length = channel.size();
        this.windows = new MappedByteBuffer[(int) ((length + WINDOW - 1) >>> WINDOW_SHIFT)];
    }

    public static MappedFile open(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return new MappedFile(path, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public long length() {
        return length;
    }

    private MappedByteBuffer window(int index) {
        MappedByteBuffer w = (MappedByteBuffer) WINDOWS.getAcquire(windows, index);
        if (w == null) {
            long start = (long) index << WINDOW_SHIFT;
            long size = Math.min(WINDOW, length - start);
            try {
                w = channel.map(FileChannel.MapMode.READ_ONLY, start, size);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(path + ": cannot map window at 0x" + Long.toHexString(start), e);
            }
            w.order(ByteOrder.LITTLE_ENDIAN);
            // Two threads may both map a window; either mapping serves. Release so no reader sees it half-built.
            WINDOWS.setRelease(windows, index, w);
        }
        return w;
    }

    /** Throws unless {@code [offset, offset + len)} lies inside the file. */
    public void check(long offset, long len, String what) throws BadImageException {
        if (offset < 0 || len < 0 || offset > length || len > length - offset) {
            throw new BadImageException(path, offset,
                    what + " needs " + len + " bytes but the file is " + length + " bytes long (truncated?)");
        }
    }

    /** Copies bytes; the caller has checked the bounds. */
    public void get(long offset, byte[] dst, int off, int len) {
        while (len > 0) {
            int index = (int) (offset >>> WINDOW_SHIFT);
            int within = (int) (offset & (WINDOW - 1));
            MappedByteBuffer w = window(index);
            int n = Math.min(len, w.capacity() - within);
            w.get(within, dst, off, n);
            offset += n;
            off += n;
            len -= n;
        }
    }

    /**
     * The bytes {@code [offset, offset + len)} as a read-only view of the mapping (no copy; byte order unspecified),
     * or {@code null} when they straddle two mapping windows (then copy them with {@link #get}). The caller has checked
     * the bounds.
     */
    public ByteBuffer slice(long offset, int len) {
        int index = (int) (offset >>> WINDOW_SHIFT);
        int within = (int) (offset & (WINDOW - 1));
        MappedByteBuffer w = window(index);
        return (long) within + len <= w.capacity() ? w.slice(within, len) : null;
    }

    public byte[] bytes(long offset, int len, String what) throws BadImageException {
        check(offset, len, what);
        byte[] b = new byte[len];
        get(offset, b, 0, len);
        return b;
    }

    public long u64(long offset, String what) throws BadImageException {
        check(offset, 8, what);
        int index = (int) (offset >>> WINDOW_SHIFT);
        int within = (int) (offset & (WINDOW - 1));
        MappedByteBuffer w = window(index);
        if (within + 8 <= w.capacity()) {
            return w.getLong(within);
        }
        return LittleEndian.u64(bytes(offset, 8, what), 0);
    }

    public long u32(long offset, String what) throws BadImageException {
        return LittleEndian.u32(bytes(offset, 4, what), 0);
    }

    public int u16(long offset, String what) throws BadImageException {
        return LittleEndian.u16(bytes(offset, 2, what), 0);
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // read-only; nothing to lose
        }
    }
}
