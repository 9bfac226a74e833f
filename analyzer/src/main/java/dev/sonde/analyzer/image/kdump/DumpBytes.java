package dev.sonde.analyzer.image.kdump;

import dev.sonde.analyzer.image.BadImageException;
import dev.sonde.analyzer.image.MappedFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * The bytes of a kdump-compressed file as its readers expect them: either the file itself, or the file a flattened
 * stream describes (see {@link FlattenedDump}). Offsets are offsets in that (possibly reconstructed) dump.
 */
interface DumpBytes {

    Path path();

    /** Size of the dump; reads beyond it fail. */
    long length();

    /**
     * Copies {@code len} bytes at {@code offset}. Never-written ranges of a flattened dump read as zeros, like the holes
     * of the sparse file makedumpfile -R would rebuild.
     *
     * @throws BadImageException when the range is not inside the dump
     */
    void read(long offset, byte[] dst, int dstOffset, int len, String what) throws BadImageException;

    /**
     * The dump bytes {@code [offset, offset + len)} as a read-only view of the mapped file, without copying, or
     * {@code null} when they are not stored contiguously in one mapping (split between records of a flattened dump,
     * not written, across mapping windows, or out of range): then {@link #read} them.
     */
    ByteBuffer slice(long offset, int len);

    /** An error about the dump byte at {@code offset}, placed at the file offset where that byte is stored. */
    BadImageException bad(long offset, String problem);

    /** True for the flattened layout. */
    boolean flattened();

    /** What was wrong with the layout itself but did not stop it from opening. */
    List<String> warnings();

    MappedFile file();

    default byte[] bytes(long offset, int len, String what) throws BadImageException {
        byte[] b = new byte[len];
        read(offset, b, 0, len, what);
        return b;
    }

    /** The plain layout: dump offset = file offset. */
    static DumpBytes direct(MappedFile f) {
        return new DumpBytes() {
            @Override
            public Path path() {
                return f.path();
            }

            @Override
            public long length() {
                return f.length();
            }

            @Override
            public void read(long offset, byte[] dst, int dstOffset, int len, String what) throws BadImageException {
                f.check(offset, len, what);
                f.get(offset, dst, dstOffset, len);
            }

            @Override
            public ByteBuffer slice(long offset, int len) {
                return offset >= 0 && len >= 0 && offset <= f.length() && len <= f.length() - offset
                        ? f.slice(offset, len) : null;
            }

            @Override
            public BadImageException bad(long offset, String problem) {
                return new BadImageException(f.path(), offset, problem);
            }

            @Override
            public boolean flattened() {
                return false;
            }

            @Override
            public List<String> warnings() {
                return List.of();
            }

            @Override
            public MappedFile file() {
                return f;
            }
        };
    }
}
