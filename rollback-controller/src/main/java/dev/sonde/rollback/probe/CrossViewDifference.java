package dev.sonde.rollback.probe;

/**
 * One difference between the guest's own view and Sonde's memory view.
 *
 * @param pid    the process
 * @param what   {@code hidden-in-guest} (in memory; the guest's /proc does not show it), {@code missing-in-memory},
 *               {@code comm}, {@code cmdline}, {@code exe}, {@code fd-only-in-guest}, {@code fd-only-in-memory},
 *               {@code fd-target}
 * @param guest  what the guest shows ({@code -} for nothing)
 * @param memory what the memory analysis shows ({@code -} for nothing)
 * @param note   context that may explain it (the listing's own processes, processes started after the listing)
 */
public record CrossViewDifference(int pid, String what, String guest, String memory, String note) {
}
