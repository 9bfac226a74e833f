package dev.sonde.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Where a command's result goes: stdout, or a file ({@code -o}) written under a temporary name next to it and renamed
 * into place only when complete, so a failed run never leaves a partial result that looks whole.
 */
final class ReportOutput {
    /** Writes the result to a writer. */
    @FunctionalInterface
    interface Body {
        void write(Writer w) throws IOException;
    }

    private ReportOutput() {
    }

    /** Fails early, before any work, when {@code file}'s directory does not exist. */
    static void checkDestination(Path file) throws IOException {
        if (file != null && !Files.isDirectory(file.toAbsolutePath().getParent())) {
            throw new NoSuchFileException(file.toAbsolutePath().getParent().toString(), null, "directory of -o " + file);
        }
    }

    static void write(Path file, PrintWriter stdout, Body body) throws IOException {
        if (file == null) {
            body.write(stdout);
            stdout.flush();
            return;
        }
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".partial");
        try {
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                body.write(w);
            }
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
