package dev.sonde.analyzer.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@link InterpreterContext}: the script found behind each interpreter's options, on the fixtures' real processes and
 * on argument vectors of the forms each interpreter documents.
 */
class InterpreterContextTest {

    /** A process value running {@code exe} with {@code argv} and the given open files (targets). */
    private static ProcessInfo process(String exe, List<String> argv, String... openFiles) {
        List<OpenFile> files = new java.util.ArrayList<>();
        for (int i = 0; i < openFiles.length; i++) {
            files.add(new OpenFile(i + 3, Optional.of(openFiles[i]), "file", Optional.of(0L), Optional.of(0L),
                    Optional.of(1L), 0, Optional.empty(), Optional.empty()));
        }
        return new ProcessInfo(0, 42, 42, 1, "x", "S", false, 0, Optional.of(0), Optional.of(0), Optional.of(0),
                Optional.of(0), 0, 0, Optional.of(argv), Optional.of(List.of()), Optional.of(exe), List.of(42), List.of(),
                files, Completeness.of(List.of()));
    }

    private static String describe(String exe, String... argv) {
        return InterpreterContext.of(process(exe, List.of(argv))).map(c -> c.interpreter() + " " + c.describe())
                .orElse("none");
    }

    @Test
    void pythonSkipsItsOptions() {
        assertEquals("python /srv/app.py", describe("/usr/bin/python3.11", "python3", "-u", "-W", "ignore", "/srv/app.py", "-v"));
        assertEquals("python module http.server", describe("/usr/bin/python3.11", "python3", "-u", "-m", "http.server", "8000"));
        assertEquals("python module http.server", describe("/usr/bin/python3.11", "python3", "-uBmhttp.server"));
        assertEquals("python command print(1)", describe("/usr/bin/python3.11", "python3", "-c", "print(1)"));
        assertEquals("python stdin -", describe("/usr/bin/python3.11", "python3", "-"));
        assertEquals("none", describe("/usr/bin/python3.11", "python3", "-i"));
    }

    @Test
    void javaJarClassPathAndModule() {
        assertEquals("java jar /opt/app/app.jar", describe("/usr/lib/jvm/java-17/bin/java", "java", "-Xmx1g",
                "-Dx=y", "-jar", "/opt/app/app.jar", "--port", "80"));
        assertEquals("java class com.example.Main", describe("/usr/lib/jvm/java-17/bin/java", "java", "-cp",
                "/opt/a.jar:/opt/b.jar", "com.example.Main", "arg"));
        assertEquals("java module app/com.example.Main", describe("/usr/bin/java", "java", "-p", "mods", "-m",
                "app/com.example.Main"));
    }

    @Test
    void shellsPerlRubyPhpNode() {
        assertEquals("sh /etc/init.d/rc", describe("/usr/bin/dash", "/bin/sh", "-e", "/etc/init.d/rc", "2"));
        assertEquals("sh command echo hi", describe("/usr/bin/bash", "bash", "-c", "echo hi"));
        assertEquals("sh /root/x.sh", describe("/usr/bin/bash", "bash", "--norc", "-o", "pipefail", "/root/x.sh"));
        assertEquals("sh /init", describe("/bin/busybox", "/bin/busybox", "sh", "/init"));
        assertEquals("sh /etc/rc", describe("/bin/busybox", "sh", "/etc/rc"));
        assertEquals("none", describe("/bin/busybox", "sleep", "10"));
        assertEquals("perl /usr/sbin/tool.pl", describe("/usr/bin/perl", "perl", "-w", "-I", "/opt/lib", "-MStrict",
                "/usr/sbin/tool.pl"));
        assertEquals("perl command print 1", describe("/usr/bin/perl", "perl", "-e", "print 1"));
        assertEquals("ruby app.rb", describe("/usr/bin/ruby3.1", "ruby", "-r", "json", "app.rb"));
        assertEquals("php /var/www/cron.php", describe("/usr/bin/php8.2", "php", "-d", "memory_limit=1G", "-f",
                "/var/www/cron.php"));
        assertEquals("node server.js", describe("/usr/bin/node", "node", "--inspect=9229", "-r", "dotenv/config",
                "server.js"));
        assertEquals("none", describe("/usr/sbin/nginx", "nginx"));
    }

    @Test
    void theOpenScriptNamesItAndTellsWhetherItWasDeleted() {
        InterpreterContext c = InterpreterContext.of(process("/usr/bin/bash", List.of("bash", "./run.sh"),
                "/dev/null", "/home/u/run.sh (deleted)")).orElseThrow();
        assertEquals(Optional.of("/home/u/run.sh (deleted)"), c.openFile());
        assertEquals(true, c.deletedScript());
        InterpreterContext kept = InterpreterContext.of(process("/usr/bin/perl", List.of("perl", "/opt/x.pl"),
                "/opt/x.pl")).orElseThrow();
        assertEquals(false, kept.deletedScript());
    }

    @Test
    void theTinyGuestsInitIsTheScriptInit() {
        ProcessInfo init = TinyFixture.report().processes().stream().filter(p -> p.pid() == 1).findFirst().orElseThrow();
        assertEquals("sh /init", init.interpreter().map(c -> c.interpreter() + " " + c.target()).orElse("none"));
    }

    @Test
    void theDebianGuestsPythonWorkerRunsItsScript() {
        ProcessInfo worker = TinyAnalysis.debian().processes().processes().stream()
                .filter(p -> p.cmdline().map(c -> c.contains("/opt/sonde/pyworker.py")).orElse(false)).findFirst()
                .orElseThrow();
        assertEquals(Optional.of("python /opt/sonde/pyworker.py"),
                worker.interpreter().map(c -> c.interpreter() + " " + c.describe()));
        List<String> others = TinyAnalysis.debian().processes().processes().stream()
                .filter(p -> p != worker && p.interpreter().isPresent())
                .map(p -> p.pid() + " " + p.interpreter().get()).toList();
        assertEquals(List.of(), others, "no other interpreter runs on the debian guest");
    }
}
