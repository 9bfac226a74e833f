package dev.sonde.analyzer.kernel;

import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds Linux version banners ({@code "Linux version 6.1.0-57-amd64 (debian-kernel@...) ... #1 SMP ...\n"}) in
 * physical memory. The kernel's {@code linux_banner} constant ends in a newline and a NUL; copies in the log
 * buffer or in user memory may not, so each hit records whether it looked like the constant.
 */
public final class LinuxBanners {
    private static final byte[] PREFIX = "Linux version ".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_BANNER = 512;
    private static final int CHUNK = 8 << 20;

    private LinuxBanners() {
    }

    /** A banner and the physical address of its first occurrence. */
    public record Banner(String text, long physicalAddress, boolean terminated) {

        /** The release, e.g. {@code 6.1.0-57-amd64}: the word after "Linux version". */
        public String release() {
            String rest = text.substring(PREFIX.length);
            int sp = rest.indexOf(' ');
            return sp < 0 ? rest : rest.substring(0, sp);
        }
    }

    /** Distinct banners in address order of first occurrence, at most {@code limit} of them. */
    public static List<Banner> scan(PhysicalMemory memory, int limit) {
        Map<String, Banner> found = new LinkedHashMap<>();
        byte[] buf = new byte[CHUNK + MAX_BANNER];
        for (MemoryRange range : memory.ranges()) {
            for (long base = range.start(); base < range.end() && found.size() < limit; base += CHUNK) {
                int n = memory.read(base, buf, 0, (int) Math.min(buf.length, range.end() - base));
                int searchEnd = Math.min(n, CHUNK);
                for (int i = indexOf(buf, 0, searchEnd); i >= 0; i = indexOf(buf, i + 1, searchEnd)) {
                    Banner b = banner(buf, i, n, base + i);
                    if (b != null) {
                        found.putIfAbsent(b.text(), b);
                        if (found.size() >= limit) {
                            break;
                        }
                    }
                }
            }
        }
        return List.copyOf(found.values());
    }

    /**
     * The banner most likely to be the kernel's own {@code linux_banner}: terminated like the constant and carrying a
     * build number ({@code #1 SMP ...}; other kernel strings copy the banner without it), else terminated, else the first.
     */
    public static java.util.Optional<Banner> best(List<Banner> banners) {
        return banners.stream().filter(b -> b.terminated() && BUILD_NUMBER.matcher(b.text()).find()).findFirst()
                .or(() -> banners.stream().filter(Banner::terminated).findFirst())
                .or(() -> banners.stream().findFirst());
    }

    private static final java.util.regex.Pattern BUILD_NUMBER = java.util.regex.Pattern.compile(" #\\d+ ");

    private static Banner banner(byte[] buf, int start, int limit, long address) {
        int end = start + PREFIX.length;
        int max = Math.min(limit, start + MAX_BANNER);
        while (end < max && buf[end] >= 0x20 && buf[end] < 0x7f) {
            end++;
        }
        // Require "Linux version <release> (" to skip stray mentions of the phrase.
        String text = new String(buf, start, end - start, StandardCharsets.US_ASCII);
        if (end - start < PREFIX.length + 3 || !text.contains(" (") || !text.contains("#")) {
            return null;
        }
        boolean terminated = end + 1 < limit && buf[end] == '\n' && buf[end + 1] == 0;
        return new Banner(text, address, terminated);
    }

    private static int indexOf(byte[] buf, int from, int to) {
        byte first = PREFIX[0];
        outer:
        for (int i = from; i <= to - 1 && i + PREFIX.length <= buf.length; i++) {
            if (buf[i] != first) {
                continue;
            }
            for (int j = 1; j < PREFIX.length; j++) {
                if (buf[i + j] != PREFIX[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
