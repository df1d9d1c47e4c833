/* server.c - the GraphQL endpoint; see server.h. */
#include "server.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cors.h"
#include "execute.h"
#include "log.h"
#include "ops.h"
#include "parser.h"
#include "playground.h"
#include "request.h"
#include "resolvers.h"
#include "trace.h"
#include "validate.h"

struct gateway {
    gateway_config_t cfg;
    const gql_schema_t *schema;
    http_client_t *client;
    metrics_registry_t *reg;
    metric_t *requests;   /* http_requests_total{method,route,status} */
    metric_t *duration;   /* http_request_duration_seconds{method,route,status} */
    metric_t *operations; /* graphql_operations_total{type,name} */
    metric_t *errors;     /* graphql_errors_total{code} */
    metric_t *op_duration; /* graphql_operation_duration_seconds{type,name} */
};

/* One request on its way through the server. A GraphQL query that needs
 * the REST core is executed in two goes: the first gathers its GETs and
 * suspends the connection, the client's loop thread fetches them, and the
 * second, in a server thread again, resolves and answers. A mutation goes
 * once more for each write, in order. No thread waits for the network
 * meanwhile. */
typedef struct exchange {
    gateway_t *g;
    http_request_t *req;
    http_response_t *res;
    const char *route;
    gql_media_t media;
    arena_t arena;
    gql_http_request_t r;     /* the GraphQL request, once read */
    bool have_r;
    gql_document_t *doc;      /* parsed and valid, in arena */
    articles_ctx_t ctx;
    char traceparent[TRACE_PARENT_SIZE];
    http_deferred_t *deferred; /* set while suspended */
    const char *op_type;
    const char *op_name;
    bool ops_listener;        /* came in on the listener of --metrics-port */
    http_call_t *health;      /* /health's call to the REST core while it runs */
    /* A batch: its array, its operations and the one running (each runs
     * as a request of its own, suspending as it needs), the answers so
     * far, and what its operations spent of the limits that add up. */
    gql_http_request_t batch;
    size_t batch_n, batch_i;
    buf_t batch_out;
    double op_start;
    size_t spent_aliases, spent_roots;
} exchange_t;

/* ---- answers ------------------------------------------------------------ */

static const char *media_type(gql_media_t m)
{
    return m == GQL_MEDIA_GRAPHQL_RESPONSE ? "application/graphql-response+json; charset=utf-8"
                                           : "application/json; charset=utf-8";
}

static void count_error(gateway_t *g, const char *code)
{
    const char *labels[] = {code};
    metric_inc(g->errors, labels, 1);
}

/* {"errors":[{"message":...}]} for a request that never reached GraphQL. */
static void request_error(exchange_t *x, int status, const char *message)
{
    http_response_t *res = x->res;
    res->status = status;
    res->content_type = media_type(x->media);
    buf_reset(&res->body);
    buf_puts(&res->body, "{\"errors\":[{\"message\":");
    buf_put_json_string(&res->body, message, strlen(message));
    buf_puts(&res->body, "}]}");
    /* Only GraphQL requests count: a scanner's 404s are not GraphQL errors. */
    if (strcmp(x->route, "/graphql") == 0)
        count_error(x->g, "BAD_REQUEST");
}

/* Documents that fail to parse or validate: 400 in the GraphQL response
 * format, 200 in the legacy one, as GraphQL over HTTP says. */
static int document_status(const exchange_t *x)
{
    return x->media == GQL_MEDIA_GRAPHQL_RESPONSE ? 400 : 200;
}

static void put_location(buf_t *b, uint32_t line, uint32_t column)
{
    buf_printf(b, "{\"line\":%u,\"column\":%u}", line, column);
}

static void syntax_error(exchange_t *x, const gql_error_t *err)
{
    buf_t *b = &x->res->body;
    x->res->status = document_status(x);
    x->res->content_type = media_type(x->media);
    buf_puts(b, "{\"errors\":[{\"message\":");
    const char *msg = err->message ? err->message : "Syntax Error.";
    buf_put_json_string(b, msg, strlen(msg));
    if (err->line) {
        buf_puts(b, ",\"locations\":[");
        put_location(b, err->line, err->column);
        buf_putc(b, ']');
    }
    buf_puts(b, "}]}");
    count_error(x->g, err->code == GQL_ELIMIT ? "LIMIT_EXCEEDED" : "GRAPHQL_PARSE_FAILED");
}

static void validation_errors(exchange_t *x, const gql_validation_result_t *vr)
{
    buf_t *b = &x->res->body;
    x->res->status = document_status(x);
    x->res->content_type = media_type(x->media);
    buf_puts(b, "{\"errors\":[");
    for (size_t i = 0; i < vr->nerrors; i++) {
        const gql_validation_error_t *e = &vr->errors[i];
        buf_puts(b, i ? ",{\"message\":" : "{\"message\":");
        buf_put_json_string(b, e->message, strlen(e->message));
        if (e->nlocations) {
            buf_puts(b, ",\"locations\":[");
            for (size_t k = 0; k < e->nlocations; k++) {
                if (k)
                    buf_putc(b, ',');
                put_location(b, e->locations[k].line, e->locations[k].column);
            }
            buf_putc(b, ']');
        }
        buf_putc(b, '}');
    }
    buf_puts(b, "]}");
    count_error(x->g, "GRAPHQL_VALIDATION_FAILED");
}

/* ---- the request -------------------------------------------------------- */

typedef struct get_params {
    const char *query, *operation_name, *variables, *extensions;
    int nul;
} get_params_t;

static int collect_get(void *ud, const char *key, const char *value, int has_nul)
{
    get_params_t *p = ud;
    const char **slot = strcmp(key, "query") == 0           ? &p->query
                        : strcmp(key, "operationName") == 0 ? &p->operation_name
                        : strcmp(key, "variables") == 0     ? &p->variables
                        : strcmp(key, "extensions") == 0    ? &p->extensions
                                                            : NULL;
    if (has_nul)
        p->nul = 1;
    if (slot)
        *slot = value ? value : "";
    return 0;
}

static int read_request(exchange_t *x, gql_http_request_t *out)
{
    gql_request_error_t err = {0};
    int rc;
    if (strcmp(x->req->method, "POST") == 0) {
        rc = gql_request_from_post(http_request_header(x->req, "Content-Type"), x->req->body,
                                   x->req->body_len, x->g->cfg.max_batch, out, &err);
    } else {
        get_params_t p = {0};
        http_request_query_each(x->req, collect_get, &p);
        if (p.nul) {
            request_error(x, 400, "query parameters must not contain NUL (%00)");
            return -1;
        }
        rc = gql_request_from_get(p.query, p.operation_name, p.variables, p.extensions, out, &err);
    }
    if (rc < 0)
        request_error(x, err.status, err.message);
    return rc;
}

/* The traceparent to send on: the client's when well formed, else a new
 * one, so the REST core's logs can always be joined to this request. */
static void traceparent_of(const http_request_t *req, char out[TRACE_PARENT_SIZE])
{
    const char *tp = http_request_header(req, "traceparent");
    if (trace_parent_valid(tp))
        memcpy(out, tp, TRACE_PARENT_SIZE);
    else
        trace_parent_new(out);
}

static void on_fetched(void *data)
{
    exchange_t *x = data;
    http_deferred_resume(x->deferred);
}

/* The client sees an internal error masked; its detail is logged here,
 * with the trace id that joins it to the request's other lines. */
static void log_internal_error(void *user_data, const char *detail)
{
    const articles_ctx_t *ctx = user_data;
    char trace[TRACE_ID_SIZE];
    bool traced = ctx->traceparent && trace_id_of(ctx->traceparent, trace);
    log_traced(LOG_ERROR, traced ? trace : NULL, "internal error: %s", detail);
}

/* An error of the server itself, after which no GraphQL answer could be
 * built: a stable message and code, the detail in the log only. */
static void internal_failure(exchange_t *x, const char *detail)
{
    log_internal_error(&x->ctx, detail);
    http_response_t *res = x->res;
    res->status = 500;
    res->content_type = media_type(x->media);
    buf_reset(&res->body);
    buf_puts(&res->body, "{\"errors\":[{\"message\":\"" GQL_INTERNAL_MESSAGE
                         "\",\"extensions\":{\"code\":\"" GQL_INTERNAL_CODE "\"}}]}");
    count_error(x->g, GQL_INTERNAL_CODE);
}

/* Runs the operation, or suspends the exchange until the REST calls it
 * waits for are in: its query's GETs, or its next write. */
static void execute(exchange_t *x)
{
    gql_exec_options_t opt = {.resolvers = articles_resolvers,
                              .nresolvers = articles_nresolvers,
                              .prepare = articles_prepare,
                              .user_data = &x->ctx,
                              .max_list_items = x->g->cfg.max_list_items,
                              .allow_introspection = x->g->cfg.introspection,
                              .internal_error = log_internal_error};
    gql_exec_result_t res = {0};
    x->res->content_type = media_type(x->media);
    articles_begin(&x->ctx);
    int rc = gql_execute(x->g->schema, x->doc, x->r.operation_name, x->r.variables, &opt,
                         &x->arena, &x->res->body, &res);
    if (rc == GQL_EXEC_SUSPENDED) {
        x->deferred = http_request_suspend(x->req, x);
        /* From here the client's thread may resume the exchange, which then
         * runs in this thread once this call has returned. */
        if (articles_submit(&x->ctx, on_fetched, x) < 0)
            http_deferred_resume(x->deferred);
        return;
    }
    articles_ctx_release(&x->ctx);
    if (rc < 0) {
        internal_failure(x, "out of memory while executing");
        return;
    }
    x->res->status = res.request_error && x->media == GQL_MEDIA_GRAPHQL_RESPONSE ? 400 : 200;
    x->op_type = res.operation_type;
    if (res.nerrors)
        count_error(x->g, res.first_error_code ? res.first_error_code : "EXECUTION_FAILED");
}

/* A batch's operations add up against the aliases and root fields limits,
 * so that batching cannot multiply what one request may cost. Returns
 * true when this operation would pass them (its answer is then an error). */
static bool batch_over_limits(exchange_t *x, const gql_validation_result_t *vr)
{
    const gateway_config_t *cfg = &x->g->cfg;
    size_t aliases = x->spent_aliases + vr->aliases, roots = x->spent_roots + vr->root_fields;
    char msg[160];
    if (aliases > cfg->max_aliases)
        snprintf(msg, sizeof msg, "The operations of this batch use more than %zu aliases "
                 "in all (--max-aliases).", cfg->max_aliases);
    else if (roots > cfg->max_root_fields)
        snprintf(msg, sizeof msg, "The operations of this batch select more than %zu root "
                 "fields in all (--max-root-fields).", cfg->max_root_fields);
    else {
        x->spent_aliases = aliases;
        x->spent_roots = roots;
        return false;
    }
    gql_error_t err = {.code = GQL_ELIMIT, .message = msg};
    syntax_error(x, &err);
    return true;
}

/* Parses, validates and executes the request in x->r. */
static void operation(exchange_t *x)
{
    gql_parse_options_t popt = {.max_source_bytes = x->g->cfg.max_document_bytes,
                                .max_tokens = x->g->cfg.max_tokens,
                                .max_depth = x->g->cfg.max_depth};
    gql_error_t perr;
    gql_validation_result_t vr;
    gql_validate_options_t vopt = {.max_aliases = x->g->cfg.max_aliases,
                                   .max_root_fields = x->g->cfg.max_root_fields,
                                   .max_depth = x->g->cfg.max_depth};
    if (gql_parse(x->r.query, x->r.query_len, &popt, &x->arena, &x->doc, &perr) < 0) {
        syntax_error(x, &perr);
        return;
    }
    if (gql_validate(x->g->schema, x->doc, &vopt, &x->arena, &vr) != 0) {
        validation_errors(x, &vr);
        return;
    }
    if (x->batch_n && batch_over_limits(x, &vr))
        return;
    const char *why = NULL;
    const gql_operation_definition_t *op = gql_select_operation(x->doc, x->r.operation_name, &why);
    x->op_name = op && op->name.value ? op->name.value : NULL;
    if (op && op->operation == GQL_OPERATION_MUTATION && strcmp(x->req->method, "POST") != 0) {
        request_error(x, 405, "mutations are sent with POST");
        http_response_header(x->res, "Allow", "POST");
        return;
    }
    x->ctx = (articles_ctx_t){.client = x->g->client,
                              .authorization = http_request_header(x->req, "Authorization"),
                              .traceparent = x->traceparent,
                              .suspend = true};
    execute(x);
}

static void count_operation(exchange_t *x, double seconds)
{
    if (!x->op_type)
        return;
    /* Operation names come from clients: the registry's series cap bounds
     * them. */
    const char *op_labels[] = {x->op_type, x->op_name ? x->op_name : "anonymous"};
    metric_inc(x->g->operations, op_labels, 1);
    metric_observe(x->g->op_duration, op_labels, seconds);
    x->op_type = NULL;
}

/* Moves the answer of the batch's current operation to batch_out, counts
 * the operation, and makes the next one current. */
static void batch_take(exchange_t *x)
{
    if (x->batch_i)
        buf_putc(&x->batch_out, ',');
    buf_append(&x->batch_out, x->res->body.data, x->res->body.len);
    buf_reset(&x->res->body);
    count_operation(x, http_now() - x->op_start);
    x->op_name = NULL;
    x->doc = NULL;
    x->batch_i++;
}

/* Runs a batch's operations in order from the current one, until one
 * suspends (resumed by serve) or all have answered: then the answer is
 * their answers' array, 200, whatever each says. */
static void batch_run(exchange_t *x)
{
    while (x->batch_i < x->batch_n) {
        gql_request_error_t err;
        x->op_start = http_now();
        if (gql_request_batch_item(&x->batch, x->batch_i, &x->r, &err) < 0)
            request_error(x, err.status, err.message);
        else
            operation(x);
        if (x->deferred)
            return;
        batch_take(x);
    }
    if (x->batch_out.failed) {
        internal_failure(x, "out of memory while answering a batch");
        return;
    }
    x->res->status = 200;
    x->res->content_type = media_type(x->media);
    buf_reset(&x->res->body);
    buf_putc(&x->res->body, '[');
    buf_append(&x->res->body, x->batch_out.data, x->batch_out.len);
    buf_putc(&x->res->body, ']');
}

static void graphql(exchange_t *x)
{
    int rc = read_request(x, &x->r);
    if (rc < 0)
        return;
    traceparent_of(x->req, x->traceparent);
    if (rc == GQL_REQUEST_BATCH) {
        x->batch = x->r;
        memset(&x->r, 0, sizeof x->r);
        x->batch_n = (size_t)cJSON_GetArraySize(x->batch.json);
        batch_run(x);
        return;
    }
    x->have_r = true;
    operation(x);
}

/* ---- other routes ------------------------------------------------------- */

/* Answers /health from its call to the REST core, and frees the call. */
static void health_answer(exchange_t *x)
{
    http_call_t *call = x->health;
    bool ok = call->err == 0 && call->status == 200;
    http_call_free(call);
    free(call);
    x->health = NULL;
    x->res->status = ok ? 200 : 503;
    x->res->content_type = "application/json";
    buf_puts(&x->res->body, ok ? "{\"status\":\"ok\",\"rest\":\"ok\"}"
                               : "{\"status\":\"unavailable\",\"rest\":\"unreachable\"}");
}

/* Asks the REST core's /health; the request sleeps meanwhile, as a query
 * does, so that probes of a REST core that does not answer hold no server
 * thread. */
static void health(exchange_t *x)
{
    x->health = calloc(1, sizeof *x->health);
    if (!x->health) {
        internal_failure(x, "out of memory");
        return;
    }
    *x->health = (http_call_t){.method = "GET", .path = "/health", .timeout_ms = 2000};
    x->deferred = http_request_suspend(x->req, x);
    int rc = http_client_submit(x->g->client, x->health, 1, on_fetched, x);
    if (rc < 0) {
        x->health->err = rc;
        http_deferred_resume(x->deferred);
    }
}

static void metrics(exchange_t *x)
{
    x->res->status = 200;
    x->res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    metrics_render(x->g->reg, &x->res->body);
}

enum { R_GRAPHQL, R_HEALTH, R_METRICS, R_ASSETS, R_UNMATCHED };
static const char *const route_names[] = {"/graphql", "/health", "/metrics",
                                          "/graphql/assets/{name}", "unmatched"};
#define ASSETS_PREFIX "/graphql/assets/"

static int route_of(const char *path)
{
    for (int i = R_GRAPHQL; i < R_ASSETS; i++)
        if (strcmp(path, route_names[i]) == 0)
            return i;
    if (strncmp(path, ASSETS_PREFIX, strlen(ASSETS_PREFIX)) == 0)
        return R_ASSETS;
    return R_UNMATCHED;
}

/* The route as the exchange's listener sees it: with --metrics-port,
 * /health and /metrics exist on their own listener only, and nothing else
 * does there. */
static int listener_route(const exchange_t *x)
{
    int r = route_of(x->req->path);
    bool ops = r == R_HEALTH || r == R_METRICS;
    if (x->ops_listener ? !ops : (ops && x->g->cfg.ops_listener))
        return R_UNMATCHED;
    return r;
}

/* Answers 401 and returns true when the metrics token is configured and
 * the request does not carry it. */
static bool metrics_locked(exchange_t *x)
{
    int rc = ops_check(x->g->cfg.metrics_token, http_request_header(x->req, "Authorization"));
    if (rc == OPS_OK)
        return false;
    request_error(x, 401, ops_strerror(rc));
    ops_challenge(x->res, rc);
    return true;
}

static void serve_file(exchange_t *x, const playground_file_t *f, const char *cache)
{
    x->res->status = 200;
    x->res->content_type = f->content_type;
    buf_append(&x->res->body, f->data, f->len);
    http_response_header(x->res, "Cache-Control", cache);
}

/* A browser's GET of /graphql without a query gets the playground. */
static bool playground_request(exchange_t *x)
{
    if (!x->g->cfg.playground || strcmp(x->req->method, "POST") == 0 ||
        !playground_wanted(http_request_header(x->req, "Accept")))
        return false;
    get_params_t p = {0};
    http_request_query_each(x->req, collect_get, &p);
    if (p.query)
        return false;
    playground_file_t page = playground_page();
    serve_file(x, &page, "no-cache");
    return true;
}

static void asset(exchange_t *x)
{
    playground_file_t f;
    if (!x->g->cfg.playground || !playground_asset(x->req->path + strlen(ASSETS_PREFIX), &f))
        request_error(x, 404, "no such file");
    else
        /* The versions are pinned at build time: a file never changes under its name. */
        serve_file(x, &f, "public, max-age=31536000, immutable");
}

static bool method_is(const http_request_t *req, const char *a, const char *b)
{
    return strcmp(req->method, a) == 0 || (b && strcmp(req->method, b) == 0);
}

/* CORS: an allowed Origin gets it back on every answer of /graphql; a
 * preflight gets what a browser needs to send the real request. */
static void cors_headers(exchange_t *x)
{
    const char *origin = http_request_header(x->req, "Origin");
    if (!cors_allowed(&x->g->cfg.cors, origin))
        return;
    http_response_header(x->res, "Access-Control-Allow-Origin", origin);
    http_response_header(x->res, "Vary", "Origin");
}

static void preflight(exchange_t *x)
{
    const char *origin = http_request_header(x->req, "Origin");
    x->res->status = 204;
    http_response_header(x->res, "Allow", "GET, POST, OPTIONS");
    if (!cors_allowed(&x->g->cfg.cors, origin))
        return; /* no Access-Control-* headers: the browser refuses */
    http_response_header(x->res, "Access-Control-Allow-Methods", "GET, POST");
    http_response_header(x->res, "Access-Control-Allow-Headers",
                         "Content-Type, Accept, Authorization, traceparent");
    http_response_header(x->res, "Access-Control-Max-Age", "600");
}

static void dispatch(exchange_t *x, int route)
{
    http_request_t *req = x->req;
    if (req->reject_status && req->reject_status != 413) {
        /* A framing the glue refused (smuggling shapes), on any route. */
        request_error(x, req->reject_status, req->reject_reason);
    } else if (route == R_GRAPHQL) {
        if (method_is(req, "OPTIONS", NULL)) {
            preflight(x);
        } else if (!method_is(req, "GET", "POST") && !method_is(req, "HEAD", NULL)) {
            request_error(x, 405, "use GET for queries or POST");
            http_response_header(x->res, "Allow", "GET, POST, OPTIONS");
        } else if (req->reject_status) {
            request_error(x, 413, "the request body is larger than --max-body-bytes");
        } else if (playground_request(x)) {
            /* answered */
        } else {
            gql_request_error_t err;
            if (gql_request_negotiate(http_request_header(req, "Accept"), &x->media, &err) < 0)
                request_error(x, err.status, err.message);
            else
                graphql(x);
        }
    } else if (route == R_UNMATCHED) {
        request_error(x, 404, x->ops_listener
                                  ? "no such route; this listener serves /metrics and /health only"
                                  : "no such route; GraphQL is served at /graphql");
    } else if (!method_is(req, "GET", "HEAD")) {
        request_error(x, 405, "this route accepts GET");
        http_response_header(x->res, "Allow", "GET, HEAD");
    } else if ((route == R_HEALTH || route == R_METRICS) && metrics_locked(x)) {
        /* answered 401 */
    } else if (route == R_HEALTH) {
        health(x);
    } else if (route == R_ASSETS) {
        asset(x);
    } else {
        metrics(x);
    }
}

static const char *method_label(const char *m)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(m, known[i]) == 0)
            return known[i];
    return "other";
}

/* Counts, logs and frees an answered exchange. */
static void finish(exchange_t *x)
{
    gateway_t *g = x->g;
    http_request_t *req = x->req;
    http_response_t *res = x->res;
    if (res->body.failed) {
        http_response_free(res);
        internal_failure(x, "out of memory while answering");
    }
    /* Here, not in dispatch: a suspended query answers with a new response. */
    if (strcmp(x->route, "/graphql") == 0)
        cors_headers(x);
    double seconds = http_now() - req->start;
    char code[8];
    snprintf(code, sizeof code, "%d", res->status);
    const char *labels[] = {method_label(req->method), x->route, code};
    metric_inc(g->requests, labels, 1);
    metric_observe(g->duration, labels, seconds);
    count_operation(x, seconds);
    char trace[TRACE_ID_SIZE];
    bool traced = trace_id_of(x->traceparent, trace);
    log_request(req->method, x->route, req->path, res->status, seconds, traced ? trace : NULL);
    if (x->have_r)
        gql_request_free(&x->r);
    gql_request_free(&x->batch);
    buf_free(&x->batch_out);
    arena_free(&x->arena);
    free(x);
}

static void serve(gateway_t *g, bool ops_listener, http_request_t *req, http_response_t *res)
{
    exchange_t *x = req->resumed;
    if (x) {
        x->req = req;
        x->res = res;
        x->deferred = NULL;
    }
    if (x && x->health) {
        health_answer(x);
    } else if (x) {
        /* The calls a suspended operation waited for are in: execute it again. */
        articles_collect(&x->ctx);
        execute(x);
        if (x->batch_n && !x->deferred) {
            batch_take(x);
            batch_run(x);
        }
    } else {
        x = calloc(1, sizeof *x);
        if (!x) {
            res->status = 503;
            return;
        }
        *x = (exchange_t){.g = g, .req = req, .res = res, .media = GQL_MEDIA_JSON,
                          .ops_listener = ops_listener};
        arena_init(&x->arena, 16 * 1024, 64u << 20);
        int r = listener_route(x);
        x->route = route_names[r];
        dispatch(x, r);
    }
    if (!x->deferred)
        finish(x);
}

void gateway_handle(void *user_data, http_request_t *req, http_response_t *res)
{
    serve(user_data, false, req, res);
}

void gateway_handle_ops(void *user_data, http_request_t *req, http_response_t *res)
{
    serve(user_data, true, req, res);
}

/* ---- set-up ------------------------------------------------------------- */

gateway_t *gateway_new(const gateway_config_t *cfg, const gql_schema_t *schema,
                       http_client_t *client, metrics_registry_t *reg)
{
    static const char *const req_labels[] = {"method", "route", "status"};
    static const char *const op_labels[] = {"type", "name"};
    static const char *const err_labels[] = {"code"};
    gateway_t *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->cfg = *cfg;
    g->schema = schema;
    g->client = client;
    g->reg = reg;
    g->requests = metrics_counter(reg, "http_requests_total",
                                  "HTTP requests served, by method, route and status.", 3,
                                  req_labels);
    g->duration = metrics_histogram(reg, "http_request_duration_seconds",
                                    "Time to answer, by method, route and status.", 3, req_labels,
                                    metrics_latency_buckets, metrics_latency_buckets_len);
    g->operations = metrics_counter(reg, "graphql_operations_total",
                                    "GraphQL operations executed, by type and name.", 2, op_labels);
    g->errors = metrics_counter(reg, "graphql_errors_total",
                                "GraphQL responses with errors, by the first error's code.", 1,
                                err_labels);
    g->op_duration = metrics_histogram(reg, "graphql_operation_duration_seconds",
                                       "Time to answer a GraphQL operation, by type and name.", 2,
                                       op_labels, metrics_latency_buckets,
                                       metrics_latency_buckets_len);
    if (!g->requests || !g->duration || !g->operations || !g->errors || !g->op_duration) {
        free(g);
        return NULL;
    }
    return g;
}

void gateway_free(gateway_t *g) { free(g); }
