package dev.sonde.analyzer.report.html;

import java.util.List;

/**
 * What changed across a series of checkpoints of one guest: for each checkpoint (oldest first), the items that
 * appeared and vanished since the one before.
 *
 * @param steps one per checkpoint, in time order
 */
public record Timeline(List<Step> steps) {
    public Timeline {
        steps = List.copyOf(steps);
    }

    /**
     * One checkpoint and the differences to the previous one.
     *
     * @param checkpoint label of the checkpoint (time or bundle name)
     * @param appeared   items present now and not before
     * @param vanished   items present before and not now
     */
    public record Step(String checkpoint, List<Change> appeared, List<Change> vanished) {
        public Step {
            appeared = List.copyOf(appeared);
            vanished = List.copyOf(vanished);
        }
    }

    /**
     * One item that appeared or vanished.
     *
     * @param kind what it is ({@code process}, {@code binary}, {@code socket}, {@code file}, ...)
     * @param item how it is named (e.g. {@code 412 nginx})
     */
    public record Change(String kind, String item) {
    }
}
