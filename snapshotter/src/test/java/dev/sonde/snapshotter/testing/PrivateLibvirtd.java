package dev.sonde.snapshotter.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.List;
import java.util.Optional;

/**
 * An unprivileged libvirtd of our own, run as {@code nobody} with its state in a temporary directory, so that a test
 * can kill it (SIGKILL) and restart it without touching the system daemon other work on the machine uses. Its URI is
 * {@code qemu:///session?socket=...}; QEMU runs as nobody under it.
 */
public final class PrivateLibvirtd implements AutoCloseable {
    public static final String USER = "nobody";

    private final Path dir;
    private Process launcher;

    private PrivateLibvirtd(Path dir) {
        this.dir = dir;
    }

    public static PrivateLibvirtd start() throws IOException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "sonde-lvd-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        UserPrincipal nobody = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(USER);
        for (String sub : List.of("home", "run")) {
            Path p = Files.createDirectory(dir.resolve(sub));
            Files.setOwner(p, nobody);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        }
        PrivateLibvirtd d = new PrivateLibvirtd(dir);
        d.launch();
        return d;
    }

    private void launch() throws IOException {
        Path log = dir.resolve("libvirtd.log");
        launcher = new ProcessBuilder("runuser", "-u", USER, "--", "env", "-i",
                "HOME=" + dir.resolve("home"), "XDG_RUNTIME_DIR=" + dir.resolve("run"),
                "XDG_CONFIG_HOME=" + dir.resolve("home/.config"), "XDG_CACHE_HOME=" + dir.resolve("home/.cache"),
                "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "libvirtd", "--timeout", "0")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                Host.run(List.of("virsh", "-c", uri(), "version"), null, 20);
                return;
            } catch (IOException e) {
                if (!launcher.isAlive() && pid().isEmpty()) {
                    throw new IOException("private libvirtd died: " + Files.readString(log));
                }
                sleep(300);
            }
        }
        throw new IOException("private libvirtd does not answer: " + Files.readString(log));
    }

    public String uri() {
        return "qemu:///session?socket=" + dir.resolve("run/libvirt/libvirt-sock");
    }

    public Path directory() {
        return dir;
    }

    private Optional<Long> pid() {
        return pidFile(dir.resolve("run/libvirt/libvirtd.pid"));
    }

    private static Optional<Long> pidFile(Path f) {
        try {
            long pid = Long.parseLong(Files.readString(f).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(ProcessHandle::pid);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** SIGKILLs the daemon (its QEMU processes live on) and waits until it is gone. */
    public void kill9() throws IOException {
        long pid = pid().orElseThrow(() -> new IOException("private libvirtd is not running"));
        ProcessHandle h = ProcessHandle.of(pid).orElseThrow();
        Host.run(List.of("kill", "-9", Long.toString(pid)));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (h.isAlive() && System.nanoTime() < deadline) {
            sleep(20);
        }
        try {
            launcher.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts the daemon again (it reconnects to the QEMU processes it left). */
    public void restart() throws IOException {
        launch();
    }

    @Override
    public void close() throws IOException {
        Optional<Long> pid = pid();
        if (pid.isPresent()) {
            try {
                String doms = Host.run(List.of("virsh", "-c", uri(), "list", "--name"), null, 30);
                for (String d : doms.split("\n")) {
                    if (!d.isBlank()) {
                        Host.run(List.of("virsh", "-c", uri(), "destroy", d.trim()), null, 30);
                    }
                }
            } catch (IOException e) {
                // best effort
            }
            Host.run(List.of("kill", Long.toString(pid.get())));
            ProcessHandle.of(pid.get()).ifPresent(h -> {
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (h.isAlive() && System.nanoTime() < deadline) {
                    sleep(50);
                }
            });
        }
        Optional<Long> logd = pidFile(dir.resolve("run/libvirt/virtlogd.pid"));
        if (logd.isPresent()) {
            Host.run(List.of("kill", Long.toString(logd.get())));
        }
        try {
            Host.run(List.of("rm", "-rf", dir.toString()));
        } catch (IOException e) {
            // leave it
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
