package dev.sonde.cli;

import dev.sonde.analyzer.image.BadImageException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sonde} command: checkpoint and rollback forensic analysis of virtual machines. */
@Command(name = "sonde", mixinStandardHelpOptions = true, versionProvider = Sonde.Version.class,
        description = "Checkpoint and rollback forensic analyzer for virtual machines.",
        subcommands = {InfoCommand.class, AnalyzeCommand.class, SymbolsCommand.class, SnapshotCommand.class, VerifyCommand.class,
            PruneCommand.class, ScheduleCommand.class, ForkCommand.class, KbCommand.class, InventoryCommand.class,
            VolCommand.class, DemoCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:ok",
            "1:findings at or above --fail-on",
            "2:usage error",
            "3:bad input (unreadable or malformed image or bundle)",
            "4:missing environment (libvirt, Python)",
            "5:integrity failure"})
public final class Sonde {

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line in-process; tests call this and read the writers. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = commandLine(out, err);
        return cl.execute(args);
    }

    static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Sonde());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExitCodeExceptionMapper(Sonde::exitCode);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("sonde: " + message(ex));
            if (System.getenv("SONDE_DEBUG") != null) {
                ex.printStackTrace(commandLine.getErr());
            }
            return exitCode(ex);
        });
        return cl;
    }

    static int exitCode(Throwable ex) {
        if (ex instanceof CommandLine.ParameterException) {
            return ExitCodes.USAGE;
        }
        if (ex instanceof BadImageException || ex instanceof NoSuchFileException || ex instanceof AccessDeniedException) {
            return ExitCodes.BAD_INPUT;
        }
        if (ex instanceof dev.sonde.analyzer.kernel.profile.ProfileException
                || ex instanceof dev.sonde.analyzer.kernel.isf.IsfFormatException) {
            return ExitCodes.BAD_INPUT;
        }
        if (ex instanceof dev.sonde.analyzer.volatility.VolatilityUnavailableException) {
            return ExitCodes.MISSING_ENVIRONMENT;
        }
        if (ex instanceof SondeException se) {
            return se.exitCode();
        }
        return ExitCodes.BAD_INPUT;
    }

    private static String message(Throwable ex) {
        if (ex instanceof NoSuchFileException nsf) {
            return nsf.getFile() + ": no such file";
        }
        if (ex instanceof AccessDeniedException ade) {
            return ade.getFile() + ": permission denied";
        }
        String m = ex.getMessage();
        return m == null ? ex.toString() : m;
    }

    /** Reads the version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Sonde.class.getPackage().getImplementationVersion();
            return new String[] {"sonde " + (v == null ? "development build" : v)};
        }
    }
}
