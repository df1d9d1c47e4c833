/* store.c - the front of the storage layer: picks the back end from the URL,
 * forwards the public calls of store.h through the vtable of store_impl.h,
 * and pools connections for the worker threads. */
#include "store_impl.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers shared with the back ends ---------------------------------- */

int store_fail(store_t *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
    return code;
}

char *store_like_pattern(const char *q)
{
    size_t n = strlen(q);
    /* Worst case every byte is escaped, plus the two % and the NUL. */
    char *pat = malloc(2 * n + 3);
    if (!pat)
        return NULL;
    char *w = pat;
    *w++ = '%';
    for (const char *r = q; *r; r++) {
        if (*r == '\\' || *r == '%' || *r == '_')
            *w++ = '\\';
        *w++ = *r;
    }
    *w++ = '%';
    *w = '\0';
    return pat;
}

char *store_strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void store_copy_time(char dst[ARTICLE_TIME_LEN], const char *src, size_t n)
{
    if (n >= ARTICLE_TIME_LEN)
        n = ARTICLE_TIME_LEN - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- opening and dispatch ----------------------------------------------- */

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The file name of a sqlite: URL, or NULL when url is not one. */
static const char *sqlite_path(const char *url)
{
    if (!url || !has_prefix(url, "sqlite:"))
        return NULL;
    const char *path = url + strlen("sqlite:");
    /* Also accept the sqlite://PATH spelling people tend to write. */
    return has_prefix(path, "//") ? path + 2 : path;
}

static bool is_pg_url(const char *url)
{
    return url && (has_prefix(url, "postgresql://") || has_prefix(url, "postgres://"));
}

int store_check_url(const char *url, char *err, size_t errlen)
{
    const char *path = sqlite_path(url);
    if ((path && *path) || is_pg_url(url))
        return STORE_OK;
    if (err && errlen && path)
        snprintf(err, errlen, "database URL 'sqlite:' without a file name");
    /* Only the scheme goes into the message: the rest may hold a password. */
    else if (err && errlen)
        snprintf(err, errlen, "unsupported database URL scheme '%.*s' (want sqlite:PATH, "
                 "sqlite::memory: or postgresql://...)",
                 url ? (int)strcspn(url, ":") : 6, url ? url : "(null)");
    return STORE_EURL;
}

bool store_url_is_memory(const char *url)
{
    const char *path = sqlite_path(url);
    return path && strcmp(path, ":memory:") == 0;
}

int store_open(const char *url, store_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    int rc = store_check_url(url, err, errlen);
    if (rc < 0)
        return rc;
    if (is_pg_url(url))
        return store_pg_open(url, out, err, errlen);
    return store_sqlite_open(sqlite_path(url), out, err, errlen);
}

void store_close(store_t *s)
{
    if (s)
        s->ops->close(s);
}

const char *store_errmsg(store_t *s)
{
    return s->errmsg;
}

const char *store_strerror(int code)
{
    switch (code) {
    case STORE_OK: return "ok";
    case STORE_ENOTFOUND: return "not found";
    case STORE_EUNAVAILABLE: return "database unavailable";
    case STORE_EERROR: return "database error";
    case STORE_EURL: return "bad database URL";
    case STORE_ENOMEM: return "out of memory";
    default: return "unknown store error";
    }
}

int store_ping(store_t *s)
{
    s->errmsg[0] = '\0';
    return s->ops->ping(s);
}

int store_count(store_t *s, int64_t *count)
{
    s->errmsg[0] = '\0';
    return s->ops->count(s, count);
}

int store_get(store_t *s, int64_t id, article_t *out)
{
    s->errmsg[0] = '\0';
    return s->ops->get(s, id, out);
}

int store_list(store_t *s, const store_query_t *q, article_list_t *out, int64_t *total)
{
    s->errmsg[0] = '\0';
    return s->ops->list(s, q, out, total);
}

int store_create(store_t *s, article_t *a)
{
    s->errmsg[0] = '\0';
    return s->ops->create(s, a);
}

int store_put(store_t *s, article_t *a, bool *created)
{
    s->errmsg[0] = '\0';
    return s->ops->put(s, a, created);
}

int store_patch(store_t *s, int64_t id, const article_patch_t *p, article_t *out)
{
    s->errmsg[0] = '\0';
    return s->ops->patch(s, id, p, out);
}

int store_delete(store_t *s, int64_t id)
{
    s->errmsg[0] = '\0';
    return s->ops->del(s, id);
}

int store_bulk(store_t *s, store_bulk_op_t *ops, size_t n)
{
    s->errmsg[0] = '\0';
    return s->ops->bulk(s, ops, n);
}

/* Runs one job through the ordinary calls; what a batch does per job. */
static int run_job(store_t *s, store_job_t *j)
{
    switch (j->kind) {
    case STORE_JOB_CREATE: return store_create(s, &j->article);
    case STORE_JOB_PUT: return store_put(s, &j->article, &j->created);
    case STORE_JOB_PATCH: return store_patch(s, j->id, &j->patch, &j->article);
    case STORE_JOB_DELETE: return store_delete(s, j->id);
    }
    return store_fail(s, STORE_EERROR, "unknown job kind");
}

int store_write_batch(store_t *s, store_job_t *const *jobs, size_t n)
{
    s->errmsg[0] = '\0';
    if (s->ops->write_batch)
        return s->ops->write_batch(s, jobs, n);
    for (size_t i = 0; i < n; i++) {
        jobs[i]->rc = run_job(s, jobs[i]);
        snprintf(jobs[i]->errmsg, sizeof jobs[i]->errmsg, "%s", s->errmsg);
    }
    return STORE_OK;
}

bool store_batches_writes(const store_t *s) { return s->batches_writes; }

/* ---- pool --------------------------------------------------------------- */

/* A fixed set of connections; the free ones form a stack so the most recently
 * used (warmest) connection is handed out next. */
struct store_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int size;         /* connections opened */
    int nfree;        /* entries in free[] */
    store_t **all;    /* owned: every connection, closed by store_pool_free */
    store_t **free;   /* subset of all that is not acquired */
};

store_pool_t *store_pool_new(const char *url, int size, char *err, size_t errlen)
{
    /* An in-memory SQLite database exists in one connection only. */
    if (store_url_is_memory(url))
        size = 1;
    if (size < 1)
        size = 1;
    store_pool_t *p = calloc(1, sizeof *p);
    if (!p)
        goto nomem;
    p->all = calloc((size_t)size, sizeof *p->all);
    p->free = calloc((size_t)size, sizeof *p->free);
    if (!p->all || !p->free)
        goto nomem;
    for (int i = 0; i < size; i++) {
        store_t *s;
        /* Only the first failure is fatal; later ones (say, the server's
         * connection limit) leave a smaller but working pool. */
        if (store_open(url, &s, i == 0 ? err : NULL, i == 0 ? errlen : 0) != STORE_OK) {
            if (i == 0)
                goto fail;
            break;
        }
        p->all[p->size++] = s;
        p->free[p->nfree++] = s;
    }
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        goto nomem;
    if (pthread_cond_init(&p->cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        goto nomem;
    }
    return p;
nomem:
    if (err && errlen)
        snprintf(err, errlen, "out of memory");
fail:
    if (p) {
        for (int i = 0; i < p->size; i++)
            store_close(p->all[i]);
        free(p->all);
        free(p->free);
        free(p);
    }
    return NULL;
}

/* All connections must have been released. */
void store_pool_free(store_pool_t *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->size; i++)
        store_close(p->all[i]);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->all);
    free(p->free);
    free(p);
}

store_t *store_pool_acquire(store_pool_t *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->nfree == 0)
        pthread_cond_wait(&p->cv, &p->mu);
    store_t *s = p->free[--p->nfree];
    pthread_mutex_unlock(&p->mu);
    return s;
}

void store_pool_release(store_pool_t *p, store_t *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&p->mu);
    p->free[p->nfree++] = s;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}
