/* main.c - bin/articles-rest: reads the configuration, opens the store,
 * starts the HTTP server and waits for SIGTERM or SIGINT. The work lives in
 * the modules; this file only wires them. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "config.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "ops.h"
#include "store.h"
#include "writer.h"

/* How long a shutdown waits for requests already begun. */
#define SHUTDOWN_GRACE_SECONDS 10

typedef struct settings {
    const char *host;
    int64_t port;
    const char *database_url;
    int64_t max_body_bytes;
    int64_t max_limit;
    int64_t max_bulk_ops;
    int64_t max_title;
    int64_t max_author;
    int64_t max_content;
    int64_t connection_timeout;
    int64_t request_timeout;
    int64_t max_per_client;
    int64_t max_body_memory;
    int64_t max_connections;
    int64_t threads;
    const char *log_format;
    const char *log_level;
    const char *api_tokens;
    const char *api_tokens_file;
    const char *auth_reads;
    const char *metrics_token;
    const char *metrics_token_file;
    const char *metrics_host;
    int64_t metrics_port;
} settings_t;

static const char *const auth_reads_choices[] = {"open", "token", NULL};

#define OPT_INT(flag, env, def, help, field, min, max) \
    {flag, env, CONFIG_INT, def, help, &st->field, min, max, NULL}

static int parse_settings(settings_t *st, int argc, char **argv)
{
    const config_option_t opts[] = {
        {"host", "HOST", CONFIG_STRING, "127.0.0.1", "address to listen on", &st->host, 0, 0,
         NULL},
        OPT_INT("port", "PORT", "5000", "port to listen on", port, 0, 65535),
        {"database-url", "DATABASE_URL", CONFIG_STRING, "sqlite:articles.db",
         "sqlite:PATH, sqlite::memory: or postgresql://user:password@host:port/dbname",
         &st->database_url, 0, 0, NULL},
        OPT_INT("max-body-bytes", "MAX_BODY_BYTES", "2097152",
                "larger request bodies are refused with 413", max_body_bytes, 1, 1 << 30),
        OPT_INT("max-limit", "MAX_LIMIT", "1000", "largest ?limit= of GET /articles", max_limit,
                1, 100000),
        OPT_INT("max-bulk-ops", "MAX_BULK_OPS", "1000",
                "operations allowed in one POST /articles/bulk", max_bulk_ops, 1, 1000000),
        OPT_INT("max-title-length", "MAX_TITLE_LENGTH", "200", "characters allowed in a title",
                max_title, 1, 1000000),
        OPT_INT("max-author-length", "MAX_AUTHOR_LENGTH", "100",
                "characters allowed in an author", max_author, 1, 1000000),
        OPT_INT("max-content-bytes", "MAX_CONTENT_BYTES", "1048576",
                "bytes allowed in a content", max_content, 0, 1 << 30),
        OPT_INT("connection-timeout", "CONNECTION_TIMEOUT", "30",
                "seconds an idle connection is kept open", connection_timeout, 1, 86400),
        HTTP_SERVER_LIMIT_OPTIONS(&st->request_timeout, &st->max_per_client,
                                  &st->max_body_memory),
        OPT_INT("max-connections", "MAX_CONNECTIONS", "1024",
                "simultaneous client connections", max_connections, 1, 1000000),
        OPT_INT("threads", "THREADS", "0",
                "worker threads, each with its own database connection (0: one per core)",
                threads, 0, 1024),
        CONFIG_LOG_OPTIONS(&st->log_format, &st->log_level),
        {"api-tokens", "API_TOKENS", CONFIG_STRING, NULL,
         "comma-separated bearer tokens, 16 to 256 bytes of visible ASCII each; with any "
         "(here or in --api-tokens-file) every write needs Authorization: Bearer <token>; "
         "none: writes are open",
         &st->api_tokens, 0, 0, NULL},
        {"api-tokens-file", "API_TOKENS_FILE", CONFIG_STRING, NULL,
         "file of bearer tokens, one a line (blank lines and lines starting with # ignored), "
         "read at start; adds to --api-tokens",
         &st->api_tokens_file, 0, 0, NULL},
        {"auth-reads", "AUTH_READS", CONFIG_CHOICE, "open",
         "token: GET and HEAD of the /articles routes need a token too; /openapi.json stays "
         "open either way, and /health and /metrics never take an API token",
         &st->auth_reads, 0, 0, auth_reads_choices},
        OPS_TOKEN_OPTIONS(&st->metrics_token, &st->metrics_token_file),
        OPS_LISTEN_OPTIONS(&st->metrics_host, &st->metrics_port),
    };
    static const config_program_t prog = {
        "articles-rest", VERSION, "The REST core of the articles platform: CRUD on articles "
                                  "over SQLite or PostgreSQL.",
        "[OPTIONS]", "Routes: GET /articles, POST /articles, GET|PUT|PATCH|DELETE "
                     "/articles/{id}, POST /articles/bulk, GET /health, GET /metrics, "
                     "GET /openapi.json.\nWith --api-tokens or --api-tokens-file, writes (and "
                     "with --auth-reads token, reads of /articles) need Authorization: Bearer "
                     "<token>;\n/openapi.json never does.\nWith --metrics-token or "
                     "--metrics-token-file, /health and /metrics need that token (no API "
                     "token opens them);\nwith --metrics-port they are served on that port "
                     "only."};
    char err[256];
    size_t npos;
    int rc = config_parse(&prog, opts, sizeof opts / sizeof opts[0], argc, argv, NULL, 0, &npos,
                          err, sizeof err);
    if (rc == CONFIG_EXIT)
        exit(0);
    if (rc == 0 && store_check_url(st->database_url, err, sizeof err) < 0)
        rc = CONFIG_EINVAL;
    if (rc == 0 && st->metrics_port != 0 && st->metrics_port == st->port) {
        snprintf(err, sizeof err, "--metrics-port must differ from --port (0 serves /metrics "
                                  "and /health on the main port)");
        rc = CONFIG_EINVAL;
    }
    if (rc < 0) {
        fprintf(stderr, "articles-rest: %s\n", err);
        exit(2);
    }
    return 0;
}

/* The token set of --api-tokens and --api-tokens-file, or NULL when
 * neither names one (writes are open). Exits 2 with one line when either
 * breaks the rules; the line names the item or line, never the token. */
static auth_t *load_tokens(const settings_t *st)
{
    int from_list = st->api_tokens && *st->api_tokens;
    int from_file = st->api_tokens_file && *st->api_tokens_file;
    int reads = strcmp(st->auth_reads, "token") == 0;
    char err[512];
    if (!from_list && !from_file) {
        if (!reads)
            return NULL;
        fprintf(stderr, "articles-rest: --auth-reads token needs tokens: set --api-tokens or "
                        "--api-tokens-file\n");
        exit(2);
    }
    auth_t *auth = auth_new();
    if (!auth) {
        fprintf(stderr, "articles-rest: out of memory\n");
        exit(2);
    }
    if (from_list &&
        auth_add_list(auth, st->api_tokens, "--api-tokens (API_TOKENS)", err, sizeof err) < 0) {
        fprintf(stderr, "articles-rest: %s\n", err);
        exit(2);
    }
    if (from_file && auth_add_file(auth, st->api_tokens_file, err, sizeof err) < 0) {
        fprintf(stderr, "articles-rest: --api-tokens-file %s\n", err);
        exit(2);
    }
    if (auth_count(auth) == 0) {
        fprintf(stderr, "articles-rest: --api-tokens (API_TOKENS) holds no token\n");
        exit(2);
    }
    return auth;
}

/* Reads the metrics token into t and makes sure no API token equals it, so
 * that neither kind can open what the other guards. Exits 2 with one line
 * that never holds a token. */
static void load_metrics_token(const settings_t *st, auth_t *auth, ops_token_t *t)
{
    char err[512];
    if (ops_token_load(t, st->metrics_token, st->metrics_token_file, err, sizeof err) < 0) {
        fprintf(stderr, "articles-rest: %s\n", err);
        exit(2);
    }
    if (!auth || t->len == 0)
        return;
    char header[sizeof "Bearer " + OPS_TOKEN_MAX];
    snprintf(header, sizeof header, "Bearer %.*s", (int)t->len, (const char *)t->bytes);
    int same = auth_check(auth, header) == AUTH_OK;
    explicit_bzero(header, sizeof header);
    if (same) {
        ops_token_clear(t);
        auth_free(auth);
        fprintf(stderr, "articles-rest: the metrics token is also an API token; give "
                        "--metrics-token a token of its own\n");
        exit(2);
    }
}

/* Blocks the shutdown signals in every thread, so that only sigwait() in
 * main sees them and workers are never interrupted mid-request. */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    settings_t st = {0};
    parse_settings(&st, argc, argv);
    auth_t *auth = load_tokens(&st);
    ops_token_t metrics_token;
    load_metrics_token(&st, auth, &metrics_token);
    if (log_init("articles-rest", st.log_format, st.log_level) < 0) {
        fprintf(stderr, "articles-rest: bad --log-format or --log-level\n");
        return 2;
    }
    sigset_t set;
    block_signals(&set);

    int status = 1;
    char err[256];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = st.threads > 0 ? (int)st.threads : (cores > 0 ? (int)cores : 1);
    metrics_registry_t *reg = metrics_new();
    store_pool_t *pool = NULL;
    api_t *api = NULL;
    writer_t *writer = NULL;
    http_server_t *server = NULL;
    http_server_t *ops_server = NULL;
    if (!reg || metrics_add_process(reg) < 0 ||
        metrics_add_build_info(reg, "articles-rest", VERSION) < 0) {
        log_error("out of memory");
        goto fail;
    }
    pool = store_pool_new(st.database_url, threads, err, sizeof err);
    if (!pool) {
        log_error("cannot open the database: %s", err);
        goto fail;
    }
    /* On SQLite, writes go through one group-commit thread (writer.h). */
    store_t *probe = store_pool_acquire(pool);
    bool batches = store_batches_writes(probe);
    store_pool_release(pool, probe);
    if (batches) {
        store_t *ws = NULL;
        if (store_open(st.database_url, &ws, err, sizeof err) < 0) {
            log_error("cannot open the database: %s", err);
            goto fail;
        }
        if (!(writer = writer_new(ws))) {
            store_close(ws);
            log_error("cannot start the writer thread");
            goto fail;
        }
    }
    api_config_t acfg = {
        .max_limit = st.max_limit,
        .max_bulk_ops = st.max_bulk_ops,
        .max_body_bytes = st.max_body_bytes,
        .limits = {st.max_title, st.max_author, st.max_content},
        .writer = writer,
        .auth = auth,
        .auth_reads = auth && strcmp(st.auth_reads, "token") == 0,
        .metrics_token = &metrics_token,
        .ops_listener = st.metrics_port != 0,
    };
    api = api_new(&acfg, pool, reg);
    if (!api) {
        log_error("out of memory");
        goto fail;
    }
    http_server_config_t hcfg = {
        .host = st.host,
        .port = (int)st.port,
        .threads = threads,
        .max_connections = (int)st.max_connections,
        .connection_timeout = (int)st.connection_timeout,
        .request_timeout = (int)st.request_timeout,
        .max_per_client = (int)st.max_per_client,
        .max_body_memory = (size_t)st.max_body_memory,
        .max_body_bytes = (size_t)st.max_body_bytes,
        .handler = api_handle,
        .user_data = api,
    };
    if (http_server_start(&hcfg, &server, err, sizeof err) < 0) {
        log_error("%s", err);
        goto fail;
    }
    log_info("listening on http://%s:%d with %d threads, database %s", st.host,
             http_server_port(server), threads,
             strncmp(st.database_url, "sqlite:", 7) == 0 ? st.database_url : "postgresql");
    if (acfg.ops_listener && ops_listen(&hcfg, st.metrics_host, (int)st.metrics_port,
                                        api_handle_ops, &ops_server) < 0)
        goto fail;
    if (metrics_token.len)
        log_info("a metrics token is configured: /metrics and /health need it");
    if (auth)
        log_info("%zu bearer token%s configured: writes%s need one", auth_count(auth),
                 auth_count(auth) == 1 ? "" : "s", acfg.auth_reads ? " and reads" : "");
    else
        log_info("no bearer tokens configured: writes are open to every client");
    int sig = 0;
    sigwait(&set, &sig);
    log_info("received %s, finishing in-flight requests", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    status = 0;
fail:
    /* Requests already begun are answered first (their writes still go
     * through the writer); then the writer finishes its queue, after which
     * late requests write on their own thread, so no connection is left
     * asleep when the server stops. */
    if (server && http_server_drain(server, SHUTDOWN_GRACE_SECONDS) > 0)
        log_warn("stopping with requests unfinished after %d s", SHUTDOWN_GRACE_SECONDS);
    if (ops_server && http_server_drain(ops_server, SHUTDOWN_GRACE_SECONDS) > 0)
        log_warn("stopping with scrapes unfinished after %d s", SHUTDOWN_GRACE_SECONDS);
    writer_close(writer);
    http_server_stop(ops_server);
    http_server_stop(server);
    writer_free(writer);
    api_free(api);
    store_pool_free(pool);
    metrics_free(reg);
    auth_free(auth);
    ops_token_clear(&metrics_token);
    if (status == 0)
        log_info("stopped");
    return status;
}
