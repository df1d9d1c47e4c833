/* store_pg.c - the PostgreSQL back end of store.h through libpq: one PGconn
 * per store_t, every statement prepared once per connection and run with text
 * parameters; multi-statement operations go out as one pipeline (one round
 * trip). A lost connection is reset at the start of the next call. */
#include "store_impl.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Generated from schema/postgresql.sql by scripts/embed.sh. */
extern const char schema_pg[];
extern const unsigned long schema_pg_len;

/* Advisory lock keys, arbitrary constants of this application: one guards the
 * DDL at start-up, one the advances of the id sequence. */
#define LOCK_SCHEMA "4242061001"
#define LOCK_SEQ "4242061002"

/* Timestamps leave the database in exactly the text SQLite stores, so both
 * back ends answer byte for byte the same. */
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define COLS "id, title, content, author, " TS("created_at") ", " TS("updated_at")

/* A create retries this often when its sequence value is already taken by an
 * explicit id (possible only in the short window before that PUT advanced the
 * sequence). */
#define CREATE_TRIES 16

enum {
    ST_PING,
    ST_COUNT,
    ST_GET,
    ST_INSERT,
    ST_UPSERT,
    ST_PATCH,
    ST_DELETE,
    ST_BEGIN,
    ST_COMMIT,
    ST_SEQ_LOCK,
    ST_SEQ_BUMP,
    ST_BULK_UPSERT,
    ST_BULK_DELETE,
    ST_FIXED
};

static const char *const fixed_sql[ST_FIXED] = {
    [ST_PING] = "SELECT 1",
    [ST_COUNT] = "SELECT count(*) FROM articles",
    [ST_GET] = "SELECT " COLS " FROM articles WHERE id = $1::bigint",
    /* Never fails on a taken id: returns no row instead, and the caller
     * draws the next one. */
    [ST_INSERT] = "INSERT INTO articles (title, content, author, created_at, updated_at) "
                  "VALUES ($1::text, $2::text, $3::text, $4::timestamptz, $4::timestamptz) "
                  "ON CONFLICT (id) DO NOTHING RETURNING id",
    /* Replace or create in one statement. An inserted row version has no
     * xmax yet, while the DO UPDATE path first locks the row, which leaves
     * its transaction id in xmax: the usual way to tell the two apart, and
     * right also when a concurrent transaction created the id meanwhile. */
    [ST_UPSERT] = "INSERT INTO articles (id, title, content, author, created_at, updated_at) "
                  "VALUES ($1::bigint, $2::text, $3::text, $4::text, $5::timestamptz, $5::timestamptz) "
                  "ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, content = EXCLUDED.content, "
                  "author = EXCLUDED.author, updated_at = EXCLUDED.updated_at "
                  "RETURNING xmax = 0, " TS("created_at"),
    [ST_PATCH] = "UPDATE articles SET "
                 "title = CASE WHEN $2::int & 1 <> 0 THEN $3::text ELSE title END, "
                 "content = CASE WHEN $2::int & 2 <> 0 THEN $4::text ELSE content END, "
                 "author = CASE WHEN $2::int & 4 <> 0 THEN $5::text ELSE author END, "
                 "updated_at = $6::timestamptz WHERE id = $1::bigint RETURNING " COLS,
    [ST_DELETE] = "DELETE FROM articles WHERE id = $1::bigint",
    [ST_BEGIN] = "BEGIN",
    [ST_COMMIT] = "COMMIT",
    /* Serialises the advances below among themselves, so two of them cannot
     * interleave their read and write and move the sequence backwards. */
    [ST_SEQ_LOCK] = "SELECT pg_advisory_xact_lock(" LOCK_SEQ ")",
    /* Moves the sequence to an explicit id when it is not past it yet, so
     * later creates never draw that id (a fresh sequence, not yet called,
     * would hand out its last_value itself). */
    [ST_SEQ_BUMP] = ("SELECT setval('articles_id_seq', $1::bigint) FROM articles_id_seq "
                     "WHERE last_value < $1::bigint OR (NOT is_called AND last_value = $1::bigint)"),
    /* The set-based forms for a batch whose ids are all distinct (ON
     * CONFLICT cannot touch one row twice in a statement); the arrays come
     * as parameters in PostgreSQL's array syntax. */
    [ST_BULK_UPSERT] = "INSERT INTO articles (id, title, content, author, created_at, updated_at) "
                       "SELECT id, title, content, author, $5::timestamptz, $5::timestamptz "
                       "FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) "
                       "AS b (id, title, content, author) "
                       "ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, "
                       "content = EXCLUDED.content, author = EXCLUDED.author, "
                       "updated_at = EXCLUDED.updated_at "
                       "RETURNING id, xmax = 0, " TS("created_at"),
    [ST_BULK_DELETE] = "DELETE FROM articles WHERE id = ANY ($1::bigint[]) RETURNING id",
};

static const char *const fixed_name[ST_FIXED] = {
    [ST_PING] = "ping",       [ST_COUNT] = "count",       [ST_GET] = "get",
    [ST_INSERT] = "insert",   [ST_UPSERT] = "upsert",     [ST_PATCH] = "patch",
    [ST_DELETE] = "delete",   [ST_BEGIN] = "begin",       [ST_COMMIT] = "commit",
    [ST_SEQ_LOCK] = "seqlock", [ST_SEQ_BUMP] = "seqbump", [ST_BULK_UPSERT] = "bulkupsert",
    [ST_BULK_DELETE] = "bulkdelete",
};

/* List statements differ by the filters present and the sort; each
 * combination is built and prepared on first use. The index of a variant:
 * bit 0 author, bit 1 q, bit 2 after_id, bits 3-4 the sort. */
enum { V_AUTHOR = 1, V_Q = 2, V_AFTER = 4, V_SORT_SHIFT = 3, LIST_VARIANTS = 32, COUNT_VARIANTS = 4 };

typedef struct pg_store {
    store_t base;
    PGconn *conn; /* owned */
    /* Which statements exist on the server side of this connection; all
     * false again after a reset. */
    bool fixed_ready[ST_FIXED];
    bool list_ready[LIST_VARIANTS];
    bool count_ready[COUNT_VARIANTS];
} pg_store_t;

static pg_store_t *pg(store_t *s)
{
    return (pg_store_t *)s;
}

/* ---- errors ------------------------------------------------------------- */

/* Lost connections, a server shutting down or starting, resource exhaustion
 * and transaction conflicts are "unavailable" (503, worth a retry); anything
 * else is an error. */
static int pg_code(pg_store_t *s, const PGresult *r)
{
    if (PQstatus(s->conn) != CONNECTION_OK)
        return STORE_EUNAVAILABLE;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!state)
        return r ? STORE_EERROR : STORE_EUNAVAILABLE;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
        strncmp(state, "57P", 3) == 0 || strcmp(state, "40001") == 0 ||
        strcmp(state, "40P01") == 0)
        return STORE_EUNAVAILABLE;
    return STORE_EERROR;
}

/* Records the message of a failed call (r may be NULL: the connection's
 * message then) without libpq's trailing newline; returns the code. */
static int pg_fail(pg_store_t *s, const PGresult *r, const char *what)
{
    const char *msg = r ? PQresultErrorMessage(r) : "";
    if (!*msg)
        msg = PQerrorMessage(s->conn);
    int n = (int)strcspn(msg, "\n");
    return store_fail(&s->base, pg_code(s, r), "%s: %.*s", what, n, msg);
}

/* ---- connection state --------------------------------------------------- */

static void quiet_notices(void *arg, const char *message)
{
    /* "relation already exists, skipping" and the like: nothing to report. */
    (void)arg;
    (void)message;
}

static void forget_statements(pg_store_t *s)
{
    memset(s->fixed_ready, 0, sizeof s->fixed_ready);
    memset(s->list_ready, 0, sizeof s->list_ready);
    memset(s->count_ready, 0, sizeof s->count_ready);
}

/* Called first by every operation: reconnects a connection that was lost
 * (the server restarted, the network dropped), so the service heals itself
 * once the database is back, and ends a transaction an interrupted call may
 * have left open. */
static int pg_ready(pg_store_t *s)
{
    if (PQstatus(s->conn) != CONNECTION_OK) {
        PQreset(s->conn);
        forget_statements(s);
        if (PQstatus(s->conn) != CONNECTION_OK)
            return pg_fail(s, NULL, "reconnect");
    }
    if (PQpipelineStatus(s->conn) != PQ_PIPELINE_OFF && !PQexitPipelineMode(s->conn)) {
        /* Unread answers of an interrupted pipeline: start afresh. */
        PQreset(s->conn);
        forget_statements(s);
        if (PQstatus(s->conn) != CONNECTION_OK)
            return pg_fail(s, NULL, "reconnect");
    }
    if (PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        PGresult *r = PQexec(s->conn, "ROLLBACK");
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        int rc = ok ? STORE_OK : pg_fail(s, r, "rollback");
        PQclear(r);
        return rc;
    }
    return STORE_OK;
}

/* True when a read failed because the connection is gone (the server
 * restarted since the last call): it may simply run again on a fresh one, so
 * the error is forgotten. Writes are not retried, as the lost answer may
 * belong to a change that was committed. */
static bool pg_retry_read(pg_store_t *s, int rc)
{
    if (rc != STORE_EUNAVAILABLE || PQstatus(s->conn) == CONNECTION_OK)
        return false;
    s->base.errmsg[0] = '\0';
    return true;
}

static int pg_prepare(pg_store_t *s, const char *name, const char *sql, bool *ready)
{
    if (*ready)
        return STORE_OK;
    PGresult *r = PQprepare(s->conn, name, sql, 0, NULL);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? STORE_OK : pg_fail(s, r, name);
    PQclear(r);
    *ready = rc == STORE_OK;
    return rc;
}

static int pg_fixed(pg_store_t *s, int id)
{
    return pg_prepare(s, fixed_name[id], fixed_sql[id], &s->fixed_ready[id]);
}

/* Runs fixed statement id; on success *out holds a result with status want,
 * which the caller PQclears. */
static int pg_run(pg_store_t *s, int id, int n, const char *const *vals, ExecStatusType want,
                  PGresult **out)
{
    int rc = pg_fixed(s, id);
    if (rc)
        return rc;
    PGresult *r = PQexecPrepared(s->conn, fixed_name[id], n, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != want) {
        rc = pg_fail(s, r, fixed_name[id]);
        PQclear(r);
        return rc;
    }
    *out = r;
    return STORE_OK;
}

/* ---- pipelines ---------------------------------------------------------- */

/* Statements queued together and answered in one round trip. Every statement
 * must be prepared before pipe_begin (PQprepare cannot run inside). After an
 * error the server skips the rest up to the sync, so a BEGIN ... COMMIT
 * pipeline is all or nothing; pipe_end rolls back what is left open. */
typedef struct pg_pipe {
    pg_store_t *s;
    int sent; /* statements queued */
    int rc;   /* first failure */
} pg_pipe_t;

/* Called for each successful result, idx counting the statements from 0. */
typedef int (*pipe_fn)(pg_store_t *s, int idx, PGresult *r, void *ctx);

static int pipe_begin(pg_store_t *s, pg_pipe_t *p)
{
    *p = (pg_pipe_t){.s = s};
    return PQenterPipelineMode(s->conn) ? STORE_OK : pg_fail(s, NULL, "pipeline");
}

static void pipe_send(pg_pipe_t *p, const char *name, int n, const char *const *vals)
{
    if (p->rc)
        return;
    if (PQsendQueryPrepared(p->s->conn, name, n, vals, NULL, NULL, 0))
        p->sent++;
    else
        p->rc = pg_fail(p->s, NULL, name);
}

static void pipe_fixed(pg_pipe_t *p, int id, int n, const char *const *vals)
{
    pipe_send(p, fixed_name[id], n, vals);
}

/* Hands one result to fn, or records the failure it carries. */
static void pipe_result(pg_pipe_t *p, int idx, PGresult *r, pipe_fn fn, void *ctx)
{
    switch (PQresultStatus(r)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
        if (!p->rc && fn)
            p->rc = fn(p->s, idx, r, ctx);
        break;
    case PGRES_PIPELINE_ABORTED: /* skipped after an earlier failure */
        break;
    default:
        if (!p->rc)
            p->rc = pg_fail(p->s, r, "pipeline");
    }
}

/* Reads every answer up to the sync point, then leaves pipeline mode. libpq
 * ends each statement's results with one NULL, which advances idx. */
static void pipe_drain(pg_pipe_t *p, bool synced, pipe_fn fn, void *ctx)
{
    PGconn *c = p->s->conn;
    int idx = 0;
    for (;;) {
        if (!synced && idx >= p->sent)
            break;
        PGresult *r = PQgetResult(c);
        if (!r) {
            /* A NULL past the last statement means nothing more is coming
             * (the connection broke). */
            if (PQstatus(c) != CONNECTION_OK || ++idx > p->sent) {
                if (!p->rc)
                    p->rc = pg_fail(p->s, NULL, "pipeline");
                break;
            }
            continue;
        }
        bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
        if (!sync)
            pipe_result(p, idx, r, fn, ctx);
        PQclear(r);
        if (sync)
            break;
    }
}

static int pipe_end(pg_pipe_t *p, pipe_fn fn, void *ctx)
{
    pg_store_t *s = p->s;
    bool synced = PQpipelineSync(s->conn) == 1;
    if (!synced && !p->rc)
        p->rc = pg_fail(s, NULL, "pipeline sync");
    pipe_drain(p, synced, fn, ctx);
    if (PQstatus(s->conn) != CONNECTION_OK)
        return p->rc; /* pg_ready sorts the connection out next time */
    PQexitPipelineMode(s->conn);
    if (PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        PGresult *r = PQexec(s->conn, "ROLLBACK");
        PQclear(r);
    }
    return p->rc;
}

/* ---- reading rows ------------------------------------------------------- */

static char *val_dup(const PGresult *r, int row, int col)
{
    return store_strndup(PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

static void val_time(const PGresult *r, int row, int col, char dst[ARTICLE_TIME_LEN])
{
    store_copy_time(dst, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

/* Reads a row of COLS into a (zeroed on entry, owned by the caller after). */
static int read_article(const PGresult *r, int row, article_t *a)
{
    a->id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
    a->title = val_dup(r, row, 1);
    a->content = val_dup(r, row, 2);
    if (!PQgetisnull(r, row, 3) && !(a->author = val_dup(r, row, 3)))
        goto fail;
    if (!a->title || !a->content)
        goto fail;
    val_time(r, row, 4, a->created_at);
    val_time(r, row, 5, a->updated_at);
    return STORE_OK;
fail:
    article_free(a);
    return STORE_ENOMEM;
}

/* Fills out from a result of zero rows (not found) or one. */
static int take_one(pg_store_t *s, const PGresult *r, article_t *out)
{
    if (PQntuples(r) == 0)
        return store_fail(&s->base, STORE_ENOTFOUND, "no such article");
    article_t a = {0};
    if (read_article(r, 0, &a) != STORE_OK)
        return store_fail(&s->base, STORE_ENOMEM, "out of memory");
    *out = a;
    return STORE_OK;
}

/* ---- reads -------------------------------------------------------------- */

static int ping_once(pg_store_t *s)
{
    PGresult *r = NULL;
    int rc = pg_ready(s);
    if (rc == STORE_OK && (rc = pg_run(s, ST_PING, 0, NULL, PGRES_TUPLES_OK, &r)) == STORE_OK)
        PQclear(r);
    return rc;
}

static int pg_ping(store_t *base)
{
    pg_store_t *s = pg(base);
    int rc = ping_once(s);
    return pg_retry_read(s, rc) ? ping_once(s) : rc;
}

static int count_once(pg_store_t *s, int64_t *count)
{
    PGresult *r = NULL;
    int rc = pg_ready(s);
    if (rc == STORE_OK && (rc = pg_run(s, ST_COUNT, 0, NULL, PGRES_TUPLES_OK, &r)) == STORE_OK) {
        *count = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
    }
    return rc;
}

static int pg_count(store_t *base, int64_t *count)
{
    pg_store_t *s = pg(base);
    int rc = count_once(s, count);
    return pg_retry_read(s, rc) ? count_once(s, count) : rc;
}

static int get_once(pg_store_t *s, int64_t id, article_t *out)
{
    char idtxt[24];
    const char *vals[] = {idtxt};
    PGresult *r = NULL;
    snprintf(idtxt, sizeof idtxt, "%" PRId64, id);
    int rc = pg_ready(s);
    if (rc == STORE_OK && (rc = pg_run(s, ST_GET, 1, vals, PGRES_TUPLES_OK, &r)) == STORE_OK) {
        rc = take_one(s, r, out);
        PQclear(r);
    }
    return rc;
}

static int pg_get(store_t *base, int64_t id, article_t *out)
{
    pg_store_t *s = pg(base);
    int rc = get_once(s, id, out);
    return pg_retry_read(s, rc) ? get_once(s, id, out) : rc;
}

static const char *const order_sql[] = {
    [STORE_SORT_ID] = " ORDER BY id",
    [STORE_SORT_ID_DESC] = " ORDER BY id DESC",
    [STORE_SORT_UPDATED] = " ORDER BY updated_at, id",
    [STORE_SORT_UPDATED_DESC] = " ORDER BY updated_at DESC, id DESC",
};

/* The WHERE clause shared by a list variant and its count; parameters are
 * numbered in the order list_params() fills them. Returns the count used. */
static int where_sql(buf_t *b, int v)
{
    int n = 0;
    buf_puts(b, " WHERE true");
    if (v & V_AUTHOR)
        buf_printf(b, " AND author = $%d::text", ++n);
    if (v & V_Q)
        buf_printf(b, " AND title ILIKE $%d::text ESCAPE E'\\\\'", ++n);
    return n;
}

static int list_prepare(pg_store_t *s, int v)
{
    if (s->list_ready[v])
        return STORE_OK;
    int sort = v >> V_SORT_SHIFT;
    char name[16];
    buf_t b = {0};
    buf_puts(&b, "SELECT " COLS " FROM articles");
    int n = where_sql(&b, v);
    if (v & V_AFTER)
        buf_printf(&b, " AND id %c $%d::bigint", sort == STORE_SORT_ID_DESC ? '<' : '>', ++n);
    buf_puts(&b, order_sql[sort]);
    buf_printf(&b, " LIMIT $%d::bigint OFFSET $%d::bigint", n + 1, n + 2);
    snprintf(name, sizeof name, "list%d", v);
    int rc = b.failed ? store_fail(&s->base, STORE_ENOMEM, "out of memory")
                      : pg_prepare(s, name, b.data, &s->list_ready[v]);
    buf_free(&b);
    return rc;
}

static int count_prepare(pg_store_t *s, int v)
{
    if (s->count_ready[v])
        return STORE_OK;
    char name[16];
    buf_t b = {0};
    buf_puts(&b, "SELECT count(*) FROM articles");
    where_sql(&b, v);
    snprintf(name, sizeof name, "count%d", v);
    int rc = b.failed ? store_fail(&s->base, STORE_ENOMEM, "out of memory")
                      : pg_prepare(s, name, b.data, &s->count_ready[v]);
    buf_free(&b);
    return rc;
}

typedef struct list_ctx {
    article_list_t *out;
    int64_t *total;
} list_ctx_t;

/* Result 0 is the page, result 1 the count. */
static int list_result(pg_store_t *s, int idx, PGresult *r, void *arg)
{
    list_ctx_t *ctx = arg;
    if (idx == 1) {
        *ctx->total = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        return STORE_OK;
    }
    for (int row = 0; row < PQntuples(r); row++) {
        article_t *a = article_list_push(ctx->out);
        if (!a || read_article(r, row, a) != STORE_OK) {
            if (a)
                ctx->out->len--; /* read_article left the slot zeroed */
            return store_fail(&s->base, STORE_ENOMEM, "list: out of memory");
        }
    }
    return STORE_OK;
}

/* The text parameters of a list query, in the order where_sql() and
 * list_prepare() number them; the count takes the first nfilters. */
typedef struct list_params {
    const char *vals[5];
    int n, nfilters;
    char after[24], limit[24], offset[24];
} list_params_t;

static void list_params(list_params_t *lp, const store_query_t *q, const char *pattern)
{
    lp->n = 0;
    if (q->author)
        lp->vals[lp->n++] = q->author;
    if (q->q)
        lp->vals[lp->n++] = pattern;
    lp->nfilters = lp->n;
    snprintf(lp->after, sizeof lp->after, "%" PRId64, q->after_id);
    snprintf(lp->limit, sizeof lp->limit, "%" PRId64, q->limit);
    snprintf(lp->offset, sizeof lp->offset, "%" PRId64, q->offset);
    if (q->after_id)
        lp->vals[lp->n++] = lp->after;
    lp->vals[lp->n++] = lp->limit;
    lp->vals[lp->n++] = lp->offset;
}

/* The page and the count go out together, one round trip. */
static int list_once(pg_store_t *s, const store_query_t *q, const char *pattern,
                     article_list_t *out, int64_t *total)
{
    int filters = (q->author ? V_AUTHOR : 0) | (q->q ? V_Q : 0);
    int v = filters | (q->after_id ? V_AFTER : 0) | ((int)q->sort << V_SORT_SHIFT);
    char name[16];
    size_t had = out->len;
    list_params_t lp;
    pg_pipe_t p;
    int rc = pg_ready(s);
    if (rc || (rc = list_prepare(s, v)) || (total && (rc = count_prepare(s, filters))) ||
        (rc = pipe_begin(s, &p)))
        return rc;
    list_params(&lp, q, pattern);
    snprintf(name, sizeof name, "list%d", v);
    pipe_send(&p, name, lp.n, lp.vals);
    if (total) {
        snprintf(name, sizeof name, "count%d", filters);
        pipe_send(&p, name, lp.nfilters, lp.vals);
    }
    list_ctx_t ctx = {out, total};
    rc = pipe_end(&p, list_result, &ctx);
    if (rc) {
        /* Leave out as it was, so a retry does not append twice. */
        while (out->len > had)
            article_free(&out->items[--out->len]);
    }
    return rc;
}

static int pg_list(store_t *base, const store_query_t *q, article_list_t *out, int64_t *total)
{
    pg_store_t *s = pg(base);
    char *pattern = NULL;
    if ((unsigned)q->sort > STORE_SORT_UPDATED_DESC)
        return store_fail(base, STORE_EERROR, "list: bad sort %d", (int)q->sort);
    if (q->q && !(pattern = store_like_pattern(q->q)))
        return store_fail(base, STORE_ENOMEM, "list: out of memory");
    int rc = list_once(s, q, pattern, out, total);
    if (pg_retry_read(s, rc))
        rc = list_once(s, q, pattern, out, total);
    free(pattern);
    return rc;
}

/* ---- writes ------------------------------------------------------------- */

static int pg_create(store_t *base, article_t *a)
{
    pg_store_t *s = pg(base);
    int rc = pg_ready(s);
    if (rc)
        return rc;
    article_now(a->created_at);
    memcpy(a->updated_at, a->created_at, sizeof a->updated_at);
    const char *vals[] = {a->title, a->content, a->author, a->created_at};
    for (int i = 0; i < CREATE_TRIES; i++) {
        PGresult *r = NULL;
        if ((rc = pg_run(s, ST_INSERT, 4, vals, PGRES_TUPLES_OK, &r)))
            return rc;
        bool inserted = PQntuples(r) == 1;
        if (inserted)
            a->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        if (inserted)
            return STORE_OK;
    }
    return store_fail(base, STORE_EERROR, "create: no free id after %d tries", CREATE_TRIES);
}

/* Prepares every statement a write pipeline may use. */
static int prepare_writes(pg_store_t *s)
{
    static const int ids[] = {ST_BEGIN,    ST_COMMIT,   ST_UPSERT,      ST_DELETE,
                              ST_SEQ_LOCK, ST_SEQ_BUMP, ST_BULK_UPSERT, ST_BULK_DELETE};
    int rc = STORE_OK;
    for (size_t i = 0; i < sizeof ids / sizeof ids[0] && rc == STORE_OK; i++)
        rc = pg_fixed(s, ids[i]);
    return rc;
}

/* Queues the upsert of a (id, text fields, updated_at already set); idtxt
 * must hold a->id as text. */
static void send_upsert(pg_pipe_t *p, const article_t *a, const char *idtxt)
{
    const char *vals[] = {idtxt, a->title, a->content, a->author, a->updated_at};
    pipe_fixed(p, ST_UPSERT, 5, vals);
}

/* Queues the sequence advance past max_id (none when 0) and the COMMIT. The
 * advisory lock is taken last so it is held only for the commit, not the
 * whole batch; the new rows are invisible to others until then anyway. */
static void send_bump_commit(pg_pipe_t *p, int64_t max_id)
{
    char idtxt[24];
    const char *vals[] = {idtxt};
    snprintf(idtxt, sizeof idtxt, "%" PRId64, max_id);
    if (max_id > 0) {
        pipe_fixed(p, ST_SEQ_LOCK, 0, NULL);
        pipe_fixed(p, ST_SEQ_BUMP, 1, vals);
    }
    pipe_fixed(p, ST_COMMIT, 0, NULL);
}

/* Reads the answer of an upsert into a and reports whether it created. */
static int read_upsert(pg_store_t *s, const PGresult *r, article_t *a, bool *created)
{
    if (PQntuples(r) != 1)
        return store_fail(&s->base, STORE_EERROR, "upsert: no row returned");
    *created = PQgetvalue(r, 0, 0)[0] == 't';
    val_time(r, 0, 1, a->created_at);
    return STORE_OK;
}

typedef struct put_ctx {
    article_t *a;
    bool *created;
} put_ctx_t;

/* Results: 0 BEGIN, 1 the upsert, then lock, bump, COMMIT. */
static int put_result(pg_store_t *s, int idx, PGresult *r, void *arg)
{
    put_ctx_t *ctx = arg;
    return idx == 1 ? read_upsert(s, r, ctx->a, ctx->created) : STORE_OK;
}

static int pg_put(store_t *base, article_t *a, bool *created)
{
    pg_store_t *s = pg(base);
    char idtxt[24];
    pg_pipe_t p;
    int rc = pg_ready(s);
    if (rc || (rc = prepare_writes(s)) || (rc = pipe_begin(s, &p)))
        return rc;
    article_now(a->updated_at);
    snprintf(idtxt, sizeof idtxt, "%" PRId64, a->id);
    pipe_fixed(&p, ST_BEGIN, 0, NULL);
    send_upsert(&p, a, idtxt);
    send_bump_commit(&p, a->id);
    put_ctx_t ctx = {a, created};
    return pipe_end(&p, put_result, &ctx);
}

static int pg_patch(store_t *base, int64_t id, const article_patch_t *p, article_t *out)
{
    pg_store_t *s = pg(base);
    char idtxt[24], fields[16], now[ARTICLE_TIME_LEN];
    const char *vals[] = {idtxt, fields, p->title, p->content, p->author, now};
    PGresult *r = NULL;
    snprintf(idtxt, sizeof idtxt, "%" PRId64, id);
    snprintf(fields, sizeof fields, "%u", p->fields);
    article_now(now);
    int rc = pg_ready(s);
    if (rc || (rc = pg_run(s, ST_PATCH, 6, vals, PGRES_TUPLES_OK, &r)))
        return rc;
    rc = take_one(s, r, out);
    PQclear(r);
    return rc;
}

static int pg_delete(store_t *base, int64_t id)
{
    pg_store_t *s = pg(base);
    char idtxt[24];
    const char *vals[] = {idtxt};
    PGresult *r = NULL;
    snprintf(idtxt, sizeof idtxt, "%" PRId64, id);
    int rc = pg_ready(s);
    if (rc || (rc = pg_run(s, ST_DELETE, 1, vals, PGRES_COMMAND_OK, &r)))
        return rc;
    bool deleted = strcmp(PQcmdTuples(r), "0") != 0;
    PQclear(r);
    return deleted ? STORE_OK : store_fail(base, STORE_ENOTFOUND, "no such article");
}

/* Bulk operations take one of two routes. When every id occurs once, the
 * order of the ops does not matter and the whole batch is two set-based
 * statements over arrays (one upsert, one delete), several times faster
 * than a statement per op. When an id repeats, the ops run one by one, in
 * order, in one pipeline. Both in one transaction. */

/* An op's id and its index in the batch, sorted by id to spot repeats and to
 * map the set-based statements' rows back to their ops. */
typedef struct id_slot {
    int64_t id;
    size_t op;
} id_slot_t;

static int cmp_slot(const void *a, const void *b)
{
    int64_t x = ((const id_slot_t *)a)->id, y = ((const id_slot_t *)b)->id;
    return (x > y) - (x < y);
}

/* The sorted slots of the batch (heap, caller frees); *unique tells whether
 * no id repeats. NULL when memory ran out. */
static id_slot_t *sort_ids(const store_bulk_op_t *ops, size_t n, bool *unique)
{
    id_slot_t *slots = malloc((n ? n : 1) * sizeof *slots);
    if (!slots)
        return NULL;
    for (size_t i = 0; i < n; i++)
        slots[i] = (id_slot_t){ops[i].id, i};
    qsort(slots, n, sizeof *slots, cmp_slot);
    *unique = true;
    for (size_t i = 1; i < n && *unique; i++)
        *unique = slots[i].id != slots[i - 1].id;
    return slots;
}

static store_bulk_op_t *find_op(const id_slot_t *slots, size_t n, store_bulk_op_t *ops, int64_t id)
{
    id_slot_t key = {id, 0};
    const id_slot_t *hit = bsearch(&key, slots, n, sizeof *slots, cmp_slot);
    return hit ? &ops[hit->op] : NULL;
}

/* Appends s as an element of a PostgreSQL array literal: NULL, or quoted
 * with " and \ escaped. The literal travels as a parameter, never as SQL. */
static void put_array_elem(buf_t *b, const char *s)
{
    if (!s) {
        buf_puts(b, "NULL");
        return;
    }
    buf_putc(b, '"');
    for (;;) {
        size_t run = strcspn(s, "\"\\");
        buf_append(b, s, run);
        if (!s[run])
            break;
        buf_putc(b, '\\');
        buf_putc(b, s[run]);
        s += run + 1;
    }
    buf_putc(b, '"');
}

/* The array parameters of one batch. */
typedef struct bulk_arrays {
    buf_t ids, titles, contents, authors; /* of the upserts */
    buf_t deletes;                        /* ids of the deletes */
    size_t nupserts, ndeletes;
} bulk_arrays_t;

static void arrays_free(bulk_arrays_t *a)
{
    buf_free(&a->ids);
    buf_free(&a->titles);
    buf_free(&a->contents);
    buf_free(&a->authors);
    buf_free(&a->deletes);
}

static void array_sep(buf_t *b, size_t i)
{
    buf_putc(b, i ? ',' : '{');
}

/* Fills the arrays from the ops; returns STORE_ENOMEM when memory ran out. */
static int build_arrays(bulk_arrays_t *a, const store_bulk_op_t *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const store_bulk_op_t *op = &ops[i];
        if (op->kind == STORE_BULK_DELETE) {
            array_sep(&a->deletes, a->ndeletes++);
            buf_put_i64(&a->deletes, op->id);
            continue;
        }
        size_t k = a->nupserts++;
        array_sep(&a->ids, k);
        buf_put_i64(&a->ids, op->id);
        array_sep(&a->titles, k);
        put_array_elem(&a->titles, op->article.title);
        array_sep(&a->contents, k);
        put_array_elem(&a->contents, op->article.content);
        array_sep(&a->authors, k);
        put_array_elem(&a->authors, op->article.author);
    }
    buf_t *all[] = {&a->ids, &a->titles, &a->contents, &a->authors, &a->deletes};
    bool failed = false;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        buf_putc(all[i], '}');
        failed |= all[i]->failed != 0;
    }
    return failed ? STORE_ENOMEM : STORE_OK;
}

typedef struct bulk_ctx {
    store_bulk_op_t *ops;
    size_t n;
    const id_slot_t *slots; /* set-based route only */
    int upsert_idx, delete_idx; /* result numbers of the set statements, or -1 */
} bulk_ctx_t;

/* One by one route. Results: 0 BEGIN, 1..n the ops, then lock, bump,
 * COMMIT. */
static int bulk_result(pg_store_t *s, int idx, PGresult *r, void *arg)
{
    bulk_ctx_t *ctx = arg;
    if (idx < 1 || (size_t)idx > ctx->n)
        return STORE_OK;
    store_bulk_op_t *op = &ctx->ops[idx - 1];
    if (op->kind == STORE_BULK_DELETE) {
        op->status = strcmp(PQcmdTuples(r), "0") != 0 ? 204 : 404;
        return STORE_OK;
    }
    bool created = false;
    int rc = read_upsert(s, r, &op->article, &created);
    op->status = created ? 201 : 200;
    return rc;
}

/* Set-based route: each row of the upsert is (id, created, created_at), each
 * row of the delete an id that existed. */
static int bulk_set_result(pg_store_t *s, int idx, PGresult *r, void *arg)
{
    bulk_ctx_t *ctx = arg;
    if (idx != ctx->upsert_idx && idx != ctx->delete_idx)
        return STORE_OK;
    for (int row = 0; row < PQntuples(r); row++) {
        int64_t id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
        store_bulk_op_t *op = find_op(ctx->slots, ctx->n, ctx->ops, id);
        if (!op)
            return store_fail(&s->base, STORE_EERROR, "bulk: unexpected id %" PRId64, id);
        if (idx == ctx->delete_idx) {
            op->status = 204;
        } else {
            op->status = PQgetvalue(r, row, 1)[0] == 't' ? 201 : 200;
            val_time(r, row, 2, op->article.created_at);
        }
    }
    return STORE_OK;
}

/* Presets what the answers do not carry: ids, updated_at, 404 for deletes
 * (a delete's row comes back only when it existed). Returns the largest
 * upserted id. */
static int64_t bulk_preset(store_bulk_op_t *ops, size_t n, const char *now)
{
    int64_t max_id = 0;
    for (size_t i = 0; i < n; i++) {
        store_bulk_op_t *op = &ops[i];
        op->status = 0;
        if (op->kind == STORE_BULK_DELETE) {
            op->status = 404;
            continue;
        }
        op->article.id = op->id;
        memcpy(op->article.updated_at, now, ARTICLE_TIME_LEN);
        if (op->id > max_id)
            max_id = op->id;
    }
    return max_id;
}

static int bulk_one_by_one(pg_store_t *s, store_bulk_op_t *ops, size_t n, int64_t max_id)
{
    pg_pipe_t p;
    int rc = pipe_begin(s, &p);
    if (rc)
        return rc;
    pipe_fixed(&p, ST_BEGIN, 0, NULL);
    for (size_t i = 0; i < n; i++) {
        store_bulk_op_t *op = &ops[i];
        char idtxt[24];
        snprintf(idtxt, sizeof idtxt, "%" PRId64, op->id);
        if (op->kind == STORE_BULK_UPSERT) {
            send_upsert(&p, &op->article, idtxt);
        } else {
            const char *vals[] = {idtxt};
            pipe_fixed(&p, ST_DELETE, 1, vals);
        }
    }
    send_bump_commit(&p, max_id);
    bulk_ctx_t ctx = {.ops = ops, .n = n};
    return pipe_end(&p, bulk_result, &ctx);
}

static int bulk_set(pg_store_t *s, store_bulk_op_t *ops, size_t n, const id_slot_t *slots,
                    const char *now, int64_t max_id)
{
    bulk_arrays_t a = {0};
    bulk_ctx_t ctx = {.ops = ops, .n = n, .slots = slots, .upsert_idx = -1, .delete_idx = -1};
    pg_pipe_t p;
    int next = 1; /* result 0 is the BEGIN */
    int rc = build_arrays(&a, ops, n);
    if (rc) {
        rc = store_fail(&s->base, rc, "bulk: out of memory");
        goto fail;
    }
    if ((rc = pipe_begin(s, &p)))
        goto fail;
    pipe_fixed(&p, ST_BEGIN, 0, NULL);
    if (a.nupserts) {
        const char *vals[] = {a.ids.data, a.titles.data, a.contents.data, a.authors.data, now};
        pipe_fixed(&p, ST_BULK_UPSERT, 5, vals);
        ctx.upsert_idx = next++;
    }
    if (a.ndeletes) {
        const char *vals[] = {a.deletes.data};
        pipe_fixed(&p, ST_BULK_DELETE, 1, vals);
        ctx.delete_idx = next++;
    }
    send_bump_commit(&p, max_id);
    rc = pipe_end(&p, bulk_set_result, &ctx);
fail: /* also the success path */
    arrays_free(&a);
    return rc;
}

static int pg_bulk(store_t *base, store_bulk_op_t *ops, size_t n)
{
    pg_store_t *s = pg(base);
    char now[ARTICLE_TIME_LEN];
    bool unique = false;
    int rc = pg_ready(s);
    if (rc || (rc = prepare_writes(s)))
        return rc;
    id_slot_t *slots = sort_ids(ops, n, &unique);
    if (!slots)
        return store_fail(base, STORE_ENOMEM, "bulk: out of memory");
    article_now(now);
    int64_t max_id = bulk_preset(ops, n, now);
    if (unique)
        rc = bulk_set(s, ops, n, slots, now, max_id);
    else
        rc = bulk_one_by_one(s, ops, n, max_id);
    free(slots);
    return rc;
}

static void pg_close(store_t *base)
{
    pg_store_t *s = pg(base);
    PQfinish(s->conn);
    free(s);
}

static const struct store_ops pg_ops = {
    .close = pg_close,
    .ping = pg_ping,
    .count = pg_count,
    .get = pg_get,
    .list = pg_list,
    .create = pg_create,
    .put = pg_put,
    .patch = pg_patch,
    .del = pg_delete,
    .bulk = pg_bulk,
};

/* ---- opening ------------------------------------------------------------ */

/* Runs one statement of the start-up sequence through the simple protocol
 * (fixed SQL text, no values). */
static int pg_exec(pg_store_t *s, const char *sql, const char *what)
{
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? STORE_OK : pg_fail(s, r, what);
    PQclear(r);
    return rc;
}

/* Concurrent CREATE ... IF NOT EXISTS can still fail on the catalogs' unique
 * indexes, so processes starting together take turns. A failure leaves the
 * lock to be released by closing the connection. */
static int pg_apply_schema(pg_store_t *s)
{
    int rc = pg_exec(s, "SELECT pg_advisory_lock(" LOCK_SCHEMA ")", "schema lock");
    if (rc == STORE_OK)
        rc = pg_exec(s, schema_pg, "schema");
    if (rc == STORE_OK)
        rc = pg_exec(s, "SELECT pg_advisory_unlock(" LOCK_SCHEMA ")", "schema unlock");
    return rc;
}

int store_pg_open(const char *url, store_t **out, char *err, size_t errlen)
{
    /* The URL's own settings override the defaults before it; UTF-8 after it
     * is forced, as the store hands bytes through unchanged. */
    const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname",
                                "client_encoding", NULL};
    const char *const vals[] = {"10", "articles", url, "UTF8", NULL};
    int rc;
    *out = NULL;
    pg_store_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return STORE_ENOMEM;
    }
    s->base.ops = &pg_ops;
    s->conn = PQconnectdbParams(keys, vals, 1);
    if (!s->conn) {
        rc = store_fail(&s->base, STORE_ENOMEM, "out of memory");
        goto fail;
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        /* A URL libpq cannot parse is the caller's mistake, not an outage. */
        char *perr = NULL;
        PQconninfoOption *opts = PQconninfoParse(url, &perr);
        rc = store_fail(&s->base, opts ? STORE_EUNAVAILABLE : STORE_EURL, "connect: %.*s",
                        (int)strcspn(PQerrorMessage(s->conn), "\n"), PQerrorMessage(s->conn));
        PQconninfoFree(opts);
        PQfreemem(perr);
        goto fail;
    }
    PQsetNoticeProcessor(s->conn, quiet_notices, NULL);
    if ((rc = pg_apply_schema(s)) != STORE_OK)
        goto fail;
    *out = &s->base;
    return STORE_OK;
fail:
    if (err && errlen)
        snprintf(err, errlen, "%s", s->base.errmsg);
    PQfinish(s->conn);
    free(s);
    return rc;
}
