package dev.sonde.analyzer.image.kdump;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PageLruTest {
    /** Random gets, adds, removals and evictions of the eldest, against an access-ordered LinkedHashMap. */
    @Test
    void behavesLikeAnAccessOrderedMap() {
        Random r = new Random(9);
        PageLru lru = new PageLru();
        LinkedHashMap<Long, PageLru.Entry> model = new LinkedHashMap<>(16, 0.75f, true);
        for (int step = 0; step < 200_000; step++) {
            // clustered keys collide in the table; a few far ones too
            long pfn = r.nextInt(8) == 0 ? r.nextLong() >>> 12 : r.nextInt(3000) * (r.nextBoolean() ? 1 : 1024);
            switch (r.nextInt(4)) {
                case 0, 1 -> assertSame(model.get(pfn), lru.get(pfn), "get 0x" + Long.toHexString(pfn));
                case 2 -> {
                    if (!model.containsKey(pfn)) {
                        PageLru.Entry e = new PageLru.Entry(pfn);
                        lru.add(e);
                        model.put(pfn, e);
                        assertTrue(lru.contains(e));
                    }
                }
                default -> {
                    PageLru.Entry e = r.nextBoolean() ? model.get(pfn) : lru.eldest();
                    if (e != null) {
                        lru.remove(e);
                        model.remove(e.pfn);
                        assertTrue(!lru.contains(e));
                    }
                }
            }
            if (model.size() > 1500) {
                PageLru.Entry eldest = lru.eldest();
                assertSame(model.values().iterator().next(), eldest);
                lru.remove(eldest);
                model.remove(eldest.pfn);
            }
            assertEquals(model.size(), lru.size());
        }
        List<PageLru.Entry> order = new ArrayList<>();
        while (lru.eldest() != null) {
            order.add(lru.eldest());
            lru.remove(lru.eldest());
        }
        assertEquals(new ArrayList<>(model.values()), order, "use order");
        for (Map.Entry<Long, PageLru.Entry> e : model.entrySet()) {
            assertNull(lru.get(e.getKey()));
        }
    }
}
