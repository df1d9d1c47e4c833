/* source_sqlite.c - the SQLite back end of the change capture (source.h):
 * one sqlite3 handle on the source application's database file, triggers
 * that number changes with an AUTOINCREMENT key (commit order, see
 * source.h), every statement prepared once and reset after each use. */
#include "source_impl.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The log and the state table; the triggers are created apart, as their
 * presence is what tells whether the snapshot was taken. AUTOINCREMENT, not
 * a plain rowid key: a plain one would hand out 1 again after compaction
 * emptied the log, below the readers' checkpoints. */
static const char ddl_tables[] =
    "CREATE TABLE IF NOT EXISTS articles_sync_changes ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " article_id INTEGER NOT NULL,"
    " op TEXT NOT NULL," /* I U D: the trigger's event; S: initial snapshot */
    " changed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));"
    "CREATE TABLE IF NOT EXISTS articles_sync_state ("
    " name TEXT PRIMARY KEY,"
    " seq INTEGER NOT NULL,"
    " updated_at TEXT NOT NULL);";

/* The seq is drawn here, inside the writer's transaction, and that is in
 * commit order: SQLite lets one connection write at a time, holding the
 * write lock from the transaction's first write (this trigger's insert
 * comes after it) until its commit, so no other transaction can draw a
 * number, let alone commit, in between; the next writer starts from our
 * committed sqlite_sequence. A reader (one statement, one snapshot) thus
 * always sees a prefix of the numbers. An UPDATE that changes the id also
 * deletes the old id. */
static const char ddl_triggers[] =
    "DROP TRIGGER IF EXISTS articles_sync_ins;"
    "DROP TRIGGER IF EXISTS articles_sync_upd;"
    "DROP TRIGGER IF EXISTS articles_sync_del;"
    "CREATE TRIGGER articles_sync_ins AFTER INSERT ON articles BEGIN"
    " INSERT INTO articles_sync_changes (article_id, op) VALUES (NEW.id, 'I');"
    " END;"
    "CREATE TRIGGER articles_sync_upd AFTER UPDATE ON articles BEGIN"
    " INSERT INTO articles_sync_changes (article_id, op) SELECT OLD.id, 'D'"
    "  WHERE OLD.id IS NOT NEW.id;"
    " INSERT INTO articles_sync_changes (article_id, op) VALUES (NEW.id, 'U');"
    " END;"
    "CREATE TRIGGER articles_sync_del AFTER DELETE ON articles BEGIN"
    " INSERT INTO articles_sync_changes (article_id, op) VALUES (OLD.id, 'D');"
    " END;";

/* A timestamp column as the text PostgreSQL sources give too (RFC 3339 UTC
 * with milliseconds), when SQLite's date functions understand the value:
 * ISO 8601 text, with or without T, offset or fraction (none means UTC, as
 * SQLite's CURRENT_TIMESTAMP writes it), and integers as Unix seconds.
 * Anything else comes as its text, for the producer to judge. Text already
 * in that shape (the REST core writes it) skips strftime, which would cost
 * a third of the read rate. */
#define TS_FMT "'%Y-%m-%dT%H:%M:%fZ'"
#define D2 "[0-9][0-9]"
#define TS_SHAPE "'" D2 D2 "-" D2 "-" D2 "T" D2 ":" D2 ":" D2 ".[0-9]" D2 "Z'"
#define TS(col)                                                                                    \
    "CASE WHEN " col " GLOB " TS_SHAPE " THEN " col                                                \
    " WHEN typeof(" col ") = 'text' THEN coalesce(strftime(" TS_FMT ", " col "), " col ")"         \
    " WHEN typeof(" col ") = 'integer'"                                                            \
    " THEN coalesce(strftime(" TS_FMT ", " col ", 'unixepoch'), " col ")"                          \
    " ELSE CAST(" col " AS TEXT) END"

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_COLUMNS,
    ST_OBJECTS,
    ST_SNAPSHOT,
    ST_READ,
    ST_ITERATE,
    ST_CP_GET,
    ST_CP_SET,
    ST_BACKLOG,
    ST_COMPACT,
    ST_COUNT
};

/* Templates for source_sql(): {c} and {u} become the timestamp columns or
 * NULL when the source table lacks them. */
static const char *const sql_tmpl[ST_COUNT] = {
    /* IMMEDIATE takes the write lock up front (waiting in the busy handler);
     * a deferred transaction upgrading later could fail at once. */
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_COLUMNS] = "SELECT name FROM pragma_table_info('articles')",
    /* Our three triggers on articles, and whether both tables exist. */
    [ST_OBJECTS] = "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
                   " AND tbl_name = 'articles' AND name IN ('articles_sync_ins',"
                   " 'articles_sync_upd', 'articles_sync_del')),"
                   " (SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                   " AND name IN ('articles_sync_changes', 'articles_sync_state'))",
    [ST_SNAPSHOT] = "INSERT INTO articles_sync_changes (article_id, op)"
                    " SELECT id, 'S' FROM articles ORDER BY id",
    /* The window of at most ?2 entries after ?1, collapsed per article to its
     * highest seq (a bare column next to max() comes from that max row),
     * joined to the current row. In article order, which reads the table
     * sequentially: sorting the joined rows by seq here would copy every
     * content through a sorter, so sq_read_changes sorts the rows instead. */
    [ST_READ] = "SELECT c.seq, c.article_id, a.id IS NOT NULL, a.title, a.content, a.author,"
                " {c}, {u}, c.changed_at"
                " FROM (SELECT max(seq) AS seq, article_id, changed_at"
                "  FROM (SELECT seq, article_id, changed_at FROM articles_sync_changes"
                "   WHERE seq > ?1 ORDER BY seq LIMIT ?2)"
                "  GROUP BY article_id) AS c"
                " LEFT JOIN articles AS a ON a.id = c.article_id",
    [ST_ITERATE] = "SELECT a.id, a.title, a.content, a.author, {c}, {u} FROM articles AS a"
                   " WHERE a.id > ?1 ORDER BY a.id LIMIT ?2",
    [ST_CP_GET] = "SELECT seq FROM articles_sync_state WHERE name = ?1",
    [ST_CP_SET] = "INSERT INTO articles_sync_state (name, seq, updated_at)"
                  " VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
                  " ON CONFLICT (name) DO UPDATE SET seq = excluded.seq,"
                  " updated_at = excluded.updated_at",
    /* sqlite_sequence keeps the highest number handed out, also after the
     * rows are gone. */
    [ST_BACKLOG] = "SELECT (SELECT count(*) FROM articles_sync_changes WHERE seq > ?1),"
                   " max(coalesce((SELECT seq FROM sqlite_sequence"
                   "  WHERE name = 'articles_sync_changes'), 0),"
                   "  coalesce((SELECT max(seq) FROM articles_sync_changes), 0))",
    /* Seqs are unique, so the range from the lowest one holds at most ?2. */
    [ST_COMPACT] = "DELETE FROM articles_sync_changes WHERE seq <= min(?1,"
                   " (SELECT min(seq) FROM articles_sync_changes) + ?2 - 1)",
};

typedef struct sq_source {
    source_t base;
    sqlite3 *db;                /* owned */
    sqlite3_stmt *st[ST_COUNT]; /* owned, NULL until first use */
    bool columns_known;         /* the columns below were looked up */
    bool has_created, has_updated;
} sq_source_t;

static sq_source_t *sq(source_t *s)
{
    return (sq_source_t *)s;
}

/* Failures of the file or of the lock are "unavailable" (worth a retry);
 * anything else is a plain error. */
static int sq_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
        return SOURCE_EUNAVAILABLE;
    case SQLITE_NOMEM:
        return SOURCE_ENOMEM;
    default:
        return SOURCE_EERROR;
    }
}

/* A statement naming a table or column that is not there: init was not
 * run, or the table changed. */
static int sq_fail(sq_source_t *s, int rc, const char *what)
{
    const char *msg = sqlite3_errmsg(s->db);
    int code = sq_code(rc);
    if (code == SOURCE_EERROR && (strstr(msg, "no such table") || strstr(msg, "no such column")))
        code = SOURCE_ESCHEMA;
    return source_fail(&s->base, code, "%s: %s", what, msg);
}

/* Looks up which columns articles has: the required ones must be there,
 * the timestamps are optional. */
static int sq_columns(sq_source_t *s);

static int sq_stmt(sq_source_t *s, int id, sqlite3_stmt **out)
{
    int rc = SOURCE_OK;
    if ((id == ST_READ || id == ST_ITERATE) && (rc = sq_columns(s)))
        return rc;
    if (s->st[id]) {
        *out = s->st[id];
        return SOURCE_OK;
    }
    char *sql = source_sql(sql_tmpl[id], "", s->has_created ? TS("a.created_at") : "NULL",
                           s->has_updated ? TS("a.updated_at") : "NULL");
    if (!sql)
        return source_fail(&s->base, SOURCE_ENOMEM, "out of memory");
    int src = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st[id], NULL);
    free(sql);
    if (src != SQLITE_OK)
        return sq_fail(s, src, "prepare");
    *out = s->st[id];
    return SOURCE_OK;
}

/* Runs a statement that returns no rows and resets it. */
static int sq_exec(sq_source_t *s, int id, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = sq_stmt(s, id, &st);
    if (rc)
        return rc;
    int src = sqlite3_step(st);
    rc = src == SQLITE_DONE ? SOURCE_OK : sq_fail(s, src, what);
    sqlite3_reset(st);
    return rc;
}

static int sq_columns(sq_source_t *s)
{
    if (s->columns_known)
        return SOURCE_OK;
    sqlite3_stmt *st = NULL;
    int rc = sq_stmt(s, ST_COLUMNS, &st);
    if (rc)
        return rc;
    unsigned found = 0; /* bit per name below */
    static const char *const names[] = {"id", "title", "content", "author", "created_at",
                                        "updated_at"};
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        for (unsigned i = 0; name && i < sizeof names / sizeof names[0]; i++)
            if (sqlite3_stricmp(name, names[i]) == 0)
                found |= 1u << i;
    }
    rc = src == SQLITE_DONE ? SOURCE_OK : sq_fail(s, src, "columns");
    sqlite3_reset(st);
    if (rc)
        return rc;
    if (found == 0)
        return source_fail(&s->base, SOURCE_ESCHEMA, "the source has no table articles");
    for (unsigned i = 0; i < 4; i++)
        if (!(found & (1u << i)))
            return source_fail(&s->base, SOURCE_ESCHEMA, "table articles has no column %s",
                               names[i]);
    /* The statements that name the timestamps are built again. */
    for (int id = ST_READ; id <= ST_ITERATE; id++) {
        sqlite3_finalize(s->st[id]);
        s->st[id] = NULL;
    }
    s->has_created = found & (1u << 4);
    s->has_updated = found & (1u << 5);
    s->columns_known = true;
    return SOURCE_OK;
}

/* Counts our triggers and tables. */
static int sq_objects(sq_source_t *s, int *triggers, int *tables)
{
    sqlite3_stmt *st = NULL;
    int rc = sq_stmt(s, ST_OBJECTS, &st);
    if (rc)
        return rc;
    int src = sqlite3_step(st);
    rc = src == SQLITE_ROW ? SOURCE_OK : sq_fail(s, src, "objects");
    if (rc == SOURCE_OK) {
        *triggers = sqlite3_column_int(st, 0);
        *tables = sqlite3_column_int(st, 1);
    }
    sqlite3_reset(st);
    return rc;
}

static void sq_rollback(sq_source_t *s)
{
    /* Some errors (SQLITE_FULL, IOERR) already rolled back. */
    if (!sqlite3_get_autocommit(s->db)) {
        char keep[sizeof s->base.errmsg];
        memcpy(keep, s->base.errmsg, sizeof keep); /* the first error is the one to report */
        sq_exec(s, ST_ROLLBACK, "rollback");
        memcpy(s->base.errmsg, keep, sizeof keep);
    }
}

static int sq_ddl(sq_source_t *s, const char *sql, const char *what)
{
    char *msg = NULL;
    int src = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    int rc = SOURCE_OK;
    if (src != SQLITE_OK)
        rc = source_fail(&s->base, sq_code(src), "%s: %s", what, msg ? msg : sqlite3_errstr(src));
    sqlite3_free(msg);
    return rc;
}

/* ---- operations ------------------------------------------------------------ */

static void sq_close(source_t *base)
{
    sq_source_t *s = sq(base);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s);
}

/* Under the write lock for the whole transaction, no writer can commit
 * between the trigger check, their creation and the snapshot: every row is
 * either in the snapshot or written after the triggers exist. */
static int sq_init(source_t *base, int64_t *snapshot_count)
{
    sq_source_t *s = sq(base);
    int triggers = 0, tables = 0;
    s->columns_known = false; /* the table may have been recreated */
    int rc = sq_columns(s);
    if (rc || (rc = sq_exec(s, ST_BEGIN, "begin")))
        return rc;
    if ((rc = sq_ddl(s, ddl_tables, "create tables")) || (rc = sq_objects(s, &triggers, &tables)))
        goto fail;
    if (triggers < 3) {
        if ((rc = sq_ddl(s, ddl_triggers, "create triggers")) ||
            (rc = sq_exec(s, ST_SNAPSHOT, "snapshot")))
            goto fail;
        *snapshot_count = sqlite3_changes64(s->db);
    }
    if ((rc = sq_exec(s, ST_COMMIT, "commit")))
        goto fail;
    return SOURCE_OK;
fail:
    sq_rollback(s);
    *snapshot_count = 0;
    return rc;
}

/* Reading without the triggers would silently miss changes. */
static int sq_check_capture(sq_source_t *s)
{
    int triggers = 0, tables = 0;
    int rc = sq_objects(s, &triggers, &tables);
    if (rc)
        return rc;
    if (tables < 2)
        return source_fail(&s->base, SOURCE_ESCHEMA,
                           "change capture is not set up in the source (run init)");
    if (triggers < 3)
        return source_fail(&s->base, SOURCE_ESCHEMA,
                           "the capture triggers on articles are missing (table recreated?): "
                           "run init again");
    return SOURCE_OK;
}

static int col_text(source_rows_t *rows, source_row_t *row, int f, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return 0;
    const char *t = (const char *)sqlite3_column_text(st, col);
    return source_rows_text(rows, row, f, t ? t : "", (size_t)sqlite3_column_bytes(st, col));
}

/* Collects the article columns starting at col (title ... updated_at). */
static int article_cols(source_rows_t *rows, source_row_t *row, sqlite3_stmt *st, int col)
{
    static const int fields[] = {F_TITLE, F_CONTENT, F_AUTHOR, F_CREATED, F_UPDATED};
    for (int i = 0; i < 5; i++)
        if (col_text(rows, row, fields[i], st, col + i) < 0)
            return -1;
    return 0;
}

static int read_change(source_rows_t *rows, sqlite3_stmt *st)
{
    source_row_t *row = source_rows_push(rows);
    if (!row)
        return -1;
    row->seq = sqlite3_column_int64(st, 0);
    row->id = sqlite3_column_int64(st, 1);
    row->op = sqlite3_column_int(st, 2) ? SOURCE_OP_UPSERT : SOURCE_OP_DELETE;
    if (row->op == SOURCE_OP_UPSERT && article_cols(rows, row, st, 3) < 0)
        return -1;
    return col_text(rows, row, F_CHANGED, st, 8);
}

static int read_article(source_rows_t *rows, sqlite3_stmt *st)
{
    source_row_t *row = source_rows_push(rows);
    if (!row)
        return -1;
    row->id = sqlite3_column_int64(st, 0);
    row->op = SOURCE_OP_UPSERT;
    return article_cols(rows, row, st, 1);
}

/* Steps st (bound: ?1 after, ?2 limit) to the end, each row through fn;
 * one statement, so one consistent snapshot of the database. */
static int sq_collect(sq_source_t *s, int id, int64_t after, int64_t limit, source_rows_t *rows,
                      int (*fn)(source_rows_t *, sqlite3_stmt *), const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = sq_stmt(s, id, &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, limit);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (fn(rows, st) < 0) {
            rc = source_fail(&s->base, SOURCE_ENOMEM, "%s: out of memory", what);
            break;
        }
    }
    if (rc == SOURCE_OK && src != SQLITE_DONE)
        rc = sq_fail(s, src, what);
    sqlite3_reset(st);
    return rc;
}

static int by_seq(const void *a, const void *b)
{
    int64_t x = ((const source_row_t *)a)->seq, y = ((const source_row_t *)b)->seq;
    return (x > y) - (x < y);
}

/* After a failure the columns are looked up again: the table may have been
 * recreated with others. */
static int sq_read_changes(source_t *base, int64_t after_seq, int64_t limit, source_rows_t *rows)
{
    sq_source_t *s = sq(base);
    size_t first = rows->len;
    int rc = sq_check_capture(s);
    if (rc == SOURCE_OK)
        rc = sq_collect(s, ST_READ, after_seq, limit, rows, read_change, "read");
    if (rc == SOURCE_OK && rows->len > first) /* rows->rows is NULL while empty */
        qsort(rows->rows + first, rows->len - first, sizeof *rows->rows, by_seq);
    if (rc)
        s->columns_known = false;
    return rc;
}

static int sq_iterate(source_t *base, int64_t after_id, int64_t limit, source_rows_t *rows)
{
    sq_source_t *s = sq(base);
    int rc = sq_collect(s, ST_ITERATE, after_id, limit, rows, read_article, "iterate");
    if (rc)
        s->columns_known = false;
    return rc;
}

static int sq_checkpoint_get(source_t *base, const char *name, int64_t *seq)
{
    sq_source_t *s = sq(base);
    sqlite3_stmt *st = NULL;
    int rc = sq_stmt(s, ST_CP_GET, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *seq = sqlite3_column_int64(st, 0);
    else if (src != SQLITE_DONE)
        rc = sq_fail(s, src, "checkpoint get");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st); /* name is the caller's */
    return rc;
}

static int sq_checkpoint_set(source_t *base, const char *name, int64_t seq)
{
    sq_source_t *s = sq(base);
    sqlite3_stmt *st = NULL;
    int rc = sq_stmt(s, ST_CP_SET, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    rc = sq_exec(s, ST_CP_SET, "checkpoint set");
    sqlite3_clear_bindings(st);
    return rc;
}

static int sq_backlog(source_t *base, int64_t after_seq, int64_t *count, int64_t *max_seq)
{
    sq_source_t *s = sq(base);
    sqlite3_stmt *st = NULL;
    int rc = sq_stmt(s, ST_BACKLOG, &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, after_seq);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *count = sqlite3_column_int64(st, 0);
        *max_seq = sqlite3_column_int64(st, 1);
    } else {
        rc = sq_fail(s, src, "backlog");
    }
    sqlite3_reset(st);
    return rc;
}

static int sq_compact_chunk(source_t *base, int64_t upto_seq, int64_t chunk, int64_t *deleted)
{
    sq_source_t *s = sq(base);
    sqlite3_stmt *st = NULL;
    int rc = sq_stmt(s, ST_COMPACT, &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, upto_seq);
    sqlite3_bind_int64(st, 2, chunk);
    rc = sq_exec(s, ST_COMPACT, "compact");
    if (rc == SOURCE_OK)
        *deleted = sqlite3_changes64(s->db);
    return rc;
}

static const struct source_ops sq_ops = {
    .close = sq_close,
    .init = sq_init,
    .read_changes = sq_read_changes,
    .checkpoint_get = sq_checkpoint_get,
    .checkpoint_set = sq_checkpoint_set,
    .backlog = sq_backlog,
    .compact_chunk = sq_compact_chunk,
    .iterate = sq_iterate,
};

int source_sqlite_open(const char *path, source_t **out, char *err, size_t errlen)
{
    *out = NULL;
    bool memory = strcmp(path, ":memory:") == 0;
    sq_source_t *s = calloc(1, sizeof *s);
    if (!s) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return SOURCE_ENOMEM;
    }
    s->base.ops = &sq_ops;
    s->base.kind = SOURCE_KIND_SQLITE;
    /* No SQLITE_OPEN_CREATE for files: a mistyped path must fail, not
     * start an empty source. One thread per connection: no mutex. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (memory ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        if (err && errlen)
            snprintf(err, errlen, "open %s: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        sqlite3_close(s->db);
        free(s);
        return sq_code(rc);
    }
    /* The source application keeps writing: wait for its lock rather than
     * fail. The journal mode is the application's choice and left alone
     * (WAL lets it write while we read). */
    sqlite3_busy_timeout(s->db, SOURCE_SQLITE_BUSY_MS);
    *out = &s->base;
    return SOURCE_OK;
}
