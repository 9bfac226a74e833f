package dev.sonde.analyzer.linux;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Precision and recall of analysis results against the ground truth, one field at a time. Each field is a set of
 * facts ({@code key = value} strings); precision is the share of facts found that the ground truth has, recall the
 * share of ground-truth facts found.
 */
final class GroundTruthComparison {
    record Score(String field, int found, int expected, int matched, List<String> missing, List<String> extra) {
        double precision() {
            return found == 0 ? (expected == 0 ? 1 : 0) : (double) matched / found;
        }

        double recall() {
            return expected == 0 ? 1 : (double) matched / expected;
        }

        boolean perfect() {
            return missing.isEmpty() && extra.isEmpty();
        }

        @Override
        public String toString() {
            return String.format("%-14s precision %6.2f%% recall %6.2f%% (found %d, expected %d, matched %d)%s%s", field,
                    100 * precision(), 100 * recall(), found, expected, matched,
                    missing.isEmpty() ? "" : "\n    missing: " + missing.subList(0, Math.min(10, missing.size())),
                    extra.isEmpty() ? "" : "\n    extra:   " + extra.subList(0, Math.min(10, extra.size())));
        }
    }

    private final Map<String, Set<String>> found = new LinkedHashMap<>();
    private final Map<String, Set<String>> expected = new LinkedHashMap<>();

    void found(String field, String fact) {
        found.computeIfAbsent(field, k -> new TreeSet<>()).add(fact);
        expected.computeIfAbsent(field, k -> new TreeSet<>());
    }

    void expected(String field, String fact) {
        expected.computeIfAbsent(field, k -> new TreeSet<>()).add(fact);
        found.computeIfAbsent(field, k -> new TreeSet<>());
    }

    List<Score> scores() {
        List<Score> out = new ArrayList<>();
        for (String f : expected.keySet()) {
            Set<String> got = found.get(f);
            Set<String> want = expected.get(f);
            Set<String> both = new HashSet<>(got);
            both.retainAll(want);
            List<String> missing = want.stream().filter(x -> !got.contains(x)).toList();
            List<String> extra = got.stream().filter(x -> !want.contains(x)).toList();
            out.add(new Score(f, got.size(), want.size(), both.size(), missing, extra));
        }
        return out;
    }
}
