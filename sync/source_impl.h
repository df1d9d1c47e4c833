/* source_impl.h - private to the change capture: the vtable each back end
 * (source_sqlite.c, source_pg.c) fills in behind the API of source.h, and
 * the row collector they share with source.c. Nothing outside sync/source*.c
 * includes this. */
#ifndef SOURCE_IMPL_H
#define SOURCE_IMPL_H

#include <stdbool.h>

#include "buf.h"
#include "source.h"

/* Text fields of a collected row, in this order. */
enum { F_TITLE, F_CONTENT, F_AUTHOR, F_CREATED, F_UPDATED, F_CHANGED, F_COUNT };

/* Rows of a read or an iteration as they come from the database; turned
 * into the caller's array with one allocation at the end (the strings of a
 * batch in one block after the structs), so a million changes cost a few
 * hundred allocations, not millions. */
typedef struct source_row {
    int64_t seq; /* changes only */
    int64_t id;
    source_op_t op;
    size_t off[F_COUNT]; /* offset of the field in text, or NO_TEXT for NULL */
    size_t len[F_COUNT]; /* its bytes (a NUL byte inside counts) */
} source_row_t;

#define NO_TEXT SIZE_MAX

typedef struct source_rows {
    source_row_t *rows;
    size_t len, cap;
    buf_t text; /* every field NUL-terminated */
} source_rows_t;

/* Adds a row, its fields all NULL; NULL when memory ran out. */
source_row_t *source_rows_push(source_rows_t *r);
/* Sets field f of row (the last pushed) to len bytes of s, or NULL when s
 * is NULL. -1 when memory ran out. */
int source_rows_text(source_rows_t *r, source_row_t *row, int f, const char *s, size_t len);
void source_rows_free(source_rows_t *r);

/* The operations of source.h after the checks of source.c (arguments in
 * range, err cleared). A failing call records its message with
 * source_fail; the front copies it into the caller's err. */
struct source_ops {
    void (*close)(source_t *src);
    int (*init)(source_t *src, int64_t *snapshot_count);
    /* Appends the collapsed changes to rows, in seq order. */
    int (*read_changes)(source_t *src, int64_t after_seq, int64_t limit, source_rows_t *rows);
    int (*checkpoint_get)(source_t *src, const char *name, int64_t *seq);
    int (*checkpoint_set)(source_t *src, const char *name, int64_t seq);
    int (*backlog)(source_t *src, int64_t after_seq, int64_t *count, int64_t *max_seq);
    /* Deletes at most chunk entries with seq <= upto_seq in one transaction. */
    int (*compact_chunk)(source_t *src, int64_t upto_seq, int64_t chunk, int64_t *deleted);
    int (*iterate)(source_t *src, int64_t after_id, int64_t limit, source_rows_t *rows);
};

/* Each back end's connection struct embeds this first. */
struct source {
    const struct source_ops *ops;
    source_kind_t kind;
    char errmsg[512]; /* the failing call's message */
};

/* Back-end constructors, called by source_open() with the part of the URL
 * that concerns them (the file name for SQLite, the whole URL for libpq).
 * Same contract as source_open(). */
int source_sqlite_open(const char *path, source_t **out, char *err, size_t errlen);
int source_pg_open(const char *url, source_t **out, char *err, size_t errlen);

/* Formats the message of a failure into src->errmsg and returns code. */
int source_fail(source_t *src, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The statement text with every "{s}" replaced by prefix (the quoted schema
 * and a dot on PostgreSQL, "" on SQLite) and every "{c}" / "{u}" by the
 * created_at / updated_at expressions. Heap, caller frees; NULL when memory
 * ran out. */
char *source_sql(const char *tmpl, const char *prefix, const char *created, const char *updated);

#endif
