package dev.sonde.analyzer.kernel.btf;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A parsed BTF blob (the kernel's {@code .BTF} section, {@code include/uapi/linux/btf.h}): the header, the offset of
 * every type record, and accessors for their fields. Type IDs start at 1; ID 0 is {@code void}. The blob is hostile
 * input: every record is checked to lie inside the type section and every string offset inside the string section.
 */
public final class Btf {
    public static final int MAGIC = 0xeb9f;
    public static final int HEADER_LENGTH = 24;
    /** Refuse blobs larger than this (the Debian kernel's is about 5 MB). */
    public static final int MAX_BYTES = 64 << 20;

    public static final int KIND_INT = 1;
    public static final int KIND_PTR = 2;
    public static final int KIND_ARRAY = 3;
    public static final int KIND_STRUCT = 4;
    public static final int KIND_UNION = 5;
    public static final int KIND_ENUM = 6;
    public static final int KIND_FWD = 7;
    public static final int KIND_TYPEDEF = 8;
    public static final int KIND_VOLATILE = 9;
    public static final int KIND_CONST = 10;
    public static final int KIND_RESTRICT = 11;
    public static final int KIND_FUNC = 12;
    public static final int KIND_FUNC_PROTO = 13;
    public static final int KIND_VAR = 14;
    public static final int KIND_DATASEC = 15;
    public static final int KIND_FLOAT = 16;
    public static final int KIND_DECL_TAG = 17;
    public static final int KIND_TYPE_TAG = 18;
    public static final int KIND_ENUM64 = 19;

    public static final int INT_SIGNED = 1;
    public static final int INT_CHAR = 2;
    public static final int INT_BOOL = 4;

    private final byte[] data;
    private final int typeStart;
    private final int typeEnd;
    private final int strStart;
    private final int strEnd;
    /** Byte offset in {@link #data} of each type's record, index = type ID (index 0 unused). */
    private final int[] offsets;
    private final int count;

    private Btf(byte[] data, int typeStart, int typeEnd, int strStart, int strEnd, int[] offsets, int count) {
        this.data = data;
        this.typeStart = typeStart;
        this.typeEnd = typeEnd;
        this.strStart = strStart;
        this.strEnd = strEnd;
        this.offsets = offsets;
        this.count = count;
    }

    /** Total blob length announced by a header at {@code off}, or -1 when it is not a plausible BTF header. */
    public static long announcedLength(byte[] b, int off, int available) {
        if (available - off < HEADER_LENGTH || u16(b, off) != MAGIC || (b[off + 2] & 0xff) != 1) {
            return -1;
        }
        long hdrLen = u32(b, off + 4);
        long typeOff = u32(b, off + 8);
        long typeLen = u32(b, off + 12);
        long strOff = u32(b, off + 16);
        long strLen = u32(b, off + 20);
        if (hdrLen != HEADER_LENGTH || typeLen % 4 != 0 || typeOff % 4 != 0 || strLen == 0) {
            return -1;
        }
        long typeEnd = typeOff + typeLen;
        long strEnd = strOff + strLen;
        // Sections must not overlap.
        if (typeOff < strEnd && strOff < typeEnd) {
            return -1;
        }
        long total = hdrLen + Math.max(typeEnd, strEnd);
        return total > MAX_BYTES ? -1 : total;
    }

    /** Parses a blob starting with the BTF header. */
    public static Btf parse(byte[] data) {
        if (data.length < HEADER_LENGTH) {
            throw new BtfFormatException("BTF: " + data.length + " bytes, shorter than the header");
        }
        if (u16(data, 0) != MAGIC) {
            throw new BtfFormatException(String.format("BTF: bad magic 0x%04x at offset 0", u16(data, 0)));
        }
        if ((data[2] & 0xff) != 1) {
            throw new BtfFormatException("BTF: unsupported version " + (data[2] & 0xff) + " at offset 2");
        }
        long hdrLen = u32(data, 4);
        if (hdrLen < HEADER_LENGTH || hdrLen > data.length) {
            throw new BtfFormatException("BTF: bad header length " + hdrLen + " at offset 4");
        }
        long typeStart = hdrLen + u32(data, 8);
        long typeEnd = typeStart + u32(data, 12);
        long strStart = hdrLen + u32(data, 16);
        long strEnd = strStart + u32(data, 20);
        if (typeEnd > data.length || strEnd > data.length) {
            throw new BtfFormatException("BTF: sections end at " + Math.max(typeEnd, strEnd) + ", past the blob's "
                    + data.length + " bytes");
        }
        if (strEnd > strStart && data[(int) strStart] != 0) {
            throw new BtfFormatException("BTF: string section at offset " + strStart + " does not start with NUL");
        }
        int maxTypes = (int) ((typeEnd - typeStart) / 12) + 1;
        int[] offsets = new int[Math.min(maxTypes + 1, 1 << 16)];
        int n = 0;
        int p = (int) typeStart;
        while (p < typeEnd) {
            if (p + 12 > typeEnd) {
                throw new BtfFormatException("BTF: truncated type record at offset " + p);
            }
            int info = (int) u32(data, p + 4);
            int kind = (info >>> 24) & 0x1f;
            int vlen = info & 0xffff;
            long extra = switch (kind) {
                case KIND_INT, KIND_VAR, KIND_DECL_TAG -> 4;
                case KIND_PTR, KIND_FWD, KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_FUNC, KIND_FLOAT,
                        KIND_TYPE_TAG -> 0;
                case KIND_ARRAY -> 12;
                case KIND_STRUCT, KIND_UNION, KIND_DATASEC, KIND_ENUM64 -> 12L * vlen;
                case KIND_ENUM, KIND_FUNC_PROTO -> 8L * vlen;
                default -> throw new BtfFormatException("BTF: unknown kind " + kind + " in type " + (n + 1)
                        + " at offset " + p);
            };
            if (p + 12 + extra > typeEnd) {
                throw new BtfFormatException("BTF: type " + (n + 1) + " at offset " + p + " runs past the type section");
            }
            n++;
            if (n >= offsets.length) {
                offsets = Arrays.copyOf(offsets, Math.min(offsets.length * 2, maxTypes + 1));
            }
            offsets[n] = p;
            p += 12 + (int) extra;
        }
        return new Btf(data, (int) typeStart, (int) typeEnd, (int) strStart, (int) strEnd, offsets, n);
    }

    /** Number of types (the highest type ID). */
    public int count() {
        return count;
    }

    public int length() {
        return data.length;
    }

    public int typeSectionLength() {
        return typeEnd - typeStart;
    }

    public int stringSectionLength() {
        return strEnd - strStart;
    }

    private int rec(int id) {
        if (id < 1 || id > count) {
            throw new BtfFormatException("BTF: type ID " + id + " out of range 1.." + count);
        }
        return offsets[id];
    }

    public boolean valid(int id) {
        return id >= 1 && id <= count;
    }

    public int kind(int id) {
        return (int) (u32(data, rec(id) + 4) >>> 24) & 0x1f;
    }

    public int vlen(int id) {
        return (int) u32(data, rec(id) + 4) & 0xffff;
    }

    public boolean kindFlag(int id) {
        return (u32(data, rec(id) + 4) & 0x8000_0000L) != 0;
    }

    public int nameOffset(int id) {
        return (int) u32(data, rec(id));
    }

    public String name(int id) {
        return string(u32(data, rec(id)));
    }

    /** {@code size} (INT, STRUCT, UNION, ENUM, DATASEC, FLOAT) or {@code type} (the others) of the record. */
    public long sizeOrType(int id) {
        return u32(data, rec(id) + 8);
    }

    /** The i-th 32-bit word after the 12-byte record head. */
    public long extra(int id, int word) {
        return u32(data, rec(id) + 12 + 4 * word);
    }

    /** A string of the string section; empty for offset 0. */
    public String string(long offset) {
        if (offset < 0 || strStart + offset >= strEnd) {
            throw new BtfFormatException("BTF: string offset " + offset + " outside the " + (strEnd - strStart)
                    + "-byte string section");
        }
        int s = (int) (strStart + offset);
        int e = s;
        while (e < strEnd && data[e] != 0) {
            e++;
        }
        return new String(data, s, e - s, StandardCharsets.UTF_8);
    }

    /** Whether the string section holds {@code s} as a whole NUL-terminated string. */
    public boolean hasString(String s) {
        byte[] needle = (s + "\0").getBytes(StandardCharsets.UTF_8);
        outer:
        for (int i = strStart; i + needle.length <= strEnd; i++) {
            if (i != strStart && data[i - 1] != 0) {
                continue;
            }
            for (int j = 0; j < needle.length; j++) {
                if (data[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    static int u16(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8;
    }

    static long u32(byte[] b, int off) {
        return (b[off] & 0xffL) | (b[off + 1] & 0xffL) << 8 | (b[off + 2] & 0xffL) << 16 | (b[off + 3] & 0xffL) << 24;
    }
}
