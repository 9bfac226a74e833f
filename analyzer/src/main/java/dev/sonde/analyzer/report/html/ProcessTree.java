package dev.sonde.analyzer.report.html;

import dev.sonde.analyzer.report.Table;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The parent/child tree of the rows of a processes table, built from its {@code pid} and {@code ppid} columns. The
 * guest controls both, so the tree survives duplicate pids and parent cycles: every row is shown exactly once, rows
 * unreachable from a root (a cycle) become roots of their own, and nesting stops at {@link #MAX_DEPTH} (deeper
 * subtrees continue as roots).
 */
final class ProcessTree {
    /** Deepest nesting rendered; browsers flatten markup nested much deeper. */
    static final int MAX_DEPTH = 100;

    /** One node: the table row, its depth, and whether it starts a subtree that was cut from elsewhere. */
    record Node(int row, int depth, boolean hasChildren, Optional<String> note) {
    }

    /** An event of a pre-order walk: open a node, or close the innermost open node. */
    sealed interface Event permits Open, Close {
    }

    record Open(Node node) implements Event {
    }

    record Close() implements Event {
    }

    private final List<Integer> pids = new ArrayList<>();
    private final List<Integer> ppids = new ArrayList<>();

    private ProcessTree() {
    }

    /** The tree of {@code t}, when it has integer {@code pid} and {@code ppid} columns. */
    static Optional<ProcessTree> of(Table t) {
        int pid = t.columns().indexOf("pid");
        int ppid = t.columns().indexOf("ppid");
        if (pid < 0 || ppid < 0) {
            return Optional.empty();
        }
        ProcessTree tree = new ProcessTree();
        for (List<Object> row : t.rows()) {
            tree.pids.add(row.get(pid) instanceof Number n ? n.intValue() : null);
            tree.ppids.add(row.get(ppid) instanceof Number n ? n.intValue() : null);
        }
        return Optional.of(tree);
    }

    /** A pre-order walk of the whole tree, as open/close events; every row opens exactly once. */
    List<Event> walk() {
        int n = pids.size();
        Map<Integer, Integer> firstRowOfPid = new HashMap<>();
        for (int i = 0; i < n; i++) {
            if (pids.get(i) != null) {
                firstRowOfPid.putIfAbsent(pids.get(i), i);
            }
        }
        Map<Integer, List<Integer>> children = new HashMap<>();
        List<Integer> roots = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Integer parent = ppids.get(i) == null ? null : firstRowOfPid.get(ppids.get(i));
            if (parent == null || parent == i) {
                roots.add(i);
            } else {
                children.computeIfAbsent(parent, k -> new ArrayList<>()).add(i);
            }
        }
        Comparator<Integer> byPid = Comparator.comparing((Integer i) -> pids.get(i),
                Comparator.nullsLast(Comparator.naturalOrder())).thenComparing(i -> i);
        roots.sort(byPid);
        children.values().forEach(l -> l.sort(byPid));

        boolean[] seen = new boolean[n];
        List<Event> events = new ArrayList<>(2 * n);
        Deque<Integer> pendingRoots = new ArrayDeque<>(roots);
        Map<Integer, String> notes = new HashMap<>();
        int nextUnseen = 0;
        while (true) {
            Integer root = pendingRoots.pollFirst();
            if (root == null) {
                // Whatever no root reaches sits on a parent cycle: start again from its first row.
                while (nextUnseen < n && seen[nextUnseen]) {
                    nextUnseen++;
                }
                if (nextUnseen == n) {
                    break;
                }
                root = nextUnseen;
                notes.put(root, "on a parent cycle: ppid " + ppids.get(root) + " leads back here");
            }
            if (seen[root]) {
                continue;
            }
            walkFrom(root, children, seen, events, pendingRoots, notes);
        }
        return events;
    }

    private void walkFrom(int root, Map<Integer, List<Integer>> children, boolean[] seen, List<Event> events,
                          Deque<Integer> pendingRoots, Map<Integer, String> notes) {
        // Explicit stack of (row, index of the next child): no recursion on guest-controlled depth.
        Deque<int[]> stack = new ArrayDeque<>();
        seen[root] = true;
        events.add(new Open(node(root, 0, children, notes)));
        stack.push(new int[] {root, 0});
        while (!stack.isEmpty()) {
            int[] top = stack.peek();
            List<Integer> kids = children.getOrDefault(top[0], List.of());
            if (top[1] == kids.size()) {
                stack.pop();
                events.add(new Close());
                continue;
            }
            int child = kids.get(top[1]++);
            if (seen[child]) {
                continue;
            }
            if (stack.size() >= MAX_DEPTH) {
                notes.put(child, "continued: deeper than " + MAX_DEPTH + " levels under pid " + pids.get(top[0]));
                pendingRoots.addLast(child);
                continue;
            }
            seen[child] = true;
            events.add(new Open(node(child, stack.size(), children, notes)));
            stack.push(new int[] {child, 0});
        }
    }

    private static Node node(int row, int depth, Map<Integer, List<Integer>> children, Map<Integer, String> notes) {
        return new Node(row, depth, !children.getOrDefault(row, List.of()).isEmpty(), Optional.ofNullable(notes.get(row)));
    }
}
