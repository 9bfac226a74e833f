package dev.sonde.analyzer.kernel.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.fixtures.FixtureIsf;
import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.Vmcoreinfo;
import dev.sonde.analyzer.kernel.btf.BtfLocator;
import dev.sonde.analyzer.kernel.isf.IsfCache;
import dev.sonde.analyzer.kernel.isf.IsfFile;
import dev.sonde.analyzer.kernel.kallsyms.Kallsyms;
import dev.sonde.analyzer.kernel.kallsyms.KallsymsReader;
import dev.sonde.analyzer.kernel.kallsyms.KallsymsTables;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The acceptance checks of the profile on the committed tiny capture: the layout the analyzer reads is the same from
 * the kernel's BTF in memory as from the dwarf2json ISF (read independently, as a JSON tree, by {@link FixtureIsf}),
 * kallsyms in memory gives every symbol at the ISF's address plus the KASLR shift, and the image's own sources are
 * found by scanning as well as through VMCOREINFO.
 */
class FixtureProfileTest {

    private static Vmcoreinfo vmcoreinfo() {
        return ProfileFixture.image().vmcoreinfo().orElseThrow();
    }

    @Test
    void btfAndIsfAgreeOnEveryMemberAndSizeTheAnalyzerUses() {
        KernelProfile profile = ProfileFixture.imageProfile();
        assertTrue(profile.types().source().startsWith("BTF in memory"), profile.types().source());
        FixtureIsf isf = FixtureIsf.load();
        List<String> checked = new ArrayList<>();
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : UsedByAnalyzer.MEMBERS.entrySet()) {
            String type = e.getKey();
            long size = profile.size(type).orElseThrow(() -> new AssertionError("BTF has no " + type));
            if (size != isf.size(type)) {
                wrong.add("size of " + type + ": BTF " + size + ", ISF " + isf.size(type));
            }
            for (String member : e.getValue()) {
                long btf = profile.offset(type, member);
                long want = isf.offset(type, member);
                if (btf != want) {
                    wrong.add(type + "." + member + ": BTF " + btf + ", ISF " + want);
                }
                checked.add(type + "." + member);
            }
        }
        assertEquals(List.of(), wrong);
        assertTrue(checked.size() > 200, "members checked: " + checked.size());
    }

    @Test
    void btfAndIsfAgreeOnMemberTypesBitfieldsAndEnums() throws IOException {
        TypeTable btf = ProfileFixture.imageProfile().types();
        TypeTable isf = IsfCache.shared().load(FixtureIsf.path()).typeTable();
        List<String> conflicts = new ArrayList<>();
        ProfileCheck.compareTypes(isf, btf, conflicts);
        assertEquals(List.of(), conflicts);
        // Every struct and union both name: same size and same members at the same offsets, except the few whose
        // name two different definitions share (which one each tool keeps differs).
        int same = 0;
        List<String> differ = new ArrayList<>();
        for (UserType u : isf.userTypes().values()) {
            if (u.name().startsWith("unnamed_")) {
                continue;
            }
            UserType b = btf.userType(u.name()).orElseThrow(() -> new AssertionError("BTF lacks " + u.name()));
            boolean ok = b.size() == u.size();
            for (Field f : u.fields().values()) {
                Field g = b.fields().get(f.name());
                ok &= f.anonymous() || g != null && g.offset() == f.offset()
                        && btf.sizeOf(g.type()).equals(isf.sizeOf(f.type()))
                        && g.type().kind() == f.type().kind()
                        && g.type().bitPosition() == f.type().bitPosition() && g.type().bitLength() == f.type().bitLength();
            }
            if (ok) {
                same++;
            } else {
                differ.add(u.name());
            }
        }
        assertTrue(same > 8000, "identical structs: " + same);
        assertEquals(new TreeSet<>(List.of("controller", "d_partition", "disklabel", "irq_info", "pci_root_info",
                "perf_aux_event", "remap_data", "slot", "syscall_tp_t")), new TreeSet<>(differ));
        for (String used : UsedByAnalyzer.MEMBERS.keySet()) {
            assertFalse(differ.contains(used), used);
        }
        // Enums (named ones) carry the same constants, but for names two definitions share.
        int enums = 0;
        List<String> enumsDiffer = new ArrayList<>();
        for (EnumType e : isf.enums().values()) {
            if (!e.name().startsWith("unnamed_") && btf.enumType(e.name()).isPresent()) {
                EnumType b = btf.enumType(e.name()).get();
                if (e.constants().equals(b.constants()) && e.size() == b.size()) {
                    enums++;
                } else {
                    enumsDiffer.add(e.name());
                }
            }
        }
        assertTrue(enums > 500, "enums compared: " + enums);
        assertTrue(enumsDiffer.size() <= 3, "enums that differ: " + enumsDiffer);
        // Base types: same sizes and signedness.
        for (BaseType b : isf.baseTypes().values()) {
            if (btf.baseTypes().containsKey(b.name()) && !b.name().equals("void")) {
                assertEquals(b.size(), btf.baseTypes().get(b.name()).size(), b.name());
                assertEquals(b.signed(), btf.baseTypes().get(b.name()).signed(), b.name());
            }
        }
    }

    @Test
    void kallsymsAddressesAreTheIsfsPlusTheKaslrShift() {
        KernelProfile profile = ProfileFixture.imageProfile();
        assertTrue(profile.symbols().source().startsWith("kallsyms in memory"), profile.symbols().source());
        FixtureIsf isf = FixtureIsf.load();
        long shift = vmcoreinfo().kernelOffset().getAsLong();
        assertEquals(shift, profile.layout().virtualShift());
        for (String name : UsedByAnalyzer.SYMBOLS) {
            long want = isf.symbol(name);
            if (Long.compareUnsigned(want, KernelLayout.START_KERNEL_MAP) >= 0) {
                want += shift;
            }
            assertEquals(Long.toHexString(want), Long.toHexString(profile.requireSymbol(name)), name);
        }
        // Every symbol kallsyms lists once (static functions of different files share names) is where the ISF says.
        Kallsyms k = kallsyms();
        Map<String, Integer> count = new HashMap<>();
        for (int i = 0; i < k.size(); i++) {
            count.merge(k.name(i), 1, Integer::sum);
        }
        int equal = 0;
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < k.size(); i++) {
            String n = k.name(i);
            if (count.get(n) != 1) {
                continue;
            }
            long isfAddress;
            try {
                isfAddress = isf.symbol(n);
            } catch (IllegalArgumentException e) {
                continue;
            }
            long want = Long.compareUnsigned(isfAddress, KernelLayout.START_KERNEL_MAP) >= 0 ? isfAddress + shift : isfAddress;
            if (want == k.address(i)) {
                equal++;
            } else if (wrong.size() < 10) {
                wrong.add(n);
            }
        }
        assertEquals(List.of(), wrong);
        assertTrue(equal > 80_000, "symbols compared: " + equal);
    }

    private static Kallsyms kallsyms() {
        MemoryImage image = ProfileFixture.image();
        KallsymsTables t = KallsymsReader.fromVmcoreinfo(image.memory(), vmcoreinfo(),
                vmcoreinfo().number("phys_base").getAsLong()).orElseThrow();
        return KallsymsReader.read(image.memory(), t);
    }

    @Test
    void scanningFindsTheKallsymsTablesVmcoreinfoNames() {
        MemoryImage image = ProfileFixture.image();
        long physBase = vmcoreinfo().number("phys_base").getAsLong();
        KallsymsTables viaNote = KallsymsReader.fromVmcoreinfo(image.memory(), vmcoreinfo(), physBase).orElseThrow();
        List<String> diagnostics = new ArrayList<>();
        KallsymsTables scanned = KallsymsReader.scan(image.memory(), image.memory().ranges(), diagnostics)
                .orElseThrow(() -> new AssertionError(diagnostics));
        long v = KernelLayout.START_KERNEL_MAP - physBase;
        assertEquals(vmcoreinfo().symbol("kallsyms_names").getAsLong(), scanned.names() + v);
        assertEquals(vmcoreinfo().symbol("kallsyms_token_table").getAsLong(), scanned.tokenTable() + v);
        assertEquals(vmcoreinfo().symbol("kallsyms_token_index").getAsLong(), scanned.tokenIndex() + v);
        assertEquals(vmcoreinfo().symbol("kallsyms_offsets").getAsLong(), scanned.addresses() + v);
        assertEquals(viaNote.relativeBase(), scanned.relativeBase());
        assertEquals(viaNote.numSyms(), scanned.numSyms());
        assertEquals(viaNote.markers(), scanned.markers());
        assertTrue(scanned.baseRelative() && scanned.absolutePercpu() && scanned.seqsOfNames(), scanned.toString());
        // Linux 6.1 order: offsets, relative_base, num_syms, names, markers, seqs_of_names, token_table, token_index.
        assertTrue(scanned.addresses() < scanned.names() && scanned.names() < scanned.markers()
                && scanned.markers() < scanned.tokenTable() && scanned.tokenTable() < scanned.tokenIndex());
        assertEquals(vmcoreinfo().symbol("kallsyms_relative_base").getAsLong(),
                scanned.addresses() + 4L * scanned.numSyms() + v);
        assertEquals(vmcoreinfo().symbol("kallsyms_num_syms").getAsLong(), scanned.names() - 8 + v);
        Kallsyms k = KallsymsReader.read(image.memory(), scanned);
        assertEquals(scanned.numSyms(), k.size());
        assertEquals('T', typeOf(k, "_stext"));
        assertEquals(vmcoreinfo().symbol("_stext").getAsLong(), address(k, "_stext"));
        assertEquals('A', typeOf(k, "fixed_percpu_data"));
        assertEquals(0, address(k, "fixed_percpu_data"), "absolute per-CPU symbols are not relocated");
    }

    private static char typeOf(Kallsyms k, String name) {
        for (int i = 0; i < k.size(); i++) {
            if (k.name(i).equals(name)) {
                return k.type(i);
            }
        }
        throw new AssertionError(name);
    }

    private static long address(Kallsyms k, String name) {
        for (int i = 0; i < k.size(); i++) {
            if (k.name(i).equals(name)) {
                return k.address(i);
            }
        }
        throw new AssertionError(name);
    }

    @Test
    void btfIsFoundBetweenStartAndStopBtf() {
        KernelProfile profile = ProfileFixture.imageProfile();
        MemoryImage image = ProfileFixture.image();
        List<BtfLocator.Found> found = BtfLocator.scan(image.memory(), image.memory().ranges(), 4);
        assertEquals(1, found.size(), "exactly one vmlinux BTF in memory");
        long start = profile.requireSymbol("__start_BTF");
        long stop = profile.requireSymbol("__stop_BTF");
        assertEquals(profile.layout().imagePhysical(start), found.get(0).physicalAddress());
        assertEquals(stop - start, found.get(0).btf().length());
        assertTrue(found.get(0).btf().count() > 100_000, "BTF types: " + found.get(0).btf().count());
        assertFalse(profile.types().functions().isEmpty());
        FunctionType f = profile.types().functions().get("do_sys_openat2");
        assertEquals(TypeRef.base("long int"), f.returns());
        assertEquals(List.of("dfd", "filename", "how"), f.parameters().stream().map(FunctionType.Parameter::name).toList());
        // Per-CPU variables carry their types.
        assertEquals(TypeRef.struct("rq"), profile.types().variables().get("runqueues"));
    }

    @Test
    void withoutVmcoreinfoTheScansFindTheSameKaslrShiftsAndPageTables() {
        MemoryImage image = ProfileFixture.image();
        KernelProfile bare = KernelProfiles.build(ProfileFixture.bare(image.memory()));
        KernelLayout want = ProfileFixture.imageProfile().layout();
        assertEquals("VMCOREINFO", want.method());
        KernelLayout got = bare.layout();
        assertTrue(got.method().startsWith("kallsyms + "), got.method());
        assertEquals(Long.toHexString(want.virtualShift()), Long.toHexString(got.virtualShift()));
        assertEquals(Long.toHexString(want.physBase()), Long.toHexString(got.physBase()));
        assertEquals(Long.toHexString(want.dtb()), Long.toHexString(got.dtb()));
        assertEquals(vmcoreinfo().kernelOffset().getAsLong(), got.virtualShift());
        assertEquals(vmcoreinfo().number("phys_base").getAsLong(), got.physBase());
        // The CPU's CR3 maps the kernel the same way.
        long cr3 = image.cpus().get(0).cr3().orElseThrow();
        long swapper = vmcoreinfo().symbol("swapper_pg_dir").getAsLong();
        assertEquals(got.dtb(), new dev.sonde.analyzer.memory.x86.X86AddressSpace(image.memory(), cr3,
                got.pagingMode()).physicalAddress(swapper));
        assertEquals(ProfileFixture.imageProfile().buildId(), bare.buildId());
    }

    @Test
    void identityFromMemoryMatchesVmcoreinfo() {
        KernelProfile profile = ProfileFixture.imageProfile();
        assertEquals(vmcoreinfo().buildId(), profile.buildId());
        assertEquals(vmcoreinfo().osRelease(), profile.identity().release());
        assertTrue(profile.banner().orElseThrow().startsWith("Linux version " + vmcoreinfo().osRelease().get() + " "));
        assertEquals(profile.identity().banner().orElseThrow().text(), profile.banner().get());
        assertEquals(List.of(), profile.conflicts());
        String text = profile.describe();
        assertTrue(text.contains("build-id: " + vmcoreinfo().buildId().get()), text);
    }

    @Test
    void anIsfProfileAgreesWithTheImageAndUsesLinkTimeAddressesPlusTheShift() throws IOException {
        MemoryImage image = ProfileFixture.image();
        KernelProfile withIsf = KernelProfiles.build(image, ProfileOptions.defaults().withIsf(FixtureIsf.path()));
        assertTrue(withIsf.types().source().startsWith("ISF "), withIsf.types().source());
        assertEquals(List.of(), withIsf.conflicts());
        KernelProfile own = ProfileFixture.imageProfile();
        for (String s : UsedByAnalyzer.SYMBOLS) {
            assertEquals(own.requireSymbol(s), withIsf.requireSymbol(s), s);
        }
        IsfFile isf = IsfCache.shared().load(FixtureIsf.path());
        assertEquals(isf.banner(), withIsf.banner());
        // Without VMCOREINFO and kallsyms, the ISF route (banner + init_task.files) finds the same shifts.
        KernelProfile isfOnly = KernelProfiles.build(ProfileFixture.bare(image.memory()),
                ProfileOptions.defaults().withIsf(FixtureIsf.path()).withoutKallsyms().withoutBtf());
        assertEquals("ISF + banner + init_task.files", isfOnly.layout().method());
        assertEquals(own.layout().virtualShift(), isfOnly.layout().virtualShift());
        assertEquals(own.layout().physBase(), isfOnly.layout().physBase());
        assertEquals(own.layout().dtb(), isfOnly.layout().dtb());
    }

    @Test
    void everyMemberAndSymbolTheWalksReadIsInTheCatalog() {
        KernelMemory kernel = new KernelMemory(ProfileFixture.imageProfile(), ProfileFixture.image().memory());
        WalkResult<ProcessLister.Task> tasks = ProcessLister.list(kernel);
        for (ProcessLister.Task t : tasks.items()) {
            if (t.mm() != 0) {
                kernel.vmas(kernel.object("mm_struct", t.mm()), 10_000).items().forEach(v -> v.integer("vm_start"));
            }
        }
        kernel.idr(kernel.global("init_pid_ns", "pid_namespace").addressOf("idr"), 100_000);
        Set<String> missing = new TreeSet<>();
        for (String a : kernel.accessed()) {
            if (a.startsWith("symbol ")) {
                if (!UsedByAnalyzer.SYMBOLS.contains(a.substring(7))) {
                    missing.add(a);
                }
            } else if (a.contains(".")) {
                String type = a.substring(0, a.indexOf('.'));
                if (!UsedByAnalyzer.MEMBERS.getOrDefault(type, List.of()).contains(a.substring(a.indexOf('.') + 1))) {
                    missing.add(a);
                }
            } else if (!UsedByAnalyzer.MEMBERS.containsKey(a)) {
                missing.add(a);
            }
        }
        assertEquals(Set.of(), missing, "read but not in UsedByAnalyzer");
        assertTrue(kernel.accessed().contains("task_struct.tasks"), kernel.accessed().toString());
    }
}
