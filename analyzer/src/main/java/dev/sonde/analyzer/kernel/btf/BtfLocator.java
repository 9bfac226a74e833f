package dev.sonde.analyzer.kernel.btf;

import dev.sonde.analyzer.kernel.profile.PhysicalScan;
import dev.sonde.analyzer.memory.MemoryRange;
import dev.sonde.analyzer.memory.PhysicalMemory;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the kernel's {@code .BTF} section (between {@code __start_BTF} and {@code __stop_BTF}) in physical memory: the
 * kernel image is physically contiguous, so the blob is too. A candidate is a BTF header (magic 0xeB9F, version 1,
 * header length 24, consistent section offsets) whose string section starts with a NUL and names {@code task_struct};
 * module BTF (split BTF, which only adds the module's own strings) does not.
 */
public final class BtfLocator {
    private static final byte[] HEAD = {(byte) 0x9f, (byte) 0xeb, 1, 0, 24, 0, 0, 0};

    private BtfLocator() {
    }

    /** A BTF blob and where it lies in physical memory. */
    public record Found(long physicalAddress, Btf btf) {
    }

    /** All plausible vmlinux BTF blobs in {@code ranges}, in address order, at most {@code limit}. */
    public static List<Found> scan(PhysicalMemory memory, List<MemoryRange> ranges, int limit) {
        List<Long> starts = new ArrayList<>();
        PhysicalScan.scan(memory, ranges, Btf.HEADER_LENGTH, (base, buf, length, lim) -> {
            for (int i = 0; i < lim; i++) {
                if (buf[i] != HEAD[0] || i + Btf.HEADER_LENGTH > length) {
                    continue;
                }
                boolean match = true;
                for (int j = 1; j < HEAD.length; j++) {
                    if (buf[i + j] != HEAD[j]) {
                        match = false;
                        break;
                    }
                }
                if (match && Btf.announcedLength(buf, i, length) > 0) {
                    starts.add(base + i);
                    if (starts.size() >= 64) {
                        return false;
                    }
                }
            }
            return true;
        });
        List<Found> found = new ArrayList<>();
        for (long start : starts) {
            byte[] head = new byte[Btf.HEADER_LENGTH];
            if (memory.read(start, head, 0, head.length) != head.length) {
                continue;
            }
            long total = Btf.announcedLength(head, 0, head.length);
            if (total <= 0) {
                continue;
            }
            byte[] data = new byte[(int) total];
            if (memory.read(start, data, 0, data.length) != data.length) {
                continue;
            }
            try {
                Btf btf = Btf.parse(data);
                if (btf.count() > 1000 && btf.hasString("task_struct")) {
                    found.add(new Found(start, btf));
                    if (found.size() >= limit) {
                        break;
                    }
                }
            } catch (BtfFormatException e) {
                // not a usable blob; keep looking
            }
        }
        return found;
    }
}
