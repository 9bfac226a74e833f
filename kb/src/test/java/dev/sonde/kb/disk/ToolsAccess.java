package dev.sonde.kb.disk;

import java.nio.file.Path;

/** {@link Tools} for the tests of other packages. */
public final class ToolsAccess {
    private ToolsAccess() {
    }

    public static String run(Path dir, String... cmd) throws Exception {
        return Tools.run(dir, cmd);
    }
}
