package dev.sonde.kb.elf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * What a knowledge base keeps of one ELF file: its type, GNU build-id and the SHA-256 of every page of its executable
 * segments as the loader maps them. For each {@code PT_LOAD} with {@code PF_X}, the pages run from
 * {@code p_offset & ~0xfff} to {@code p_offset + p_filesz} rounded up; a page is the file's 4096 bytes at that offset,
 * zero-padded past end of file (the kernel maps whole file pages), so it hashes the same as the resident page of a
 * process mapping that file.
 *
 * @param elfType {@code EXEC}, {@code DYN}, {@code REL}, {@code CORE} or the number
 * @param buildId lower-case hex GNU build-id when the file has one
 * @param pages   the executable pages in offset order
 */
public record ElfCode(String elfType, Optional<String> buildId, List<CodePage> pages) {
    public static final int PAGE = 4096;
    private static final int MAX_PHDRS = 4096;

    public ElfCode {
        pages = List.copyOf(pages);
    }

    /** True when {@code head} starts with the ELF magic. */
    public static boolean isElf(byte[] head, int len) {
        return len >= 4 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F';
    }

    /** Parses {@code file}; empty when it is not a well-formed 64- or 32-bit little-endian ELF file. */
    public static Optional<ElfCode> of(byte[] file) {
        if (file.length < 52 || !isElf(file, file.length) || file[5] != 1) {
            return Optional.empty();
        }
        boolean is64 = file[4] == 2;
        if (!is64 && file[4] != 1) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int type = b.getShort(16) & 0xffff;
        long phoff = is64 ? b.getLong(32) : b.getInt(28) & 0xffffffffL;
        int phentsize = b.getShort(is64 ? 54 : 42) & 0xffff;
        int phnum = b.getShort(is64 ? 56 : 44) & 0xffff;
        if (phnum > MAX_PHDRS || phentsize < (is64 ? 56 : 32) || phoff < 0 || phoff + (long) phnum * phentsize > file.length) {
            return Optional.empty();
        }
        TreeSet<Long> offsets = new TreeSet<>();
        Optional<String> buildId = Optional.empty();
        for (int i = 0; i < phnum; i++) {
            int h = (int) (phoff + (long) i * phentsize);
            long ptype = b.getInt(h) & 0xffffffffL;
            long flags = is64 ? b.getInt(h + 4) & 0xffffffffL : b.getInt(h + 24) & 0xffffffffL;
            long off = is64 ? b.getLong(h + 8) : b.getInt(h + 4) & 0xffffffffL;
            long filesz = is64 ? b.getLong(h + 32) : b.getInt(h + 16) & 0xffffffffL;
            if (off < 0 || filesz < 0 || off > file.length || filesz > (1L << 32)) {
                continue;
            }
            if (ptype == 1 && (flags & 1) != 0 && filesz > 0) {
                long end = Math.min(off + filesz, file.length + (long) PAGE);
                for (long p = off & ~(PAGE - 1L); p < end; p += PAGE) {
                    offsets.add(p);
                }
            } else if (ptype == 4 && buildId.isEmpty()) {
                buildId = buildId(b, off, Math.min(filesz, file.length - off));
            }
        }
        List<CodePage> pages = new ArrayList<>(offsets.size());
        MessageDigest sha = sha256();
        byte[] page = new byte[PAGE];
        for (long p : offsets) {
            if (p >= file.length) {
                continue;
            }
            int n = (int) Math.min(PAGE, file.length - p);
            System.arraycopy(file, (int) p, page, 0, n);
            java.util.Arrays.fill(page, n, PAGE, (byte) 0);
            pages.add(new CodePage(p, HexFormat.of().formatHex(sha.digest(page))));
        }
        return Optional.of(new ElfCode(typeName(type), buildId, pages));
    }

    private static Optional<String> buildId(ByteBuffer b, long off, long len) {
        long p = off;
        long end = off + len;
        for (int n = 0; n < 64 && p + 12 <= end; n++) {
            long namesz = b.getInt((int) p) & 0xffffffffL;
            long descsz = b.getInt((int) p + 4) & 0xffffffffL;
            long type = b.getInt((int) p + 8) & 0xffffffffL;
            long name = p + 12;
            long desc = name + ((namesz + 3) & ~3L);
            long next = desc + ((descsz + 3) & ~3L);
            if (namesz > 256 || descsz > 1024 || next > end) {
                return Optional.empty();
            }
            if (type == 3 && namesz == 4 && b.get((int) name) == 'G' && b.get((int) name + 1) == 'N'
                    && b.get((int) name + 2) == 'U' && descsz > 0) {
                byte[] id = new byte[(int) descsz];
                b.get((int) desc, id);
                return Optional.of(HexFormat.of().formatHex(id));
            }
            p = next;
        }
        return Optional.empty();
    }

    private static String typeName(int t) {
        return switch (t) {
            case 1 -> "REL";
            case 2 -> "EXEC";
            case 3 -> "DYN";
            case 4 -> "CORE";
            default -> Integer.toString(t);
        };
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** SHA-256 of {@code data} as lower-case hex. */
    public static String sha256(byte[] data) {
        return HexFormat.of().formatHex(sha256().digest(data));
    }

}
