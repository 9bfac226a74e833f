package dev.sonde.rollback;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * A clone's name and UUID. The name has the byte length of the original's, so the save image's header XML can be
 * rewritten in place: {@code sf-} and random hex when the original's name is long enough, random hex otherwise.
 */
public record CloneIdentity(String name, String uuid) {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A fresh identity for a clone of {@code originalName}; {@code taken} says whether a name is in use. */
    public static CloneIdentity forOriginal(String originalName, Predicate<String> taken) {
        int len = originalName.getBytes(StandardCharsets.UTF_8).length;
        for (int attempt = 0; attempt < 100; attempt++) {
            byte[] b = new byte[(len + 1) / 2 + 2];
            RANDOM.nextBytes(b);
            String hex = HexFormat.of().formatHex(b);
            String name = (len >= 8 ? "sf-" + hex : hex).substring(0, len);
            if (!name.equals(originalName) && !taken.test(name)) {
                return new CloneIdentity(name, UUID.randomUUID().toString());
            }
        }
        throw new IllegalStateException("no free clone name of length " + len + " for " + originalName);
    }
}
