package dev.sonde.analyzer.kernel.isf;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import dev.sonde.analyzer.image.compressed.Compression;
import dev.sonde.analyzer.kernel.profile.BaseType;
import dev.sonde.analyzer.kernel.profile.EnumType;
import dev.sonde.analyzer.kernel.profile.Field;
import dev.sonde.analyzer.kernel.profile.KernelSymbol;
import dev.sonde.analyzer.kernel.profile.SymbolTable;
import dev.sonde.analyzer.kernel.profile.TypeRef;
import dev.sonde.analyzer.kernel.profile.TypeTable;
import dev.sonde.analyzer.kernel.profile.UserType;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a Volatility ISF ({@code .json}, or xz/gzip/bzip2/zstd-compressed, recognised by content) with Jackson's
 * streaming parser, one token at a time, into a {@link TypeTable} and a link-time {@link SymbolTable}. Type
 * descriptors are interned (the kernel's 10,000 types use a few thousand distinct ones), so a 38 MB file becomes a
 * compact table.
 */
public final class IsfReader {
    private static final com.fasterxml.jackson.databind.ObjectMapper MAPPER = new com.fasterxml.jackson.databind.ObjectMapper(
            JsonFactory.builder().streamReadConstraints(
                    StreamReadConstraints.builder().maxNestingDepth(200).maxStringLength(64 << 20).build()).build());
    private static final int MAX_TYPE_DEPTH = 64;

    private final String name;
    private final Map<TypeRef, TypeRef> interned = new HashMap<>();
    private final Map<String, String> strings = new HashMap<>();

    private IsfReader(String name) {
        this.name = name;
    }

    /** Reads an ISF file, decompressing it when its first bytes say it is compressed. */
    public static IsfFile read(Path file) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            raw.mark(16);
            byte[] head = raw.readNBytes(8);
            raw.reset();
            InputStream in = Compression.detect(head).isPresent()
                    ? new BufferedInputStream(Compression.detect(head).get().decompress(raw), 1 << 16) : raw;
            return read(in, file.toString());
        }
    }

    /** Reads an uncompressed ISF stream; {@code name} names it in messages. */
    public static IsfFile read(InputStream json, String name) throws IOException {
        return new IsfReader(name).parse(json);
    }

    private IsfFile parse(InputStream in) throws IOException {
        Map<String, BaseType> base = new LinkedHashMap<>();
        Map<String, UserType> user = new LinkedHashMap<>();
        Map<String, EnumType> enums = new LinkedHashMap<>();
        List<KernelSymbol> symbols = new ArrayList<>();
        String format = "";
        String producer = "";
        boolean sawSymbols = false;
        boolean sawTypes = false;
        try (JsonParser p = MAPPER.createParser(in)) {
            expect(p, p.nextToken(), JsonToken.START_OBJECT, "the document");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String section = p.currentName();
                JsonToken t = p.nextToken();
                switch (section) {
                    case "metadata" -> {
                        expect(p, t, JsonToken.START_OBJECT, "metadata");
                        com.fasterxml.jackson.databind.JsonNode meta = MAPPER.readTree(p);
                        format = meta.path("format").asText("");
                        producer = (meta.path("producer").path("name").asText("") + " "
                                + meta.path("producer").path("version").asText("")).trim();
                    }
                    case "base_types" -> {
                        expect(p, t, JsonToken.START_OBJECT, "base_types");
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String n = intern(p.currentName());
                            expect(p, p.nextToken(), JsonToken.START_OBJECT, "base type " + n);
                            base.put(n, baseType(p, n));
                        }
                    }
                    case "user_types" -> {
                        sawTypes = true;
                        expect(p, t, JsonToken.START_OBJECT, "user_types");
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String n = intern(p.currentName());
                            expect(p, p.nextToken(), JsonToken.START_OBJECT, "user type " + n);
                            user.put(n, userType(p, n));
                        }
                    }
                    case "enums" -> {
                        expect(p, t, JsonToken.START_OBJECT, "enums");
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String n = intern(p.currentName());
                            expect(p, p.nextToken(), JsonToken.START_OBJECT, "enum " + n);
                            enums.put(n, enumType(p, n));
                        }
                    }
                    case "symbols" -> {
                        sawSymbols = true;
                        expect(p, t, JsonToken.START_OBJECT, "symbols");
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String n = p.currentName();
                            expect(p, p.nextToken(), JsonToken.START_OBJECT, "symbol " + n);
                            symbols.add(symbol(p, n));
                        }
                    }
                    default -> p.skipChildren();
                }
            }
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IsfFormatException(name + ": not a valid ISF: " + e.getOriginalMessage() + " at "
                    + location(e.getLocation()), e);
        }
        if (!sawTypes || !sawSymbols) {
            throw new IsfFormatException(name + ": not an ISF (no " + (sawTypes ? "symbols" : "user_types") + " section)");
        }
        String desc = "ISF " + name;
        return new IsfFile(desc, format, producer,
                new TypeTable(desc, base, user, enums, Map.of(), Map.of()),
                new SymbolTable(desc, false, symbols));
    }

    private BaseType baseType(JsonParser p, String n) throws IOException {
        long size = 0;
        boolean signed = false;
        String kind = "int";
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken t = p.nextToken();
            switch (f) {
                case "size" -> size = number(p, t, "base type " + n + " size");
                case "signed" -> signed = t == JsonToken.VALUE_TRUE;
                case "kind" -> kind = intern(p.getText());
                default -> p.skipChildren();
            }
        }
        return new BaseType(n, size, signed, kind);
    }

    private UserType userType(JsonParser p, String n) throws IOException {
        long size = -1;
        boolean union = false;
        Map<String, Field> fields = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken t = p.nextToken();
            switch (f) {
                case "size" -> size = number(p, t, "user type " + n + " size");
                case "kind" -> union = "union".equals(p.getText());
                case "fields" -> {
                    expect(p, t, JsonToken.START_OBJECT, "fields of " + n);
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String fn = intern(p.currentName());
                        expect(p, p.nextToken(), JsonToken.START_OBJECT, "field " + n + "." + fn);
                        fields.put(fn, field(p, n, fn));
                    }
                }
                default -> p.skipChildren();
            }
        }
        return new UserType(n, union, size, fields);
    }

    private Field field(JsonParser p, String owner, String fn) throws IOException {
        long offset = 0;
        boolean anonymous = false;
        TypeRef type = TypeRef.UNKNOWN_TYPE;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken t = p.nextToken();
            switch (f) {
                case "offset" -> offset = number(p, t, owner + "." + fn + " offset");
                case "anonymous" -> anonymous = t == JsonToken.VALUE_TRUE;
                case "type" -> {
                    expect(p, t, JsonToken.START_OBJECT, "type of " + owner + "." + fn);
                    type = type(p, 0);
                }
                default -> p.skipChildren();
            }
        }
        return new Field(fn, type, offset, anonymous);
    }

    private TypeRef type(JsonParser p, int depth) throws IOException {
        if (depth > MAX_TYPE_DEPTH) {
            throw new IsfFormatException(name + ": type descriptors nested deeper than " + MAX_TYPE_DEPTH + " at "
                    + location(p.currentLocation()));
        }
        TypeRef.Kind kind = TypeRef.Kind.UNKNOWN;
        String n = null;
        TypeRef sub = null;
        long count = 0;
        int bitPosition = 0;
        int bitLength = 0;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken t = p.nextToken();
            switch (f) {
                case "kind" -> kind = TypeRef.Kind.ofIsf(p.getText());
                case "name" -> n = intern(p.getText());
                case "subtype", "type" -> {
                    expect(p, t, JsonToken.START_OBJECT, "subtype");
                    sub = type(p, depth + 1);
                }
                case "count" -> count = number(p, t, "array count");
                case "bit_position" -> bitPosition = (int) number(p, t, "bit_position");
                case "bit_length" -> bitLength = (int) number(p, t, "bit_length");
                default -> p.skipChildren();
            }
        }
        TypeRef r = switch (kind) {
            case BASE, STRUCT, UNION, ENUM -> new TypeRef(kind, n, null, 0, 0, 0);
            case POINTER -> TypeRef.pointer(sub == null ? TypeRef.VOID : sub);
            case ARRAY -> TypeRef.array(count, sub == null ? TypeRef.UNKNOWN_TYPE : sub);
            case BITFIELD -> TypeRef.bitfield(sub == null ? TypeRef.UNKNOWN_TYPE : sub, bitPosition, bitLength);
            case FUNCTION -> TypeRef.FUNCTION_TYPE;
            case UNKNOWN -> TypeRef.UNKNOWN_TYPE;
        };
        TypeRef prev = interned.putIfAbsent(r, r);
        return prev == null ? r : prev;
    }

    private EnumType enumType(JsonParser p, String n) throws IOException {
        long size = 0;
        String base = "int";
        Map<String, Long> constants = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken t = p.nextToken();
            switch (f) {
                case "size" -> size = number(p, t, "enum " + n + " size");
                case "base" -> base = intern(p.getText());
                case "constants" -> {
                    expect(p, t, JsonToken.START_OBJECT, "constants of " + n);
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String c = p.currentName();
                        constants.put(c, number(p, p.nextToken(), "constant " + c));
                    }
                }
                default -> p.skipChildren();
            }
        }
        return new EnumType(n, size, base, constants);
    }

    private KernelSymbol symbol(JsonParser p, String n) throws IOException {
        long address = 0;
        TypeRef type = null;
        byte[] data = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken t = p.nextToken();
            switch (f) {
                case "address" -> address = number(p, t, "address of " + n);
                case "type" -> {
                    expect(p, t, JsonToken.START_OBJECT, "type of symbol " + n);
                    type = type(p, 0);
                }
                case "constant_data" -> {
                    try {
                        data = Base64.getDecoder().decode(p.getText());
                    } catch (IllegalArgumentException e) {
                        throw new IsfFormatException(name + ": constant_data of " + n + " is not base64 at "
                                + location(p.currentLocation()));
                    }
                }
                default -> p.skipChildren();
            }
        }
        return new KernelSymbol(n, address, '?', type, data);
    }

    /** An integer value; unsigned 64-bit values (kernel addresses) keep their bits. */
    private long number(JsonParser p, JsonToken t, String what) throws IOException {
        if (t == JsonToken.VALUE_NUMBER_INT) {
            return switch (p.getNumberType()) {
                case INT, LONG -> p.getLongValue();
                default -> p.getBigIntegerValue().longValue();
            };
        }
        if (t == JsonToken.VALUE_NUMBER_FLOAT) {
            return (long) p.getDoubleValue();
        }
        throw new IsfFormatException(name + ": " + what + " is " + t + ", not a number, at " + location(p.currentLocation()));
    }

    private void expect(JsonParser p, JsonToken got, JsonToken want, String what) {
        if (got != want) {
            throw new IsfFormatException(name + ": " + what + " is " + got + ", expected " + want + " at "
                    + location(p.currentLocation()));
        }
    }

    private String intern(String s) {
        String prev = strings.putIfAbsent(s, s);
        return prev == null ? s : prev;
    }

    private static String location(com.fasterxml.jackson.core.JsonLocation l) {
        return l == null ? "?" : "line " + l.getLineNr() + " column " + l.getColumnNr();
    }
}
