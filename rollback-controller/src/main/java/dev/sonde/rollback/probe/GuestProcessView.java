package dev.sonde.rollback.probe;

import java.util.ArrayList;
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
 * {@code /proc/PID}) is recorded as not visible: {@code ps} skips it. When the guest has {@code python3} the walk is one
 * Python process printing JSON (fast, exact); otherwise a POSIX shell loop ({@code exact} false: newlines in command
 * lines read as spaces).
 */
public record GuestProcessView(double uptimeSeconds, boolean exact, Map<Integer, GuestProcess> processes) {

    /** One /proc entry. {@code visible}: its stat could be read. */
    public record GuestProcess(int pid, boolean visible, String comm, int ppid, String cmdline, String exe,
            Map<Integer, String> fds) {
    }

    /** The walk in Python: one JSON document. */
    static final String PYTHON = String.join("\n",
            "import json, os",
            "out = {'uptime': float(open('/proc/uptime').read().split()[0]), 'procs': []}",
            "for n in os.listdir('/proc'):",
            "    if not n.isdigit(): continue",
            "    d = '/proc/' + n",
            "    p = {'pid': int(n)}",
            "    try:",
            "        s = open(d + '/stat', 'rb').read().decode('utf-8', 'replace')",
            "    except OSError:",
            "        p['visible'] = False; out['procs'].append(p); continue",
            "    p['visible'] = True",
            "    p['comm'] = s[s.index('(') + 1:s.rindex(')')]",
            "    p['ppid'] = int(s[s.rindex(')') + 2:].split()[1])",
            "    try:",
            "        c = open(d + '/cmdline', 'rb').read().decode('utf-8', 'replace')",
            "        p['cmdline'] = ' '.join(c.split('\\0')).strip()",
            "    except OSError:",
            "        p['cmdline'] = ''",
            "    try: p['exe'] = os.readlink(d + '/exe')",
            "    except OSError: p['exe'] = ''",
            "    fds = {}",
            "    try:",
            "        for f in os.listdir(d + '/fd'):",
            "            try: fds[f] = os.readlink(d + '/fd/' + f)",
            "            except OSError: pass",
            "    except OSError: pass",
            "    p['fds'] = fds",
            "    out['procs'].append(p)",
            "print(json.dumps(out))");

    /** The script: Python when the guest has it, otherwise marker lines (U uptime, S stat, H hidden, C cmdline, L ls). */
    static final String SCRIPT = String.join("\n",
            "if command -v python3 >/dev/null 2>&1; then exec python3 -c \"$1\"; fi",
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
        if (out.startsWith("{")) {
            return parseJson(out);
        }
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
                    case 'C' -> b.cmdline = val.replace('\u0001', ' ').strip();
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
        return new GuestProcessView(up, false, m);
    }

    private static GuestProcessView parseJson(String out) {
        com.fasterxml.jackson.databind.JsonNode root;
        try {
            root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("in-guest listing is not valid JSON: " + e.getMessage());
        }
        Map<Integer, GuestProcess> m = new TreeMap<>();
        for (com.fasterxml.jackson.databind.JsonNode p : root.path("procs")) {
            Map<Integer, String> fds = new TreeMap<>();
            p.path("fds").fields().forEachRemaining(e -> {
                try {
                    fds.put(Integer.parseInt(e.getKey()), e.getValue().asText());
                } catch (NumberFormatException x) {
                    // not an fd number: ignore
                }
            });
            int pid = p.path("pid").asInt();
            m.put(pid, new GuestProcess(pid, p.path("visible").asBoolean(false), p.path("comm").asText(""),
                    p.path("ppid").asInt(-1), p.path("cmdline").asText(""), p.path("exe").asText(""), Map.copyOf(fds)));
        }
        if (!root.has("uptime")) {
            throw new IllegalArgumentException("in-guest listing has no uptime");
        }
        return new GuestProcessView(root.path("uptime").asDouble(-1), true, new LinkedHashMap<>(m));
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
