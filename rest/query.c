/* query.c - strict query-string and path-id parsing; see query.h. */
#include "query.h"

#include <string.h>

#include "num.h"
#include "utf8.h"

enum { P_LIMIT, P_OFFSET, P_AFTER_ID, P_AUTHOR, P_Q, P_SORT, P_COUNT };
static const char *const param_names[P_COUNT] = {"limit", "offset", "after_id",
                                                  "author", "q", "sort"};
static const char *const sort_names[] = {"id", "-id", "updated_at", "-updated_at"};

typedef struct walk {
    const char *value[P_COUNT];
    int seen[P_COUNT];
    problem_t *err;
} walk_t;

static int collect(void *ud, const char *key, const char *value, int has_nul)
{
    walk_t *w = ud;
    if (has_nul)
        return problem_param(w->err, key[0] && utf8_valid(key, strlen(key)) ? key : "?",
                             "query parameters must not contain NUL (%%00)");
    for (int k = 0; k < P_COUNT; k++) {
        if (strcmp(key, param_names[k]) != 0)
            continue;
        if (w->seen[k])
            return problem_param(w->err, key, "%s is given more than once", key);
        w->seen[k] = 1;
        w->value[k] = value ? value : "";
        return 0;
    }
    return problem_param(w->err, key[0] && utf8_valid(key, strlen(key)) ? key : "?",
                         "unknown query parameter; use limit, offset, after_id, author, q or "
                         "sort");
}

static int int_param(const walk_t *w, int k, int64_t min, int64_t max, int64_t *out,
                     problem_t *err)
{
    const char *v = w->value[k];
    if (!v)
        return 0;
    if (num_parse_i64(v, strlen(v), min, max, out) < 0)
        return problem_param(err, param_names[k], "%s must be an integer from %lld to %lld",
                             param_names[k], (long long)min, (long long)max);
    return 0;
}

static int text_param(const walk_t *w, int k, int64_t max_chars, const char **out,
                      problem_t *err)
{
    const char *v = w->value[k];
    if (!v)
        return 0;
    size_t len = strlen(v);
    if (!utf8_valid(v, len))
        return problem_param(err, param_names[k], "%s is not valid UTF-8", param_names[k]);
    if ((int64_t)utf8_count(v, len) > max_chars)
        return problem_param(err, param_names[k], "%s is longer than %lld characters",
                             param_names[k], (long long)max_chars);
    *out = v;
    return 0;
}

static int sort_param(const walk_t *w, store_sort_t *out, problem_t *err)
{
    const char *v = w->value[P_SORT];
    if (!v)
        return 0;
    for (int i = 0; i < 4; i++) {
        if (strcmp(v, sort_names[i]) == 0) {
            *out = (store_sort_t)i;
            return 0;
        }
    }
    return problem_param(err, "sort", "sort must be one of id, -id, updated_at, -updated_at");
}

static int request_each(const void *source, http_query_fn fn, void *ud)
{
    return http_request_query_each(source, fn, ud);
}

int query_parse_list(const http_request_t *req, int64_t max_limit, const article_limits_t *lim,
                     store_query_t *q, problem_t *err)
{
    return query_parse_pairs(request_each, req, max_limit, lim, q, err);
}

int query_parse_pairs(query_each_fn each, const void *source, int64_t max_limit,
                      const article_limits_t *lim, store_query_t *q, problem_t *err)
{
    walk_t w = {.err = err};
    memset(q, 0, sizeof *q);
    q->limit = QUERY_DEFAULT_LIMIT < max_limit ? QUERY_DEFAULT_LIMIT : max_limit;
    if (each(source, collect, &w))
        return -1;
    if (int_param(&w, P_LIMIT, 1, max_limit, &q->limit, err) < 0 ||
        int_param(&w, P_OFFSET, 0, INT64_MAX, &q->offset, err) < 0 ||
        int_param(&w, P_AFTER_ID, 1, INT64_MAX, &q->after_id, err) < 0 ||
        text_param(&w, P_AUTHOR, lim->max_author_chars, &q->author, err) < 0 ||
        text_param(&w, P_Q, lim->max_title_chars, &q->q, err) < 0 ||
        sort_param(&w, &q->sort, err) < 0)
        return -1;
    if (q->q && !*q->q)
        q->q = NULL; /* an empty search matches everything */
    if (q->after_id && q->sort != STORE_SORT_ID && q->sort != STORE_SORT_ID_DESC)
        return problem_param(err, "after_id", "after_id pages by id; use it with sort=id or "
                                              "sort=-id");
    return 0;
}

int query_parse_id(const char *segment, size_t len, int64_t *id, problem_t *err)
{
    if (num_parse_i64(segment, len, 1, INT64_MAX, id) < 0)
        return problem_set(err, 400, NULL,
                           "the article id must be an integer from 1 to 9223372036854775807");
    return 0;
}
