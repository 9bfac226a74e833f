package dev.sonde.analyzer.linux;

import java.util.Optional;

/**
 * What a socket descriptor is connected to, read from its {@code struct socket} and {@code struct sock}: the fields
 * {@code /proc/net/{tcp,tcp6,udp,udp6,unix}}, {@code ss} and {@code lsof} show.
 *
 * @param family        {@code unix}, {@code inet}, {@code inet6}, {@code netlink}, {@code packet}, ... ({@code af-N}
 *                      for a number without a name)
 * @param type          {@code STREAM}, {@code DGRAM}, {@code RAW}, {@code RDM}, {@code SEQPACKET}, {@code DCCP},
 *                      {@code PACKET} ({@code sk_type})
 * @param protocol      {@code tcp}, {@code udp}, {@code tcp6}, {@code udp6}, {@code icmp}, ... for inet sockets, the
 *                      netlink protocol name for netlink, otherwise the protocol number
 * @param state         the TCP-style connection state of {@code sk_state} ({@code LISTEN}, {@code ESTABLISHED},
 *                      {@code CLOSE}, ...), which UNIX and UDP sockets use too
 * @param socketState   {@code SS_UNCONNECTED} 1, {@code SS_CONNECTED} 3, ...: for UNIX sockets the "St" column
 *                      of /proc/net/unix (which the kernel derives from {@code sk_state}: connected when
 *                      {@code ESTABLISHED}), for the others {@code socket.state}
 * @param localAddress  local IP address (inet and inet6), as {@code inet_ntop} prints it
 * @param localPort     local port (inet and inet6)
 * @param remoteAddress remote IP address (inet and inet6)
 * @param remotePort    remote port (inet and inet6)
 * @param unixPath      the UNIX address as /proc/net/unix prints it: a path, or {@code @name} for an abstract name
 *                      (NULs shown as {@code @}); an accepted connection shows its listener's address
 * @param peerInode     inode number of the connected peer's socket (UNIX)
 */
public record SocketInfo(String family, String type, String protocol, String state, int socketState,
                         Optional<String> localAddress, Optional<Integer> localPort, Optional<String> remoteAddress,
                         Optional<Integer> remotePort, Optional<String> unixPath, Optional<Long> peerInode) {

    /** {@code ADDRESS:PORT} of the local end ({@code [v6]:port} for inet6), or the UNIX path. */
    public Optional<String> local() {
        return endpoint(localAddress, localPort).or(() -> unixPath);
    }

    /** {@code ADDRESS:PORT} of the remote end. */
    public Optional<String> remote() {
        return endpoint(remoteAddress, remotePort);
    }

    private Optional<String> endpoint(Optional<String> address, Optional<Integer> port) {
        if (address.isEmpty() || port.isEmpty()) {
            return Optional.empty();
        }
        String a = address.get();
        return Optional.of((a.contains(":") ? "[" + a + "]" : a) + ":" + port.get());
    }
}
