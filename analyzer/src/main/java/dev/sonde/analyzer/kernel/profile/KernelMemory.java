package dev.sonde.analyzer.kernel.profile;

import dev.sonde.analyzer.memory.AbsentMemoryException;
import dev.sonde.analyzer.memory.MemoryView;
import dev.sonde.analyzer.memory.x86.X86AddressSpace;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The kernel's virtual address space read through a {@link KernelProfile}: typed objects ({@link KObject}) and bounded
 * walks of the kernel's linked structures (list_head lists, maple trees, XArrays and IDRs). The guest is hostile:
 * every walk stops at an element limit, detects cycles, checks that each pointer is a plausible kernel address, and
 * reports what it could not read instead of throwing.
 */
public final class KernelMemory {
    /** Lowest kernel-half address with 4-level paging; pointers below it are not kernel pointers. */
    static final long KERNEL_HALF = 0xffff_8000_0000_0000L;
    /** maple tree: node type bits of an encoded node pointer ({@code MAPLE_NODE_TYPE_SHIFT}, mask 0x0f). */
    static final int MAPLE_NODE_TYPE_SHIFT = 3;
    static final long MAPLE_NODE_MASK = 255;
    static final int MAPLE_HEIGHT_MAX = 31;

    private final KernelProfile profile;
    private final X86AddressSpace space;
    private final Map<String, Boolean> accessed = new ConcurrentHashMap<>();

    public KernelMemory(KernelProfile profile, MemoryView physical) {
        this.profile = profile;
        this.space = new X86AddressSpace(physical, profile.layout().dtb(), profile.layout().pagingMode());
    }

    public KernelProfile profile() {
        return profile;
    }

    /** The kernel's page tables over physical memory. */
    public X86AddressSpace space() {
        return space;
    }

    /** An object of {@code type} at {@code address}. */
    public KObject object(String type, long address) {
        profile.requireType(type);
        accessed.put(type, true);
        return new KObject(this, type, address);
    }

    /** The global variable {@code symbol}, as {@code type}. */
    public KObject global(String symbol, String type) {
        accessed.put("symbol " + symbol, true);
        return object(type, profile.requireSymbol(symbol));
    }

    /** The object containing the member {@code member} at {@code memberAddress} ({@code container_of}). */
    public KObject containerOf(long memberAddress, String type, String member) {
        return object(type, memberAddress - member(type, member).offset());
    }

    Member member(String type, String path) {
        accessed.put(type + "." + path, true);
        return profile.requireMember(type, path);
    }

    /** Every {@code type.member}, type and {@code symbol name} resolved so far, sorted: what a run really read. */
    public Set<String> accessed() {
        return Collections.unmodifiableSet(new TreeSet<>(accessed.keySet()));
    }

    /** Whether {@code p} can be a kernel pointer: canonical, in the kernel half, 8-byte aligned. */
    public boolean plausibleKernelPointer(long p) {
        return Long.compareUnsigned(p, KERNEL_HALF) >= 0 && space.mode().isCanonical(p);
    }

    private boolean alignedKernelPointer(long p) {
        return plausibleKernelPointer(p) && (p & 7) == 0;
    }

    // ---------------------------------------------------------------- list_head

    /**
     * The entries of a circular {@code list_head} list whose head is at {@code head}: each node is the member
     * {@code member} of a {@code type}. The head itself is not an entry. A node whose {@code prev} does not point back
     * is reported (a sign of unlinking or tampering) but the walk goes on.
     */
    public WalkResult<KObject> list(long head, String type, String member, int limit) {
        long off = member(type, member).offset();
        long nextOff = member("list_head", "next").offset();
        long prevOff = member("list_head", "prev").offset();
        List<KObject> items = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        long prev = head;
        long node;
        try {
            node = space.readU64(head + nextOff);
        } catch (AbsentMemoryException e) {
            problems.add(String.format("list head 0x%x: %s", head, e.getMessage()));
            return new WalkResult<>(items, problems, false);
        }
        while (node != head) {
            if (!alignedKernelPointer(node)) {
                problems.add(String.format("list at 0x%x: next of 0x%x is 0x%x, not a kernel address", head, prev, node));
                return new WalkResult<>(items, problems, false);
            }
            if (!seen.add(node)) {
                problems.add(String.format("list at 0x%x: cycle back to 0x%x that does not pass through the head", head, node));
                return new WalkResult<>(items, problems, false);
            }
            if (items.size() >= limit) {
                problems.add(String.format("list at 0x%x: stopped at the limit of %d entries", head, limit));
                return new WalkResult<>(items, problems, false);
            }
            long next;
            try {
                long back = space.readU64(node + prevOff);
                if (back != prev) {
                    problems.add(String.format("list at 0x%x: entry 0x%x has prev 0x%x, expected 0x%x", head, node, back, prev));
                }
                next = space.readU64(node + nextOff);
            } catch (AbsentMemoryException e) {
                problems.add(String.format("list at 0x%x: entry 0x%x: %s", head, node, e.getMessage()));
                return new WalkResult<>(items, problems, false);
            }
            items.add(new KObject(this, type, node - off));
            prev = node;
            node = next;
        }
        return new WalkResult<>(items, problems, true);
    }

    // ---------------------------------------------------------------- maple tree

    /**
     * One stored range of a maple tree.
     *
     * @param first first index of the range
     * @param last  last index of the range (inclusive)
     * @param entry the stored value (for {@code mm_struct.mm_mt}, a {@code vm_area_struct} pointer)
     */
    public record MapleEntry(long first, long last, long entry) {
    }

    /** The non-empty ranges of the {@code struct maple_tree} at {@code tree}, in index order. */
    public WalkResult<MapleEntry> mapleTree(long tree, int limit) {
        List<MapleEntry> items = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        long root;
        try {
            root = space.readU64(tree + member("maple_tree", "ma_root").offset());
        } catch (AbsentMemoryException e) {
            problems.add(String.format("maple tree 0x%x: %s", tree, e.getMessage()));
            return new WalkResult<>(items, problems, false);
        }
        if (root == 0) {
            return new WalkResult<>(items, problems, true);
        }
        if (!xaIsNode(root)) {
            items.add(new MapleEntry(0, 0, root));
            return new WalkResult<>(items, problems, true);
        }
        MapleLayout layout = mapleLayout();
        boolean complete = mapleNode(tree, root, 0, -1L, 0, layout, items, problems, new HashSet<>(), limit);
        return new WalkResult<>(items, problems, complete && problems.isEmpty());
    }

    private record MapleLayout(long rangeSlots, int rangeSlotCount, long rangePivots, int rangePivotCount,
                               long arangeSlots, int arangeSlotCount, long arangePivots, int arangePivotCount,
                               long denseSlots, int denseSlotCount, long leaf64, long range64, long arange64, long dense) {
    }

    private MapleLayout mapleLayout() {
        Member rs = member("maple_range_64", "slot");
        Member rp = member("maple_range_64", "pivot");
        Member as = member("maple_arange_64", "slot");
        Member ap = member("maple_arange_64", "pivot");
        Member ds = member("maple_node", "slot");
        return new MapleLayout(rs.offset(), count(rs, 16), rp.offset(), count(rp, 15), as.offset(), count(as, 10),
                ap.offset(), count(ap, 9), ds.offset(), count(ds, 31),
                profile.enumValue("maple_type", "maple_leaf_64").orElse(1),
                profile.enumValue("maple_type", "maple_range_64").orElse(2),
                profile.enumValue("maple_type", "maple_arange_64").orElse(3),
                profile.enumValue("maple_type", "maple_dense").orElse(0));
    }

    private static int count(Member m, int fallback) {
        return m.type().kind() == TypeRef.Kind.ARRAY && m.type().count() > 0 && m.type().count() <= 64
                ? (int) m.type().count() : fallback;
    }

    private boolean mapleNode(long tree, long enode, long min, long max, int depth, MapleLayout l,
                              List<MapleEntry> items, List<String> problems, Set<Long> seen, int limit) {
        long node = enode & ~MAPLE_NODE_MASK;
        long type = (enode >>> MAPLE_NODE_TYPE_SHIFT) & 0x0f;
        if (depth > MAPLE_HEIGHT_MAX) {
            problems.add(String.format("maple tree 0x%x: deeper than %d levels at node 0x%x", tree, MAPLE_HEIGHT_MAX, node));
            return false;
        }
        if (!plausibleKernelPointer(node)) {
            problems.add(String.format("maple tree 0x%x: node pointer 0x%x is not a kernel address", tree, enode));
            return false;
        }
        if (!seen.add(node)) {
            problems.add(String.format("maple tree 0x%x: node 0x%x reached twice", tree, node));
            return false;
        }
        long slots;
        int slotCount;
        long pivots;
        int pivotCount;
        boolean leaf;
        if (type == l.range64 || type == l.leaf64) {
            slots = l.rangeSlots;
            slotCount = l.rangeSlotCount;
            pivots = l.rangePivots;
            pivotCount = l.rangePivotCount;
            leaf = type == l.leaf64;
        } else if (type == l.arange64) {
            slots = l.arangeSlots;
            slotCount = l.arangeSlotCount;
            pivots = l.arangePivots;
            pivotCount = l.arangePivotCount;
            leaf = false;
        } else if (type == l.dense) {
            slots = l.denseSlots;
            slotCount = l.denseSlotCount;
            pivots = -1;
            pivotCount = 0;
            leaf = true;
        } else {
            problems.add(String.format("maple tree 0x%x: node 0x%x has unknown type %d", tree, node, type));
            return false;
        }
        long[] slot = new long[slotCount];
        long[] pivot = new long[pivotCount];
        try {
            byte[] b = space.readBytes(node, 256);
            for (int i = 0; i < slotCount; i++) {
                slot[i] = le64(b, (int) slots + 8 * i);
            }
            for (int i = 0; i < pivotCount; i++) {
                pivot[i] = le64(b, (int) pivots + 8 * i);
            }
        } catch (AbsentMemoryException e) {
            problems.add(String.format("maple tree 0x%x: node 0x%x: %s", tree, node, e.getMessage()));
            return false;
        }
        boolean complete = true;
        long lo = min;
        for (int i = 0; i < slotCount; i++) {
            long hi;
            if (pivots < 0) {
                hi = lo;
            } else {
                hi = i < pivotCount ? pivot[i] : max;
                if (i > 0 && hi == 0) {
                    break;
                }
                if (Long.compareUnsigned(hi, lo) < 0 || Long.compareUnsigned(hi, max) > 0) {
                    problems.add(String.format("maple tree 0x%x: node 0x%x slot %d: pivot 0x%x outside [0x%x, 0x%x]",
                            tree, node, i, hi, lo, max));
                    return false;
                }
            }
            long e = slot[i];
            if (e != 0) {
                if (leaf) {
                    if (items.size() >= limit) {
                        problems.add(String.format("maple tree 0x%x: stopped at the limit of %d entries", tree, limit));
                        return false;
                    }
                    items.add(new MapleEntry(lo, hi, e));
                } else if (!mapleNode(tree, e, lo, hi, depth + 1, l, items, problems, seen, limit)) {
                    complete = false;
                    if (items.size() >= limit) {
                        return false;
                    }
                }
            }
            if (hi == max) {
                break;
            }
            lo = hi + 1;
        }
        return complete;
    }

    // ---------------------------------------------------------------- XArray / IDR

    /**
     * One present entry of an XArray.
     *
     * @param index the entry's index
     * @param entry the stored pointer, or for a value entry ({@code xa_mk_value}) the raw tagged word
     * @param value whether it is a value entry rather than a pointer
     */
    public record XaEntry(long index, long entry, boolean value) {
    }

    /** The present entries of the {@code struct xarray} at {@code xa}, in index order. */
    public WalkResult<XaEntry> xarray(long xa, int limit) {
        List<XaEntry> items = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        long head;
        try {
            head = space.readU64(xa + member("xarray", "xa_head").offset());
        } catch (AbsentMemoryException e) {
            problems.add(String.format("xarray 0x%x: %s", xa, e.getMessage()));
            return new WalkResult<>(items, problems, false);
        }
        if (head == 0) {
            return new WalkResult<>(items, problems, true);
        }
        if (!xaIsNode(head)) {
            if (!xaIsInternal(head)) {
                items.add(new XaEntry(0, head, (head & 1) != 0));
            }
            return new WalkResult<>(items, problems, true);
        }
        Member slots = member("xa_node", "slots");
        long shiftOff = member("xa_node", "shift").offset();
        int chunk = count(slots, 64);
        int chunkShift = Integer.numberOfTrailingZeros(chunk);
        boolean ok = xaNode(xa, head - 2, 0, -1, slots.offset(), shiftOff, chunk, chunkShift, 0, items, problems,
                new HashSet<>(), limit);
        return new WalkResult<>(items, problems, ok && problems.isEmpty());
    }

    /** The IDs and pointers of the {@code struct idr} at {@code idr} (IDs include {@code idr_base}). */
    public WalkResult<XaEntry> idr(long idr, int limit) {
        long base;
        try {
            base = space.readU32(idr + member("idr", "idr_base").offset());
        } catch (AbsentMemoryException e) {
            return new WalkResult<>(List.of(), List.of(String.format("idr 0x%x: %s", idr, e.getMessage())), false);
        }
        WalkResult<XaEntry> r = xarray(idr + member("idr", "idr_rt").offset(), limit);
        if (base == 0) {
            return r;
        }
        return new WalkResult<>(r.items().stream().map(e -> new XaEntry(e.index() + base, e.entry(), e.value())).toList(),
                r.problems(), r.complete());
    }

    private boolean xaNode(long xa, long node, long base, int expectedShift, long slotsOff, long shiftOff, int chunk,
                           int chunkShift, int depth, List<XaEntry> items, List<String> problems, Set<Long> seen,
                           int limit) {
        if (!alignedKernelPointer(node) || depth > 64 / chunkShift + 1) {
            problems.add(String.format("xarray 0x%x: node 0x%x is not a plausible kernel address or lies too deep", xa, node));
            return false;
        }
        if (!seen.add(node)) {
            problems.add(String.format("xarray 0x%x: node 0x%x reached twice", xa, node));
            return false;
        }
        int shift;
        long[] slot = new long[chunk];
        try {
            shift = space.readU8(node + shiftOff);
            byte[] b = space.readBytes(node + slotsOff, 8 * chunk);
            for (int i = 0; i < chunk; i++) {
                slot[i] = le64(b, 8 * i);
            }
        } catch (AbsentMemoryException e) {
            problems.add(String.format("xarray 0x%x: node 0x%x: %s", xa, node, e.getMessage()));
            return false;
        }
        if ((expectedShift >= 0 && shift != expectedShift) || shift % chunkShift != 0 || shift >= 64) {
            problems.add(String.format("xarray 0x%x: node 0x%x has shift %d%s", xa, node, shift,
                    expectedShift >= 0 ? ", expected " + expectedShift : ""));
            return false;
        }
        boolean ok = true;
        for (int i = 0; i < chunk; i++) {
            long e = slot[i];
            if (e == 0) {
                continue;
            }
            long index = base + ((long) i << shift);
            if (xaIsNode(e)) {
                if (shift == 0) {
                    problems.add(String.format("xarray 0x%x: leaf node 0x%x points to another node", xa, node));
                    return false;
                }
                ok &= xaNode(xa, e - 2, index, shift - chunkShift, slotsOff, shiftOff, chunk, chunkShift, depth + 1,
                        items, problems, seen, limit);
                if (items.size() >= limit) {
                    return false;
                }
            } else if (!xaIsInternal(e)) {
                if (items.size() >= limit) {
                    problems.add(String.format("xarray 0x%x: stopped at the limit of %d entries", xa, limit));
                    return false;
                }
                items.add(new XaEntry(index, e, (e & 1) != 0));
            }
            // Other internal entries (sibling, retry, zero) hold nothing of their own.
        }
        return ok;
    }

    static boolean xaIsInternal(long e) {
        return (e & 3) == 2;
    }

    static boolean xaIsNode(long e) {
        return xaIsInternal(e) && Long.compareUnsigned(e, 4096) > 0;
    }

    private static long le64(byte[] b, int off) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return v;
    }

    /** The {@code vm_area_struct}s of an {@code mm_struct} (its {@code mm_mt} maple tree), bounded. */
    public WalkResult<KObject> vmas(KObject mm, int limit) {
        WalkResult<MapleEntry> r = mapleTree(mm.addressOf("mm_mt"), limit);
        List<KObject> out = new ArrayList<>();
        List<String> problems = new ArrayList<>(r.problems());
        for (MapleEntry e : r.items()) {
            if (xaIsInternal(e.entry()) || !alignedKernelPointer(e.entry())) {
                problems.add(String.format("mm 0x%x: maple entry [0x%x, 0x%x] = 0x%x is not a VMA pointer", mm.address(),
                        e.first(), e.last(), e.entry()));
                continue;
            }
            out.add(object("vm_area_struct", e.entry()));
        }
        return new WalkResult<>(out, problems, r.complete() && problems.isEmpty());
    }

    /** Type of a symbol when the profile knows it. */
    public Optional<TypeRef> symbolType(String symbol) {
        return profile.symbolType(symbol);
    }
}
