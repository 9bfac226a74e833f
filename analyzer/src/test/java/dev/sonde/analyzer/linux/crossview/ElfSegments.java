package dev.sonde.analyzer.linux.crossview;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/** Maps a physical address of an ELF core to its offset in the file, through the PT_LOAD segments (test helper). */
final class ElfSegments {
    private static final int PT_LOAD = 1;

    private ElfSegments() {
    }

    static long fileOffset(FileChannel ch, long phys) throws IOException {
        ByteBuffer h = read(ch, 0, 64);
        long phoff = h.getLong(0x20);
        int phentsize = Short.toUnsignedInt(h.getShort(0x36));
        int phnum = Short.toUnsignedInt(h.getShort(0x38));
        for (int i = 0; i < phnum; i++) {
            ByteBuffer p = read(ch, phoff + (long) i * phentsize, 56);
            long offset = p.getLong(8);
            long paddr = p.getLong(24);
            long filesz = p.getLong(32);
            if (p.getInt(0) == PT_LOAD && phys >= paddr && phys + 8 <= paddr + filesz) {
                return offset + (phys - paddr);
            }
        }
        throw new IllegalArgumentException(String.format("physical 0x%x is in no PT_LOAD segment", phys));
    }

    private static ByteBuffer read(FileChannel ch, long pos, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) {
                throw new IOException("short ELF header read at " + pos);
            }
        }
        return b.flip();
    }
}
