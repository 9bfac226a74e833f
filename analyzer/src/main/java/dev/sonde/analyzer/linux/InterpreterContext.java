package dev.sonde.analyzer.linux;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What an interpreter process is running: the script, module, archive or class that python, perl, php, ruby, node,
 * java or a shell (sh, bash, dash, busybox sh, ...) was started on, from its argument vector (options skipped the way
 * each interpreter parses them), with the open file that is that script when the interpreter holds it open (shells
 * and perl do, python does not once it has read it).
 *
 * @param interpreter the interpreter family ({@code python}, {@code perl}, {@code php}, {@code ruby}, {@code node},
 *                    {@code java}, {@code sh})
 * @param kind        {@code script} (a file), {@code module} ({@code python -m}, {@code java -m}), {@code jar}
 *                    ({@code java -jar}), {@code class} (a Java main class), {@code command} ({@code -c}/{@code -e}
 *                    code on the command line) or {@code stdin}
 * @param target      the script path, module, archive or class as given, or the command text
 * @param openFile    the descriptor target naming the script when one is open (with " (deleted)" when unlinked)
 */
public record InterpreterContext(String interpreter, String kind, String target, Optional<String> openFile) {
    private static final String DELETED = " (deleted)";
    private static final Pattern PYTHON = Pattern.compile("python[0-9.]*m?|pypy[0-9.]*");
    private static final Pattern PERL = Pattern.compile("perl[0-9.]*");
    private static final Pattern PHP = Pattern.compile("php[0-9.]*(-cli|-cgi)?");
    private static final Pattern RUBY = Pattern.compile("ruby[0-9.]*");
    private static final Set<String> SHELLS = Set.of("sh", "ash", "bash", "dash", "zsh", "ksh", "mksh", "ksh93", "hush");
    private static final int MAX_ARGS = 256;

    /** Whether the script held open has been unlinked. */
    public boolean deletedScript() {
        return kind.equals("script") && openFile.map(f -> f.endsWith(DELETED)).orElse(false);
    }

    /** One cell: the script's path (the open file's when known), or {@code KIND TARGET} for the other kinds. */
    public String describe() {
        return kind.equals("script") ? openFile.orElse(target) : kind + " " + target;
    }

    /** The context of {@code p} when it runs a known interpreter on something; empty otherwise. */
    public static Optional<InterpreterContext> of(ProcessInfo p) {
        if (p.kernelThread() || p.cmdline().isEmpty() || p.cmdline().get().isEmpty()) {
            return Optional.empty();
        }
        List<String> argv = p.cmdline().get();
        argv = argv.subList(0, Math.min(argv.size(), MAX_ARGS));
        String exe = p.exe().map(e -> e.endsWith(DELETED) ? e.substring(0, e.length() - DELETED.length()) : e).orElse("");
        String name = base(exe);
        int first = 1;
        if (name.equals("busybox")) {
            String applet = base(argv.get(0));
            if (applet.equals("busybox")) {
                if (argv.size() < 2) {
                    return Optional.empty();
                }
                applet = argv.get(1);
                first = 2;
            }
            name = applet;
        }
        String family = family(name);
        if (family == null) {
            return Optional.empty();
        }
        List<String> args = argv.subList(Math.min(first, argv.size()), argv.size());
        Optional<String[]> parsed = switch (family) {
            case "python" -> python(args);
            case "perl" -> perlRuby(args, "eE", "IMmCx", true);
            case "ruby" -> perlRuby(args, "e", "IrCEFx", false);
            case "php" -> php(args);
            case "node" -> node(args);
            case "java" -> java(args);
            default -> shell(args);
        };
        return parsed.map(r -> new InterpreterContext(family, r[0], r[1],
                r[0].equals("script") || r[0].equals("jar") ? openFile(p, r[1]) : Optional.empty()));
    }

    static String family(String name) {
        if (PYTHON.matcher(name).matches()) {
            return "python";
        }
        if (PERL.matcher(name).matches()) {
            return "perl";
        }
        if (PHP.matcher(name).matches()) {
            return "php";
        }
        if (RUBY.matcher(name).matches()) {
            return "ruby";
        }
        if (name.equals("node") || name.equals("nodejs")) {
            return "node";
        }
        if (name.equals("java")) {
            return "java";
        }
        return SHELLS.contains(name) ? "sh" : null;
    }

    private static Optional<String[]> found(String kind, String target) {
        return Optional.of(new String[]{kind, target});
    }

    private static String next(List<String> a, int i) {
        return i + 1 < a.size() ? a.get(i + 1) : "";
    }

    /** python [-bBdEhiIOPqsSuvVx...] [-W arg] [-X opt] (-c cmd | -m mod | script | -) args. */
    static Optional<String[]> python(List<String> a) {
        for (int i = 0; i < a.size(); i++) {
            String s = a.get(i);
            if (s.equals("-")) {
                return found("stdin", "-");
            }
            if (s.equals("--")) {
                return i + 1 < a.size() ? found("script", a.get(i + 1)) : Optional.empty();
            }
            if (s.startsWith("--")) {
                if (s.equals("--check-hash-based-pycs")) {
                    i++;
                }
                continue;
            }
            if (!s.startsWith("-")) {
                return found("script", s);
            }
            for (int k = 1; k < s.length(); k++) {
                char c = s.charAt(k);
                if (c == 'c' || c == 'm' || c == 'W' || c == 'X') {
                    String arg = k + 1 < s.length() ? s.substring(k + 1) : next(a, i);
                    if (k + 1 >= s.length()) {
                        i++;
                    }
                    if (c == 'c') {
                        return found("command", arg);
                    }
                    if (c == 'm') {
                        return found("module", arg);
                    }
                    break;
                }
            }
        }
        return Optional.empty();
    }

    /** perl and ruby: code options, options that take an argument (attached or, for some, separate), then the script. */
    static Optional<String[]> perlRuby(List<String> a, String code, String withArg, boolean perl) {
        for (int i = 0; i < a.size(); i++) {
            String s = a.get(i);
            if (s.equals("--")) {
                return i + 1 < a.size() ? found("script", a.get(i + 1)) : Optional.empty();
            }
            if (s.equals("-")) {
                return found("stdin", "-");
            }
            if (s.startsWith("--")) {
                continue; // ruby's long options carry their value after '='
            }
            if (!s.startsWith("-")) {
                return found("script", s);
            }
            char c = s.length() > 1 ? s.charAt(1) : 0;
            if (code.indexOf(c) >= 0) {
                return found("command", s.length() > 2 ? s.substring(2) : next(a, i));
            }
            if (withArg.indexOf(c) >= 0 && s.length() == 2 && !(perl && (c == 'M' || c == 'm' || c == 'x'))) {
                i++; // -I dir, ruby -r lib ...: separate argument
            }
        }
        return Optional.empty();
    }

    /** php [-c path] [-d k=v] [-n] (-f file | -r code | file) args. */
    static Optional<String[]> php(List<String> a) {
        for (int i = 0; i < a.size(); i++) {
            String s = a.get(i);
            switch (s) {
                case "-f" -> {
                    return i + 1 < a.size() ? found("script", a.get(i + 1)) : Optional.empty();
                }
                case "-r" -> {
                    return found("command", next(a, i));
                }
                case "-S" -> {
                    return found("command", "-S " + next(a, i));
                }
                case "-c", "-d", "-z", "-t" -> i++;
                case "--" -> {
                    return i + 1 < a.size() ? found("script", a.get(i + 1)) : Optional.empty();
                }
                default -> {
                    if (!s.startsWith("-")) {
                        return found("script", s);
                    }
                }
            }
        }
        return Optional.empty();
    }

    private static final Set<String> NODE_WITH_ARG = Set.of("-r", "--require", "--import", "--loader",
            "--experimental-loader", "-C", "--conditions", "--input-type", "--env-file", "--title", "--stack-size");

    /** node [options] (-e code | -p code | script | -) args. */
    static Optional<String[]> node(List<String> a) {
        for (int i = 0; i < a.size(); i++) {
            String s = a.get(i);
            if (s.equals("-e") || s.equals("--eval") || s.equals("-p") || s.equals("--print")) {
                return found("command", next(a, i));
            }
            if (s.equals("-")) {
                return found("stdin", "-");
            }
            if (s.equals("--")) {
                return i + 1 < a.size() ? found("script", a.get(i + 1)) : Optional.empty();
            }
            if (NODE_WITH_ARG.contains(s)) {
                i++;
            } else if (!s.startsWith("-")) {
                return found("script", s);
            }
        }
        return Optional.empty();
    }

    private static final Set<String> JAVA_WITH_ARG = Set.of("-cp", "-classpath", "--class-path", "-p", "--module-path",
            "--upgrade-module-path", "--add-modules", "--add-opens", "--add-exports", "--add-reads", "--patch-module",
            "--limit-modules", "--enable-native-access", "--describe-module", "-d");

    /** java [options] (-jar file.jar | -m module[/class] | --source N file | mainclass) args. */
    static Optional<String[]> java(List<String> a) {
        boolean source = false;
        for (int i = 0; i < a.size(); i++) {
            String s = a.get(i);
            if (s.equals("-jar")) {
                return i + 1 < a.size() ? found("jar", a.get(i + 1)) : Optional.empty();
            }
            if (s.equals("-m") || s.equals("--module")) {
                return found("module", next(a, i));
            }
            if (s.startsWith("--module=")) {
                return found("module", s.substring(9));
            }
            if (s.equals("--source")) {
                source = true;
                i++;
            } else if (JAVA_WITH_ARG.contains(s)) {
                i++;
            } else if (!s.startsWith("-")) {
                return found(source || s.endsWith(".java") ? "script" : "class", s);
            }
        }
        return Optional.empty();
    }

    /** sh/bash/dash [-abefhkmnptuvxC] [-o opt] [+o opt] (-c cmd | -s | script) args. */
    static Optional<String[]> shell(List<String> a) {
        boolean command = false;
        for (int i = 0; i < a.size(); i++) {
            String s = a.get(i);
            if (s.equals("--")) {
                i++;
                if (i < a.size()) {
                    return found(command ? "command" : "script", a.get(i));
                }
                return Optional.empty();
            }
            if (s.equals("--rcfile") || s.equals("--init-file") || s.equals("-o") || s.equals("+o")
                    || s.equals("-O") || s.equals("+O")) {
                i++;
                continue;
            }
            if (s.startsWith("--")) {
                continue;
            }
            if ((s.startsWith("-") || s.startsWith("+")) && s.length() > 1) {
                if (s.indexOf('c') > 0) {
                    command = true;
                }
                if (s.indexOf('s') > 0 && !command) {
                    return found("stdin", "-");
                }
                continue;
            }
            return found(command ? "command" : "script", s);
        }
        return Optional.empty();
    }

    /** The open descriptor whose target is {@code script} (absolute, or relative to wherever the process runs). */
    private static Optional<String> openFile(ProcessInfo p, String script) {
        if (script.isEmpty()) {
            return Optional.empty();
        }
        String rel = script;
        while (rel.startsWith("./")) {
            rel = rel.substring(2);
        }
        for (OpenFile f : p.files()) {
            if (!f.kind().equals("file") || f.target().isEmpty()) {
                continue;
            }
            String t = f.target().get();
            String bare = t.endsWith(DELETED) ? t.substring(0, t.length() - DELETED.length()) : t;
            if (script.startsWith("/") ? bare.equals(script) : bare.endsWith("/" + rel)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    private static String base(String path) {
        int i = path.lastIndexOf('/');
        return i >= 0 ? path.substring(i + 1) : path;
    }
}
