package dev.sonde.analyzer.linux;

import java.util.Optional;

/**
 * One open file descriptor, as /proc/PID/fd and fdinfo show it.
 *
 * @param fd      the descriptor number
 * @param target  what the /proc/PID/fd/N link says: a path (with " (deleted)" when unlinked), {@code pipe:[ino]},
 *                {@code socket:[ino]}, {@code anon_inode:[name]} ...; empty when it could not be read
 * @param kind    {@code file}, {@code pipe}, {@code socket}, {@code anon_inode} or {@code other}
 * @param flags   {@code f_flags}, with {@code O_CLOEXEC} added when the close-on-exec bit is set (as fdinfo prints)
 * @param pos     {@code f_pos}
 * @param inode   inode number
 * @param file    address of the {@code struct file}
 * @param problem why a part of it could not be read
 * @param socket  for a socket, its family, type, protocol, addresses and state
 */
public record OpenFile(int fd, Optional<String> target, String kind, Optional<Long> flags, Optional<Long> pos,
                       Optional<Long> inode, long file, Optional<String> problem, Optional<SocketInfo> socket) {
}
