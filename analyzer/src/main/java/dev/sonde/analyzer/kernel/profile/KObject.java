package dev.sonde.analyzer.kernel.profile;

import dev.sonde.analyzer.memory.AbsentMemoryException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * A kernel object of a named struct/union type at a virtual address, read through the profile: members by name
 * (looking inside anonymous members), integers sized and signed by their type, bitfields, pointers followed to typed
 * objects, char arrays as strings. No offset is written in analysis code. Failed reads throw a
 * {@link KernelReadException} naming the object, the member and the address.
 */
public final class KObject {
    private final KernelMemory kernel;
    private final String type;
    private final long address;

    KObject(KernelMemory kernel, String type, long address) {
        this.kernel = kernel;
        this.type = type;
        this.address = address;
    }

    public String type() {
        return type;
    }

    public long address() {
        return address;
    }

    public KernelMemory kernel() {
        return kernel;
    }

    /** The resolved member (offset, type). */
    public Member member(String path) {
        return kernel.member(type, path);
    }

    /** Virtual address of a member. */
    public long addressOf(String path) {
        return address + member(path).offset();
    }

    /** A struct/union-valued member as an object. */
    public KObject field(String path) {
        Member m = member(path);
        if (!m.type().isAggregate()) {
            throw new KernelReadException(this + "." + path + " is " + m.type() + ", not a struct or union");
        }
        return new KObject(kernel, m.type().name(), address + m.offset());
    }

    /** The same address viewed as another type. */
    public KObject as(String otherType) {
        return new KObject(kernel, otherType, address);
    }

    /**
     * An integer member: size and signedness from its type (base, enum, bitfield); pointers read as unsigned 64-bit.
     * Members whose type the profile does not know (VMCOREINFO-only offsets) cannot be read this way; use
     * {@link #u64}/{@link #u32}.
     */
    public long integer(String path) {
        Member m = member(path);
        TypeRef t = m.type();
        TypeTable types = kernel.profile().types();
        if (t.kind() == TypeRef.Kind.POINTER) {
            return read(path, m.offset(), 8, false);
        }
        if (t.kind() == TypeRef.Kind.BITFIELD) {
            int size = (int) types.sizeOf(t.subtype()).orElse(4);
            int bytes = (t.bitPosition() + t.bitLength() + 7) / 8;
            long raw = read(path, m.offset(), Math.min(8, Math.max(bytes, 1)), false);
            long v = (raw >>> t.bitPosition()) & (t.bitLength() >= 64 ? -1L : (1L << t.bitLength()) - 1);
            if (types.isSigned(t.subtype()) && t.bitLength() < 64 && (v >>> (t.bitLength() - 1) & 1) != 0) {
                v |= -1L << t.bitLength();
            }
            if (size <= 0) {
                throw new KernelReadException(this + "." + path + ": bitfield of unknown storage type");
            }
            return v;
        }
        if (t.kind() != TypeRef.Kind.BASE && t.kind() != TypeRef.Kind.ENUM) {
            throw new KernelReadException(this + "." + path + " is " + t + ", not an integer");
        }
        long size = types.sizeOf(t).orElse(-1);
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new KernelReadException(this + "." + path + " is " + t + " of size " + size + ", not an integer");
        }
        return read(path, m.offset(), (int) size, types.isSigned(t));
    }

    public long u64(String path) {
        return read(path, member(path).offset(), 8, false);
    }

    public long u32(String path) {
        return read(path, member(path).offset(), 4, false);
    }

    public int u16(String path) {
        return (int) read(path, member(path).offset(), 2, false);
    }

    public int u8(String path) {
        return (int) read(path, member(path).offset(), 1, false);
    }

    /** A pointer member's value. */
    public long pointer(String path) {
        return u64(path);
    }

    /** The object a pointer member points to, typed by the pointer's target type; empty for NULL. */
    public Optional<KObject> deref(String path) {
        Member m = member(path);
        TypeRef t = m.type();
        if (t.kind() != TypeRef.Kind.POINTER || t.subtype() == null || !t.subtype().isAggregate()) {
            throw new KernelReadException(this + "." + path + " is " + t + ", not a pointer to a struct or union; "
                    + "use deref(path, type)");
        }
        return deref(path, t.subtype().name());
    }

    /** The object of type {@code targetType} a pointer member points to; empty for NULL. */
    public Optional<KObject> deref(String path, String targetType) {
        long p = read(path, member(path).offset(), 8, false);
        if (p == 0) {
            return Optional.empty();
        }
        if (!kernel.plausibleKernelPointer(p)) {
            throw new KernelReadException(String.format("%s.%s = 0x%x is not a kernel address", this, path, p));
        }
        return Optional.of(new KObject(kernel, targetType, p));
    }

    /** A char-array member as a string, up to its first NUL. */
    public String string(String path) {
        Member m = member(path);
        TypeRef t = m.type();
        long len = t.kind() == TypeRef.Kind.ARRAY ? t.count() : 0;
        if (len <= 0 || len > 1 << 20) {
            throw new KernelReadException(this + "." + path + " is " + t + ", not a char array");
        }
        byte[] b = bytes(path, m.offset(), (int) len);
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    /** The NUL-terminated string a {@code char *} member points to (at most {@code max} bytes); empty for NULL. */
    public Optional<String> cstring(String path, int max) {
        long p = pointer(path);
        if (p == 0) {
            return Optional.empty();
        }
        try {
            return Optional.of(kernel.space().readCString(p, max));
        } catch (AbsentMemoryException e) {
            throw new KernelReadException(String.format("%s.%s -> 0x%x: %s", this, path, p, e.getMessage()), e);
        }
    }

    /** Raw bytes of a member. */
    public byte[] bytes(String path) {
        Member m = member(path);
        long size = kernel.profile().types().sizeOf(m.type()).orElse(-1);
        if (size < 0 || size > 1 << 20) {
            throw new KernelReadException(this + "." + path + ": unknown size");
        }
        return bytes(path, m.offset(), (int) size);
    }

    private byte[] bytes(String path, long offset, int length) {
        try {
            return kernel.space().readBytes(address + offset, length);
        } catch (AbsentMemoryException e) {
            throw new KernelReadException(this + "." + path + ": " + e.getMessage(), e);
        }
    }

    private long read(String path, long offset, int size, boolean signed) {
        byte[] b = bytes(path, offset, size);
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xff);
        }
        if (signed && size < 8) {
            int shift = 64 - 8 * size;
            v = (v << shift) >> shift;
        }
        return v;
    }

    @Override
    public String toString() {
        return String.format("%s@0x%x", type, address);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KObject k && k.address == address && k.type.equals(type) && k.kernel == kernel;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(address) * 31 + type.hashCode();
    }
}
