/* resolvers.c - REST-backed resolvers of the articles schema; see
 * resolvers.h. */
#include "resolvers.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "num.h"

/* One call of this request and its answer, kept for the rest of it: a GET
 * so that identical GETs are made once, a write so that executing the
 * operation again after a suspension does not send it again. */
struct fetched {
    char *path;     /* owned */
    char *body;     /* a write's body, owned, or NULL */
    size_t write;   /* 0: a GET; else the write's place in the operation, from 1 */
    http_call_t call;
};

/* ---- REST answers to GraphQL values ------------------------------------- */

/* The GraphQL shape of a REST article: ids as strings, camelCase times.
 * The members move out of rest (copying them cost more than the rest of
 * the conversion); the caller still frees it. NULL when rest is not an
 * article, or memory ran out. */
static cJSON *article_value(cJSON *rest)
{
    static const char *const names[][2] = {{"title", "title"},
                                           {"content", "content"},
                                           {"author", "author"},
                                           {"created_at", "createdAt"},
                                           {"updated_at", "updatedAt"}};
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(rest, "id");
    if (!cJSON_IsObject(rest) || !cJSON_IsNumber(id))
        return NULL;
    char idtxt[24];
    snprintf(idtxt, sizeof idtxt, "%.0f", id->valuedouble);
    cJSON *out = cJSON_CreateObject();
    /* Constant keys: the names are static, so nothing is copied. */
    if (!out || !cJSON_AddItemToObjectCS(out, "id", cJSON_CreateString(idtxt)))
        goto fail;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(rest, names[i][0]);
        if (!v)
            v = cJSON_CreateNull();
        if (!cJSON_AddItemToObjectCS(out, names[i][1], v)) {
            cJSON_Delete(v);
            goto fail;
        }
    }
    return out;
fail:
    cJSON_Delete(out);
    return NULL;
}

/* The detail of a problem+json answer, for the client's error message. */
static const char *problem_detail(const http_call_t *call, char *tmp, size_t tmplen)
{
    json_error_t jerr;
    cJSON *p = json_parse(call->response.data, call->response.len, &jerr);
    const cJSON *d = p ? cJSON_GetObjectItemCaseSensitive(p, "detail") : NULL;
    snprintf(tmp, tmplen, "%s", cJSON_IsString(d) ? d->valuestring : "the REST core refused it");
    cJSON_Delete(p);
    return tmp;
}

/* Turns a call that did not succeed into the GraphQL error the contract
 * names. Returns -1 (the resolver's error return). */
static int upstream_error(gql_exec_t *ex, const http_call_t *call)
{
    char detail[256];
    if (call->err || call->status >= 500)
        return gql_exec_error(ex, "UPSTREAM_UNAVAILABLE",
                              "The articles service is unavailable; try again later.");
    if (call->status == 400 || call->status == 422)
        return gql_exec_error(ex, "BAD_USER_INPUT", "%s",
                              problem_detail(call, detail, sizeof detail));
    if (call->status == 401)
        return gql_exec_error(ex, "UNAUTHENTICATED",
                              "This needs a valid bearer token: send Authorization: Bearer "
                              "<token>.");
    if (call->status == 403)
        return gql_exec_error(ex, "FORBIDDEN", "%s", problem_detail(call, detail, sizeof detail));
    return gql_exec_error(ex, "UPSTREAM_UNAVAILABLE",
                          "The articles service answered %d unexpectedly.", call->status);
}

static cJSON *parse_answer(gql_exec_t *ex, const http_call_t *call)
{
    json_error_t jerr;
    cJSON *v = json_parse(call->response.data, call->response.len, &jerr);
    if (!v)
        gql_exec_error(ex, "UPSTREAM_UNAVAILABLE", "The articles service sent malformed JSON.");
    return v;
}

/* ---- calls -------------------------------------------------------------- */

static void set_headers(http_call_t *call, const articles_ctx_t *ctx)
{
    call->authorization = ctx->authorization;
    call->traceparent = ctx->traceparent;
}

static struct fetched *add_call(articles_ctx_t *ctx, const char *method, char *path, char *body,
                                 size_t write);

/* The GET of path this request already has, or NULL. */
static struct fetched *find_get(articles_ctx_t *ctx, const char *path)
{
    for (size_t i = 0; i < ctx->nfetched; i++)
        if (!ctx->fetched[i].write && strcmp(ctx->fetched[i].path, path) == 0)
            return &ctx->fetched[i];
    return NULL;
}

/* Runs the calls added from first on, side by side, or, when the request
 * may suspend, leaves them to articles_submit and returns
 * GQL_EXEC_SUSPENDED. Returns 0 at once when there are none, -1 when
 * memory ran out. */
static int run_from(articles_ctx_t *ctx, size_t first)
{
    size_t count = ctx->nfetched - first;
    if (!count)
        return 0;
    /* The client wants the calls side by side: they are copied out here
     * and back by articles_collect. */
    http_call_t *calls = calloc(count, sizeof *calls);
    if (!calls)
        return -1;
    for (size_t i = 0; i < count; i++)
        calls[i] = ctx->fetched[first + i].call;
    ctx->batch = calls;
    ctx->batch_first = first;
    ctx->batch_n = count;
    if (ctx->suspend)
        return GQL_EXEC_SUSPENDED;
    http_client_run(ctx->client, calls, count);
    articles_collect(ctx);
    return 0;
}

/* A GET of this request: from the answers already in when there is one,
 * else made now (or suspended for, see run_from). Returns 0 with the call
 * (it belongs to ctx) in *out, GQL_EXEC_SUSPENDED, or -1 out of memory. */
static int get(articles_ctx_t *ctx, const char *path, http_call_t **out)
{
    struct fetched *f = find_get(ctx, path);
    if (f) {
        *out = &f->call;
        return 0;
    }
    char *copy = strdup(path);
    if (!copy || !add_call(ctx, "GET", copy, NULL, 0))
        return -1;
    int rc = run_from(ctx, ctx->nfetched - 1);
    *out = &ctx->fetched[ctx->nfetched - 1].call;
    return rc;
}

/* A write: never cached across requests, never retried by the client
 * (POST, PATCH) or retried safely (DELETE is idempotent). Writes are told
 * apart by their order in the operation, so that running it again after a
 * suspension finds the answers of those already made. Takes body (may be
 * NULL). Returns as get() does. */
static int write_call(articles_ctx_t *ctx, const char *method, const char *path, char *body,
                      const char *content_type, http_call_t **out)
{
    size_t nth = ++ctx->writes_seen;
    for (size_t i = 0; i < ctx->nfetched; i++) {
        if (ctx->fetched[i].write == nth) {
            free(body);
            *out = &ctx->fetched[i].call;
            return 0;
        }
    }
    char *copy = strdup(path);
    struct fetched *f = copy ? add_call(ctx, method, copy, body, nth) : NULL;
    if (!f) {
        free(body);
        return -1;
    }
    f->call.content_type = content_type;
    int rc = run_from(ctx, ctx->nfetched - 1);
    *out = &ctx->fetched[ctx->nfetched - 1].call;
    return rc;
}

/* What a resolver returns when a call could not be made or must wait. */
static int call_failed(gql_exec_t *ex, int rc)
{
    return rc == GQL_EXEC_SUSPENDED ? rc : gql_exec_error(ex, NULL, "out of memory");
}

/* ---- arguments ---------------------------------------------------------- */

/* An ID argument as a REST path id: a decimal integer from 1 to 2^63-1. */
static int id_arg(gql_exec_t *ex, const cJSON *args, int64_t *id)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, "id");
    const char *s = cJSON_IsString(v) ? v->valuestring : "";
    if (num_parse_i64(s, strlen(s), 1, INT64_MAX, id) < 0)
        return gql_exec_error(ex, "BAD_USER_INPUT",
                              "id must be a positive integer, like \"42\"; got \"%.40s\".", s);
    return 0;
}

/* The REST path of the article an id argument names, or -1 (error
 * recorded) when the id is unusable. */
static int id_path(gql_exec_t *ex, const cJSON *args, char path[48])
{
    int64_t id;
    if (id_arg(ex, args, &id) < 0)
        return -1;
    snprintf(path, 48, "/articles/%lld", (long long)id);
    return 0;
}

/* Appends &name=value with value percent-encoded. */
static void query_param(buf_t *b, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    buf_printf(b, "%c%s=", strchr(b->data, '?') ? '&' : '?', name);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.~", *p))
            buf_putc(b, (char)*p);
        else
            buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
}

/* The REST path of getArticles(limit, offset, author, search). */
static void list_path(const cJSON *args, buf_t *b)
{
    buf_puts(b, "/articles");
    const cJSON *limit = cJSON_GetObjectItemCaseSensitive(args, "limit");
    const cJSON *offset = cJSON_GetObjectItemCaseSensitive(args, "offset");
    const cJSON *author = cJSON_GetObjectItemCaseSensitive(args, "author");
    const cJSON *search = cJSON_GetObjectItemCaseSensitive(args, "search");
    char n[24];
    if (cJSON_IsNumber(limit)) {
        snprintf(n, sizeof n, "%.0f", limit->valuedouble);
        query_param(b, "limit", n);
    }
    if (cJSON_IsNumber(offset)) {
        snprintf(n, sizeof n, "%.0f", offset->valuedouble);
        query_param(b, "offset", n);
    }
    if (cJSON_IsString(author))
        query_param(b, "author", author->valuestring);
    if (cJSON_IsString(search))
        query_param(b, "q", search->valuestring);
}

/* The GET path of a root query field, or -1 when the field is not one or
 * its id is unusable (its resolver reports that). Records no error. */
static int root_get_path(const gql_field_info_t *info, buf_t *b)
{
    if (strcmp(info->field->name, "getArticles") == 0) {
        list_path(info->args, b);
        return 0;
    }
    if (strcmp(info->field->name, "getArticle") != 0)
        return -1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(info->args, "id");
    const char *s = cJSON_IsString(v) ? v->valuestring : "";
    int64_t id;
    if (num_parse_i64(s, strlen(s), 1, INT64_MAX, &id) < 0)
        return -1;
    buf_printf(b, "/articles/%lld", (long long)id);
    return 0;
}

/* ---- resolvers ---------------------------------------------------------- */

static int resolve_get_articles(gql_exec_t *ex, const gql_field_info_t *info, void *ud,
                                cJSON **result)
{
    buf_t path = {0};
    list_path(info->args, &path);
    http_call_t *call = NULL;
    int rc = path.failed ? -1 : get(ud, path.data, &call);
    buf_free(&path);
    if (rc != 0)
        return call_failed(ex, rc);
    if (call->err || call->status != 200)
        return upstream_error(ex, call);
    cJSON *rest = parse_answer(ex, call);
    if (!rest)
        return -1;
    cJSON *list = cJSON_CreateArray();
    for (cJSON *a = rest->child; a; a = a->next)
        cJSON_AddItemToArray(list, article_value(a));
    cJSON_Delete(rest);
    *result = list;
    return 0;
}

/* An answer holding one article, or null for 404. */
static int one_article(gql_exec_t *ex, const http_call_t *call, cJSON **result)
{
    if (call->status == 404) {
        *result = NULL;
        return 0;
    }
    if (call->err || (call->status != 200 && call->status != 201))
        return upstream_error(ex, call);
    cJSON *rest = parse_answer(ex, call);
    if (!rest)
        return -1;
    *result = article_value(rest);
    cJSON_Delete(rest);
    return *result ? 0 : gql_exec_error(ex, "UPSTREAM_UNAVAILABLE", "Unexpected article shape.");
}

static int resolve_get_article(gql_exec_t *ex, const gql_field_info_t *info, void *ud,
                               cJSON **result)
{
    char path[48];
    if (id_path(ex, info->args, path) < 0)
        return -1;
    http_call_t *call;
    int rc = get(ud, path, &call);
    return rc ? call_failed(ex, rc) : one_article(ex, call, result);
}

/* The JSON body of an input object argument, as the REST core reads it. */
static char *input_body(const cJSON *args)
{
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(args, "input");
    return input ? cJSON_PrintUnformatted(input) : strdup("{}");
}

static int resolve_create(gql_exec_t *ex, const gql_field_info_t *info, void *ud,
                          cJSON **result)
{
    http_call_t *call;
    int rc = write_call(ud, "POST", "/articles", input_body(info->args), "application/json",
                        &call);
    if (rc)
        return call_failed(ex, rc);
    return call->status == 404 ? upstream_error(ex, call) : one_article(ex, call, result);
}

static int resolve_update(gql_exec_t *ex, const gql_field_info_t *info, void *ud,
                          cJSON **result)
{
    char path[48];
    if (id_path(ex, info->args, path) < 0)
        return -1;
    http_call_t *call;
    int rc = write_call(ud, "PATCH", path, input_body(info->args),
                        "application/merge-patch+json", &call);
    return rc ? call_failed(ex, rc) : one_article(ex, call, result);
}

static int resolve_delete(gql_exec_t *ex, const gql_field_info_t *info, void *ud,
                          cJSON **result)
{
    char path[48];
    if (id_path(ex, info->args, path) < 0)
        return -1;
    http_call_t *call;
    int rc = write_call(ud, "DELETE", path, NULL, NULL, &call);
    if (rc)
        return call_failed(ex, rc);
    if (call->status != 204 && call->status != 404)
        return upstream_error(ex, call);
    *result = cJSON_CreateBool(call->status == 204);
    return 0;
}

const gql_resolver_t articles_resolvers[] = {
    {"Query", "getArticles", resolve_get_articles},
    {"Query", "getArticle", resolve_get_article},
    {"Mutation", "createArticle", resolve_create},
    {"Mutation", "updateArticle", resolve_update},
    {"Mutation", "deleteArticle", resolve_delete},
};
const size_t articles_nresolvers = sizeof articles_resolvers / sizeof articles_resolvers[0];

/* ---- prefetch ----------------------------------------------------------- */

/* Adds a call to ctx without running it and returns it; NULL when memory
 * ran out (then path is freed; body stays the caller's). Takes path. */
static struct fetched *add_call(articles_ctx_t *ctx, const char *method, char *path, char *body,
                                size_t write)
{
    struct fetched *f = realloc(ctx->fetched, (ctx->nfetched + 1) * sizeof *f);
    if (!f) {
        free(path);
        return NULL;
    }
    ctx->fetched = f;
    f = &ctx->fetched[ctx->nfetched++];
    memset(f, 0, sizeof *f);
    f->path = path;
    f->body = body;
    f->write = write;
    f->call.method = method;
    f->call.path = path;
    f->call.body = body;
    f->call.body_len = body ? strlen(body) : 0;
    set_headers(&f->call, ctx);
    return f;
}

/* Adds a GET to ctx without running it; false when it is there already or
 * memory ran out. Takes path. */
static bool add_fetch(articles_ctx_t *ctx, char *path)
{
    if (find_get(ctx, path)) {
        free(path);
        return false;
    }
    return add_call(ctx, "GET", path, NULL, 0) != NULL;
}

int articles_prepare(gql_exec_t *ex, const gql_field_info_t *roots, size_t n, void *user_data)
{
    (void)ex;
    articles_ctx_t *ctx = user_data;
    size_t first = ctx->nfetched;
    for (size_t i = 0; i < n; i++) {
        buf_t path = {0};
        if (root_get_path(&roots[i], &path) == 0 && !path.failed)
            add_fetch(ctx, buf_detach(&path));
        buf_free(&path);
    }
    /* Out of memory, each resolver fetches on its own. */
    return run_from(ctx, first) == GQL_EXEC_SUSPENDED ? GQL_EXEC_SUSPENDED : 0;
}

int articles_submit(articles_ctx_t *ctx, http_client_done_fn done, void *done_data)
{
    int rc = http_client_submit(ctx->client, ctx->batch, ctx->batch_n, done, done_data);
    if (rc < 0) {
        for (size_t i = 0; i < ctx->batch_n; i++) {
            ctx->batch[i].err = rc;
            snprintf(ctx->batch[i].error, sizeof ctx->batch[i].error, "%s",
                     http_client_strerror(rc));
        }
    }
    return rc;
}

void articles_collect(articles_ctx_t *ctx)
{
    for (size_t i = 0; i < ctx->batch_n; i++)
        ctx->fetched[ctx->batch_first + i].call = ctx->batch[i];
    free(ctx->batch);
    ctx->batch = NULL;
    ctx->batch_n = 0;
}

void articles_begin(articles_ctx_t *ctx)
{
    ctx->writes_seen = 0;
}

void articles_ctx_release(articles_ctx_t *ctx)
{
    articles_collect(ctx);
    for (size_t i = 0; i < ctx->nfetched; i++) {
        http_call_free(&ctx->fetched[i].call);
        free(ctx->fetched[i].path);
        free(ctx->fetched[i].body);
    }
    free(ctx->fetched);
    ctx->fetched = NULL;
    ctx->nfetched = 0;
}
