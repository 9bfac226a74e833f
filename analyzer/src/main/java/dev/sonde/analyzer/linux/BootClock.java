package dev.sonde.analyzer.linux;

import dev.sonde.analyzer.kernel.profile.KObject;
import dev.sonde.analyzer.kernel.profile.KernelMemory;
import dev.sonde.analyzer.kernel.profile.KernelReadException;
import dev.sonde.analyzer.kernel.profile.ProfileException;
import dev.sonde.analyzer.memory.AbsentMemoryException;
import java.time.Instant;
import java.util.Optional;

/**
 * The guest's wall clock as its kernel kept it, from the timekeeper ({@code tk_core.timekeeper}): the capture
 * instant ({@code xtime_sec} plus the shifted {@code tkr_mono.xtime_nsec}, as of the last timer tick) and the
 * wall-clock instant of boot. {@code CLOCK_BOOTTIME = CLOCK_REALTIME - offs_real + offs_boot}, so the wall-clock time
 * of boottime zero is {@code offs_real - offs_boot}; a task started at {@code start_boottime} ns started at
 * {@code boot + start_boottime}. The guest's clock is what the guest believed (NTP-corrected or not), not the host's.
 *
 * @param boot    wall-clock instant of boottime zero
 * @param capture the guest's wall clock at its last tick before the capture
 */
public record BootClock(Instant boot, Instant capture) {
    /** Earliest and latest plausible wall-clock seconds (2000-01-01, 2200-01-01): anything else is not a clock. */
    static final long MIN_SECONDS = 946_684_800L;
    static final long MAX_SECONDS = 7_258_118_400L;

    /** Wall-clock time of an instant {@code boottimeNs} after boot. */
    public Instant at(long boottimeNs) {
        return boot.plusNanos(boottimeNs);
    }

    /**
     * Reads the timekeeper. {@code tk_core} is an unnamed struct of a {@code seqcount_raw_spinlock_t} followed by the
     * {@code struct timekeeper}, which starts at the lock's size rounded up to 8 (its alignment).
     *
     * @return empty with no reason thrown when the kernel has no {@code tk_core} symbol
     * @throws KernelReadException when the timekeeper cannot be read or holds no plausible clock
     */
    public static Optional<BootClock> read(KernelMemory kernel) {
        if (kernel.profile().symbol("tk_core").isEmpty()) {
            return Optional.empty();
        }
        long lock = kernel.profile().size("seqcount_raw_spinlock").orElse(4);
        KObject tk;
        try {
            tk = kernel.object("timekeeper", kernel.profile().requireSymbol("tk_core") + ((lock + 7) & ~7L));
        } catch (ProfileException e) {
            throw new KernelReadException("timekeeper: " + e.getMessage(), e);
        }
        try {
            long sec = tk.integer("xtime_sec");
            KObject mono = tk.field("tkr_mono");
            long shift = mono.integer("shift");
            long nsec = shift >= 0 && shift < 64 ? mono.integer("xtime_nsec") >>> shift : 0;
            long offsReal = tk.integer("offs_real");
            long offsBoot = tk.integer("offs_boot");
            if (sec < MIN_SECONDS || sec > MAX_SECONDS || nsec >= 1_000_000_000L) {
                throw new KernelReadException(String.format("timekeeper at 0x%x: xtime %d.%09d is no plausible wall clock",
                        tk.address(), sec, nsec));
            }
            long bootNs = offsReal - offsBoot;
            Instant boot = Instant.ofEpochSecond(Math.floorDiv(bootNs, 1_000_000_000L), Math.floorMod(bootNs, 1_000_000_000L));
            Instant capture = Instant.ofEpochSecond(sec, nsec);
            if (boot.isAfter(capture) || boot.getEpochSecond() < MIN_SECONDS) {
                throw new KernelReadException(String.format("timekeeper at 0x%x: boot at %s, capture at %s: inconsistent",
                        tk.address(), boot, capture));
            }
            return Optional.of(new BootClock(boot, capture));
        } catch (AbsentMemoryException e) {
            throw new KernelReadException("timekeeper: " + e.getMessage(), e);
        }
    }
}
