package dev.sonde.analyzer.kernel.profile;

import java.util.List;

/**
 * What a bounded walk of a kernel data structure found.
 *
 * @param items    the elements read, in walk order
 * @param problems what could not be read or looked wrong (absent memory, a cycle, an implausible pointer, the element
 *                 limit), each naming the address
 * @param complete whether the walk reached the structure's natural end without a problem that stopped it
 */
public record WalkResult<T>(List<T> items, List<String> problems, boolean complete) {
    public WalkResult {
        items = List.copyOf(items);
        problems = List.copyOf(problems);
    }
}
