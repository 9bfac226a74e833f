package dev.sonde.cli.demo;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The Sonde checkout whose {@code fixtures/} scripts build and describe the demo guests: {@code --fixtures}, else
 * {@code $SONDE_REPO}, else the first directory above the working directory or above the running jar
 * ({@code REPO/cli/target/sonde.jar}) that holds {@code fixtures/tiny/build.sh}.
 */
public final class FixtureRepo {
    private FixtureRepo() {
    }

    public static Path locate(Optional<Path> given) {
        List<Path> tried = new ArrayList<>();
        if (given.isPresent()) {
            Path p = given.get().toAbsolutePath().normalize();
            Path repo = p.getFileName() != null && p.getFileName().toString().equals("fixtures") ? p.getParent() : p;
            if (isRepo(repo)) {
                return repo;
            }
            throw new DemoException(DemoException.Kind.ENVIRONMENT, given.get() + ": no fixtures/tiny/build.sh there");
        }
        String env = System.getenv("SONDE_REPO");
        if (env != null && !env.isBlank() && isRepo(Path.of(env))) {
            return Path.of(env).toAbsolutePath().normalize();
        }
        List<Path> starts = new ArrayList<>();
        starts.add(Path.of("").toAbsolutePath());
        try {
            starts.add(Path.of(FixtureRepo.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        } catch (URISyntaxException | RuntimeException e) {
            // no code source: the working directory only
        }
        for (Path s : starts) {
            for (Path d = s; d != null; d = d.getParent()) {
                tried.add(d);
                if (isRepo(d)) {
                    return d.normalize();
                }
            }
        }
        throw new DemoException(DemoException.Kind.ENVIRONMENT, "no Sonde checkout with fixtures/ found above "
                + starts + ": run the demo from the checkout or give --fixtures DIR");
    }

    private static boolean isRepo(Path d) {
        return Files.isRegularFile(d.resolve("fixtures/tiny/build.sh")) && Files.isRegularFile(d.resolve("fixtures/debian/mkdomain.sh"));
    }
}
