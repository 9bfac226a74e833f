package dev.sonde.snapshotter.bundle;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.function.Consumer;

/**
 * Writes one new bundle file and computes its SHA-256 and size from the very bytes it writes. {@link #finish()} flushes
 * the file to stable storage (fsync) and returns its manifest entry; {@link #close()} without {@code finish()} leaves
 * an incomplete file that the bundle writer deletes with the partial bundle.
 */
public final class HashingFileOutput extends OutputStream {
    private final Path file;
    private final String name;
    private final String role;
    private final String format;
    private final FileChannel channel;
    private final MessageDigest digest = Sha256.newDigest();
    private final BundleWriter.Observer observer;
    private final Consumer<FileEntry> onFinish;
    private long size;
    private FileEntry finished;
    private boolean closed;

    HashingFileOutput(Path file, String name, String role, String format, BundleWriter.Observer observer,
            Consumer<FileEntry> onFinish) throws IOException {
        this.onFinish = onFinish;
        this.file = file;
        this.name = name;
        this.role = role;
        this.format = format;
        this.observer = observer;
        this.channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    public Path file() {
        return file;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        write(ByteBuffer.wrap(b, off, len));
    }

    /** Writes the remaining bytes of {@code buf}, hashing exactly what goes to the file. */
    public void write(ByteBuffer buf) throws IOException {
        ensureOpen();
        ByteBuffer view = buf.duplicate();
        int n = buf.remaining();
        while (buf.hasRemaining()) {
            channel.write(buf);
        }
        digest.update(view);
        size += n;
        observer.wrote(name, size);
    }

    private void ensureOpen() throws IOException {
        if (closed || finished != null) {
            throw new IOException(name + ": already closed");
        }
    }

    /** Forces the content to disk, closes the file and returns its entry (size and SHA-256 of what was written). */
    public FileEntry finish() throws IOException {
        ensureOpen();
        channel.force(true);
        channel.close();
        closed = true;
        finished = new FileEntry(name, role, format, size, Sha256.hex(digest.digest()));
        onFinish.accept(finished);
        return finished;
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            channel.close();
        }
    }
}
