package dev.sonde.snapshotter.libvirt;

import com.sun.jna.Pointer;
import com.sun.jna.PointerType;
import java.lang.reflect.Field;
import org.libvirt.Connect;
import org.libvirt.Domain;

/** The native virConnectPtr / virDomainPtr behind libvirt-java objects, for the calls bound in {@link LibvirtNative}. */
final class NativeHandles {
    private static final Field CONNECT;
    private static final Field DOMAIN;

    static {
        try {
            CONNECT = Connect.class.getDeclaredField("vcp");
            CONNECT.setAccessible(true);
            DOMAIN = Domain.class.getDeclaredField("vdp");
            DOMAIN.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new ExceptionInInitializerError("libvirt-java internals changed (expected Connect.vcp, Domain.vdp): " + e);
        }
    }

    private NativeHandles() {
    }

    static Pointer of(Connect c) {
        return pointer(CONNECT, c);
    }

    static Pointer of(Domain d) {
        return pointer(DOMAIN, d);
    }

    private static Pointer pointer(Field f, Object o) {
        try {
            PointerType p = (PointerType) f.get(o);
            if (p == null || p.getPointer() == null) {
                throw new IllegalStateException("libvirt object already freed");
            }
            return p.getPointer();
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
