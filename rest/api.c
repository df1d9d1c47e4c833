/* api.c - routing and handlers of the REST core; see api.h. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode.h"
#include "log.h"
#include "problem.h"
#include "query.h"
#include "trace.h"
#include "writer.h"

/* The OpenAPI document, compiled in from schema/openapi.yaml. */
extern const char openapi_json[];
extern const unsigned long openapi_json_len;

struct api {
    api_config_t cfg;
    store_pool_t *pool;
    metrics_registry_t *reg;
    metric_t *requests;
    metric_t *duration;
    metric_t *db_errors;
    metric_t *stored;
};

/* Everything a handler needs for one request. */
typedef struct call {
    api_t *api;
    http_request_t *req;
    http_response_t *res;
    const char *route; /* the route's template, for metrics and logs */
    store_t *store; /* acquired for handlers that declare STORE */
    int64_t id;     /* the {id} of the path, when the route has one */
} call_t;

/* Returns 1 when the answer comes later (see submit), else 0. */
typedef int (*handler_fn)(call_t *c);

/* WRITE: needs a token when tokens are configured; READ: also needs one
 * with --auth-reads token. Routes with neither stay open. OPS: an operator
 * endpoint, which needs the metrics token when one is configured (never an
 * API token) and moves to the listener of --metrics-port when it is set. */
enum { NONE = 0, STORE = 1, BODY = 2, MERGE_PATCH = 4, WRITE = 8, READ = 16, OPS = 32 };

typedef struct route_method {
    const char *method;
    handler_fn fn;
    int needs;
} route_method_t;

typedef struct route {
    const char *template;
    int has_id;
    route_method_t methods[5];
} route_t;

static int h_list(call_t *c);
static int h_create(call_t *c);
static int h_bulk(call_t *c);
static int h_get(call_t *c);
static int h_put(call_t *c);
static int h_patch(call_t *c);
static int h_delete(call_t *c);
static int h_health(call_t *c);
static int h_metrics(call_t *c);
static int h_openapi(call_t *c);

/* Checked in order: the literal /articles/bulk before /articles/{id}. */
static const route_t routes[] = {
    {"/articles", 0, {{"GET", h_list, STORE | READ}, {"POST", h_create, STORE | BODY | WRITE}}},
    {"/articles/bulk", 0, {{"POST", h_bulk, STORE | BODY | WRITE}}},
    {"/articles/{id}", 1,
     {{"GET", h_get, STORE | READ},
      {"PUT", h_put, STORE | BODY | WRITE},
      {"PATCH", h_patch, STORE | BODY | MERGE_PATCH | WRITE},
      {"DELETE", h_delete, STORE | WRITE}}},
    {"/health", 0, {{"GET", h_health, OPS}}},
    {"/metrics", 0, {{"GET", h_metrics, OPS}}},
    {"/openapi.json", 0, {{"GET", h_openapi, NONE}}},
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* ---- helpers ------------------------------------------------------------ */

static void respond_json(call_t *c, int status)
{
    c->res->status = status;
    c->res->content_type = "application/json";
}

/* Maps a store failure to an answer, counting database errors; errmsg is
 * the connection's message, for the log only. */
static void fail_response(api_t *api, http_response_t *res, int rc, const char *operation,
                          const char *errmsg)
{
    if (rc == STORE_ENOTFOUND) {
        problem_simple(res, 404, "no article has this id");
        return;
    }
    const char *labels[] = {operation};
    metric_inc(api->db_errors, labels, 1);
    log_error("%s failed: %s", operation, errmsg && *errmsg ? errmsg : store_strerror(rc));
    if (rc == STORE_EUNAVAILABLE)
        problem_simple(res, 503, "the database does not answer; retry later");
    else
        problem_simple(res, 500, "the database failed; the error is in the server's log");
}

static void store_failed(call_t *c, int rc, const char *operation)
{
    fail_response(c->api, c->res, rc, operation, c->store ? store_errmsg(c->store) : NULL);
}

static void article_response(http_response_t *res, int status, const article_t *a)
{
    res->status = status;
    res->content_type = "application/json";
    /* One allocation for the whole answer instead of a doubling series. */
    buf_reserve(&res->body, ARTICLE_JSON_OVERHEAD + strlen(a->title) + strlen(a->content) +
                                (a->author ? strlen(a->author) : 0));
    article_to_json(a, &res->body);
    if (status == 201) {
        char loc[48];
        snprintf(loc, sizeof loc, "/articles/%lld", (long long)a->id);
        http_response_header(res, "Location", loc);
    }
}

static void respond_article(call_t *c, int status, const article_t *a)
{
    article_response(c->res, status, a);
}

/* ---- handlers ----------------------------------------------------------- */

static int h_list(call_t *c)
{
    store_query_t q;
    problem_t p;
    if (query_parse_list(c->req, c->api->cfg.max_limit, &c->api->cfg.limits, &q, &p) < 0) {
        problem_respond(c->res, &p);
        return 0;
    }
    article_list_t list = {0};
    int64_t total = 0;
    int rc = store_list(c->store, &q, &list, &total);
    if (rc < 0) {
        store_failed(c, rc, "list");
        goto done;
    }
    respond_json(c, 200);
    buf_t *b = &c->res->body;
    buf_reserve(b, list.len * 256);
    buf_putc(b, '[');
    for (size_t i = 0; i < list.len; i++) {
        if (i)
            buf_putc(b, ',');
        article_to_json(&list.items[i], b);
    }
    buf_putc(b, ']');
    char count[24];
    snprintf(count, sizeof count, "%lld", (long long)total);
    http_response_header(c->res, "X-Total-Count", count);
done:
    article_list_free(&list);
    return 0;
}


static int h_get(call_t *c)
{
    article_t a = {0};
    int rc = store_get(c->store, c->id, &a);
    if (rc < 0)
        store_failed(c, rc, "get");
    else
        respond_article(c, 200, &a);
    article_free(&a);
    return 0;
}




/* ---- writes ------------------------------------------------------------ */

/* A write on its way through the store, with what answering it needs. On
 * SQLite it goes to the writer thread and is answered from there; the
 * request's strings stay valid until then. */
typedef struct pending {
    store_job_t job;
    api_t *api;
    http_deferred_t *deferred;
    const char *method;
    const char *route;
    const char *path;
    double start;
    char trace[TRACE_ID_SIZE];
} pending_t;

static const char *const job_operation[] = {"create", "put", "patch", "delete"};

static void pending_free(pending_t *p)
{
    article_free(&p->job.article);
    article_patch_free(&p->job.patch);
    free(p);
}

/* The answer to a finished job. */
static void job_response(api_t *api, http_response_t *res, const store_job_t *job)
{
    if (job->rc != STORE_OK) {
        fail_response(api, res, job->rc, job_operation[job->kind], job->errmsg);
        return;
    }
    switch (job->kind) {
    case STORE_JOB_CREATE: article_response(res, 201, &job->article); break;
    case STORE_JOB_PUT: article_response(res, job->created ? 201 : 200, &job->article); break;
    case STORE_JOB_PATCH: article_response(res, 200, &job->article); break;
    case STORE_JOB_DELETE: res->status = 204; break;
    }
}

static void observe_raw(api_t *api, const char *method, const char *route, const char *path,
                        double start, const char *trace, int status);
static void trace_of(const http_request_t *req, char trace[TRACE_ID_SIZE]);

/* Runs on the writer thread: answers the sleeping request. */
static void pending_done(store_job_t *job, void *user_data)
{
    pending_t *p = user_data;
    http_response_t res = {.status = 500};
    job_response(p->api, &res, job);
    if (res.body.failed) {
        http_response_free(&res);
        problem_simple(&res, 500, "out of memory");
    }
    observe_raw(p->api, p->method, p->route, p->path, p->start, p->trace[0] ? p->trace : NULL,
                res.status);
    http_deferred_finish(p->deferred, &res);
    pending_free(p);
}

/* Hands the job to the writer, or runs it here when there is none (or it is
 * shutting down). Returns 1 when the answer will come later. */
static int submit(call_t *c, pending_t *p)
{
    store_job_t *job = &p->job;
    writer_t *w = c->api->cfg.writer;
    if (w) {
        p->api = c->api;
        p->method = c->req->method;
        p->route = c->route;
        p->path = c->req->path;
        p->start = c->req->start;
        trace_of(c->req, p->trace);
        p->deferred = http_request_defer(c->req);
        if (writer_submit(w, job, pending_done, p) < 0) {
            store_write_batch(c->store, &job, 1);
            pending_done(job, p);
        }
        return 1;
    }
    store_write_batch(c->store, &job, 1);
    job_response(c->api, c->res, job);
    pending_free(p);
    return 0;
}

static pending_t *pending_new(call_t *c, store_job_kind_t kind)
{
    pending_t *p = calloc(1, sizeof *p);
    if (!p) {
        problem_simple(c->res, 500, "out of memory");
        return NULL;
    }
    p->job.kind = kind;
    p->job.id = c->id;
    return p;
}

/* POST and PUT: a whole article from the body. */
static int write_article(call_t *c, store_job_kind_t kind, decode_mode_t mode)
{
    problem_t err;
    pending_t *p = pending_new(c, kind);
    if (!p)
        return 0;
    if (decode_article_body(c->req->body, c->req->body_len, mode, c->id, &c->api->cfg.limits,
                            &p->job.article, &err) < 0) {
        problem_respond(c->res, &err);
        pending_free(p);
        return 0;
    }
    return submit(c, p);
}

static int h_create(call_t *c) { return write_article(c, STORE_JOB_CREATE, DECODE_CREATE); }

static int h_put(call_t *c) { return write_article(c, STORE_JOB_PUT, DECODE_REPLACE); }

static int h_patch(call_t *c)
{
    problem_t err;
    pending_t *p = pending_new(c, STORE_JOB_PATCH);
    if (!p)
        return 0;
    if (decode_patch_body(c->req->body, c->req->body_len, c->id, &c->api->cfg.limits,
                          &p->job.patch, &err) < 0) {
        problem_respond(c->res, &err);
        pending_free(p);
        return 0;
    }
    return submit(c, p);
}

static int h_delete(call_t *c)
{
    pending_t *p = pending_new(c, STORE_JOB_DELETE);
    return p ? submit(c, p) : 0;
}

static int h_bulk(call_t *c)
{
    store_bulk_op_t *ops = NULL;
    size_t n = 0;
    problem_t p;
    if (decode_bulk_body(c->req->body, c->req->body_len, (size_t)c->api->cfg.max_bulk_ops,
                         &c->api->cfg.limits, &ops, &n, &p) < 0) {
        problem_respond(c->res, &p);
        return 0;
    }
    int rc = store_bulk(c->store, ops, n);
    if (rc < 0) {
        store_failed(c, rc, "bulk");
        goto done;
    }
    respond_json(c, 200);
    buf_t *b = &c->res->body;
    buf_puts(b, "{\"results\":[");
    for (size_t i = 0; i < n; i++) {
        buf_printf(b, "%s{\"op\":\"%s\",\"id\":%lld,\"status\":%d}", i ? "," : "",
                   ops[i].kind == STORE_BULK_UPSERT ? "upsert" : "delete",
                   (long long)ops[i].id, ops[i].status);
    }
    buf_puts(b, "]}");
done:
    decode_bulk_free(ops, n);
    return 0;
}

static int h_health(call_t *c)
{
    store_t *s = store_pool_acquire(c->api->pool);
    int rc = store_ping(s);
    store_pool_release(c->api->pool, s);
    respond_json(c, rc == 0 ? 200 : 503);
    buf_puts(&c->res->body, rc == 0 ? "{\"status\":\"ok\"}" : "{\"status\":\"unavailable\"}");
    return 0;
}

static int h_metrics(call_t *c)
{
    if (metrics_render(c->api->reg, &c->res->body) < 0) {
        problem_simple(c->res, 500, "out of memory while rendering metrics");
        return 0;
    }
    c->res->status = 200;
    c->res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return 0;
}

static int h_openapi(call_t *c)
{
    respond_json(c, 200);
    buf_append(&c->res->body, openapi_json, openapi_json_len);
    return 0;
}

/* ---- dispatch ----------------------------------------------------------- */

/* Finds the route for path; for /articles/{id} also returns the segment. */
static const route_t *match_route(const char *path, const char **seg, size_t *seglen)
{
    static const char prefix[] = "/articles/";
    for (size_t i = 0; i < NROUTES; i++)
        if (!routes[i].has_id && strcmp(path, routes[i].template) == 0)
            return &routes[i];
    if (strncmp(path, prefix, sizeof prefix - 1) == 0) {
        const char *s = path + sizeof prefix - 1;
        if (*s && !strchr(s, '/')) {
            *seg = s;
            *seglen = strlen(s);
            return &routes[2];
        }
    }
    return NULL;
}

/* Whether a route is an operator endpoint: OPS is declared on its only
 * method. */
static int is_ops(const route_t *r) { return (r->methods[0].needs & OPS) != 0; }

/* The route for path as the listener sees it: with --metrics-port, the
 * operator endpoints exist on their own listener only, and nothing else
 * does there. */
static const route_t *listener_route(const api_t *api, int ops_listener, const char *path,
                                     const char **seg, size_t *seglen)
{
    const route_t *r = match_route(path, seg, seglen);
    if (r && (ops_listener ? !is_ops(r) : (is_ops(r) && api->cfg.ops_listener)))
        return NULL;
    return r;
}

static const route_method_t *match_method(const route_t *r, const char *method)
{
    /* HEAD is a GET whose body libmicrohttpd leaves out. */
    if (strcmp(method, "HEAD") == 0)
        method = "GET";
    for (const route_method_t *m = r->methods; m->method; m++)
        if (strcmp(m->method, method) == 0)
            return m;
    return NULL;
}

static void method_not_allowed(http_response_t *res, const route_t *r)
{
    char allow[64] = "";
    for (const route_method_t *m = r->methods; m->method; m++) {
        size_t n = strlen(allow);
        snprintf(allow + n, sizeof allow - n, "%s%s", n ? ", " : "", m->method);
        if (strcmp(m->method, "GET") == 0) {
            n = strlen(allow);
            snprintf(allow + n, sizeof allow - n, ", HEAD");
        }
    }
    char detail[128];
    snprintf(detail, sizeof detail, "this route accepts %s", allow);
    problem_simple(res, 405, detail);
    http_response_header(res, "Allow", allow);
}

/* True when the request's media type is application/json, or for a merge
 * patch also application/merge-patch+json; parameters such as charset are
 * allowed. */
static int content_type_ok(const http_request_t *req, int merge_patch)
{
    const char *ct = http_request_header(req, "Content-Type");
    if (!ct)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return 1;
    return merge_patch && n == 28 && strncasecmp(ct, "application/merge-patch+json", 28) == 0;
}

/* Answers 401 and returns 1 when the route needs a bearer token that the
 * request lacks; the body is not looked at. */
static int unauthorized(const api_t *api, int needs, const http_request_t *req,
                        http_response_t *res)
{
    const auth_t *auth = api->cfg.auth;
    if (!auth || !((needs & WRITE) || ((needs & READ) && api->cfg.auth_reads)))
        return 0;
    int rc = auth_check(auth, http_request_header(req, "Authorization"));
    if (rc == AUTH_OK)
        return 0;
    if (rc == AUTH_EMISSING) {
        problem_simple(res, 401, "this operation needs a bearer token: send Authorization: "
                                 "Bearer <token>");
        http_response_header(res, "WWW-Authenticate", "Bearer realm=\"articles\"");
    } else {
        problem_simple(res, 401, "the bearer token is not valid");
        http_response_header(res, "WWW-Authenticate",
                             "Bearer realm=\"articles\", error=\"invalid_token\"");
    }
    return 1;
}

/* Answers 401 and returns 1 when the metrics token is configured and the
 * request does not carry it. */
static int metrics_locked(const api_t *api, const http_request_t *req, http_response_t *res)
{
    int rc = ops_check(api->cfg.metrics_token, http_request_header(req, "Authorization"));
    if (rc == OPS_OK)
        return 0;
    problem_simple(res, 401, ops_strerror(rc));
    ops_challenge(res, rc);
    return 1;
}

/* Checks what the route table declares, then runs the handler. Returns 1
 * when the handler deferred its answer. The token comes first: a client
 * without one learns nothing about its body. */
static int run(api_t *api, const route_t *r, const route_method_t *m, const char *seg,
                size_t seglen, http_request_t *req, http_response_t *res)
{
    call_t c = {.api = api, .req = req, .res = res, .route = r->template};
    problem_t p;
    if (unauthorized(api, m->needs, req, res))
        return 0;
    if ((m->needs & OPS) && metrics_locked(api, req, res))
        return 0;
    if (req->reject_status == 413) {
        problem_set(&p, 413, NULL,
                    "the body is larger than %lld bytes (--max-body-bytes); send less per request",
                    (long long)api->cfg.max_body_bytes);
        problem_respond(res, &p);
        return 0;
    }

    if ((m->needs & BODY) && !content_type_ok(req, m->needs & MERGE_PATCH)) {
        problem_simple(res, 415, (m->needs & MERGE_PATCH)
                                     ? "send the body as application/json or "
                                       "application/merge-patch+json"
                                     : "send the body as application/json");
        return 0;
    }
    if (r->has_id && query_parse_id(seg, seglen, &c.id, &p) < 0) {
        problem_respond(res, &p);
        return 0;
    }
    if (m->needs & STORE)
        c.store = store_pool_acquire(api->pool);
    int deferred = m->fn(&c);
    if (c.store)
        store_pool_release(api->pool, c.store);
    return deferred;
}

static const char *method_label(const char *method)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
                                        "OPTIONS"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(method, known[i]) == 0)
            return known[i];
    return "other";
}

static void observe_raw(api_t *api, const char *method, const char *route, const char *path,
                        double start, const char *trace, int status)
{
    double seconds = http_now() - start;
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    const char *labels[] = {method_label(method), route, code};
    metric_inc(api->requests, labels, 1);
    metric_observe(api->duration, labels, seconds);
    log_request(method, route, path, status, seconds, trace);
}

/* The trace id of the request's W3C traceparent header, or "". */
static void trace_of(const http_request_t *req, char trace[TRACE_ID_SIZE])
{
    trace_id_of(http_request_header(req, "traceparent"), trace);
}

static void observe(api_t *api, const http_request_t *req, const char *route, int status)
{
    char trace[TRACE_ID_SIZE];
    trace_of(req, trace);
    observe_raw(api, req->method, route, req->path, req->start, trace[0] ? trace : NULL, status);
}

int api_route_match(const char *method, const char *path, const char **route_template,
                    const char **id_seg, size_t *id_len)
{
    *id_seg = NULL;
    *id_len = 0;
    const route_t *r = match_route(path, id_seg, id_len);
    *route_template = r ? r->template : NULL;
    if (!r)
        return API_ENOROUTE;
    return match_method(r, method) ? 0 : API_EMETHOD;
}

static void serve(api_t *api, int ops_listener, http_request_t *req, http_response_t *res)
{
    const char *seg = NULL;
    size_t seglen = 0;
    const route_t *r = listener_route(api, ops_listener, req->path, &seg, &seglen);
    const route_method_t *m = r ? match_method(r, req->method) : NULL;
    /* A request whose framing the glue refused (smuggling shapes) gets
     * that answer whatever its route. */
    if (req->reject_status && req->reject_status != 413)
        problem_simple(res, req->reject_status, req->reject_reason);
    else if (!r)
        problem_simple(res, 404, ops_listener
                                     ? "no such route; this listener serves /metrics and "
                                       "/health only"
                                     : "no such route; see /openapi.json for the routes");
    else if (!m)
        method_not_allowed(res, r);
    else if (run(api, r, m, seg, seglen, req, res))
        return; /* answered and counted later, by pending_done */
    if (res->body.failed) {
        http_response_free(res);
        problem_simple(res, 500, "out of memory");
    }
    observe(api, req, r ? r->template : "unmatched", res->status);
}

void api_handle(void *user_data, http_request_t *req, http_response_t *res)
{
    serve(user_data, 0, req, res);
}

void api_handle_ops(void *user_data, http_request_t *req, http_response_t *res)
{
    serve(user_data, 1, req, res);
}

/* ---- set-up ------------------------------------------------------------- */

static void collect_stored(void *user_data)
{
    api_t *api = user_data;
    store_t *s = store_pool_acquire(api->pool);
    int64_t n;
    if (store_count(s, &n) == 0)
        metric_set(api->stored, NULL, (double)n);
    store_pool_release(api->pool, s);
}

api_t *api_new(const api_config_t *cfg, store_pool_t *pool, metrics_registry_t *reg)
{
    static const char *const req_labels[] = {"method", "route", "status"};
    static const char *const db_labels[] = {"operation"};
    api_t *api = calloc(1, sizeof *api);
    if (!api)
        return NULL;
    api->cfg = *cfg;
    api->pool = pool;
    api->reg = reg;
    api->requests = metrics_counter(reg, "http_requests_total",
                                    "HTTP requests served, by method, route template and status.",
                                    3, req_labels);
    api->duration = metrics_histogram(
        reg, "http_request_duration_seconds",
        "Time from the request's headers to its answer, by method, route template and status.",
        3, req_labels, metrics_latency_buckets, metrics_latency_buckets_len);
    api->db_errors = metrics_counter(reg, "db_errors_total",
                                     "Database operations that failed, by operation.", 1,
                                     db_labels);
    api->stored = metrics_gauge(reg, "articles_stored", "Articles in the database.", 0, NULL);
    if (!api->requests || !api->duration || !api->db_errors || !api->stored ||
        metrics_on_collect(reg, collect_stored, api) < 0) {
        free(api);
        return NULL;
    }
    return api;
}

void api_free(api_t *api) { free(api); }
