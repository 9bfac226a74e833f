package dev.sonde.analyzer.kernel;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The kernel's VMCOREINFO: {@code KEY=VALUE} lines the Linux kernel publishes for dump tools
 * (OSRELEASE, BUILD-ID, PAGESIZE, KERNELOFFSET, SYMBOL(x), OFFSET(s.m), SIZE(s), NUMBER(x), CONFIG_X).
 */
public record Vmcoreinfo(Map<String, String> entries) {
    /** Hostile input: the note is bounded before parsing, and so is each line. */
    public static final int MAX_BYTES = 1 << 20;

    public Vmcoreinfo {
        entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    /** Parses the note text; unparsable lines are skipped, the first value of a repeated key wins. */
    public static Vmcoreinfo parse(byte[] text) {
        String s = new String(text, 0, Math.min(text.length, MAX_BYTES), StandardCharsets.ISO_8859_1);
        Map<String, String> map = new LinkedHashMap<>();
        for (String line : s.split("\n")) {
            int nul = line.indexOf('\0');
            if (nul >= 0) {
                line = line.substring(0, nul);
            }
            int eq = line.indexOf('=');
            if (eq > 0) {
                map.putIfAbsent(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return new Vmcoreinfo(map);
    }

    public Optional<String> get(String key) {
        return Optional.ofNullable(entries.get(key));
    }

    public Optional<String> osRelease() {
        return get("OSRELEASE");
    }

    public Optional<String> buildId() {
        return get("BUILD-ID");
    }

    /** {@code SYMBOL(name)}: a kernel virtual address. */
    public OptionalLong symbol(String name) {
        return hex("SYMBOL(" + name + ")");
    }

    /** {@code OFFSET(struct.member)}: decimal byte offset. */
    public OptionalLong offset(String structMember) {
        return decimal("OFFSET(" + structMember + ")");
    }

    /** {@code SIZE(type)}: decimal size in bytes. */
    public OptionalLong size(String type) {
        return decimal("SIZE(" + type + ")");
    }

    /** {@code NUMBER(name)}: decimal (may be negative). */
    public OptionalLong number(String name) {
        return decimal("NUMBER(" + name + ")");
    }

    /** KASLR shift of the kernel's virtual addresses ({@code KERNELOFFSET}, hexadecimal). */
    public OptionalLong kernelOffset() {
        return hex("KERNELOFFSET");
    }

    public OptionalLong pageSize() {
        return decimal("PAGESIZE");
    }

    private OptionalLong hex(String key) {
        String v = entries.get(key);
        if (v == null) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseUnsignedLong(v.trim(), 16));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    private OptionalLong decimal(String key) {
        String v = entries.get(key);
        if (v == null) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(v.trim()));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
