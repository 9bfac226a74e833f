package dev.sonde.analyzer.linux;

import dev.sonde.analyzer.kernel.profile.KObject;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelReadException;
import java.util.Map;
import java.util.Optional;

/**
 * Reads the {@link SocketInfo} of an open socket file: {@code file->private_data} is its {@code struct socket},
 * {@code socket->sk} the protocol's {@code struct sock} (which starts a {@code struct inet_sock} or
 * {@code struct unix_sock}). Addresses and ports are read as {@code /proc/net/*} prints them.
 */
final class Sockets {
    static final int AF_UNIX = 1;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int AF_NETLINK = 16;
    static final int TCP_ESTABLISHED = 1;
    static final int TCP_LISTEN = 10;
    static final int SS_UNCONNECTED = 1;
    static final int SS_CONNECTED = 3;
    /** {@code offsetof(struct sockaddr_un, sun_path)}: after the 2-byte family. */
    static final int SUN_PATH_OFFSET = 2;
    static final int UNIX_PATH_MAX = 108;

    private static final Map<Integer, String> FAMILIES = Map.ofEntries(Map.entry(AF_UNIX, "unix"),
            Map.entry(AF_INET, "inet"), Map.entry(AF_INET6, "inet6"), Map.entry(AF_NETLINK, "netlink"),
            Map.entry(17, "packet"), Map.entry(4, "ipx"), Map.entry(5, "appletalk"), Map.entry(9, "x25"),
            Map.entry(15, "key"), Map.entry(31, "bluetooth"), Map.entry(38, "alg"), Map.entry(40, "vsock"),
            Map.entry(44, "xdp"), Map.entry(45, "mctp"), Map.entry(42, "qipcrtr"), Map.entry(41, "kcm"),
            Map.entry(30, "tipc"), Map.entry(29, "can"));
    private static final String[] TYPES = {"?", "STREAM", "DGRAM", "RAW", "RDM", "SEQPACKET", "DCCP", "?", "?", "?",
            "PACKET"};
    private static final String[] TCP_STATES = {"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
            "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV", "BOUND_INACTIVE"};
    private static final Map<Integer, String> IP_PROTOCOLS = Map.of(0, "ip", 1, "icmp", 6, "tcp", 17, "udp",
            58, "icmpv6", 132, "sctp", 136, "udplite", 255, "raw", 33, "dccp", 262, "mptcp");
    private static final String[] NETLINK = {"route", "unused", "usersock", "firewall", "sock_diag", "nflog", "xfrm",
            "selinux", "iscsi", "audit", "fib_lookup", "connector", "netfilter", "ip6_fw", "dnrtmsg",
            "kobject_uevent", "generic", "?", "scsitransport", "ecryptfs", "rdma", "crypto", "smc"};

    private final KernelMemory kernel;

    Sockets(KernelMemory kernel) {
        this.kernel = kernel;
    }

    /** The socket behind the {@code struct file} at {@code file}. */
    SocketInfo read(long file) {
        KObject socket = kernel.object("file", file).deref("private_data", "socket")
                .orElseThrow(() -> new KernelReadException(String.format("file 0x%x: socket file without a socket", file)));
        int socketState = (int) socket.integer("state");
        KObject sk = socket.deref("sk", "sock").orElseThrow(() ->
                new KernelReadException(String.format("%s: no sock (sk is NULL)", socket)));
        int family = (int) sk.field("__sk_common").integer("skc_family") & 0xffff;
        int type = (int) sk.integer("sk_type") & 0xffff;
        int protocol = (int) sk.integer("sk_protocol") & 0xffff;
        int state = (int) sk.field("__sk_common").integer("skc_state") & 0xff;
        String familyName = FAMILIES.getOrDefault(family, "af-" + family);
        String typeName = type < TYPES.length ? TYPES[type] : String.valueOf(type);
        String stateName = state < TCP_STATES.length ? TCP_STATES[state] : String.valueOf(state);
        Optional<String> la = Optional.empty();
        Optional<String> ra = Optional.empty();
        Optional<Integer> lp = Optional.empty();
        Optional<Integer> rp = Optional.empty();
        Optional<String> path = Optional.empty();
        Optional<Long> peer = Optional.empty();
        String proto = String.valueOf(protocol);
        switch (family) {
            case AF_INET, AF_INET6 -> {
                String base = IP_PROTOCOLS.getOrDefault(protocol, String.valueOf(protocol));
                proto = family == AF_INET6 && (protocol == 6 || protocol == 17) ? base + "6" : base;
                KObject inet = sk.as("inet_sock");
                lp = Optional.of(swap16(inet.integer("inet_sport")));
                rp = Optional.of(swap16(sk.field("__sk_common").integer("skc_dport")));
                if (family == AF_INET) {
                    la = Optional.of(ipv4(sk.field("__sk_common").bytes("skc_rcv_saddr"), 0));
                    ra = Optional.of(ipv4(sk.field("__sk_common").bytes("skc_daddr"), 0));
                } else {
                    la = Optional.of(ipv6(sk.field("__sk_common").bytes("skc_v6_rcv_saddr")));
                    ra = Optional.of(ipv6(sk.field("__sk_common").bytes("skc_v6_daddr")));
                }
            }
            case AF_UNIX -> {
                KObject u = sk.as("unix_sock");
                path = unixPath(u);
                long peerSock = u.pointer("peer");
                if (peerSock != 0) {
                    peer = peerInode(peerSock);
                }
                proto = "unix";
                // unix_seq_show(): the St column is derived from sk_state, not socket.state
                socketState = state == TCP_ESTABLISHED ? SS_CONNECTED : SS_UNCONNECTED;
            }
            case AF_NETLINK -> proto = protocol < NETLINK.length ? NETLINK[protocol] : String.valueOf(protocol);
            default -> {
                // family, type and protocol number are all there is to say without more profile types
            }
        }
        return new SocketInfo(familyName, typeName, proto, stateName, socketState, la, lp, ra, rp, path, peer);
    }

    private Optional<String> unixPath(KObject u) {
        long addr = u.pointer("addr");
        if (addr == 0) {
            return Optional.empty();
        }
        KObject a = kernel.object("unix_address", addr);
        long len = a.integer("len") - SUN_PATH_OFFSET;
        if (len <= 0) {
            return Optional.of(""); // autobind not yet done: nothing to print
        }
        if (len > UNIX_PATH_MAX) {
            throw new KernelReadException(String.format("%s: address length %d above %d", a, len + SUN_PATH_OFFSET,
                    UNIX_PATH_MAX + SUN_PATH_OFFSET));
        }
        byte[] b = kernel.space().readBytes(a.addressOf("name") + SUN_PATH_OFFSET, (int) len);
        StringBuilder sb = new StringBuilder();
        int i = 0;
        int n = (int) len;
        if (b[0] != 0) {
            n--; // a path name's length counts its terminating NUL
        } else {
            sb.append('@');
            i = 1;
        }
        for (; i < n; i++) {
            sb.append(b[i] == 0 ? '@' : (char) (b[i] & 0xff));
        }
        return Optional.of(new String(sb.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1),
                java.nio.charset.StandardCharsets.UTF_8));
    }

    /** {@code sock_i_ino(peer)}: the inode of the peer's {@code struct socket} (0 when it has none). */
    private Optional<Long> peerInode(long peerSock) {
        KObject peer = kernel.object("sock", peerSock);
        long socket = peer.pointer("sk_socket");
        if (socket == 0) {
            return Optional.of(0L);
        }
        KObject alloc = kernel.containerOf(socket, "socket_alloc", "socket");
        return Optional.of(alloc.field("vfs_inode").integer("i_ino"));
    }

    private static int swap16(long v) {
        return (int) (((v & 0xff) << 8) | ((v >> 8) & 0xff));
    }

    static String ipv4(byte[] b, int off) {
        return (b[off] & 0xff) + "." + (b[off + 1] & 0xff) + "." + (b[off + 2] & 0xff) + "." + (b[off + 3] & 0xff);
    }

    /** As glibc's {@code inet_ntop(AF_INET6)}: the longest run of two or more zero groups as {@code ::}. */
    static String ipv6(byte[] b) {
        int[] w = new int[8];
        for (int i = 0; i < 8; i++) {
            w[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        int bestBase = -1;
        int bestLen = 0;
        for (int i = 0; i < 8; ) {
            if (w[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && w[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestBase = i;
                bestLen = j - i;
            }
            i = j;
        }
        if (bestLen < 2) {
            bestBase = -1;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
                if (i == bestBase) {
                    sb.append(':');
                }
                continue;
            }
            if (i != 0) {
                sb.append(':');
            }
            if (i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xffff))) {
                sb.append(ipv4(b, 12));
                break;
            }
            sb.append(Integer.toHexString(w[i]));
        }
        if (bestBase >= 0 && bestBase + bestLen == 8) {
            sb.append(':');
        }
        return sb.toString();
    }
}
