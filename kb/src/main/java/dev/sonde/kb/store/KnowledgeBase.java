package dev.sonde.kb.store;

import dev.sonde.kb.elf.CodePage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The known-binary knowledge base: one SQLite file holding, per known ELF file, its package, version, architecture,
 * path, size, SHA-256, build-id and the SHA-256 of every page of its executable segments, indexed by build-id, file
 * hash and page hash. Each import is a {@code source} (a .deb, an apt folder, a disk image); importing the same
 * source again replaces its rows. Not thread-safe: one instance per thread.
 */
public final class KnowledgeBase implements AutoCloseable {
    static final int SCHEMA = 1;
    private final Path file;
    private final Connection db;

    private KnowledgeBase(Path file, Connection db) {
        this.file = file;
        this.db = db;
    }

    /** Opens (creating when absent) the knowledge base at {@code file}. */
    public static KnowledgeBase open(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try {
            Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            KnowledgeBase kb = new KnowledgeBase(file, c);
            kb.schema();
            return kb;
        } catch (SQLException e) {
            throw new IOException(file + ": cannot open the knowledge base: " + e.getMessage(), e);
        }
    }

    /** Opens an existing knowledge base; a missing file is an error, not an empty base. */
    public static KnowledgeBase openExisting(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new java.nio.file.NoSuchFileException(file.toString(), null, "no knowledge base (create one with sonde kb import)");
        }
        return open(file);
    }

    private void schema() throws SQLException, IOException {
        try (Statement s = db.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("PRAGMA synchronous=NORMAL");
            s.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)");
            try (ResultSet r = s.executeQuery("SELECT value FROM meta WHERE key='schema'")) {
                if (r.next() && !r.getString(1).equals(Integer.toString(SCHEMA))) {
                    throw new IOException(file + ": knowledge base schema " + r.getString(1) + ", this Sonde reads " + SCHEMA);
                }
            }
            s.execute("INSERT OR IGNORE INTO meta VALUES('schema','" + SCHEMA + "')");
            s.execute("CREATE TABLE IF NOT EXISTS source(id INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
                    + " location TEXT NOT NULL UNIQUE, imported_at TEXT NOT NULL)");
            s.execute("CREATE TABLE IF NOT EXISTS file(id INTEGER PRIMARY KEY,"
                    + " source_id INTEGER NOT NULL REFERENCES source(id), package TEXT, version TEXT, arch TEXT,"
                    + " path TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, build_id TEXT,"
                    + " elf_type TEXT NOT NULL, verified INTEGER)");
            s.execute("CREATE TABLE IF NOT EXISTS page(file_id INTEGER NOT NULL REFERENCES file(id),"
                    + " offset INTEGER NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY(file_id, offset)) WITHOUT ROWID");
            s.execute("CREATE INDEX IF NOT EXISTS file_build_id ON file(build_id)");
            s.execute("CREATE INDEX IF NOT EXISTS file_sha256 ON file(sha256)");
            s.execute("CREATE INDEX IF NOT EXISTS file_path ON file(path)");
            s.execute("CREATE INDEX IF NOT EXISTS file_source ON file(source_id)");
            s.execute("CREATE INDEX IF NOT EXISTS page_sha256 ON page(sha256)");
        }
    }

    public Path file() {
        return file;
    }

    /** Writes one source's files in one transaction, replacing what an earlier import of the same location wrote. */
    public void replaceSource(String kind, String location, List<KnownFile> files) throws IOException {
        try {
            db.setAutoCommit(false);
            try {
                deleteSource(location);
                long sourceId;
                try (PreparedStatement ps = db.prepareStatement(
                        "INSERT INTO source(kind, location, imported_at) VALUES(?,?,?)", Statement.RETURN_GENERATED_KEYS)) {
                    ps.setString(1, kind);
                    ps.setString(2, location);
                    ps.setString(3, Instant.now().toString());
                    ps.executeUpdate();
                    try (ResultSet k = ps.getGeneratedKeys()) {
                        k.next();
                        sourceId = k.getLong(1);
                    }
                }
                try (PreparedStatement fs = db.prepareStatement("INSERT INTO file(source_id, package, version, arch, path,"
                        + " size, sha256, build_id, elf_type, verified) VALUES(?,?,?,?,?,?,?,?,?,?)",
                        Statement.RETURN_GENERATED_KEYS);
                     PreparedStatement ps = db.prepareStatement("INSERT OR REPLACE INTO page(file_id, offset, sha256) VALUES(?,?,?)")) {
                    for (KnownFile f : files) {
                        fs.setLong(1, sourceId);
                        fs.setString(2, f.pkg().orElse(null));
                        fs.setString(3, f.version().orElse(null));
                        fs.setString(4, f.arch().orElse(null));
                        fs.setString(5, f.path());
                        fs.setLong(6, f.size());
                        fs.setString(7, f.sha256());
                        fs.setString(8, f.buildId().orElse(null));
                        fs.setString(9, f.elfType());
                        if (f.verified().isPresent()) {
                            fs.setInt(10, f.verified().get() ? 1 : 0);
                        } else {
                            fs.setNull(10, java.sql.Types.INTEGER);
                        }
                        fs.executeUpdate();
                        long id;
                        try (ResultSet k = fs.getGeneratedKeys()) {
                            k.next();
                            id = k.getLong(1);
                        }
                        for (CodePage p : f.pages()) {
                            ps.setLong(1, id);
                            ps.setLong(2, p.offset());
                            ps.setString(3, p.sha256());
                            ps.addBatch();
                        }
                        ps.executeBatch();
                    }
                }
                db.commit();
            } catch (SQLException | RuntimeException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new IOException(file + ": cannot write source " + location + ": " + e.getMessage(), e);
        }
    }

    private void deleteSource(String location) throws SQLException {
        try (PreparedStatement a = db.prepareStatement(
                "DELETE FROM page WHERE file_id IN (SELECT f.id FROM file f JOIN source s ON f.source_id=s.id WHERE s.location=?)");
             PreparedStatement b = db.prepareStatement(
                "DELETE FROM file WHERE source_id IN (SELECT id FROM source WHERE location=?)");
             PreparedStatement c = db.prepareStatement("DELETE FROM source WHERE location=?")) {
            for (PreparedStatement p : List.of(a, b, c)) {
                p.setString(1, location);
                p.executeUpdate();
            }
        }
    }

    /** A file row with its id and source. */
    public record Row(long id, String source, KnownFile file) {
    }

    /** Files with this build-id. */
    public List<Row> byBuildId(String buildId) throws IOException {
        return rows("f.build_id=?", buildId);
    }

    /** Files with this SHA-256. */
    public List<Row> bySha256(String sha256) throws IOException {
        return rows("f.sha256=?", sha256);
    }

    /** Files installed at this path. */
    public List<Row> byPath(String path) throws IOException {
        return rows("f.path=?", path);
    }

    /** Every file, for listings. */
    public List<Row> all() throws IOException {
        return rows("1=1", null);
    }

    /** The ids of files that have a code page with this hash at this offset. */
    public List<Long> filesWithPage(long offset, String sha256) throws IOException {
        try (PreparedStatement ps = db.prepareStatement("SELECT file_id FROM page WHERE sha256=? AND offset=?")) {
            ps.setString(1, sha256);
            ps.setLong(2, offset);
            List<Long> out = new ArrayList<>();
            try (ResultSet r = ps.executeQuery()) {
                while (r.next()) {
                    out.add(r.getLong(1));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** The file with this id, pages included. */
    public Row byId(long id) throws IOException {
        List<Row> r = rows("f.id=?", id);
        if (r.isEmpty()) {
            throw new IOException(file + ": no file " + id);
        }
        return r.get(0);
    }

    /** Counts of sources, files and pages. */
    public Map<String, Long> counts() throws IOException {
        Map<String, Long> m = new LinkedHashMap<>();
        try (Statement s = db.createStatement()) {
            for (String t : List.of("source", "file", "page")) {
                try (ResultSet r = s.executeQuery("SELECT count(*) FROM " + t)) {
                    r.next();
                    m.put(t + "s", r.getLong(1));
                }
            }
        } catch (SQLException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        return m;
    }

    private List<Row> rows(String where, Object arg) throws IOException {
        String q = "SELECT f.id, s.location, f.package, f.version, f.arch, f.path, f.size, f.sha256, f.build_id,"
                + " f.elf_type, f.verified FROM file f JOIN source s ON f.source_id=s.id WHERE " + where + " ORDER BY f.id";
        try (PreparedStatement ps = db.prepareStatement(q)) {
            if (arg instanceof String str) {
                ps.setString(1, str);
            } else if (arg instanceof Long l) {
                ps.setLong(1, l);
            }
            List<Row> out = new ArrayList<>();
            try (ResultSet r = ps.executeQuery()) {
                while (r.next()) {
                    int v = r.getInt(11);
                    Optional<Boolean> verified = r.wasNull() ? Optional.empty() : Optional.of(v == 1);
                    long id = r.getLong(1);
                    // the pages are read once the result set is done with (one statement at a time)
                    out.add(new Row(id, r.getString(2), new KnownFile(opt(r.getString(3)), opt(r.getString(4)),
                            opt(r.getString(5)), r.getString(6), r.getLong(7), r.getString(8), opt(r.getString(9)),
                            r.getString(10), verified, List.of())));
                }
            }
            List<Row> withPages = new ArrayList<>(out.size());
            for (Row row : out) {
                KnownFile f = row.file();
                withPages.add(new Row(row.id(), row.source(), new KnownFile(f.pkg(), f.version(), f.arch(), f.path(),
                        f.size(), f.sha256(), f.buildId(), f.elfType(), f.verified(), pages(row.id()))));
            }
            return withPages;
        } catch (SQLException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    private List<CodePage> pages(long fileId) throws SQLException {
        try (PreparedStatement ps = db.prepareStatement("SELECT offset, sha256 FROM page WHERE file_id=? ORDER BY offset")) {
            ps.setLong(1, fileId);
            List<CodePage> out = new ArrayList<>();
            try (ResultSet r = ps.executeQuery()) {
                while (r.next()) {
                    out.add(new CodePage(r.getLong(1), r.getString(2)));
                }
            }
            return out;
        }
    }

    private static Optional<String> opt(String s) {
        return Optional.ofNullable(s);
    }

    @Override
    public void close() throws IOException {
        try {
            db.close();
        } catch (SQLException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }
}
