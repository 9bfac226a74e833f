package dev.sonde.rollback.probe;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The guest's own view of its processes, as {@code ps} and {@code ls -l /proc/PID/fd} would see it: a POSIX shell
 * script run through the guest agent walks {@code /proc/[0-9]*}, reading each {@code stat}, {@code cmdline}, the
 * {@code exe} link and the {@code fd} links. A directory whose {@code stat} cannot be read (e.g. a bind mount over
 * {@code /proc/PID}) is recorded as not visible: {@code ps} skips it.
 */
public record GuestProcessView(double uptimeSeconds, Map<Integer, GuestProcess> processes) {

    /** One /proc entry. {@code visible}: its stat could be read. */
    public record GuestProcess(int pid, boolean visible, String comm, int ppid, String cmdline, String exe,
            Map<Integer, String> fds) {
    }

    /** The script; prints one marker line per fact (U uptime, S stat, H hidden, C cmdline, L then ls output). */
    static final String SCRIPT = String.join("\n",
            "read -r up _ < /proc/uptime; echo \"U $up\"",
            "for d in /proc/[0-9]*; do",
            "  p=${d#/proc/}",
            "  if read -r s < \"$d/stat\" 2>/dev/null; then echo \"S $p $s\"; else echo \"H $p\"; continue; fi",
            "  printf 'C %s ' \"$p\"; tr '\\000\\n' '\\001 ' < \"$d/cmdline\" 2>/dev/null; echo",
            "  echo \"L $p\"; ls -l \"$d/exe\" \"$d/fd/\" 2>/dev/null",
            "done",
            "echo END");

    private static final Pattern FD = Pattern.compile("\\s(\\d+) -> (.*)$");
    private static final Pattern EXE = Pattern.compile("/exe -> (.*)$");

    /** Parses the script's output; {@link IllegalArgumentException} when it is cut short. */
    static GuestProcessView parse(String out) {
        double up = -1;
        Map<Integer, Builder> procs = new TreeMap<>();
        Builder cur = null;
        boolean end = false;
        for (String line : out.split("\n", -1)) {
            if (line.equals("END")) {
                end = true;
                break;
            }
            if (line.startsWith("U ")) {
                try {
                    up = Double.parseDouble(line.substring(2).trim());
                } catch (NumberFormatException e) {
                    up = -1;
                }
            } else if (line.startsWith("S ") || line.startsWith("H ") || line.startsWith("C ") || line.startsWith("L ")) {
                String rest = line.substring(2);
                int sp = rest.indexOf(' ');
                int pid;
                try {
                    pid = Integer.parseInt(sp < 0 ? rest.trim() : rest.substring(0, sp));
                } catch (NumberFormatException e) {
                    if (cur != null) {
                        cur.ls(line);
                    }
                    continue;
                }
                String val = sp < 0 ? "" : rest.substring(sp + 1);
                Builder b = procs.computeIfAbsent(pid, Builder::new);
                switch (line.charAt(0)) {
                    case 'S' -> b.stat(val);
                    case 'H' -> b.visible = false;
                    case 'C' -> b.cmdline = String.join(" ", Arrays.stream(val.split("\u0001", -1))
                            .filter(x -> true).toList()).strip();
                    default -> cur = b;
                }
                if (line.charAt(0) != 'L') {
                    cur = null;
                }
            } else if (cur != null) {
                cur.ls(line);
            }
        }
        if (!end) {
            throw new IllegalArgumentException("in-guest listing cut short (no END marker)");
        }
        Map<Integer, GuestProcess> m = new LinkedHashMap<>();
        procs.forEach((k, v) -> m.put(k, v.build()));
        return new GuestProcessView(up, m);
    }

    private static final class Builder {
        final int pid;
        boolean visible = true;
        String comm = "";
        int ppid = -1;
        String cmdline = "";
        String exe = "";
        final Map<Integer, String> fds = new TreeMap<>();

        Builder(int pid) {
            this.pid = pid;
        }

        void stat(String s) {
            int open = s.indexOf('(');
            int close = s.lastIndexOf(')');
            if (open < 0 || close < open) {
                return;
            }
            comm = s.substring(open + 1, close);
            String[] f = s.substring(close + 1).trim().split(" ");
            if (f.length > 1) {
                try {
                    ppid = Integer.parseInt(f[1]);
                } catch (NumberFormatException e) {
                    ppid = -1;
                }
            }
        }

        void ls(String line) {
            Matcher e = EXE.matcher(line);
            if (line.contains("/exe -> ") && e.find()) {
                exe = e.group(1);
                return;
            }
            Matcher m = FD.matcher(line);
            if (m.find()) {
                fds.put(Integer.parseInt(m.group(1)), m.group(2));
            }
        }

        GuestProcess build() {
            return new GuestProcess(pid, visible, comm, ppid, cmdline, exe, Map.copyOf(fds));
        }
    }

    /** The pids in the subtree of {@code root} (the listing's own shell and its children). */
    List<Integer> subtree(long root) {
        List<Integer> out = new ArrayList<>();
        for (GuestProcess p : processes.values()) {
            if (p.pid() == root || p.ppid() == root) {
                out.add(p.pid());
            }
        }
        return out;
    }

    Optional<GuestProcess> get(int pid) {
        return Optional.ofNullable(processes.get(pid));
    }
}
