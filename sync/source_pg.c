/* source_pg.c - the PostgreSQL back end of the change capture (source.h)
 * through libpq: one PGconn, statement triggers that log changes unnumbered,
 * and the reader numbering committed ones in commit order before it reads
 * (the design and its argument are in source.h). Our objects live in the
 * schema of the `articles` the search_path finds and are always named with
 * that schema. A lost connection is re-established at the next call, and as
 * every operation is idempotent it is then retried once. */
#include "source_impl.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The advisory lock (two-key form: this constant and the change log's oid,
 * so sources in different schemas do not wait for each other) that
 * serialises numbering passes. */
#define LOCK_CLASS "4242061"

/* A numbering pass takes at least this many rows, so small reads do not
 * leave most committed changes unnumbered (backlog's max_seq). */
#define ASSIGN_MIN 10000

/* How long init waits for the lock on articles. While it waits, the
 * application's new writes queue behind it, so a long transaction of the
 * application must not stall them all: init fails (SOURCE_EUNAVAILABLE)
 * and the caller tries again later. */
#define INIT_LOCK_TIMEOUT "5s"

/* Timestamps leave in the text the REST core stores. */
#define TS_FMT "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'"

/* Objects, under the lock that keeps the source's writers out for the whole
 * init transaction (SHARE ROW EXCLUSIVE: conflicts with writers and with
 * itself, so concurrent inits queue too). The trigger functions are
 * SECURITY DEFINER: the application's role needs no rights on our tables,
 * and a fixed search_path keeps its settings out of them (every name in
 * them is schema-qualified; transition tables are not looked up by path).
 * {s} is the quoted schema and a dot. */
static const char ddl_tables[] =
    "SET LOCAL lock_timeout = '" INIT_LOCK_TIMEOUT "';"
    "LOCK TABLE {s}articles IN SHARE ROW EXCLUSIVE MODE;"
    "CREATE SEQUENCE IF NOT EXISTS {s}articles_sync_seq;"
    "CREATE TABLE IF NOT EXISTS {s}articles_sync_changes ("
    " pos bigserial NOT NULL," /* trigger order; seq is given by the reader */
    " seq bigint,"
    " article_id bigint NOT NULL,"
    " op text NOT NULL," /* I U D: the trigger's event; S snapshot; T truncate */
    " changed_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp());"
    "CREATE UNIQUE INDEX IF NOT EXISTS articles_sync_changes_seq_idx"
    " ON {s}articles_sync_changes (seq) WHERE seq IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS articles_sync_changes_pending_idx"
    " ON {s}articles_sync_changes (pos) WHERE seq IS NULL;"
    "CREATE TABLE IF NOT EXISTS {s}articles_sync_state ("
    " name text PRIMARY KEY,"
    " seq bigint NOT NULL,"
    " updated_at timestamptz NOT NULL DEFAULT pg_catalog.now());"
    "CREATE OR REPLACE FUNCTION {s}articles_sync_ins() RETURNS trigger LANGUAGE plpgsql"
    " SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $sync$ BEGIN"
    " INSERT INTO {s}articles_sync_changes (article_id, op)"
    "  SELECT id, 'I' FROM articles_sync_new;"
    " RETURN NULL; END $sync$;"
    /* An id that left the table (UPDATE SET id = ...) is a delete. */
    "CREATE OR REPLACE FUNCTION {s}articles_sync_upd() RETURNS trigger LANGUAGE plpgsql"
    " SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $sync$ BEGIN"
    " INSERT INTO {s}articles_sync_changes (article_id, op)"
    "  SELECT o.id, 'D' FROM articles_sync_old AS o"
    "  WHERE NOT EXISTS (SELECT 1 FROM articles_sync_new AS n WHERE n.id = o.id)"
    "  UNION ALL SELECT id, 'U' FROM articles_sync_new;"
    " RETURN NULL; END $sync$;"
    "CREATE OR REPLACE FUNCTION {s}articles_sync_del() RETURNS trigger LANGUAGE plpgsql"
    " SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $sync$ BEGIN"
    " INSERT INTO {s}articles_sync_changes (article_id, op)"
    "  SELECT id, 'D' FROM articles_sync_old;"
    " RETURN NULL; END $sync$;"
    /* BEFORE TRUNCATE: the rows are still there (and locked exclusively). */
    "CREATE OR REPLACE FUNCTION {s}articles_sync_trunc() RETURNS trigger LANGUAGE plpgsql"
    " SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $sync$ BEGIN"
    " INSERT INTO {s}articles_sync_changes (article_id, op)"
    "  SELECT id, 'T' FROM {s}articles ORDER BY id;"
    " RETURN NULL; END $sync$;";

/* Statement triggers with transition tables: one INSERT per statement, not
 * one function call per row, so bulk writes of the application stay cheap.
 * They run at the end of the statement, when its row locks are held: what
 * makes pos follow commit order per article (source.h). */
static const char ddl_triggers[] =
    "DROP TRIGGER IF EXISTS articles_sync_ins ON {s}articles;"
    "DROP TRIGGER IF EXISTS articles_sync_upd ON {s}articles;"
    "DROP TRIGGER IF EXISTS articles_sync_del ON {s}articles;"
    "DROP TRIGGER IF EXISTS articles_sync_trunc ON {s}articles;"
    "CREATE TRIGGER articles_sync_ins AFTER INSERT ON {s}articles"
    " REFERENCING NEW TABLE AS articles_sync_new"
    " FOR EACH STATEMENT EXECUTE FUNCTION {s}articles_sync_ins();"
    "CREATE TRIGGER articles_sync_upd AFTER UPDATE ON {s}articles"
    " REFERENCING OLD TABLE AS articles_sync_old NEW TABLE AS articles_sync_new"
    " FOR EACH STATEMENT EXECUTE FUNCTION {s}articles_sync_upd();"
    "CREATE TRIGGER articles_sync_del AFTER DELETE ON {s}articles"
    " REFERENCING OLD TABLE AS articles_sync_old"
    " FOR EACH STATEMENT EXECUTE FUNCTION {s}articles_sync_del();"
    "CREATE TRIGGER articles_sync_trunc BEFORE TRUNCATE ON {s}articles"
    " FOR EACH STATEMENT EXECUTE FUNCTION {s}articles_sync_trunc();";

#define TS(col) "pg_catalog.to_char(" col " AT TIME ZONE 'UTC', " TS_FMT ")"

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_OBJECTS,
    ST_PENDING,
    ST_LOCK,
    ST_ASSIGN,
    ST_SNAPSHOT,
    ST_READ,
    ST_ITERATE,
    ST_CP_GET,
    ST_CP_SET,
    ST_BACKLOG,
    ST_COMPACT,
    ST_COUNT
};

static const char *const sql_tmpl[ST_COUNT] = {
    /* Forced: the numbering UPDATE must take its snapshot after the lock
     * is granted, which a REPEATABLE READ default would not do. */
    [ST_BEGIN] = "BEGIN ISOLATION LEVEL READ COMMITTED",
    [ST_COMMIT] = "COMMIT",
    /* $1 the oid of articles; $2..$4 our relations. */
    [ST_OBJECTS] = "SELECT (SELECT count(*) FROM pg_catalog.pg_trigger WHERE tgrelid = $1::oid"
                   " AND tgname IN ('articles_sync_ins', 'articles_sync_upd',"
                   " 'articles_sync_del', 'articles_sync_trunc') AND tgenabled <> 'D'),"
                   " (pg_catalog.to_regclass($2::text) IS NOT NULL)::int"
                   " + (pg_catalog.to_regclass($3::text) IS NOT NULL)::int"
                   " + (pg_catalog.to_regclass($4::text) IS NOT NULL)::int",
    /* The first committed unnumbered entry. A plain index scan (min), so it
     * also marks the dead index entries numbered rows leave behind, and
     * later scans skip them without visiting the heap. */
    [ST_PENDING] = "SELECT min(pos) FROM {s}articles_sync_changes WHERE seq IS NULL",
    [ST_LOCK] = "SELECT pg_catalog.pg_advisory_xact_lock(" LOCK_CLASS ", $1::regclass::oid::int)",
    /* Numbers the committed unnumbered entries with pos in [$3, $3 + $1)
     * ($2: our sequence). One table and an index range, no join: whatever
     * the planner estimates (the statistics of this table are often far
     * behind), the work is that of the range, and nextval runs once per
     * row. Numbers follow the scan, normally pos order; nothing depends on
     * the order within a pass (source.h). */
    [ST_ASSIGN] = "UPDATE {s}articles_sync_changes SET seq = pg_catalog.nextval($2::regclass)"
                  " WHERE seq IS NULL AND pos >= $3::bigint AND pos < $3::bigint + $1::bigint",
    [ST_SNAPSHOT] = "INSERT INTO {s}articles_sync_changes (article_id, op)"
                    " SELECT id, 'S' FROM {s}articles ORDER BY id",
    /* The window of at most $2 entries after $1, collapsed per article to
     * its highest seq, joined to the current row. The window is also
     * bounded as a seq range from the first one (numbers are dense but for
     * compacted ones and the rare failed pass), for the reason above. */
    [ST_READ] = "SELECT c.seq, c.article_id, a.id IS NOT NULL, a.title::text, a.content::text,"
                " a.author::text, {c}, {u}, " TS("c.changed_at")
                " FROM (SELECT DISTINCT ON (w.article_id) w.seq, w.article_id, w.changed_at"
                "  FROM (SELECT seq, article_id, changed_at FROM {s}articles_sync_changes"
                "   WHERE seq > $1::bigint AND seq < $2::bigint + (SELECT min(seq)"
                "    FROM {s}articles_sync_changes WHERE seq > $1::bigint)"
                "   ORDER BY seq LIMIT $2::bigint) AS w"
                "  ORDER BY w.article_id, w.seq DESC) AS c"
                " LEFT JOIN {s}articles AS a ON a.id = c.article_id"
                " ORDER BY c.seq",
    [ST_ITERATE] = "SELECT a.id, a.title::text, a.content::text, a.author::text, {c}, {u}"
                   " FROM {s}articles AS a WHERE a.id > $1::bigint ORDER BY a.id"
                   " LIMIT $2::bigint",
    [ST_CP_GET] = "SELECT seq FROM {s}articles_sync_state WHERE name = $1::text",
    [ST_CP_SET] = "INSERT INTO {s}articles_sync_state (name, seq, updated_at)"
                  " VALUES ($1::text, $2::bigint, pg_catalog.now())"
                  " ON CONFLICT (name) DO UPDATE SET seq = EXCLUDED.seq,"
                  " updated_at = EXCLUDED.updated_at",
    [ST_BACKLOG] = "SELECT (SELECT count(*) FROM {s}articles_sync_changes WHERE seq > $1::bigint)"
                   " + (SELECT count(*) FROM {s}articles_sync_changes WHERE seq IS NULL),"
                   " (SELECT CASE WHEN is_called THEN last_value ELSE 0 END"
                   "  FROM {s}articles_sync_seq)",
    [ST_COMPACT] = "DELETE FROM {s}articles_sync_changes WHERE seq <= LEAST($1::bigint,"
                   " (SELECT min(seq) FROM {s}articles_sync_changes) + $2::bigint - 1)",
};

static const char *const st_name[ST_COUNT] = {
    [ST_BEGIN] = "src_begin",       [ST_COMMIT] = "src_commit", [ST_OBJECTS] = "src_objects",
    [ST_PENDING] = "src_pending",   [ST_LOCK] = "src_lock",     [ST_ASSIGN] = "src_assign",
    [ST_SNAPSHOT] = "src_snapshot", [ST_READ] = "src_read",     [ST_ITERATE] = "src_iterate",
    [ST_CP_GET] = "src_cp_get",     [ST_CP_SET] = "src_cp_set", [ST_BACKLOG] = "src_backlog",
    [ST_COMPACT] = "src_compact",
};

/* What the articles table looks like; looked up at the first call and
 * again by init or after the triggers were found missing. */
typedef struct pg_shape {
    char *prefix;  /* quoted schema and a dot, e.g. "app". */
    char *created; /* select expression for created_at, or NULL (the SQL word) */
    char *updated;
    char articles_oid[24];
} pg_shape_t;

typedef struct pg_source {
    source_t base;
    PGconn *conn;      /* owned */
    bool resolved;     /* shape checked since the last init or missing trigger */
    bool have_shape;   /* shape and sql are filled in */
    pg_shape_t shape;  /* owned strings */
    char *rel_changes; /* owned: "schema".articles_sync_changes, for regclass */
    char *rel_state;
    char *rel_seq;
    char *sql[ST_COUNT];     /* owned: the templates with the shape filled in */
    bool prepared[ST_COUNT]; /* exists on the server side of this connection */
} pg_source_t;

static pg_source_t *pg(source_t *s)
{
    return (pg_source_t *)s;
}

/* ---- errors and connection ------------------------------------------------- */

/* Lost connections, a server shutting down, resource exhaustion and
 * transaction conflicts are worth a retry; missing objects mean init. */
static int pg_code(pg_source_t *s, const PGresult *r)
{
    if (PQstatus(s->conn) != CONNECTION_OK)
        return SOURCE_EUNAVAILABLE;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!state)
        return r ? SOURCE_EERROR : SOURCE_EUNAVAILABLE;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
        strncmp(state, "57P", 3) == 0 || strcmp(state, "40001") == 0 ||
        strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
        return SOURCE_EUNAVAILABLE;
    if (strcmp(state, "42P01") == 0 || strcmp(state, "42703") == 0)
        return SOURCE_ESCHEMA;
    return SOURCE_EERROR;
}

/* Records the message of a failed call (r may be NULL: the connection's
 * message then) without libpq's trailing newline; returns the code. */
static int pg_fail(pg_source_t *s, const PGresult *r, const char *what)
{
    const char *msg = r ? PQresultErrorMessage(r) : "";
    if (!*msg)
        msg = PQerrorMessage(s->conn);
    int n = (int)strcspn(msg, "\n");
    return source_fail(&s->base, pg_code(s, r), "%s: %.*s", what, n, msg);
}

static void quiet_notices(void *arg, const char *message)
{
    /* "relation already exists, skipping" and the like. */
    (void)arg;
    (void)message;
}

/* Per-session settings, after every (re)connect. Prepared statements are
 * planned for the actual seq each time: a generic plan, guessing at the
 * range, could pick a full scan of the log for every batch. Servers before
 * 12 lack the setting and keep their default. */
static void session_setup(pg_source_t *s)
{
    PQsetNoticeProcessor(s->conn, quiet_notices, NULL);
    PGresult *r = PQexec(s->conn, "SET plan_cache_mode = force_custom_plan");
    PQclear(r);
    memset(s->prepared, 0, sizeof s->prepared);
}

/* Runs fixed text without parameters (DDL, transaction control). */
static int pg_exec_text(pg_source_t *s, const char *sql, const char *what)
{
    PGresult *r = PQexec(s->conn, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? SOURCE_OK : pg_fail(s, r, what);
    PQclear(r);
    return rc;
}

static void pg_rollback(pg_source_t *s)
{
    if (PQstatus(s->conn) == CONNECTION_OK && PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        PGresult *r = PQexec(s->conn, "ROLLBACK");
        PQclear(r);
    }
}

static int pg_prepare(pg_source_t *s, int id)
{
    if (s->prepared[id])
        return SOURCE_OK;
    PGresult *r = PQprepare(s->conn, st_name[id], s->sql[id], 0, NULL);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? SOURCE_OK : pg_fail(s, r, st_name[id]);
    PQclear(r);
    s->prepared[id] = rc == SOURCE_OK;
    return rc;
}

/* Runs statement id; on success *out (when not NULL) holds the result with
 * status want, which the caller PQclears. */
static int pg_run(pg_source_t *s, int id, int n, const char *const *vals, ExecStatusType want,
                  PGresult **out)
{
    int rc = pg_prepare(s, id);
    if (rc)
        return rc;
    PGresult *r = PQexecPrepared(s->conn, st_name[id], n, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != want) {
        rc = pg_fail(s, r, st_name[id]);
        PQclear(r);
        return rc;
    }
    if (out)
        *out = r;
    else
        PQclear(r);
    return SOURCE_OK;
}

/* ---- the shape of articles ----------------------------------------------- */

static void shape_free(pg_shape_t *sh)
{
    free(sh->prefix);
    free(sh->created);
    free(sh->updated);
    *sh = (pg_shape_t){0};
}

static void sql_free(pg_source_t *s)
{
    for (int i = 0; i < ST_COUNT; i++) {
        free(s->sql[i]);
        s->sql[i] = NULL;
    }
    free(s->rel_changes);
    free(s->rel_state);
    free(s->rel_seq);
    s->rel_changes = s->rel_state = s->rel_seq = NULL;
}

/* The select expression of timestamp column col of type typ: UTC text
 * whatever the session's TimeZone; timestamp and date are taken as UTC. */
static char *ts_expr(const char *col, const char *typ)
{
    buf_t b = {0};
    if (strcmp(typ, "timestamp with time zone") == 0)
        buf_printf(&b, "pg_catalog.to_char(a.%s AT TIME ZONE 'UTC', %s)", col, TS_FMT);
    else if (strcmp(typ, "timestamp without time zone") == 0 || strcmp(typ, "date") == 0)
        buf_printf(&b, "pg_catalog.to_char(a.%s::timestamp, %s)", col, TS_FMT);
    else
        buf_printf(&b, "a.%s::text", col);
    if (b.failed) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b);
}

/* Finds articles through the search_path: its schema, oid and kind. */
static int find_table(pg_source_t *s, pg_shape_t *sh)
{
    static const char sql[] =
        "SELECT n.nspname, c.oid, c.relkind FROM pg_catalog.pg_class AS c"
        " JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace"
        " WHERE c.oid = pg_catalog.to_regclass('articles')";
    PGresult *r = PQexecParams(s->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    int rc = SOURCE_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = pg_fail(s, r, "find articles");
    else if (PQntuples(r) != 1)
        rc = source_fail(&s->base, SOURCE_ESCHEMA,
                         "the source has no table articles in its search_path");
    else if (PQgetvalue(r, 0, 2)[0] != 'r' && PQgetvalue(r, 0, 2)[0] != 'p')
        rc = source_fail(&s->base, SOURCE_ESCHEMA, "articles is not a table");
    if (rc == SOURCE_OK) {
        const char *nsp = PQgetvalue(r, 0, 0);
        char *quoted = PQescapeIdentifier(s->conn, nsp, strlen(nsp));
        buf_t b = {0};
        if (quoted)
            buf_printf(&b, "%s.", quoted);
        PQfreemem(quoted);
        if (!quoted || b.failed)
            rc = source_fail(&s->base, SOURCE_ENOMEM, "out of memory");
        else if (strstr(b.data, "$sync$"))
            rc = source_fail(&s->base, SOURCE_ESCHEMA, "schema name %s not supported", nsp);
        sh->prefix = buf_detach(&b);
        snprintf(sh->articles_oid, sizeof sh->articles_oid, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return rc;
}

/* Checks the required columns and builds the timestamp expressions. */
static int find_columns(pg_source_t *s, pg_shape_t *sh)
{
    static const char sql[] = "SELECT attname::text, atttypid::regtype::text"
                              " FROM pg_catalog.pg_attribute"
                              " WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped";
    const char *vals[] = {sh->articles_oid};
    PGresult *r = PQexecParams(s->conn, sql, 1, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        int rc = pg_fail(s, r, "columns");
        PQclear(r);
        return rc;
    }
    static const char *const required[] = {"id", "title", "content", "author"};
    unsigned found = 0;
    bool nomem = false;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *name = PQgetvalue(r, i, 0), *typ = PQgetvalue(r, i, 1);
        for (unsigned k = 0; k < 4; k++)
            if (strcmp(name, required[k]) == 0)
                found |= 1u << k;
        if (strcmp(name, "created_at") == 0)
            nomem |= !(sh->created = ts_expr(name, typ));
        else if (strcmp(name, "updated_at") == 0)
            nomem |= !(sh->updated = ts_expr(name, typ));
    }
    PQclear(r);
    if (nomem)
        return source_fail(&s->base, SOURCE_ENOMEM, "out of memory");
    for (unsigned k = 0; k < 4; k++)
        if (!(found & (1u << k)))
            return source_fail(&s->base, SOURCE_ESCHEMA, "table articles has no column %s",
                               required[k]);
    return SOURCE_OK;
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_shape(const pg_shape_t *a, const pg_shape_t *b)
{
    return same_text(a->prefix, b->prefix) && same_text(a->created, b->created) &&
           same_text(a->updated, b->updated) && strcmp(a->articles_oid, b->articles_oid) == 0;
}

static char *rel_name(const char *prefix, const char *name)
{
    buf_t b = {0};
    buf_printf(&b, "%s%s", prefix, name);
    if (b.failed) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b);
}

/* Fills in the statement texts for shape sh (taken over). */
static int build_sql(pg_source_t *s, pg_shape_t *sh)
{
    sql_free(s);
    shape_free(&s->shape);
    s->shape = *sh;
    *sh = (pg_shape_t){0};
    const char *p = s->shape.prefix;
    bool ok = (s->rel_changes = rel_name(p, "articles_sync_changes")) &&
              (s->rel_state = rel_name(p, "articles_sync_state")) &&
              (s->rel_seq = rel_name(p, "articles_sync_seq"));
    for (int i = 0; ok && i < ST_COUNT; i++)
        ok = (s->sql[i] = source_sql(sql_tmpl[i], p, s->shape.created ? s->shape.created : "NULL",
                                     s->shape.updated ? s->shape.updated : "NULL")) != NULL;
    if (!ok)
        return source_fail(&s->base, SOURCE_ENOMEM, "out of memory");
    s->have_shape = true;
    return SOURCE_OK;
}

/* Looks articles up again; when anything changed (another table, other
 * columns) the statements are rebuilt and the server's copies dropped. */
static int resolve(pg_source_t *s)
{
    pg_shape_t sh = {0};
    int rc = find_table(s, &sh);
    if (rc == SOURCE_OK)
        rc = find_columns(s, &sh);
    if (rc == SOURCE_OK && !(s->have_shape && same_shape(&sh, &s->shape))) {
        s->have_shape = false;
        rc = pg_exec_text(s, "DEALLOCATE ALL", "deallocate");
        memset(s->prepared, 0, sizeof s->prepared);
        if (rc == SOURCE_OK)
            rc = build_sql(s, &sh);
    }
    shape_free(&sh);
    s->resolved = rc == SOURCE_OK;
    return rc;
}

/* Called first by every operation: reconnects a lost connection, ends a
 * transaction an interrupted call left open, learns the shape. */
static int pg_ready(pg_source_t *s)
{
    if (PQstatus(s->conn) != CONNECTION_OK) {
        PQreset(s->conn);
        if (PQstatus(s->conn) != CONNECTION_OK)
            return pg_fail(s, NULL, "reconnect");
        session_setup(s);
    }
    if (PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        int rc = pg_exec_text(s, "ROLLBACK", "rollback");
        if (rc)
            return rc;
    }
    return s->resolved ? SOURCE_OK : resolve(s);
}

/* True when rc came from a connection that is gone: the operation may run
 * again on a fresh one (all of them are idempotent). */
static bool pg_retry(pg_source_t *s, int rc)
{
    if (rc != SOURCE_EUNAVAILABLE || PQstatus(s->conn) == CONNECTION_OK)
        return false;
    s->base.errmsg[0] = '\0';
    return true;
}

static int64_t val_i64(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Counts our enabled triggers and our relations (3: log, state, seq). */
static int pg_objects(pg_source_t *s, int *triggers, int *rels)
{
    const char *vals[] = {s->shape.articles_oid, s->rel_changes, s->rel_state, s->rel_seq};
    PGresult *r = NULL;
    int rc = pg_run(s, ST_OBJECTS, 4, vals, PGRES_TUPLES_OK, &r);
    if (rc)
        return rc;
    *triggers = (int)val_i64(r, 0, 0);
    *rels = (int)val_i64(r, 0, 1);
    PQclear(r);
    return SOURCE_OK;
}

/* Reading without the triggers would silently miss changes. The shape is
 * looked up again next time, in case the table was recreated. */
static int pg_check_capture(pg_source_t *s)
{
    int triggers = 0, rels = 0;
    int rc = pg_objects(s, &triggers, &rels);
    if (rc)
        return rc;
    if (rels < 3 || triggers < 4)
        s->resolved = false;
    if (rels < 3)
        return source_fail(&s->base, SOURCE_ESCHEMA,
                           "change capture is not set up in the source (run init)");
    if (triggers < 4)
        return source_fail(&s->base, SOURCE_ESCHEMA,
                           "the capture triggers on articles are missing or disabled "
                           "(table recreated?): run init again");
    return SOURCE_OK;
}

/* ---- operations ------------------------------------------------------------ */

static void pg_close(source_t *base)
{
    pg_source_t *s = pg(base);
    PQfinish(s->conn);
    sql_free(s);
    shape_free(&s->shape);
    free(s);
}

static int ddl(pg_source_t *s, const char *tmpl, const char *what)
{
    char *sql = source_sql(tmpl, s->shape.prefix, "", "");
    if (!sql)
        return source_fail(&s->base, SOURCE_ENOMEM, "out of memory");
    int rc = pg_exec_text(s, sql, what);
    free(sql);
    return rc;
}

/* The trigger check is repeated under the table lock, as another init may
 * have finished while we waited for it. */
static int init_once(pg_source_t *s, int64_t *snapshot_count)
{
    int triggers = 0, rels = 0;
    s->resolved = false; /* the table may have been recreated */
    int rc = pg_ready(s);
    if (rc || (rc = pg_objects(s, &triggers, &rels)))
        return rc;
    if (triggers == 4 && rels == 3)
        return SOURCE_OK;
    if ((rc = pg_run(s, ST_BEGIN, 0, NULL, PGRES_COMMAND_OK, NULL)) ||
        (rc = ddl(s, ddl_tables, "create tables")) || (rc = pg_objects(s, &triggers, &rels)))
        goto fail;
    if (triggers < 4) {
        PGresult *r = NULL;
        if ((rc = ddl(s, ddl_triggers, "create triggers")) ||
            (rc = pg_run(s, ST_SNAPSHOT, 0, NULL, PGRES_COMMAND_OK, &r)))
            goto fail;
        *snapshot_count = strtoll(PQcmdTuples(r), NULL, 10);
        PQclear(r);
    }
    if ((rc = pg_run(s, ST_COMMIT, 0, NULL, PGRES_COMMAND_OK, NULL)))
        goto fail;
    return SOURCE_OK;
fail:
    pg_rollback(s);
    *snapshot_count = 0;
    return rc;
}

static int pg_init(source_t *base, int64_t *snapshot_count)
{
    pg_source_t *s = pg(base);
    int rc = init_once(s, snapshot_count);
    return pg_retry(s, rc) ? init_once(s, snapshot_count) : rc;
}

/* The first pos waiting for a number into lo (size 24), "" when none. */
static int pending(pg_source_t *s, char *lo)
{
    PGresult *r = NULL;
    int rc = pg_run(s, ST_PENDING, 0, NULL, PGRES_TUPLES_OK, &r);
    if (rc)
        return rc;
    snprintf(lo, 24, "%s", PQgetisnull(r, 0, 0) ? "" : PQgetvalue(r, 0, 0));
    PQclear(r);
    return SOURCE_OK;
}

/* One numbering pass (see source.h): lock, number, commit. The lock is
 * taken by its own statement so the UPDATE's snapshot is younger than the
 * previous pass's commit. Nothing waiting (the usual idle poll): no pass;
 * what commits meanwhile is numbered by the next one. */
static int assign(pg_source_t *s, int64_t limit)
{
    char lim[24], lo[24];
    snprintf(lim, sizeof lim, "%" PRId64, limit < ASSIGN_MIN ? (int64_t)ASSIGN_MIN : limit);
    const char *lock_vals[] = {s->rel_changes};
    const char *vals[] = {lim, s->rel_seq, lo};
    int rc = pending(s, lo);
    if (rc || !lo[0])
        return rc;
    if ((rc = pg_run(s, ST_BEGIN, 0, NULL, PGRES_COMMAND_OK, NULL)) ||
        (rc = pg_run(s, ST_LOCK, 1, lock_vals, PGRES_TUPLES_OK, NULL)) ||
        (rc = pending(s, lo)) ||
        (lo[0] && (rc = pg_run(s, ST_ASSIGN, 3, vals, PGRES_COMMAND_OK, NULL))) ||
        (rc = pg_run(s, ST_COMMIT, 0, NULL, PGRES_COMMAND_OK, NULL)))
        pg_rollback(s);
    return rc;
}

/* Copies the article columns of result row i starting at col. */
static int article_cols(source_rows_t *rows, source_row_t *row, const PGresult *r, int i, int col)
{
    static const int fields[] = {F_TITLE, F_CONTENT, F_AUTHOR, F_CREATED, F_UPDATED};
    for (int k = 0; k < 5; k++) {
        if (PQgetisnull(r, i, col + k))
            continue;
        if (source_rows_text(rows, row, fields[k], PQgetvalue(r, i, col + k),
                             (size_t)PQgetlength(r, i, col + k)) < 0)
            return -1;
    }
    return 0;
}

static int collect_changes(const PGresult *r, source_rows_t *rows)
{
    for (int i = 0; i < PQntuples(r); i++) {
        source_row_t *row = source_rows_push(rows);
        if (!row)
            return -1;
        row->seq = val_i64(r, i, 0);
        row->id = val_i64(r, i, 1);
        row->op = PQgetvalue(r, i, 2)[0] == 't' ? SOURCE_OP_UPSERT : SOURCE_OP_DELETE;
        if (row->op == SOURCE_OP_UPSERT && article_cols(rows, row, r, i, 3) < 0)
            return -1;
        if (source_rows_text(rows, row, F_CHANGED, PQgetvalue(r, i, 8),
                             (size_t)PQgetlength(r, i, 8)) < 0)
            return -1;
    }
    return 0;
}

static int collect_articles(const PGresult *r, source_rows_t *rows)
{
    for (int i = 0; i < PQntuples(r); i++) {
        source_row_t *row = source_rows_push(rows);
        if (!row)
            return -1;
        row->id = val_i64(r, i, 0);
        row->op = SOURCE_OP_UPSERT;
        if (article_cols(rows, row, r, i, 1) < 0)
            return -1;
    }
    return 0;
}

/* Runs statement id with ($1 after, $2 limit) and collects its rows. */
static int collect(pg_source_t *s, int id, int64_t after, int64_t limit, source_rows_t *rows,
                   int (*fn)(const PGresult *, source_rows_t *))
{
    char a[24], l[24];
    const char *vals[] = {a, l};
    snprintf(a, sizeof a, "%" PRId64, after);
    snprintf(l, sizeof l, "%" PRId64, limit);
    PGresult *r = NULL;
    int rc = pg_run(s, id, 2, vals, PGRES_TUPLES_OK, &r);
    if (rc)
        return rc;
    if (fn(r, rows) < 0)
        rc = source_fail(&s->base, SOURCE_ENOMEM, "%s: out of memory", st_name[id]);
    PQclear(r);
    return rc;
}

static int read_once(pg_source_t *s, int64_t after_seq, int64_t limit, source_rows_t *rows)
{
    int rc = pg_ready(s);
    if (rc || (rc = pg_check_capture(s)) || (rc = assign(s, limit)))
        return rc;
    return collect(s, ST_READ, after_seq, limit, rows, collect_changes);
}

/* A retry starts from an empty collection. */
static void rows_clear(source_rows_t *rows)
{
    rows->len = 0;
    buf_reset(&rows->text);
}

static int pg_read_changes(source_t *base, int64_t after_seq, int64_t limit, source_rows_t *rows)
{
    pg_source_t *s = pg(base);
    int rc = read_once(s, after_seq, limit, rows);
    if (pg_retry(s, rc)) {
        rows_clear(rows);
        rc = read_once(s, after_seq, limit, rows);
    }
    return rc;
}

static int iterate_once(pg_source_t *s, int64_t after_id, int64_t limit, source_rows_t *rows)
{
    int rc = pg_ready(s);
    return rc ? rc : collect(s, ST_ITERATE, after_id, limit, rows, collect_articles);
}

static int pg_iterate(source_t *base, int64_t after_id, int64_t limit, source_rows_t *rows)
{
    pg_source_t *s = pg(base);
    int rc = iterate_once(s, after_id, limit, rows);
    if (pg_retry(s, rc)) {
        rows_clear(rows);
        rc = iterate_once(s, after_id, limit, rows);
    }
    return rc;
}

static int cp_get_once(pg_source_t *s, const char *name, int64_t *seq)
{
    const char *vals[] = {name};
    PGresult *r = NULL;
    int rc = pg_ready(s);
    if (rc || (rc = pg_run(s, ST_CP_GET, 1, vals, PGRES_TUPLES_OK, &r)))
        return rc;
    *seq = PQntuples(r) == 1 ? val_i64(r, 0, 0) : 0;
    PQclear(r);
    return SOURCE_OK;
}

static int pg_checkpoint_get(source_t *base, const char *name, int64_t *seq)
{
    pg_source_t *s = pg(base);
    int rc = cp_get_once(s, name, seq);
    return pg_retry(s, rc) ? cp_get_once(s, name, seq) : rc;
}

static int cp_set_once(pg_source_t *s, const char *name, int64_t seq)
{
    char v[24];
    const char *vals[] = {name, v};
    snprintf(v, sizeof v, "%" PRId64, seq);
    int rc = pg_ready(s);
    return rc ? rc : pg_run(s, ST_CP_SET, 2, vals, PGRES_COMMAND_OK, NULL);
}

static int pg_checkpoint_set(source_t *base, const char *name, int64_t seq)
{
    pg_source_t *s = pg(base);
    int rc = cp_set_once(s, name, seq);
    return pg_retry(s, rc) ? cp_set_once(s, name, seq) : rc;
}

static int backlog_once(pg_source_t *s, int64_t after_seq, int64_t *count, int64_t *max_seq)
{
    char a[24];
    const char *vals[] = {a};
    snprintf(a, sizeof a, "%" PRId64, after_seq);
    PGresult *r = NULL;
    int rc = pg_ready(s);
    if (rc || (rc = pg_run(s, ST_BACKLOG, 1, vals, PGRES_TUPLES_OK, &r)))
        return rc;
    *count = val_i64(r, 0, 0);
    *max_seq = val_i64(r, 0, 1);
    PQclear(r);
    return SOURCE_OK;
}

static int pg_backlog(source_t *base, int64_t after_seq, int64_t *count, int64_t *max_seq)
{
    pg_source_t *s = pg(base);
    int rc = backlog_once(s, after_seq, count, max_seq);
    return pg_retry(s, rc) ? backlog_once(s, after_seq, count, max_seq) : rc;
}

static int compact_once(pg_source_t *s, int64_t upto_seq, int64_t chunk, int64_t *deleted)
{
    char u[24], c[24];
    const char *vals[] = {u, c};
    snprintf(u, sizeof u, "%" PRId64, upto_seq);
    snprintf(c, sizeof c, "%" PRId64, chunk);
    PGresult *r = NULL;
    int rc = pg_ready(s);
    if (rc || (rc = pg_run(s, ST_COMPACT, 2, vals, PGRES_COMMAND_OK, &r)))
        return rc;
    *deleted = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return SOURCE_OK;
}

static int pg_compact_chunk(source_t *base, int64_t upto_seq, int64_t chunk, int64_t *deleted)
{
    pg_source_t *s = pg(base);
    int rc = compact_once(s, upto_seq, chunk, deleted);
    return pg_retry(s, rc) ? compact_once(s, upto_seq, chunk, deleted) : rc;
}

static const struct source_ops pg_ops = {
    .close = pg_close,
    .init = pg_init,
    .read_changes = pg_read_changes,
    .checkpoint_get = pg_checkpoint_get,
    .checkpoint_set = pg_checkpoint_set,
    .backlog = pg_backlog,
    .compact_chunk = pg_compact_chunk,
    .iterate = pg_iterate,
};

int source_pg_open(const char *url, source_t **out, char *err, size_t errlen)
{
    *out = NULL;
    pg_source_t *s = calloc(1, sizeof *s);
    if (!s) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return SOURCE_ENOMEM;
    }
    s->base.ops = &pg_ops;
    s->base.kind = SOURCE_KIND_PG;
    s->conn = PQconnectdb(url);
    if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
        /* libpq's message names host and port, never the password. */
        const char *msg = s->conn ? PQerrorMessage(s->conn) : "out of memory";
        if (err && errlen)
            snprintf(err, errlen, "connect: %.*s", (int)strcspn(msg, "\n"), msg);
        PQfinish(s->conn);
        free(s);
        return SOURCE_EUNAVAILABLE;
    }
    session_setup(s);
    *out = &s->base;
    return SOURCE_OK;
}
