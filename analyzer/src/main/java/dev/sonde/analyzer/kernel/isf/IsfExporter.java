package dev.sonde.analyzer.kernel.isf;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.sonde.analyzer.kernel.profile.BaseType;
import dev.sonde.analyzer.kernel.profile.EnumType;
import dev.sonde.analyzer.kernel.profile.Field;
import dev.sonde.analyzer.kernel.profile.KernelProfile;
import dev.sonde.analyzer.kernel.profile.KernelSymbol;
import dev.sonde.analyzer.kernel.profile.TypeRef;
import dev.sonde.analyzer.kernel.profile.TypeTable;
import dev.sonde.analyzer.kernel.profile.UserType;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/**
 * Writes a kernel profile as a Volatility 3 ISF (schema 6.2): base types, structs/unions, enums from the profile's
 * types (BTF), and symbols (kallsyms) at link-time addresses (running address minus the KASLR shift, as Volatility
 * expects), with the {@code linux_banner} constant Volatility identifies kernels by. Symbols whose type the profile
 * knows (BTF per-CPU variables, well-known globals such as {@code init_task}) carry it. The service behind
 * {@code sonde symbols export IMAGE -o kernel.json.xz}.
 */
public final class IsfExporter {
    public static final String FORMAT = "6.2.0";
    static final String PRODUCER = "sonde";

    /** Types of well-known kernel globals, which kallsyms does not record (Volatility's plugins need some of them). */
    static final Map<String, TypeRef> KNOWN_SYMBOL_TYPES = knownTypes();

    private IsfExporter() {
    }

    /** Writes the ISF to {@code file}: xz-compressed for {@code .xz}, gzip for {@code .gz}, else plain JSON. */
    public static void export(KernelProfile profile, Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".partial-", ".isf");
        try {
            try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16);
                 OutputStream out = wrap(raw, file.getFileName().toString())) {
                export(profile, out);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static OutputStream wrap(OutputStream raw, String name) throws IOException {
        if (name.endsWith(".xz")) {
            return new org.tukaani.xz.XZOutputStream(raw, new org.tukaani.xz.LZMA2Options(3));
        }
        if (name.endsWith(".gz")) {
            return new GzipCompressorOutputStream(raw);
        }
        return raw;
    }

    /** Writes the ISF as JSON to {@code out} (not closed). */
    public static void export(KernelProfile profile, OutputStream out) throws IOException {
        JsonGenerator g = new JsonFactory().createGenerator(out, JsonEncoding.UTF8);
        g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        TypeTable types = profile.types();
        g.writeStartObject();

        g.writeObjectFieldStart("metadata");
        g.writeStringField("format", FORMAT);
        g.writeObjectFieldStart("producer");
        g.writeStringField("name", PRODUCER);
        g.writeStringField("version", version());
        g.writeStringField("datetime", Instant.now().toString());
        g.writeEndObject();
        g.writeObjectFieldStart("linux");
        g.writeArrayFieldStart("symbols");
        g.writeEndArray();
        g.writeArrayFieldStart("types");
        g.writeEndArray();
        g.writeEndObject();
        g.writeEndObject();

        g.writeObjectFieldStart("base_types");
        Map<String, BaseType> base = new TreeMap<>(types.baseTypes());
        base.putIfAbsent("void", new BaseType("void", 0, false, "void"));
        base.putIfAbsent("pointer", new BaseType("pointer", 8, false, "int"));
        for (BaseType b : base.values()) {
            g.writeObjectFieldStart(b.name());
            g.writeNumberField("size", b.size());
            g.writeBooleanField("signed", b.signed());
            g.writeStringField("kind", switch (b.kind()) {
                case "void", "int", "float", "char", "bool" -> b.kind();
                default -> "int";
            });
            g.writeStringField("endian", "little");
            g.writeEndObject();
        }
        g.writeEndObject();

        g.writeObjectFieldStart("user_types");
        for (UserType u : new TreeMap<>(types.userTypes()).values()) {
            g.writeObjectFieldStart(u.name());
            g.writeStringField("kind", u.kindName());
            g.writeNumberField("size", Math.max(0, u.size()));
            g.writeObjectFieldStart("fields");
            for (Field f : u.fields().values()) {
                g.writeObjectFieldStart(f.name());
                g.writeFieldName("type");
                writeType(g, f.type());
                g.writeNumberField("offset", f.offset());
                if (f.anonymous()) {
                    g.writeBooleanField("anonymous", true);
                }
                g.writeEndObject();
            }
            g.writeEndObject();
            g.writeEndObject();
        }
        g.writeEndObject();

        g.writeObjectFieldStart("enums");
        for (EnumType e : new TreeMap<>(types.enums()).values()) {
            g.writeObjectFieldStart(e.name());
            g.writeNumberField("size", e.size());
            g.writeStringField("base", e.base());
            g.writeObjectFieldStart("constants");
            for (Map.Entry<String, Long> c : e.constants().entrySet()) {
                g.writeNumberField(c.getKey(), c.getValue());
            }
            g.writeEndObject();
            g.writeEndObject();
        }
        g.writeEndObject();

        g.writeObjectFieldStart("symbols");
        long shift = profile.layout().virtualShift();
        Map<String, KernelSymbol> symbols = new TreeMap<>();
        for (KernelSymbol s : profile.symbols().all()) {
            symbols.put(s.name(), s);
        }
        Optional<byte[]> banner = profile.banner().map(b -> (b + "\n\0").getBytes(StandardCharsets.ISO_8859_1));
        for (KernelSymbol s : symbols.values()) {
            long address = profile.symbols().relocated() && !s.perCpu() ? s.address() - shift : s.address();
            g.writeObjectFieldStart(s.name());
            g.writeFieldName("address");
            g.writeNumber(Long.toUnsignedString(address));
            Optional<TypeRef> type = symbolType(profile, s);
            byte[] data = s.constantData();
            if (s.name().equals("linux_banner") && banner.isPresent()) {
                data = banner.get();
                type = Optional.of(TypeRef.array(data.length, TypeRef.base("char")));
            }
            if (type.isPresent()) {
                g.writeFieldName("type");
                writeType(g, type.get());
            }
            if (data != null) {
                g.writeBinaryField("constant_data", data);
            }
            g.writeEndObject();
        }
        g.writeEndObject();

        g.writeEndObject();
        g.flush();
    }

    private static Optional<TypeRef> symbolType(KernelProfile profile, KernelSymbol s) {
        if (s.type() != null) {
            return Optional.of(s.type());
        }
        TypeRef v = profile.types().variables().get(s.name());
        if (v != null) {
            return Optional.of(v);
        }
        TypeRef known = KNOWN_SYMBOL_TYPES.get(s.name());
        if (known != null && resolvable(profile.types(), known)) {
            return Optional.of(known);
        }
        java.util.Set<String> shape = ANONYMOUS_SYMBOL_SHAPES.get(s.name());
        if (shape != null) {
            return profile.types().userTypes().values().stream()
                    .filter(u -> u.name().startsWith("unnamed_") && u.fields().keySet().equals(shape))
                    .map(UserType::ref).findFirst();
        }
        return Optional.empty();
    }

    /**
     * Globals whose type is an anonymous struct, recognised by its member names (Volatility reads {@code tk_core} for
     * the boot time behind process start times).
     */
    static final Map<String, java.util.Set<String>> ANONYMOUS_SYMBOL_SHAPES = Map.of(
            "tk_core", java.util.Set.of("seq", "timekeeper"));

    private static boolean resolvable(TypeTable types, TypeRef r) {
        return switch (r.kind()) {
            case STRUCT, UNION -> types.userType(r.name()).isPresent();
            case BASE -> types.baseTypes().containsKey(r.name());
            case POINTER, ARRAY -> r.subtype() == null || resolvable(types, r.subtype());
            default -> true;
        };
    }

    static void writeType(JsonGenerator g, TypeRef t) throws IOException {
        g.writeStartObject();
        switch (t.kind()) {
            case BASE -> {
                g.writeStringField("kind", "base");
                g.writeStringField("name", t.name());
            }
            case STRUCT, UNION, ENUM -> {
                g.writeStringField("kind", t.kind().isf());
                g.writeStringField("name", t.name());
            }
            case POINTER -> {
                g.writeStringField("kind", "pointer");
                g.writeFieldName("subtype");
                writeType(g, t.subtype() == null ? TypeRef.VOID : t.subtype());
            }
            case ARRAY -> {
                g.writeStringField("kind", "array");
                g.writeNumberField("count", t.count());
                g.writeFieldName("subtype");
                writeType(g, t.subtype() == null ? TypeRef.VOID : t.subtype());
            }
            case FUNCTION -> g.writeStringField("kind", "function");
            case BITFIELD -> {
                g.writeStringField("kind", "bitfield");
                g.writeNumberField("bit_position", t.bitPosition());
                g.writeNumberField("bit_length", t.bitLength());
                g.writeFieldName("type");
                TypeRef storage = t.subtype();
                writeType(g, storage != null && (storage.kind() == TypeRef.Kind.BASE || storage.kind() == TypeRef.Kind.ENUM)
                        ? storage : TypeRef.base("unsigned int"));
            }
            case UNKNOWN -> {
                g.writeStringField("kind", "base");
                g.writeStringField("name", "void");
            }
        }
        g.writeEndObject();
    }

    private static String version() {
        String v = IsfExporter.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    private static Map<String, TypeRef> knownTypes() {
        Map<String, TypeRef> m = new LinkedHashMap<>();
        m.put("init_task", TypeRef.struct("task_struct"));
        m.put("init_files", TypeRef.struct("files_struct"));
        m.put("init_fs", TypeRef.struct("fs_struct"));
        m.put("init_mm", TypeRef.struct("mm_struct"));
        m.put("init_cred", TypeRef.struct("cred"));
        m.put("init_pid_ns", TypeRef.struct("pid_namespace"));
        m.put("init_uts_ns", TypeRef.struct("uts_namespace"));
        m.put("init_nsproxy", TypeRef.struct("nsproxy"));
        m.put("init_net", TypeRef.struct("net"));
        m.put("init_ipc_ns", TypeRef.struct("ipc_namespace"));
        m.put("init_user_ns", TypeRef.struct("user_namespace"));
        m.put("modules", TypeRef.struct("list_head"));
        m.put("net_namespace_list", TypeRef.struct("list_head"));
        m.put("super_blocks", TypeRef.struct("list_head"));
        m.put("jiffies", TypeRef.base("long unsigned int"));
        m.put("jiffies_64", TypeRef.base("long long unsigned int"));
        m.put("page_offset_base", TypeRef.base("long unsigned int"));
        m.put("vmemmap_base", TypeRef.base("long unsigned int"));
        m.put("vmalloc_base", TypeRef.base("long unsigned int"));
        m.put("max_pfn", TypeRef.base("long unsigned int"));
        m.put("nr_cpu_ids", TypeRef.base("unsigned int"));
        m.put("mount_hashtable", TypeRef.pointer(TypeRef.struct("hlist_head")));
        m.put("init_top_pgt", TypeRef.array(512, TypeRef.struct("pgd_t")));
        m.put("idt_table", TypeRef.array(256, TypeRef.struct("gate_struct")));
        m.put("sys_call_table", TypeRef.array(0, TypeRef.pointer(TypeRef.FUNCTION_TYPE)));
        m.put("ia32_sys_call_table", TypeRef.array(0, TypeRef.pointer(TypeRef.FUNCTION_TYPE)));
        m.put("tcp_hashinfo", TypeRef.struct("inet_hashinfo"));
        return m;
    }
}
