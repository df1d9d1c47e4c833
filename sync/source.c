/* source.c - the front of the change capture (source.h): picks the back end
 * from the URL, checks arguments, forwards through the vtable of
 * source_impl.h, and turns the rows a back end collected into the caller's
 * arrays. */
#include "source_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers shared with the back ends ---------------------------------- */

int source_fail(source_t *src, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(src->errmsg, sizeof src->errmsg, fmt, ap);
    va_end(ap);
    return code;
}

char *source_sql(const char *tmpl, const char *prefix, const char *created, const char *updated)
{
    buf_t b = {0};
    for (const char *p = tmpl; *p;) {
        if (strncmp(p, "{s}", 3) == 0 || strncmp(p, "{c}", 3) == 0 || strncmp(p, "{u}", 3) == 0) {
            buf_puts(&b, p[1] == 's' ? prefix : p[1] == 'c' ? created : updated);
            p += 3;
        } else {
            size_t n = strcspn(p + 1, "{") + 1;
            buf_append(&b, p, n);
            p += n;
        }
    }
    if (b.failed) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b);
}

source_row_t *source_rows_push(source_rows_t *r)
{
    if (r->len == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        source_row_t *rows = realloc(r->rows, cap * sizeof *rows);
        if (!rows)
            return NULL;
        r->rows = rows;
        r->cap = cap;
    }
    source_row_t *row = &r->rows[r->len++];
    *row = (source_row_t){0};
    for (int f = 0; f < F_COUNT; f++)
        row->off[f] = NO_TEXT;
    return row;
}

int source_rows_text(source_rows_t *r, source_row_t *row, int f, const char *s, size_t len)
{
    if (!s)
        return 0;
    row->off[f] = r->text.len;
    row->len[f] = len;
    buf_append(&r->text, s, len);
    buf_putc(&r->text, '\0');
    return r->text.failed ? -1 : 0;
}

void source_rows_free(source_rows_t *r)
{
    free(r->rows);
    buf_free(&r->text);
    *r = (source_rows_t){0};
}

/* One block: n structs of size each, then the text. NULL when n is 0 or
 * memory ran out (*nomem tells which). */
static void *rows_block(const source_rows_t *r, size_t size, char **text, bool *nomem)
{
    *nomem = false;
    if (r->len == 0)
        return NULL;
    size_t head = r->len * size;
    if (head / size != r->len || r->text.len > SIZE_MAX - head) {
        *nomem = true;
        return NULL;
    }
    char *block = malloc(head + r->text.len);
    if (!block) {
        *nomem = true;
        return NULL;
    }
    *text = block + head;
    if (r->text.len)
        memcpy(*text, r->text.data, r->text.len);
    return block;
}

static const char *field(const char *text, const source_row_t *row, int f)
{
    return row->off[f] == NO_TEXT ? NULL : text + row->off[f];
}

static void fill_article(source_article_t *a, const char *text, const source_row_t *row)
{
    *a = (source_article_t){
        .id = row->id,
        .title = field(text, row, F_TITLE),
        .content = field(text, row, F_CONTENT),
        .author = field(text, row, F_AUTHOR),
        .created_at = field(text, row, F_CREATED),
        .updated_at = field(text, row, F_UPDATED),
        .title_len = row->len[F_TITLE],
        .content_len = row->len[F_CONTENT],
        .author_len = row->len[F_AUTHOR],
    };
}

/* ---- URLs ----------------------------------------------------------------- */

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The file name of a sqlite: URL (also sqlite://PATH, as the REST core
 * accepts), or NULL when url is not one. */
static const char *sqlite_path(const char *url)
{
    if (!url || !has_prefix(url, "sqlite:"))
        return NULL;
    const char *path = url + strlen("sqlite:");
    return has_prefix(path, "//") ? path + 2 : path;
}

source_kind_t source_url_kind(const char *url)
{
    if (!url)
        return SOURCE_KIND_NONE;
    if (has_prefix(url, "postgresql://") || has_prefix(url, "postgres://"))
        return SOURCE_KIND_PG;
    const char *path = sqlite_path(url);
    return path && *path ? SOURCE_KIND_SQLITE : SOURCE_KIND_NONE;
}

int source_check_url(const char *url, char *err, size_t errlen)
{
    if (source_url_kind(url) != SOURCE_KIND_NONE)
        return SOURCE_OK;
    if (err && errlen && sqlite_path(url))
        snprintf(err, errlen, "source URL 'sqlite:' without a file name");
    /* Only the scheme goes into the message: the rest may hold a password. */
    else if (err && errlen)
        snprintf(err, errlen,
                 "unsupported source URL scheme '%.*s' (want sqlite:PATH or postgresql://...)",
                 url ? (int)strcspn(url, ":") : 6, url ? url : "(null)");
    return SOURCE_EURL;
}

const char *source_strerror(int code)
{
    switch (code) {
    case SOURCE_OK: return "ok";
    case SOURCE_EUNAVAILABLE: return "source database unavailable";
    case SOURCE_EERROR: return "source database error";
    case SOURCE_EURL: return "bad source URL";
    case SOURCE_ENOMEM: return "out of memory";
    case SOURCE_ESCHEMA: return "source schema not usable";
    case SOURCE_EINVAL: return "invalid argument";
    default: return "unknown source error";
    }
}

/* ---- opening and dispatch -------------------------------------------------- */

int source_open(const char *url, source_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    int rc = source_check_url(url, err, errlen);
    if (rc < 0)
        return rc;
    if (source_url_kind(url) == SOURCE_KIND_PG)
        return source_pg_open(url, out, err, errlen);
    return source_sqlite_open(sqlite_path(url), out, err, errlen);
}

void source_close(source_t *src)
{
    if (src)
        src->ops->close(src);
}

source_kind_t source_kind(const source_t *src)
{
    return src->kind;
}

/* Clears the message before a call and hands it to the caller after. */
static void begin_call(source_t *src, char *err, size_t errlen)
{
    src->errmsg[0] = '\0';
    if (err && errlen)
        err[0] = '\0';
}

static int end_call(source_t *src, int rc, char *err, size_t errlen)
{
    if (rc < 0 && err && errlen)
        snprintf(err, errlen, "%s", src->errmsg[0] ? src->errmsg : source_strerror(rc));
    return rc;
}

static int check_limit(source_t *src, size_t limit)
{
    if (limit < 1 || limit > SOURCE_BATCH_MAX)
        return source_fail(src, SOURCE_EINVAL, "limit %zu out of range 1..%d", limit,
                           SOURCE_BATCH_MAX);
    return SOURCE_OK;
}

static int check_name(source_t *src, const char *name)
{
    size_t n = name ? strnlen(name, SOURCE_NAME_MAX + 1) : 0;
    if (n < 1 || n > SOURCE_NAME_MAX)
        return source_fail(src, SOURCE_EINVAL, "checkpoint name must have 1..%d bytes",
                           SOURCE_NAME_MAX);
    return SOURCE_OK;
}

static int check_seq(source_t *src, int64_t seq, const char *what)
{
    if (seq < 0)
        return source_fail(src, SOURCE_EINVAL, "%s %lld is negative", what, (long long)seq);
    return SOURCE_OK;
}

int source_init(source_t *src, int64_t *snapshot_count, char *err, size_t errlen)
{
    int64_t dummy = 0;
    begin_call(src, err, errlen);
    if (!snapshot_count)
        snapshot_count = &dummy;
    *snapshot_count = 0;
    return end_call(src, src->ops->init(src, snapshot_count), err, errlen);
}

static int changes_out(source_t *src, const source_rows_t *r, source_change_t **out, size_t *n)
{
    char *text = NULL;
    bool nomem;
    source_change_t *c = rows_block(r, sizeof *c, &text, &nomem);
    if (nomem)
        return source_fail(src, SOURCE_ENOMEM, "read: out of memory");
    for (size_t i = 0; i < r->len; i++) {
        const source_row_t *row = &r->rows[i];
        c[i].seq = row->seq;
        c[i].op = row->op;
        fill_article(&c[i].article, text, row);
        c[i].changed_at = field(text, row, F_CHANGED);
    }
    *out = c;
    *n = r->len;
    return SOURCE_OK;
}

int source_read_changes(source_t *src, int64_t after_seq, size_t limit, source_change_t **out,
                        size_t *n, char *err, size_t errlen)
{
    source_rows_t rows = {0};
    begin_call(src, err, errlen);
    *out = NULL;
    *n = 0;
    int rc = check_limit(src, limit);
    if (rc == SOURCE_OK)
        rc = check_seq(src, after_seq, "after_seq");
    if (rc == SOURCE_OK)
        rc = src->ops->read_changes(src, after_seq, (int64_t)limit, &rows);
    if (rc == SOURCE_OK)
        rc = changes_out(src, &rows, out, n);
    source_rows_free(&rows);
    return end_call(src, rc, err, errlen);
}

void source_changes_free(source_change_t *changes)
{
    free(changes);
}

int source_checkpoint_get(source_t *src, const char *name, int64_t *seq, char *err, size_t errlen)
{
    begin_call(src, err, errlen);
    *seq = 0;
    int rc = check_name(src, name);
    if (rc == SOURCE_OK)
        rc = src->ops->checkpoint_get(src, name, seq);
    return end_call(src, rc, err, errlen);
}

int source_checkpoint_set(source_t *src, const char *name, int64_t seq, char *err, size_t errlen)
{
    begin_call(src, err, errlen);
    int rc = check_name(src, name);
    if (rc == SOURCE_OK)
        rc = check_seq(src, seq, "checkpoint");
    if (rc == SOURCE_OK)
        rc = src->ops->checkpoint_set(src, name, seq);
    return end_call(src, rc, err, errlen);
}

int source_backlog(source_t *src, int64_t after_seq, int64_t *count, int64_t *max_seq, char *err,
                   size_t errlen)
{
    int64_t c = 0, m = 0;
    begin_call(src, err, errlen);
    int rc = check_seq(src, after_seq, "after_seq");
    if (rc == SOURCE_OK)
        rc = src->ops->backlog(src, after_seq, &c, &m);
    if (count)
        *count = rc == SOURCE_OK ? c : 0;
    if (max_seq)
        *max_seq = rc == SOURCE_OK ? m : 0;
    return end_call(src, rc, err, errlen);
}

/* Rows deleted per transaction: small enough that a SQLite writer of the
 * source application waits a few milliseconds at most. */
#define COMPACT_CHUNK 5000

int source_compact(source_t *src, int64_t upto_seq, int64_t *deleted, char *err, size_t errlen)
{
    int64_t total = 0, n;
    begin_call(src, err, errlen);
    int rc = check_seq(src, upto_seq, "upto_seq");
    while (rc == SOURCE_OK) {
        n = 0;
        rc = src->ops->compact_chunk(src, upto_seq, COMPACT_CHUNK, &n);
        total += n;
        if (n == 0)
            break;
    }
    if (deleted)
        *deleted = total;
    return end_call(src, rc, err, errlen);
}

static int articles_out(source_t *src, const source_rows_t *r, source_article_t **out, size_t *n)
{
    char *text = NULL;
    bool nomem;
    source_article_t *a = rows_block(r, sizeof *a, &text, &nomem);
    if (nomem)
        return source_fail(src, SOURCE_ENOMEM, "iterate: out of memory");
    for (size_t i = 0; i < r->len; i++)
        fill_article(&a[i], text, &r->rows[i]);
    *out = a;
    *n = r->len;
    return SOURCE_OK;
}

int source_iterate_articles(source_t *src, int64_t after_id, size_t limit, source_article_t **out,
                            size_t *n, char *err, size_t errlen)
{
    source_rows_t rows = {0};
    begin_call(src, err, errlen);
    *out = NULL;
    *n = 0;
    int rc = check_limit(src, limit);
    if (rc == SOURCE_OK)
        rc = src->ops->iterate(src, after_id, (int64_t)limit, &rows);
    if (rc == SOURCE_OK)
        rc = articles_out(src, &rows, out, n);
    source_rows_free(&rows);
    return end_call(src, rc, err, errlen);
}

void source_articles_free(source_article_t *articles)
{
    free(articles);
}
