/* store.h - the storage interface of the REST core.
 *
 * One API over two back ends: SQLite (store_sqlite.c, the embedded default)
 * and PostgreSQL through libpq (store_pg.c). A store_t is one database
 * connection and is used by one thread at a time; the pool below hands one
 * to each request. The schema in schema/ is applied by store_open() when it
 * is missing.
 *
 * Error convention: 0 on success, a negative STORE_E* code otherwise; the
 * connection's last error message is in store_errmsg(). */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "article.h"

enum {
    STORE_OK = 0,
    STORE_ENOTFOUND = -1,    /* no article with that id */
    STORE_EUNAVAILABLE = -2, /* the database does not answer (connection lost, busy too long) */
    STORE_EERROR = -3,       /* any other database error */
    STORE_EURL = -4,         /* the database URL is not understood */
    STORE_ENOMEM = -5,
};

typedef enum store_sort {
    STORE_SORT_ID = 0,       /* id ascending (default) */
    STORE_SORT_ID_DESC,      /* -id */
    STORE_SORT_UPDATED,      /* updated_at ascending, then id */
    STORE_SORT_UPDATED_DESC, /* -updated_at, then -id */
} store_sort_t;

typedef struct store_query {
    int64_t limit;      /* 1..max, already checked */
    int64_t offset;     /* >= 0 */
    int64_t after_id;   /* 0: none; else keyset: id > after_id (id < after_id for -id) */
    const char *author; /* NULL: any; else exact match */
    const char *q;      /* NULL: none; else case-insensitive substring of title (no wildcards: % and _ match themselves) */
    store_sort_t sort;
} store_query_t;

typedef enum store_bulk_kind { STORE_BULK_UPSERT, STORE_BULK_DELETE } store_bulk_kind_t;

typedef struct store_bulk_op {
    store_bulk_kind_t kind;
    int64_t id;        /* both kinds; for an upsert equal to article.id */
    article_t article; /* upsert only: the validated article, timestamps empty */
    int status;        /* out: 201 created, 200 replaced, 204 deleted, 404 delete of a missing id */
} store_bulk_op_t;

typedef struct store store_t;

/* Opens a connection for url ("sqlite:PATH", "sqlite::memory:",
 * "postgresql://..." or "postgres://...") and applies the schema when
 * missing. On failure returns a code and writes a message into err. */
int store_open(const char *url, store_t **out, char *err, size_t errlen);
void store_close(store_t *s);
/* STORE_OK when url has a form store_open understands, else STORE_EURL and
 * a message in err; it does not connect. */
int store_check_url(const char *url, char *err, size_t errlen);
/* True when url names an in-memory SQLite database ("sqlite::memory:", also
 * spelt "sqlite://:memory:"), whose data lives in one connection: the pool
 * then holds one. Does not connect. */
bool store_url_is_memory(const char *url);
const char *store_errmsg(store_t *s);
const char *store_strerror(int code);

/* 0 when the database answers a trivial query. */
int store_ping(store_t *s);
int store_count(store_t *s, int64_t *count);

/* Fills out (fields heap-allocated, caller frees with article_free). */
int store_get(store_t *s, int64_t id, article_t *out);

/* Appends matching articles to out; *total receives the number of matching
 * articles ignoring limit, offset and after_id. */
int store_list(store_t *s, const store_query_t *q, article_list_t *out, int64_t *total);

/* Inserts a with a new id; a->id, created_at and updated_at are set on
 * return. Ids are never reused, also after deletes and explicit-id PUTs. */
int store_create(store_t *s, article_t *a);

/* Replaces the article a->id, or creates it with that id. created_at is kept
 * on a replace; updated_at is set now; both are written back into a.
 * *created tells which happened. */
int store_put(store_t *s, article_t *a, bool *created);

/* Applies p to article id atomically and fills out with the result. */
int store_patch(store_t *s, int64_t id, const article_patch_t *p, article_t *out);

int store_delete(store_t *s, int64_t id);

/* Applies all ops in one transaction: all or nothing. A delete of a missing
 * id is not an error (status 404). */
int store_bulk(store_t *s, store_bulk_op_t *ops, size_t n);

/* ---- group commit ------------------------------------------------------- */

typedef enum store_job_kind {
    STORE_JOB_CREATE, /* store_create(article) */
    STORE_JOB_PUT,    /* store_put(article, &created) */
    STORE_JOB_PATCH,  /* store_patch(id, patch, &article) */
    STORE_JOB_DELETE, /* store_delete(id) */
} store_job_kind_t;

typedef struct store_job {
    store_job_kind_t kind;
    int64_t id;            /* patch, delete */
    article_t article;     /* create, put: in and out; patch: out */
    article_patch_t patch; /* patch */
    bool created;          /* put: out */
    int rc;                /* out: this job's own result */
    char errmsg[256];      /* out: this job's error message, "" when none */
} store_job_t;

/* Runs independent single-article writes together: on SQLite in one
 * transaction with a savepoint per job, so that many writers share one
 * commit (the commit, not the statement, is what costs). A job that fails
 * is rolled back alone and the others stay applied. Returns STORE_OK when
 * the batch was committed (each job's rc then tells its outcome), or an
 * error after which no job is applied and every rc holds that error. */
int store_write_batch(store_t *s, store_job_t *const *jobs, size_t n);

/* True when store_write_batch pays off over separate calls (SQLite). */
bool store_batches_writes(const store_t *s);

/* ---- pool: one connection per worker thread ---------------------------- */

typedef struct store_pool store_pool_t;

/* Opens size connections (1 for sqlite::memory:, whose data lives in one
 * connection). Returns NULL and fills err when the first cannot open. */
store_pool_t *store_pool_new(const char *url, int size, char *err, size_t errlen);
void store_pool_free(store_pool_t *p);
/* Blocks until a connection is free. Never returns NULL. */
store_t *store_pool_acquire(store_pool_t *p);
void store_pool_release(store_pool_t *p, store_t *s);

#endif
