/* store_sqlite.c - the SQLite back end of store.h (the embedded default):
 * one sqlite3 handle per store_t in WAL mode, every statement prepared once
 * per connection and reset after each use. */
#include "store_impl.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Generated from schema/sqlite.sql by scripts/embed.sh. */
extern const char schema_sqlite[];
extern const unsigned long schema_sqlite_len;

/* SQLite allows one writer per database, and a connection that meets another
 * connection's write lock sleeps in the busy handler in coarse steps, which
 * under load turns into latency spikes and, past the timeout, SQLITE_BUSY.
 * One process serves one database, so a single process-wide mutex queues our
 * own writers instead, at the cost of a futex; the busy timeout is left for
 * other processes. Reads never take it (WAL readers do not block the
 * writer). */
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;

#define COLS "id, title, content, author, created_at, updated_at"

/* Fixed statements, prepared on first use. */
enum {
    ST_PING,
    ST_COUNT,
    ST_GET,
    ST_INSERT,
    ST_PUT_FIND,
    ST_PUT_UPDATE,
    ST_PUT_INSERT,
    ST_PATCH,
    ST_DELETE,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_FIXED
};

static const char *const fixed_sql[ST_FIXED] = {
    [ST_PING] = "SELECT 1",
    [ST_COUNT] = "SELECT count(*) FROM articles",
    [ST_GET] = "SELECT " COLS " FROM articles WHERE id = ?1",
    [ST_INSERT] = "INSERT INTO articles (title, content, author, created_at, updated_at) "
                  "VALUES (?1, ?2, ?3, ?4, ?4)",
    /* A PUT looks the row up and then updates or inserts, inside one write
     * transaction. Cheaper than UPDATE ... RETURNING, whose result buffering
     * costs three times the statement itself (bulk upserts run this). */
    [ST_PUT_FIND] = "SELECT created_at FROM articles WHERE id = ?1",
    [ST_PUT_UPDATE] = "UPDATE articles SET title = ?2, content = ?3, author = ?4, updated_at = ?5 "
                      "WHERE id = ?1",
    [ST_PUT_INSERT] = "INSERT INTO articles (id, title, content, author, created_at, updated_at) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    [ST_PATCH] = "UPDATE articles SET "
                 "title = CASE WHEN ?2 & 1 THEN ?3 ELSE title END, "
                 "content = CASE WHEN ?2 & 2 THEN ?4 ELSE content END, "
                 "author = CASE WHEN ?2 & 4 THEN ?5 ELSE author END, "
                 "updated_at = ?6 WHERE id = ?1 RETURNING " COLS,
    [ST_DELETE] = "DELETE FROM articles WHERE id = ?1",
    /* IMMEDIATE takes the write lock up front: a deferred transaction that
     * reads first and then writes can fail with SQLITE_BUSY without ever
     * waiting in the busy handler. */
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT job",
    [ST_RELEASE] = "RELEASE job",
    [ST_ROLLBACK_TO] = "ROLLBACK TO job",
};

/* List statements differ by which filters are present and by the sort; each
 * combination is built and prepared on first use. The index of a variant:
 * bit 0 author, bit 1 q, bit 2 after_id, bits 3-4 the sort. */
enum { V_AUTHOR = 1, V_Q = 2, V_AFTER = 4, V_SORT_SHIFT = 3, LIST_VARIANTS = 32, COUNT_VARIANTS = 4 };

/* Parameter numbers in the list and count statements. */
enum { P_AUTHOR = 1, P_Q, P_AFTER, P_LIMIT, P_OFFSET };

typedef struct sq_store {
    store_t base;
    sqlite3 *db;                         /* owned */
    sqlite3_stmt *fixed[ST_FIXED];       /* owned, NULL until first use */
    sqlite3_stmt *list[LIST_VARIANTS];   /* owned, NULL until first use */
    sqlite3_stmt *count[COUNT_VARIANTS]; /* owned, NULL until first use */
} sq_store_t;

static sq_store_t *sq(store_t *s)
{
    return (sq_store_t *)s;
}

/* Failures of the file or of the lock are "unavailable" (the API answers
 * 503, worth a retry); anything else is a plain error. */
static int sq_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
        return STORE_EUNAVAILABLE;
    case SQLITE_NOMEM:
        return STORE_ENOMEM;
    default:
        return STORE_EERROR;
    }
}

/* Records the connection's message for a failed call and returns its code. */
static int sq_fail(sq_store_t *s, int rc, const char *what)
{
    return store_fail(&s->base, sq_code(rc), "%s: %s", what, sqlite3_errmsg(s->db));
}

static int sq_prepare(sq_store_t *s, const char *sql, sqlite3_stmt **out)
{
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    return rc == SQLITE_OK ? STORE_OK : sq_fail(s, rc, "prepare");
}

static int sq_fixed(sq_store_t *s, int id, sqlite3_stmt **out)
{
    if (!s->fixed[id]) {
        int rc = sq_prepare(s, fixed_sql[id], &s->fixed[id]);
        if (rc)
            return rc;
    }
    *out = s->fixed[id];
    return STORE_OK;
}

/* Binds a string the caller keeps alive until the statement is reset; NULL
 * binds SQL NULL. */
static int bind_text(sqlite3_stmt *st, int idx, const char *v)
{
    return v ? sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, idx);
}

/* Runs a statement that returns no rows and resets it. */
static int sq_exec(sq_store_t *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    int ret = rc == SQLITE_DONE ? STORE_OK : sq_fail(s, rc, what);
    sqlite3_reset(st);
    return ret;
}

static int sq_exec_fixed(sq_store_t *s, int id, const char *what)
{
    sqlite3_stmt *st;
    int rc = sq_fixed(s, id, &st);
    return rc ? rc : sq_exec(s, st, what);
}

/* Write transactions: the process mutex, then the database write lock. On
 * success the caller must end with sq_commit() or sq_rollback(). */
static int sq_begin(sq_store_t *s)
{
    pthread_mutex_lock(&write_mu);
    int rc = sq_exec_fixed(s, ST_BEGIN, "begin");
    if (rc)
        pthread_mutex_unlock(&write_mu);
    return rc;
}

static void sq_rollback(sq_store_t *s)
{
    /* Some errors (SQLITE_FULL, IOERR) already rolled back; then there is
     * nothing left to do. */
    if (!sqlite3_get_autocommit(s->db)) {
        char keep[sizeof s->base.errmsg];
        memcpy(keep, s->base.errmsg, sizeof keep); /* the first error is the one to report */
        sq_exec_fixed(s, ST_ROLLBACK, "rollback");
        memcpy(s->base.errmsg, keep, sizeof keep);
    }
    pthread_mutex_unlock(&write_mu);
}

static int sq_commit(sq_store_t *s)
{
    int rc = sq_exec_fixed(s, ST_COMMIT, "commit");
    if (rc) {
        sq_rollback(s);
        return rc;
    }
    pthread_mutex_unlock(&write_mu);
    return STORE_OK;
}

static char *col_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return store_strndup(t ? (const char *)t : "", (size_t)sqlite3_column_bytes(st, col));
}

static void col_time(sqlite3_stmt *st, int col, char dst[ARTICLE_TIME_LEN])
{
    const unsigned char *t = sqlite3_column_text(st, col);
    store_copy_time(dst, t ? (const char *)t : "", (size_t)sqlite3_column_bytes(st, col));
}

/* Reads a row of COLS into a (zeroed on entry, owned by the caller after). */
static int read_article(sqlite3_stmt *st, article_t *a)
{
    a->id = sqlite3_column_int64(st, 0);
    a->title = col_dup(st, 1);
    a->content = col_dup(st, 2);
    if (sqlite3_column_type(st, 3) != SQLITE_NULL && !(a->author = col_dup(st, 3)))
        goto fail;
    if (!a->title || !a->content)
        goto fail;
    col_time(st, 4, a->created_at);
    col_time(st, 5, a->updated_at);
    return STORE_OK;
fail:
    article_free(a);
    return STORE_ENOMEM;
}

/* Steps st once expecting one row of COLS or none, fills out, resets st. */
static int sq_fetch_one(sq_store_t *s, sqlite3_stmt *st, article_t *out, const char *what)
{
    int ret;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        article_t a = {0};
        ret = read_article(st, &a);
        if (ret == STORE_OK)
            *out = a;
        else
            store_fail(&s->base, ret, "%s: out of memory", what);
    } else if (rc == SQLITE_DONE) {
        ret = store_fail(&s->base, STORE_ENOTFOUND, "no such article");
    } else {
        ret = sq_fail(s, rc, what);
    }
    sqlite3_reset(st);
    return ret;
}

/* ---- operations --------------------------------------------------------- */

static void sq_close(store_t *base)
{
    sq_store_t *s = sq(base);
    for (int i = 0; i < ST_FIXED; i++)
        sqlite3_finalize(s->fixed[i]);
    for (int i = 0; i < LIST_VARIANTS; i++)
        sqlite3_finalize(s->list[i]);
    for (int i = 0; i < COUNT_VARIANTS; i++)
        sqlite3_finalize(s->count[i]);
    sqlite3_close(s->db);
    free(s);
}

static int sq_scalar(sq_store_t *s, int id, int64_t *out, const char *what)
{
    sqlite3_stmt *st;
    int rc = sq_fixed(s, id, &st);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    int ret = rc == SQLITE_ROW ? STORE_OK : sq_fail(s, rc, what);
    if (ret == STORE_OK && out)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return ret;
}

static int sq_ping(store_t *base)
{
    return sq_scalar(sq(base), ST_PING, NULL, "ping");
}

static int sq_count(store_t *base, int64_t *count)
{
    return sq_scalar(sq(base), ST_COUNT, count, "count");
}

static int sq_get(store_t *base, int64_t id, article_t *out)
{
    sq_store_t *s = sq(base);
    sqlite3_stmt *st;
    int rc = sq_fixed(s, ST_GET, &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    return sq_fetch_one(s, st, out, "get");
}

static const char *const order_sql[] = {
    [STORE_SORT_ID] = " ORDER BY id",
    [STORE_SORT_ID_DESC] = " ORDER BY id DESC",
    [STORE_SORT_UPDATED] = " ORDER BY updated_at, id",
    [STORE_SORT_UPDATED_DESC] = " ORDER BY updated_at DESC, id DESC",
};

/* The WHERE clause shared by a list variant and its count. */
static void where_sql(buf_t *b, int v)
{
    buf_puts(b, " WHERE 1");
    if (v & V_AUTHOR)
        buf_puts(b, " AND author = ?1");
    if (v & V_Q)
        buf_puts(b, " AND title LIKE ?2 ESCAPE '\\'");
}

static int sq_list_stmt(sq_store_t *s, int v, sqlite3_stmt **out)
{
    if (s->list[v]) {
        *out = s->list[v];
        return STORE_OK;
    }
    int sort = v >> V_SORT_SHIFT;
    buf_t b = {0};
    buf_puts(&b, "SELECT " COLS " FROM articles");
    where_sql(&b, v);
    if (v & V_AFTER)
        buf_puts(&b, sort == STORE_SORT_ID_DESC ? " AND id < ?3" : " AND id > ?3");
    buf_puts(&b, order_sql[sort]);
    buf_puts(&b, " LIMIT ?4 OFFSET ?5");
    int rc = b.failed ? store_fail(&s->base, STORE_ENOMEM, "out of memory")
                      : sq_prepare(s, b.data, &s->list[v]);
    buf_free(&b);
    *out = s->list[v];
    return rc;
}

static int sq_count_stmt(sq_store_t *s, int v, sqlite3_stmt **out)
{
    if (s->count[v]) {
        *out = s->count[v];
        return STORE_OK;
    }
    buf_t b = {0};
    buf_puts(&b, "SELECT count(*) FROM articles");
    where_sql(&b, v);
    int rc = b.failed ? store_fail(&s->base, STORE_ENOMEM, "out of memory")
                      : sq_prepare(s, b.data, &s->count[v]);
    buf_free(&b);
    *out = s->count[v];
    return rc;
}

/* Binds the filters present in variant v; pattern outlives the statement's
 * use. */
static void bind_filters(sqlite3_stmt *st, int v, const store_query_t *q, const char *pattern)
{
    if (v & V_AUTHOR)
        bind_text(st, P_AUTHOR, q->author);
    if (v & V_Q)
        bind_text(st, P_Q, pattern);
}

static int sq_list_rows(sq_store_t *s, sqlite3_stmt *st, article_list_t *out)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        article_t *a = article_list_push(out);
        if (!a || read_article(st, a) != STORE_OK) {
            if (a)
                out->len--; /* read_article left the slot zeroed */
            return store_fail(&s->base, STORE_ENOMEM, "list: out of memory");
        }
    }
    return rc == SQLITE_DONE ? STORE_OK : sq_fail(s, rc, "list");
}

static int sq_list_page(sq_store_t *s, int v, const store_query_t *q, const char *pattern,
                        article_list_t *out)
{
    sqlite3_stmt *st;
    int rc = sq_list_stmt(s, v, &st);
    if (rc)
        return rc;
    bind_filters(st, v, q, pattern);
    if (v & V_AFTER)
        sqlite3_bind_int64(st, P_AFTER, q->after_id);
    sqlite3_bind_int64(st, P_LIMIT, q->limit);
    sqlite3_bind_int64(st, P_OFFSET, q->offset);
    rc = sq_list_rows(s, st, out);
    sqlite3_reset(st);
    return rc;
}

static int sq_list_total(sq_store_t *s, int filters, const store_query_t *q, const char *pattern,
                         int64_t *total)
{
    sqlite3_stmt *st;
    int rc = sq_count_stmt(s, filters, &st);
    if (rc)
        return rc;
    bind_filters(st, filters, q, pattern);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *total = sqlite3_column_int64(st, 0);
    else
        rc = sq_fail(s, step, "list count");
    sqlite3_reset(st);
    return rc;
}

static int sq_list(store_t *base, const store_query_t *q, article_list_t *out, int64_t *total)
{
    sq_store_t *s = sq(base);
    int filters = (q->author ? V_AUTHOR : 0) | (q->q ? V_Q : 0);
    int v = filters | (q->after_id ? V_AFTER : 0) | ((int)q->sort << V_SORT_SHIFT);
    size_t had = out->len;
    char *pattern = NULL;
    if ((unsigned)q->sort > STORE_SORT_UPDATED_DESC)
        return store_fail(base, STORE_EERROR, "list: bad sort %d", (int)q->sort);
    if (q->q && !(pattern = store_like_pattern(q->q)))
        return store_fail(base, STORE_ENOMEM, "list: out of memory");
    int rc = sq_list_page(s, v, q, pattern, out);
    if (rc == STORE_OK && total)
        rc = sq_list_total(s, filters, q, pattern, total);
    if (rc) {
        /* Leave out as it was. */
        while (out->len > had)
            article_free(&out->items[--out->len]);
    }
    free(pattern);
    return rc;
}

static void bind_article(sqlite3_stmt *st, const article_t *a, int first)
{
    bind_text(st, first, a->title);
    bind_text(st, first + 1, a->content);
    bind_text(st, first + 2, a->author);
}

/* Caller holds write_mu. */
static int sq_create_locked(sq_store_t *s, article_t *a)
{
    sqlite3_stmt *st;
    int rc = sq_fixed(s, ST_INSERT, &st);
    if (rc)
        return rc;
    article_now(a->created_at);
    memcpy(a->updated_at, a->created_at, sizeof a->updated_at);
    bind_article(st, a, 1);
    bind_text(st, 4, a->created_at);
    rc = sq_exec(s, st, "insert");
    if (rc == STORE_OK)
        a->id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

static int sq_create(store_t *base, article_t *a)
{
    pthread_mutex_lock(&write_mu);
    int rc = sq_create_locked(sq(base), a);
    pthread_mutex_unlock(&write_mu);
    return rc;
}

/* The body of a PUT inside an open write transaction: replace, or insert with
 * the explicit id (AUTOINCREMENT then moves its counter past it). Sets the
 * timestamps in a. */
static int sq_upsert(sq_store_t *s, article_t *a, const char *now, bool *created)
{
    sqlite3_stmt *find, *write;
    int rc;
    if ((rc = sq_fixed(s, ST_PUT_FIND, &find)))
        return rc;
    sqlite3_bind_int64(find, 1, a->id);
    int step = sqlite3_step(find);
    *created = step == SQLITE_DONE;
    if (step == SQLITE_ROW)
        col_time(find, 0, a->created_at);
    else if (step != SQLITE_DONE)
        rc = sq_fail(s, step, "put");
    sqlite3_reset(find);
    if (rc || (rc = sq_fixed(s, *created ? ST_PUT_INSERT : ST_PUT_UPDATE, &write)))
        return rc;
    memcpy(a->updated_at, now, ARTICLE_TIME_LEN);
    if (*created)
        memcpy(a->created_at, now, ARTICLE_TIME_LEN);
    sqlite3_bind_int64(write, 1, a->id);
    bind_article(write, a, 2);
    bind_text(write, 5, now);
    return sq_exec(s, write, "put");
}

static int sq_put(store_t *base, article_t *a, bool *created)
{
    sq_store_t *s = sq(base);
    char now[ARTICLE_TIME_LEN];
    int rc = sq_begin(s);
    if (rc)
        return rc;
    article_now(now);
    if ((rc = sq_upsert(s, a, now, created)) != STORE_OK) {
        sq_rollback(s);
        return rc;
    }
    return sq_commit(s);
}

/* Caller holds write_mu. */
static int sq_patch_locked(sq_store_t *s, int64_t id, const article_patch_t *p, article_t *out)
{
    sqlite3_stmt *st;
    char now[ARTICLE_TIME_LEN];
    int rc = sq_fixed(s, ST_PATCH, &st);
    if (rc)
        return rc;
    article_now(now);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, (int)p->fields);
    bind_text(st, 3, p->title);
    bind_text(st, 4, p->content);
    bind_text(st, 5, p->author);
    bind_text(st, 6, now);
    /* sq_fetch_one resets the statement, which completes the UPDATE. */
    return sq_fetch_one(s, st, out, "patch");
}

static int sq_patch(store_t *base, int64_t id, const article_patch_t *p, article_t *out)
{
    pthread_mutex_lock(&write_mu);
    int rc = sq_patch_locked(sq(base), id, p, out);
    pthread_mutex_unlock(&write_mu);
    return rc;
}

/* Deletes id; *deleted tells whether it existed. Caller holds write_mu. */
static int sq_delete_locked(sq_store_t *s, int64_t id, bool *deleted)
{
    sqlite3_stmt *st;
    int rc = sq_fixed(s, ST_DELETE, &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    rc = sq_exec(s, st, "delete");
    *deleted = rc == STORE_OK && sqlite3_changes(s->db) > 0;
    return rc;
}

static int sq_delete(store_t *base, int64_t id)
{
    sq_store_t *s = sq(base);
    bool deleted = false;
    pthread_mutex_lock(&write_mu);
    int rc = sq_delete_locked(s, id, &deleted);
    pthread_mutex_unlock(&write_mu);
    if (rc == STORE_OK && !deleted)
        rc = store_fail(base, STORE_ENOTFOUND, "no such article");
    return rc;
}

static int sq_bulk(store_t *base, store_bulk_op_t *ops, size_t n)
{
    sq_store_t *s = sq(base);
    char now[ARTICLE_TIME_LEN];
    int rc = sq_begin(s);
    if (rc)
        return rc;
    article_now(now); /* one instant for the whole batch, as in one transaction */
    for (size_t i = 0; i < n && rc == STORE_OK; i++) {
        store_bulk_op_t *op = &ops[i];
        bool flag = false;
        if (op->kind == STORE_BULK_UPSERT) {
            op->article.id = op->id;
            rc = sq_upsert(s, &op->article, now, &flag);
            op->status = flag ? 201 : 200;
        } else {
            rc = sq_delete_locked(s, op->id, &flag);
            op->status = flag ? 204 : 404;
        }
    }
    if (rc) {
        sq_rollback(s);
        return rc;
    }
    return sq_commit(s);
}

/* One job inside the batch's transaction. */
static int sq_job(sq_store_t *s, store_job_t *j, const char *now)
{
    bool deleted = false;
    int rc;
    switch (j->kind) {
    case STORE_JOB_CREATE:
        return sq_create_locked(s, &j->article);
    case STORE_JOB_PUT:
        return sq_upsert(s, &j->article, now, &j->created);
    case STORE_JOB_PATCH:
        return sq_patch_locked(s, j->id, &j->patch, &j->article);
    case STORE_JOB_DELETE:
        rc = sq_delete_locked(s, j->id, &deleted);
        return rc == STORE_OK && !deleted ? store_fail(&s->base, STORE_ENOTFOUND, "no such article")
                                          : rc;
    }
    return store_fail(&s->base, STORE_EERROR, "unknown job kind");
}

/* A savepoint per job keeps a failing job from taking the others down; the
 * batch as a whole pays for one commit. */
static int sq_write_batch(store_t *base, store_job_t *const *jobs, size_t n)
{
    sq_store_t *s = sq(base);
    char now[ARTICLE_TIME_LEN];
    int rc = sq_begin(s);
    bool begun = rc == STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        store_job_t *j = jobs[i];
        if ((rc = sq_exec_fixed(s, ST_SAVEPOINT, "savepoint")))
            break;
        s->base.errmsg[0] = '\0';
        article_now(now);
        j->rc = sq_job(s, j, now);
        snprintf(j->errmsg, sizeof j->errmsg, "%s", s->base.errmsg);
        if (j->rc != STORE_OK && (rc = sq_exec_fixed(s, ST_ROLLBACK_TO, "rollback to")))
            break;
        rc = sq_exec_fixed(s, ST_RELEASE, "release");
    }
    if (rc == STORE_OK)
        rc = sq_commit(s); /* rolls back itself when the commit fails */
    else if (begun)
        sq_rollback(s);
    if (rc != STORE_OK) {
        for (size_t i = 0; i < n; i++) {
            jobs[i]->rc = rc;
            snprintf(jobs[i]->errmsg, sizeof jobs[i]->errmsg, "%s", s->base.errmsg);
        }
    }
    return rc;
}

static const struct store_ops sq_ops = {
    .close = sq_close,
    .ping = sq_ping,
    .count = sq_count,
    .get = sq_get,
    .list = sq_list,
    .create = sq_create,
    .put = sq_put,
    .patch = sq_patch,
    .del = sq_delete,
    .bulk = sq_bulk,
    .write_batch = sq_write_batch,
};

/* ---- opening ------------------------------------------------------------ */

/* Connection settings and the schema. WAL lets readers run beside the writer;
 * synchronous=NORMAL is durable against crashes of the process (only a power
 * loss can lose the last commits) at a fraction of FULL's fsyncs. */
static int sq_setup(sq_store_t *s)
{
    static const char pragmas[] = "PRAGMA journal_mode = WAL;"
                                  "PRAGMA synchronous = NORMAL;"
                                  "PRAGMA foreign_keys = ON;";
    char *msg = NULL;
    int rc;
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, 5000);
    /* Switching to WAL and creating tables are writes. */
    pthread_mutex_lock(&write_mu);
    rc = sqlite3_exec(s->db, pragmas, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, schema_sqlite, NULL, NULL, &msg);
    pthread_mutex_unlock(&write_mu);
    if (rc != SQLITE_OK) {
        if ((rc & 0xff) == SQLITE_BUSY)
            store_fail(&s->base, sq_code(rc),
                       "the database file is held by another process (an articles-rest already "
                       "serving it?); stop that one or choose another file");
        else
            store_fail(&s->base, sq_code(rc), "setup: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return sq_code(rc);
    }
    return STORE_OK;
}

int store_sqlite_open(const char *path, store_t **out, char *err, size_t errlen)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI |
                SQLITE_OPEN_NOMUTEX; /* one thread at a time per connection */
    int rc;
    *out = NULL;
    sq_store_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return STORE_ENOMEM;
    }
    s->base.ops = &sq_ops;
    /* An in-memory database lives in this one connection, so no writer
     * thread with a connection of its own can commit for it. */
    s->base.batches_writes = strcmp(path, ":memory:") != 0;
    /* The REST core owns its database file: "unix-excl" takes a process-wide
     * exclusive lock on it and keeps the WAL index in the heap, so that the
     * connections of this process read without the two fcntl() calls per
     * transaction that cross-process locking costs, and a second server on
     * the same file is refused instead of racing our in-process writer. */
    int orc = sqlite3_open_v2(path, &s->db, flags, strcmp(path, ":memory:") ? "unix-excl" : NULL);
    if (orc != SQLITE_OK) {
        rc = s->db ? sq_fail(s, orc, "open") : store_fail(&s->base, STORE_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = sq_setup(s)) != STORE_OK)
        goto fail;
    *out = &s->base;
    return STORE_OK;
fail:
    if (err && errlen)
        snprintf(err, errlen, "sqlite:%s: %s", path, s->base.errmsg);
    sqlite3_close(s->db);
    free(s);
    return rc;
}
