/* decode.c - validation of article bodies (POST, PUT, PATCH, bulk); see
 * decode.h. The rules are written once here, so every route enforces the
 * same ones. */
#include "decode.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

/* The members an article body may have. created_at and updated_at are
 * accepted and ignored so that a GET, edit, PUT round trip works. */
enum { M_ID, M_TITLE, M_CONTENT, M_AUTHOR, M_CREATED, M_UPDATED, M_COUNT };
static const char *const member_names[M_COUNT] = {"id", "title", "content", "author",
                                                   "created_at", "updated_at"};

/* Context for error messages inside a bulk request. */
typedef struct where {
    long index;         /* -1 outside bulk */
    const char *prefix; /* "" or "article." */
} where_t;

static int fail(problem_t *err, const where_t *w, int status, const char *member,
                const char *detail)
{
    char field[64] = "";
    if (member)
        snprintf(field, sizeof field, "%s%s", w->prefix, member);
    problem_set(err, status, member ? field : NULL, "%s", detail);
    err->index = w->index;
    return -1;
}

/* Checks a text member: valid UTF-8 and within the length limits. */
static int check_text(const char *s, const char *member, int64_t min_chars, int64_t max_chars,
                      int64_t max_bytes, const where_t *w, problem_t *err)
{
    char msg[160];
    size_t len = strlen(s);
    /* NUL cannot reach here: json_parse refuses \u0000. Other control
     * characters are text a source database may hold, so they pass. */
    if (!utf8_valid(s, len))
        return fail(err, w, 422, member, "the text is not valid UTF-8; send UTF-8 text");
    if (max_bytes >= 0 && (int64_t)len > max_bytes) {
        snprintf(msg, sizeof msg, "%s is %zu bytes long; at most %lld are allowed", member, len,
                 (long long)max_bytes);
        return fail(err, w, 422, member, msg);
    }
    if (max_chars >= 0 || min_chars > 0) {
        int64_t n = (int64_t)utf8_count(s, len);
        if (n < min_chars) {
            snprintf(msg, sizeof msg, "%s must not be empty", member);
            return fail(err, w, 422, member, msg);
        }
        if (max_chars >= 0 && n > max_chars) {
            snprintf(msg, sizeof msg, "%s is %lld characters long; at most %lld are allowed",
                     member, (long long)n, (long long)max_chars);
            return fail(err, w, 422, member, msg);
        }
    }
    return 0;
}

static int check_title(const cJSON *v, const article_limits_t *lim, const where_t *w,
                       problem_t *err)
{
    if (!cJSON_IsString(v))
        return fail(err, w, 422, "title",
                    v ? "title must be a string" : "title is required");
    return check_text(v->valuestring, "title", 1, lim->max_title_chars, -1, w, err);
}

static int check_content(const cJSON *v, const article_limits_t *lim, const where_t *w,
                         problem_t *err)
{
    if (!cJSON_IsString(v))
        return fail(err, w, 422, "content", "content must be a string");
    return check_text(v->valuestring, "content", 0, -1, lim->max_content_bytes, w, err);
}

static int check_author(const cJSON *v, const article_limits_t *lim, const where_t *w,
                        problem_t *err)
{
    if (cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return fail(err, w, 422, "author", "author must be a string or null");
    return check_text(v->valuestring, "author", 0, lim->max_author_chars, -1, w, err);
}

/* Reads a JSON number as an id: an integer from 1 to DECODE_MAX_JSON_ID. */
static int json_id(const cJSON *v, int64_t *out)
{
    if (!cJSON_IsNumber(v))
        return -1;
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < 1 || d > (double)DECODE_MAX_JSON_ID)
        return -1;
    *out = (int64_t)d;
    return 0;
}

/* Sorts the members of obj into slots by name, refusing unknown and
 * repeated ones. */
static int collect_members(const cJSON *obj, const cJSON *slot[M_COUNT], const where_t *w,
                           problem_t *err)
{
    memset(slot, 0, sizeof(*slot) * M_COUNT);
    for (const cJSON *m = obj->child; m; m = m->next) {
        int k = 0;
        while (k < M_COUNT && strcmp(m->string, member_names[k]) != 0)
            k++;
        if (k == M_COUNT)
            return fail(err, w, 422, m->string,
                        "unknown field; an article has id, title, content and author");
        if (slot[k])
            return fail(err, w, 422, m->string, "the field appears twice");
        slot[k] = m;
    }
    return 0;
}

static char *dup_or_null(const cJSON *v)
{
    return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

static int decode_article(const cJSON *obj, decode_mode_t mode, int64_t path_id,
                          const article_limits_t *lim, const where_t *w, article_t *out,
                          problem_t *err)
{
    const cJSON *slot[M_COUNT];
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(obj))
        return fail(err, w, 422, NULL, "the article must be a JSON object");
    if (collect_members(obj, slot, w, err) < 0)
        return -1;
    int64_t id = 0;
    if (slot[M_ID]) {
        if (mode == DECODE_CREATE)
            return fail(err, w, 422, "id",
                        "id is assigned by the server on POST; to choose an id, use "
                        "PUT /articles/{id}");
        if (json_id(slot[M_ID], &id) < 0)
            return fail(err, w, 422, "id", "id must be an integer from 1 to 9007199254740991");
        if (mode == DECODE_REPLACE && id != path_id)
            return fail(err, w, 422, "id", "id in the body differs from the id in the path");
    } else if (mode == DECODE_BULK) {
        return fail(err, w, 422, "id", "id is required in a bulk upsert");
    }
    if (mode == DECODE_REPLACE && path_id > DECODE_MAX_JSON_ID)
        return fail(err, w, 422, "id",
                    "ids above 9007199254740991 cannot be stored: JSON clients cannot read "
                    "them exactly");
    if (check_title(slot[M_TITLE], lim, w, err) < 0)
        return -1;
    if (slot[M_CONTENT] && check_content(slot[M_CONTENT], lim, w, err) < 0)
        return -1;
    if (slot[M_AUTHOR] && check_author(slot[M_AUTHOR], lim, w, err) < 0)
        return -1;
    out->id = mode == DECODE_REPLACE ? path_id : id;
    out->title = strdup(slot[M_TITLE]->valuestring);
    out->content = strdup(slot[M_CONTENT] ? slot[M_CONTENT]->valuestring : "");
    out->author = dup_or_null(slot[M_AUTHOR]);
    if (!out->title || !out->content || (cJSON_IsString(slot[M_AUTHOR]) && !out->author)) {
        article_free(out);
        return fail(err, w, 500, NULL, "out of memory");
    }
    return 0;
}

/* Names the culprit of a JSON pointer: "/title" in a single article, or
 * "/3/article/title" in a bulk request (index 3, field "article.title").
 * RFC 6901's ~1 and ~0 are turned back into / and ~. */
static void pointer_to_problem(const char *ptr, bool bulk, problem_t *err)
{
    long index = -1;
    if (bulk && ptr[0] == '/') {
        char *end = NULL;
        index = strtol(ptr + 1, &end, 10);
        ptr = end;
    }
    char field[sizeof err->field];
    size_t n = 0;
    for (const char *p = *ptr == '/' ? ptr + 1 : ptr; *p && n + 1 < sizeof field; p++) {
        if (*p == '~' && (p[1] == '0' || p[1] == '1'))
            field[n++] = *++p == '0' ? '~' : '/';
        else
            field[n++] = *p == '/' ? '.' : *p;
    }
    field[n] = '\0';
    problem_set(err, 422, n ? field : NULL, "text must not contain NUL (\\u0000); remove it from %s",
                n ? field : "the body");
    err->index = index;
}

/* Parses a body: 400 when it is not JSON, 422 when a string holds NUL. */
static cJSON *parse_body(const char *body, size_t len, bool bulk, problem_t *err)
{
    json_error_t jerr;
    cJSON *root = json_parse(body, len, &jerr);
    if (root)
        return root;
    if (jerr.code == JSON_ENUL)
        pointer_to_problem(jerr.pointer, bulk, err);
    else
        problem_set(err, jerr.code == JSON_ENOMEM ? 500 : 400, NULL, "%s", jerr.message);
    return NULL;
}

int decode_article_body(const char *body, size_t len, decode_mode_t mode, int64_t path_id,
                        const article_limits_t *lim, article_t *out, problem_t *err)
{
    where_t w = {-1, ""};
    cJSON *root = parse_body(body, len, false, err);
    if (!root)
        return -1;
    int rc = decode_article(root, mode, path_id, lim, &w, out, err);
    cJSON_Delete(root);
    return rc;
}

/* A merge patch member: null resets content to "" and author to null;
 * title cannot be removed. */
static int patch_member(const cJSON *v, int k, const article_limits_t *lim, const where_t *w,
                        article_patch_t *out, problem_t *err)
{
    switch (k) {
    case M_TITLE:
        if (cJSON_IsNull(v))
            return fail(err, w, 422, "title", "title cannot be removed");
        if (check_title(v, lim, w, err) < 0)
            return -1;
        out->fields |= ARTICLE_F_TITLE;
        return (out->title = strdup(v->valuestring)) ? 0 : -1;
    case M_CONTENT:
        if (!cJSON_IsNull(v) && check_content(v, lim, w, err) < 0)
            return -1;
        out->fields |= ARTICLE_F_CONTENT;
        return (out->content = strdup(cJSON_IsNull(v) ? "" : v->valuestring)) ? 0 : -1;
    case M_AUTHOR:
        if (check_author(v, lim, w, err) < 0)
            return -1;
        out->fields |= ARTICLE_F_AUTHOR;
        out->author = dup_or_null(v);
        return cJSON_IsNull(v) || out->author ? 0 : -1;
    }
    return 0;
}

int decode_patch_body(const char *body, size_t len, int64_t path_id, const article_limits_t *lim,
                      article_patch_t *out, problem_t *err)
{
    where_t w = {-1, ""};
    const cJSON *slot[M_COUNT];
    memset(out, 0, sizeof *out);
    cJSON *root = parse_body(body, len, false, err);
    if (!root)
        return -1;
    int rc = -1;
    if (!cJSON_IsObject(root)) {
        fail(err, &w, 422, NULL, "a merge patch must be a JSON object");
        goto done;
    }
    if (collect_members(root, slot, &w, err) < 0)
        goto done;
    int64_t id;
    if (slot[M_ID] && (json_id(slot[M_ID], &id) < 0 || id != path_id)) {
        fail(err, &w, 422, "id", "id cannot be changed; leave it out or send the path's id");
        goto done;
    }
    for (int k = M_TITLE; k <= M_AUTHOR; k++) {
        if (slot[k] && patch_member(slot[k], k, lim, &w, out, err) < 0) {
            if (!err->status)
                problem_set(err, 500, NULL, "out of memory");
            goto done;
        }
    }
    rc = 0;
done:
    if (rc < 0)
        article_patch_free(out);
    cJSON_Delete(root);
    return rc;
}

static int decode_bulk_op(const cJSON *item, long i, const article_limits_t *lim,
                          store_bulk_op_t *op, problem_t *err)
{
    where_t w = {i, ""};
    if (!cJSON_IsObject(item))
        return fail(err, &w, 422, NULL, "each operation must be a JSON object");
    const cJSON *kind = NULL, *article = NULL, *id = NULL;
    for (const cJSON *m = item->child; m; m = m->next) {
        const cJSON **dst = strcmp(m->string, "op") == 0        ? &kind
                            : strcmp(m->string, "article") == 0 ? &article
                            : strcmp(m->string, "id") == 0      ? &id
                                                                : NULL;
        if (!dst)
            return fail(err, &w, 422, m->string,
                        "unknown field; an operation has op and article (upsert) or id (delete)");
        if (*dst)
            return fail(err, &w, 422, m->string, "the field appears twice");
        *dst = m;
    }
    if (cJSON_IsString(kind) && strcmp(kind->valuestring, "upsert") == 0) {
        if (id)
            return fail(err, &w, 422, "id", "an upsert carries its id inside article");
        where_t wa = {i, "article."};
        if (!cJSON_IsObject(article))
            return fail(err, &w, 422, "article", "an upsert needs an article object");
        op->kind = STORE_BULK_UPSERT;
        if (decode_article(article, DECODE_BULK, 0, lim, &wa, &op->article, err) < 0)
            return -1;
        op->id = op->article.id;
        return 0;
    }
    if (cJSON_IsString(kind) && strcmp(kind->valuestring, "delete") == 0) {
        if (article)
            return fail(err, &w, 422, "article", "a delete carries only an id");
        op->kind = STORE_BULK_DELETE;
        if (json_id(id, &op->id) < 0)
            return fail(err, &w, 422, "id", "id must be an integer from 1 to 9007199254740991");
        return 0;
    }
    return fail(err, &w, 422, "op", "op must be \"upsert\" or \"delete\"");
}

int decode_bulk_body(const char *body, size_t len, size_t max_ops, const article_limits_t *lim,
                     store_bulk_op_t **ops_out, size_t *nops, problem_t *err)
{
    *ops_out = NULL;
    *nops = 0;
    cJSON *root = parse_body(body, len, true, err);
    if (!root)
        return -1;
    store_bulk_op_t *ops = NULL;
    size_t n = 0, count = 0;
    int rc = -1;
    if (!cJSON_IsArray(root)) {
        problem_set(err, 422, NULL, "a bulk request must be a JSON array of operations");
        goto done;
    }
    count = (size_t)cJSON_GetArraySize(root);
    if (count > max_ops) {
        problem_set(err, 422, NULL, "%zu operations; at most %zu are allowed in one request",
                    count, max_ops);
        goto done;
    }
    ops = calloc(count ? count : 1, sizeof *ops);
    if (!ops) {
        problem_set(err, 500, NULL, "out of memory");
        goto done;
    }
    for (const cJSON *item = root->child; item; item = item->next, n++)
        if (decode_bulk_op(item, (long)n, lim, &ops[n], err) < 0)
            goto done;
    rc = 0;
done:
    cJSON_Delete(root);
    if (rc < 0) {
        decode_bulk_free(ops, count); /* calloc'd: slots not reached are empty */
        return -1;
    }
    *ops_out = ops;
    *nops = n;
    return 0;
}

void decode_bulk_free(store_bulk_op_t *ops, size_t n)
{
    if (!ops)
        return;
    for (size_t i = 0; i < n; i++)
        article_free(&ops[i].article);
    free(ops);
}
