/* store_impl.h - private to the store: the vtable each back end
 * (store_sqlite.c, store_pg.c) fills in behind the public API of store.h,
 * and the few helpers store.c shares with them. Nothing outside rest/store*.c
 * includes this. */
#ifndef STORE_IMPL_H
#define STORE_IMPL_H

#include "store.h"

/* The operations of store.h minus the first argument's type; store.c clears
 * errmsg and forwards. Each back end's connection struct embeds struct store
 * as its first member, so the store_t pointer casts to it. */
struct store_ops {
    void (*close)(store_t *s);
    int (*ping)(store_t *s);
    int (*count)(store_t *s, int64_t *count);
    int (*get)(store_t *s, int64_t id, article_t *out);
    int (*list)(store_t *s, const store_query_t *q, article_list_t *out, int64_t *total);
    int (*create)(store_t *s, article_t *a);
    int (*put)(store_t *s, article_t *a, bool *created);
    int (*patch)(store_t *s, int64_t id, const article_patch_t *p, article_t *out);
    int (*del)(store_t *s, int64_t id);
    int (*bulk)(store_t *s, store_bulk_op_t *ops, size_t n);
    /* Optional: NULL makes store_write_batch run the jobs one by one. */
    int (*write_batch)(store_t *s, store_job_t *const *jobs, size_t n);
};

struct store {
    const struct store_ops *ops;
    char errmsg[256];    /* last error of this connection, "" when none */
    bool batches_writes; /* what store_batches_writes() answers */
};

/* Back-end constructors, called by store_open() with the part of the URL
 * that concerns them (the file name for SQLite, the whole URL for libpq).
 * Same contract as store_open(). */
int store_sqlite_open(const char *path, store_t **out, char *err, size_t errlen);
int store_pg_open(const char *url, store_t **out, char *err, size_t errlen);

/* Formats a message into s->errmsg and returns code, so a failing path can
 * end in `return store_fail(s, STORE_EERROR, "...: %s", why);`. */
int store_fail(store_t *s, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The LIKE pattern "%q%" with \, % and _ escaped by a backslash (to be used
 * with ESCAPE '\'), so q matches as a plain substring. Heap, caller frees;
 * NULL when memory ran out. */
char *store_like_pattern(const char *q);

/* A heap copy of n bytes of s plus a NUL; NULL when memory ran out. */
char *store_strndup(const char *s, size_t n);

/* Copies a timestamp text into an article's fixed-size field, truncating
 * anything longer than the field (never the case for well-formed values). */
void store_copy_time(char dst[ARTICLE_TIME_LEN], const char *src, size_t n);

#endif
