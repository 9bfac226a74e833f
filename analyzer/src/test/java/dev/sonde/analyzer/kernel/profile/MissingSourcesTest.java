package dev.sonde.analyzer.kernel.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sonde.analyzer.image.MemoryImage;
import dev.sonde.analyzer.kernel.btf.BtfLocator;
import dev.sonde.analyzer.kernel.isf.IsfExporter;
import dev.sonde.analyzer.kernel.kallsyms.KallsymsTables;
import dev.sonde.analyzer.memory.PatchedMemory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Images that lack a source, or sources that disagree: the profile build fails with a message saying what was missing
 * or in conflict and which option would help, or, where another source covers the gap, succeeds and says so.
 */
class MissingSourcesTest {
    @TempDir
    Path tmp;

    private static long btfPhysical() {
        MemoryImage image = ProfileFixture.image();
        return BtfLocator.scan(image.memory(), image.memory().ranges(), 1).get(0).physicalAddress();
    }

    private static KallsymsTables kallsymsTables() {
        MemoryImage image = ProfileFixture.image();
        return dev.sonde.analyzer.kernel.kallsyms.KallsymsReader.fromVmcoreinfo(image.memory(),
                image.vmcoreinfo().orElseThrow(), image.vmcoreinfo().get().number("phys_base").getAsLong()).orElseThrow();
    }

    private static MemoryImage withMemory(PatchedMemory memory) {
        MemoryImage i = ProfileFixture.image();
        return new MemoryImage(i.file(), i.format(), memory, i.cpus(), i.vmcoreinfo(), i.warnings());
    }

    @Test
    void noBtfSaysSoAndPointsToSymbols() {
        MemoryImage image = withMemory(new PatchedMemory(ProfileFixture.image().memory()).zero(btfPhysical(), 24));
        ProfileException e = assertThrows(ProfileException.class, () -> KernelProfiles.build(image));
        assertTrue(e.getMessage().contains("no kernel types"), e.getMessage());
        assertTrue(e.getMessage().contains("no kernel BTF"), e.getMessage());
        assertTrue(e.hint().contains("--symbols"), e.hint());
    }

    @Test
    void noKallsymsSaysSoAndPointsToSymbols() {
        KallsymsTables t = kallsymsTables();
        MemoryImage image = withMemory(new PatchedMemory(ProfileFixture.image().memory()).zero(t.tokenIndex(), 512));
        ProfileException e = assertThrows(ProfileException.class, () -> KernelProfiles.build(image));
        assertTrue(e.getMessage().contains("no kernel symbols"), e.getMessage());
        assertTrue(e.getMessage().contains("no kallsyms tables"), e.getMessage());
        assertTrue(e.hint().contains("--symbols"), e.hint());
        // Without VMCOREINFO either, the scan says what it did not find.
        MemoryImage bare = ProfileFixture.bare(new PatchedMemory(ProfileFixture.image().memory()).zero(t.tokenIndex(), 512));
        ProfileException e2 = assertThrows(ProfileException.class, () -> KernelProfiles.build(bare));
        assertTrue(e2.getMessage().contains("no kallsyms_token_index"), e2.getMessage());
        assertTrue(e2.getMessage().contains("no VMCOREINFO"), e2.getMessage());
    }

    @Test
    void nothingAtAllSaysBothAreMissing() {
        KallsymsTables t = kallsymsTables();
        MemoryImage bare = ProfileFixture.bare(new PatchedMemory(ProfileFixture.image().memory())
                .zero(t.tokenIndex(), 512).zero(btfPhysical(), 24));
        ProfileException e = assertThrows(ProfileException.class, () -> KernelProfiles.build(bare));
        assertTrue(e.getMessage().contains("cannot locate the kernel") || e.getMessage().contains("no kernel types and symbols"),
                e.getMessage());
        assertTrue(e.hint().contains("--symbols"), e.hint());
    }

    @Test
    void anIsfCoversMissingBtfAndKallsyms() throws IOException {
        KallsymsTables t = kallsymsTables();
        MemoryImage image = withMemory(new PatchedMemory(ProfileFixture.image().memory())
                .zero(t.tokenIndex(), 512).zero(btfPhysical(), 24));
        KernelProfile p = KernelProfiles.build(image, ProfileOptions.defaults()
                .withIsf(dev.sonde.analyzer.fixtures.FixtureIsf.path()));
        assertTrue(p.types().source().startsWith("ISF"));
        assertTrue(p.notes().stream().anyMatch(n -> n.contains("no kernel BTF")), p.notes().toString());
        assertTrue(p.notes().stream().anyMatch(n -> n.contains("no kallsyms")), p.notes().toString());
        assertEquals(88, ProcessLister.list(new KernelMemory(p, image.memory())).items().size());
    }

    @Test
    void anIsfOfAnotherKernelIsRefused() throws IOException {
        Path isf = tmp.resolve("other.json");
        String banner = "Linux version 6.1.0-99-amd64 (someone@example.org) (gcc) #1 SMP PREEMPT_DYNAMIC Debian 6.1.999-1\n\0";
        Files.writeString(isf, """
                {"metadata": {"format": "6.2.0", "producer": {"name": "test", "version": "1"}},
                 "base_types": {"char": {"size": 1, "signed": true, "kind": "char", "endian": "little"}},
                 "user_types": {}, "enums": {},
                 "symbols": {"linux_banner": {"address": 18446744071597070592, "constant_data": "%s"}}}
                """.formatted(java.util.Base64.getEncoder().encodeToString(banner.getBytes(StandardCharsets.ISO_8859_1))));
        ProfileException e = assertThrows(ProfileException.class,
                () -> KernelProfiles.build(ProfileFixture.image(), ProfileOptions.defaults().withIsf(isf)));
        assertTrue(e.getMessage().contains("is for \"Linux version 6.1.0-99-amd64"), e.getMessage());
        assertTrue(e.getMessage().contains("but the image runs \"Linux version 6.1.0-57-amd64"), e.getMessage());
        assertTrue(e.hint().contains("--symbols"), e.hint());
    }

    @Test
    void anIsfWhoseLayoutDisagreesWithTheImagesBtfIsRefusedUnlessConflictsAreAllowed() throws IOException {
        KernelProfile own = ProfileFixture.imageProfile();
        // The same kernel's ISF, as if from another build: task_struct.pid moved by 8 bytes.
        Map<String, UserType> user = new LinkedHashMap<>(own.types().userTypes());
        UserType task = user.get("task_struct");
        Map<String, Field> fields = new LinkedHashMap<>(task.fields());
        Field pid = fields.get("pid");
        fields.put("pid", new Field("pid", pid.type(), pid.offset() + 8, false));
        user.put("task_struct", new UserType("task_struct", false, task.size(), fields));
        TypeTable t = own.types();
        TypeTable moved = new TypeTable("edited", t.baseTypes(), user, t.enums(), t.functions(), t.variables());
        KernelProfile edited = new KernelProfile(own.identity(), own.banner(), own.buildId(), moved, own.symbols(),
                own.layout(), own.vmcoreinfo(), own.sources(), own.notes(), own.conflicts());
        Path isf = tmp.resolve("edited.json");
        IsfExporter.export(edited, isf);

        ProfileException e = assertThrows(ProfileException.class,
                () -> KernelProfiles.build(ProfileFixture.image(), ProfileOptions.defaults().withIsf(isf)));
        assertTrue(e.getMessage().contains("task_struct.pid: offset " + (pid.offset() + 8)), e.getMessage());
        assertTrue(e.getMessage().contains("BTF in memory"), e.getMessage());
        assertTrue(e.hint().contains("--symbols"), e.hint());

        KernelProfile allowed = KernelProfiles.build(ProfileFixture.image(),
                ProfileOptions.defaults().withIsf(isf).withAllowConflicts(true));
        assertFalse(allowed.conflicts().isEmpty());
        assertTrue(allowed.describe().contains("conflict: task_struct.pid"), allowed.describe());
    }

    @Test
    void vmcoreinfoFillsOffsetsTheTypesLackAndIsCheckedAgainstThem() {
        KernelProfile p = ProfileFixture.imageProfile();
        // Every OFFSET/SIZE/SYMBOL of the note that the profile also has agrees (else the build would have failed).
        assertEquals(Optional.empty(), p.conflicts().stream().findFirst());
        // A profile whose types lack a member still answers it from VMCOREINFO.
        TypeTable empty = new TypeTable("none", Map.of(), Map.of(), Map.of(), Map.of(), Map.of());
        KernelProfile thin = new KernelProfile(p.identity(), p.banner(), p.buildId(), empty, p.symbols(), p.layout(),
                p.vmcoreinfo(), List.of(), List.of(), List.of());
        assertEquals(p.offset("uts_namespace", "name"), thin.offset("uts_namespace", "name"));
        assertEquals(p.size("page").getAsLong(), thin.size("page").getAsLong());
        ProfileException e = assertThrows(ProfileException.class, () -> thin.offset("task_struct", "pid"));
        assertTrue(e.getMessage().contains("task_struct.pid is not in none nor in VMCOREINFO"), e.getMessage());
    }
}
