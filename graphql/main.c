/* main.c - bin/articles-graphql: reads the configuration, builds the schema
 * from schema/articles.graphql (compiled in), connects the outbound client
 * to the REST core, starts the HTTP server and waits for SIGTERM or SIGINT.
 * The work lives in the modules; this file only wires them. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "http_client.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "ops.h"
#include "schema.h"
#include "server.h"
#include "upstream_metrics.h"

/* The schema, compiled in from schema/articles.graphql. */
extern const char articles_graphql[];
extern const unsigned long articles_graphql_len;

#define SHUTDOWN_GRACE_SECONDS 10
/* For the answers of requests whose REST calls were cut short at the end. */
#define SHUTDOWN_ANSWER_SECONDS 2

typedef struct settings {
    const char *host;
    int64_t port;
    const char *rest_api_url;
    int64_t max_body_bytes;
    int64_t max_document_bytes;
    int64_t max_tokens;
    int64_t max_depth;
    int64_t max_aliases;
    int64_t max_root_fields;
    int64_t max_batch;
    int64_t max_list_items;
    const char *introspection;
    const char *playground;
    const char *cors_origins;
    int64_t upstream_timeout_ms;
    int64_t connection_timeout;
    int64_t request_timeout;
    int64_t max_per_client;
    int64_t max_body_memory;
    int64_t max_connections;
    int64_t threads;
    const char *log_format;
    const char *log_level;
    const char *metrics_token;
    const char *metrics_token_file;
    const char *metrics_host;
    int64_t metrics_port;
} settings_t;

static const char *const on_off[] = {"on", "off", NULL};

#define OPT_INT(flag, env, def, help, field, min, max) \
    {flag, env, CONFIG_INT, def, help, &st->field, min, max, NULL}

static void parse_settings(settings_t *st, int argc, char **argv)
{
    const config_option_t opts[] = {
        {"host", "HOST", CONFIG_STRING, "127.0.0.1", "address to listen on", &st->host, 0, 0, NULL},
        OPT_INT("port", "PORT", "4000", "port to listen on", port, 0, 65535),
        {"rest-api-url", "REST_API_URL", CONFIG_STRING, "http://127.0.0.1:5000",
         "the REST core every field is resolved through", &st->rest_api_url, 0, 0, NULL},
        OPT_INT("max-body-bytes", "MAX_BODY_BYTES", "2097152",
                "larger request bodies are refused with 413", max_body_bytes, 1, 1 << 30),
        OPT_INT("max-document-bytes", "MAX_DOCUMENT_BYTES", "102400",
                "longest GraphQL document", max_document_bytes, 1, 1 << 30),
        OPT_INT("max-tokens", "MAX_TOKENS", "10000", "most tokens in a document", max_tokens, 1,
                10000000),
        OPT_INT("max-depth", "MAX_DEPTH", "32", "deepest nesting of selections and values",
                max_depth, 1, 1000),
        OPT_INT("max-batch", "MAX_BATCH", "10",
                "operations in one batched POST (a JSON array of requests); their aliases and "
                "root fields count together against the limits (0: batches refused)",
                max_batch, 0, 1000),
        OPT_INT("max-aliases", "MAX_ALIASES", "100", "aliased fields in a document", max_aliases,
                1, 1000000),
        OPT_INT("max-root-fields", "MAX_ROOT_FIELDS", "50", "fields an operation selects at its root",
                max_root_fields, 1, 100000),
        OPT_INT("max-list-items", "MAX_LIST_ITEMS", "10000", "longest list a field may answer",
                max_list_items, 1, 10000000),
        {"introspection", "INTROSPECTION", CONFIG_CHOICE, "on", "answer __schema and __type",
         &st->introspection, 0, 0, on_off},
        {"cors-origins", "CORS_ORIGINS", CONFIG_STRING, "",
         "web origins whose pages may call /graphql from a browser, comma-separated "
         "(https://app.example.com), or * for any; empty: none",
         &st->cors_origins, 0, 0, NULL},
        {"playground", "PLAYGROUND", CONFIG_CHOICE, "on",
         "serve the GraphiQL playground to browsers on GET /graphql", &st->playground, 0, 0,
         on_off},
        OPT_INT("upstream-timeout-ms", "UPSTREAM_TIMEOUT_MS", "5000",
                "longest a call to the REST core may take", upstream_timeout_ms, 1, 600000),
        OPT_INT("connection-timeout", "CONNECTION_TIMEOUT", "30",
                "seconds an idle connection is kept open", connection_timeout, 1, 86400),
        HTTP_SERVER_LIMIT_OPTIONS(&st->request_timeout, &st->max_per_client,
                                  &st->max_body_memory),
        OPT_INT("max-connections", "MAX_CONNECTIONS", "1024", "simultaneous client connections",
                max_connections, 1, 1000000),
        OPT_INT("threads", "THREADS", "0",
                "worker threads (0: one per core; a request waiting for the REST core holds none)",
                threads, 0, 1024),
        CONFIG_LOG_OPTIONS(&st->log_format, &st->log_level),
        OPS_TOKEN_OPTIONS(&st->metrics_token, &st->metrics_token_file),
        OPS_LISTEN_OPTIONS(&st->metrics_host, &st->metrics_port),
    };
    static const config_program_t prog = {
        "articles-graphql", VERSION,
        "The GraphQL server of the articles platform; every field resolves through the REST core.",
        "[OPTIONS]",
        "Routes: POST|GET /graphql, GET /health, GET /metrics.\nWith --metrics-token or "
        "--metrics-token-file, /health and /metrics need Authorization: Bearer <token>;\nwith "
        "--metrics-port they are served on that port only."};
    char err[256];
    size_t npos;
    int rc = config_parse(&prog, opts, sizeof opts / sizeof opts[0], argc, argv, NULL, 0, &npos,
                          err, sizeof err);
    if (rc == CONFIG_EXIT)
        exit(0);
    char uerr[200];
    if (rc == 0 && http_client_check_url(st->rest_api_url, uerr, sizeof uerr) < 0) {
        snprintf(err, sizeof err, "--rest-api-url: %s", uerr);
        rc = CONFIG_EINVAL;
    }
    if (rc == 0 && st->metrics_port != 0 && st->metrics_port == st->port) {
        snprintf(err, sizeof err, "--metrics-port must differ from --port (0 serves /metrics "
                                  "and /health on the main port)");
        rc = CONFIG_EINVAL;
    }
    if (rc < 0) {
        fprintf(stderr, "articles-graphql: %s\n", err);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    settings_t st = {0};
    parse_settings(&st, argc, argv);
    ops_token_t metrics_token;
    char terr[512];
    if (ops_token_load(&metrics_token, st.metrics_token, st.metrics_token_file, terr,
                       sizeof terr) < 0) {
        fprintf(stderr, "articles-graphql: %s\n", terr);
        return 2;
    }
    if (log_init("articles-graphql", st.log_format, st.log_level) < 0)
        return 2;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    int status = 1;
    char err[256];
    gql_schema_t *schema = NULL;
    http_client_t *client = NULL;
    upstream_metrics_t *upstream = NULL;
    gateway_t *gateway = NULL;
    http_server_t *server = NULL;
    http_server_t *ops_server = NULL;
    metrics_registry_t *reg = metrics_new();
    gql_error_t gerr;
    if (!reg || metrics_add_process(reg) < 0 ||
        metrics_add_build_info(reg, "articles-graphql", VERSION) < 0 ||
        !(upstream = upstream_metrics_new(reg)))
        goto fail;
    if (gql_schema_build(articles_graphql, articles_graphql_len, NULL, &schema, &gerr) < 0) {
        log_error("the compiled-in schema is invalid: %s", gerr.message);
        goto fail;
    }
    http_client_config_t cc = {.base_url = st.rest_api_url,
                               .timeout_ms = st.upstream_timeout_ms};
    upstream_metrics_attach(upstream, &cc);
    if (http_client_new(&cc, &client, err, sizeof err) < 0) {
        fprintf(stderr, "articles-graphql: --rest-api-url: %s\n", err);
        status = 2;
        goto fail;
    }
    upstream_metrics_watch(upstream, client);
    gateway_config_t gc = {.max_document_bytes = (size_t)st.max_document_bytes,
                           .max_tokens = (size_t)st.max_tokens,
                           .max_depth = (unsigned)st.max_depth,
                           .max_aliases = (size_t)st.max_aliases,
                           .max_root_fields = (size_t)st.max_root_fields,
                           .max_batch = (size_t)st.max_batch,
                           .max_list_items = (size_t)st.max_list_items,
                           .introspection = strcmp(st.introspection, "on") == 0,
                           .playground = strcmp(st.playground, "on") == 0,
                           .metrics_token = &metrics_token,
                           .ops_listener = st.metrics_port != 0};
    if (cors_parse(st.cors_origins, &gc.cors, err, sizeof err) < 0) {
        fprintf(stderr, "articles-graphql: %s\n", err);
        status = 2;
        goto fail;
    }
    if (!(gateway = gateway_new(&gc, schema, client, reg)))
        goto fail;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = st.threads > 0 ? (int)st.threads : (cores > 0 ? (int)cores : 1);
    http_server_config_t hc = {.host = st.host, .port = (int)st.port, .threads = threads,
                               .max_connections = (int)st.max_connections,
                               .connection_timeout = (int)st.connection_timeout,
                               .request_timeout = (int)st.request_timeout,
                               .max_per_client = (int)st.max_per_client,
                               .max_body_memory = (size_t)st.max_body_memory,
                               .max_body_bytes = (size_t)st.max_body_bytes,
                               .handler = gateway_handle, .user_data = gateway};
    if (http_server_start(&hc, &server, err, sizeof err) < 0) {
        log_error("%s", err);
        goto fail;
    }
    log_info("listening on http://%s:%d with %d threads, REST core at %s", st.host,
             http_server_port(server), threads, st.rest_api_url);
    /* One thread there: /health waits for the REST core's answer in it, and
     * a scrape every few seconds needs no more. */
    if (gc.ops_listener && ops_listen(&hc, st.metrics_host, (int)st.metrics_port,
                                      gateway_handle_ops, &ops_server) < 0)
        goto fail;
    if (metrics_token.len)
        log_info("a metrics token is configured: /metrics and /health need it");
    int sig = 0;
    sigwait(&set, &sig);
    log_info("received %s, finishing in-flight requests", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    status = 0;
fail:
    if (server && http_server_drain(server, SHUTDOWN_GRACE_SECONDS) > 0)
        log_warn("requests still wait for the REST core after %d s: they are answered "
                 "UPSTREAM_UNAVAILABLE", SHUTDOWN_GRACE_SECONDS);
    if (ops_server && http_server_drain(ops_server, SHUTDOWN_GRACE_SECONDS) > 0)
        log_warn("stopping with scrapes unfinished");
    /* Calls still out end now, so that the requests waiting for them are
     * answered: libmicrohttpd aborts the process when it is stopped with a
     * request suspended. */
    http_client_stop(client);
    if (server && http_server_drain(server, SHUTDOWN_ANSWER_SECONDS) > 0)
        log_warn("stopping with requests unfinished");
    http_server_stop(ops_server);
    http_server_stop(server);
    gateway_free(gateway);
    http_client_free(client);
    gql_schema_free(schema);
    metrics_free(reg);
    upstream_metrics_free(upstream);
    ops_token_clear(&metrics_token);
    return status;
}
