/* http_server.c - libmicrohttpd glue: sockets, worker threads, bodies under
 * a limit, responses; see http_server.h. */
#include "http_server.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <malloc.h>
#include <microhttpd.h>

#include "log.h"
#include "num.h"

struct http_server {
    struct MHD_Daemon *daemon;
    http_server_config_t cfg;
    int port;
    atomic_int in_flight; /* requests begun and not yet completed */
    bool quiesced;
};

/* Memory per connection: the request line and headers must fit (a larger
 * header gets 431, a longer URI 414), and libmicrohttpd clears it for
 * every request, so smaller is faster. */
#define HTTP_CONNECTION_MEMORY (16 * 1024)

/* Bodies from this size on are followed by malloc_trim(). */
#define HTTP_TRIM_AFTER_BYTES (64 * 1024)

/* Per-request state, kept between libmicrohttpd's calls for one request.
 * A deferred request is this struct too (http_deferred_t). */
typedef struct request_ctx {
    buf_t body;
    double start;
    int reject_status;
    struct MHD_Connection *conn;
    int deferred;             /* suspended, waiting for http_deferred_finish or _resume */
    int resume;               /* woken by http_deferred_resume: run the handler again */
    void *state;              /* the handler's, from http_request_suspend */
    http_response_t answer;   /* set by http_deferred_finish */
} request_ctx_t;

struct http_deferred {
    request_ctx_t ctx;
};

double http_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

const char *http_request_header(const http_request_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

typedef struct query_walk {
    http_query_fn fn;
    void *ud;
    int rc;
} query_walk_t;

static enum MHD_Result query_iter(void *cls, enum MHD_ValueKind kind, const char *key,
                                  size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    query_walk_t *w = cls;
    /* A decoded %00 would cut the C strings short and let "limit%00x"
     * pass for "limit": tell the callback. */
    int nul = strlen(key) != key_size || (value && strlen(value) != value_size);
    w->rc = w->fn(w->ud, key, value, nul);
    return w->rc ? MHD_NO : MHD_YES;
}

int http_request_query_each(const http_request_t *req, http_query_fn fn, void *ud)
{
    query_walk_t w = {fn, ud, 0};
    MHD_get_connection_values_n(req->conn, MHD_GET_ARGUMENT_KIND, query_iter, &w);
    return w.rc;
}

int http_response_header(http_response_t *res, const char *name, const char *value)
{
    if (res->nheaders == HTTP_MAX_EXTRA_HEADERS)
        return -1;
    char *copy = strdup(value);
    if (!copy)
        return -1;
    res->headers[res->nheaders].name = name;
    res->headers[res->nheaders].value = copy;
    res->nheaders++;
    return 0;
}

void http_response_free(http_response_t *res)
{
    for (size_t i = 0; i < res->nheaders; i++)
        free(res->headers[i].value);
    res->nheaders = 0;
    buf_free(&res->body);
}

/* Hands res to libmicrohttpd. The body buffer moves into the MHD response,
 * which frees it once sent. */
static enum MHD_Result send_response(struct MHD_Connection *c, http_response_t *res)
{
    size_t len = res->body.len;
    char *data = buf_detach(&res->body);
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback(len, data, free);
    if (!r) {
        free(data);
        http_response_free(res);
        return MHD_NO;
    }
    if (res->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
    for (size_t i = 0; i < res->nheaders; i++)
        MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)res->status, r);
    MHD_destroy_response(r);
    http_response_free(res);
    return ret;
}

static enum MHD_Result dispatch(http_server_t *s, struct MHD_Connection *c, const char *url,
                                const char *method, request_ctx_t *ctx, double start)
{
    char empty[1] = "";
    http_request_t req = {
        .conn = c,
        .method = method,
        .path = url,
        .body = ctx->body.data ? ctx->body.data : empty,
        .body_len = ctx->body.len,
        .reject_status = ctx->reject_status,
        .start = start,
        .resumed = ctx->state,
        .glue = ctx,
    };
    ctx->state = NULL;
    http_response_t res = {.status = 500};
    s->cfg.handler(s->cfg.user_data, &req, &res);
    if (ctx->deferred) {
        http_response_free(&res);
        return MHD_YES;
    }
    return send_response(c, &res);
}

http_deferred_t *http_request_defer(http_request_t *req)
{
    request_ctx_t *ctx = req->glue;
    ctx->deferred = 1;
    MHD_suspend_connection(ctx->conn);
    return (http_deferred_t *)ctx;
}

http_deferred_t *http_request_suspend(http_request_t *req, void *state)
{
    request_ctx_t *ctx = req->glue;
    ctx->state = state;
    return http_request_defer(req);
}

void http_deferred_resume(http_deferred_t *d)
{
    d->ctx.resume = 1;
    MHD_resume_connection(d->ctx.conn);
}

void http_deferred_finish(http_deferred_t *d, http_response_t *res)
{
    request_ctx_t *ctx = &d->ctx;
    ctx->answer = *res;
    memset(res, 0, sizeof *res);
    /* After this the connection belongs to libmicrohttpd's thread again,
     * which sends the answer in on_request. */
    MHD_resume_connection(ctx->conn);
}

/* The declared body length, or 0 for a chunked body or none. */
static size_t declared_length(struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    int64_t n;
    /* libmicrohttpd already refused a malformed Content-Length. */
    if (!cl || num_parse_i64(cl, strlen(cl), 0, INT64_MAX, &n) < 0)
        return 0;
    return (size_t)n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    http_server_t *s = cls;
    request_ctx_t *ctx = *con_cls;
    /* The first call brings only the headers. A response queued there makes
     * libmicrohttpd close the connection, so it is done only to refuse a
     * body too large to read; everything else is answered on the last call. */
    if (!ctx) {
        ctx = calloc(1, sizeof(http_deferred_t));
        if (!ctx)
            return MHD_NO;
        ctx->start = http_now();
        ctx->conn = c;
        *con_cls = ctx;
        atomic_fetch_add(&s->in_flight, 1);
        size_t declared = declared_length(c);
        if (declared > s->cfg.max_body_bytes) {
            ctx->reject_status = 413;
            return dispatch(s, c, url, method, ctx, ctx->start);
        }
        /* Exactly the announced size: doubling would hold up to twice the
         * body per connection, which adds up over many slow uploads. */
        if (declared && buf_reserve(&ctx->body, declared) < 0)
            return MHD_NO;
        return MHD_YES;
    }
    if (ctx->deferred) {
        ctx->deferred = 0;
        if (ctx->resume) {
            ctx->resume = 0;
            return dispatch(s, c, url, method, ctx, ctx->start);
        }
        /* Woken by http_deferred_finish: the answer is ready. */
        return send_response(c, &ctx->answer);
    }
    if (*upload_data_size) {
        if (!ctx->reject_status) {
            if (ctx->body.len + *upload_data_size > s->cfg.max_body_bytes) {
                ctx->reject_status = 413;
                buf_free(&ctx->body);
            } else if (buf_append(&ctx->body, upload_data, *upload_data_size) < 0) {
                return MHD_NO;
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return dispatch(s, c, url, method, ctx, ctx->start);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server_t *s = cls;
    (void)c;
    (void)toe;
    request_ctx_t *ctx = *con_cls;
    if (!ctx)
        return;
    atomic_fetch_sub(&s->in_flight, 1);
    /* A large body leaves its decoded copies spread over glibc's per-thread
     * arenas, which keep freed memory resident; giving it back after such a
     * request keeps the server's footprint at its working set. */
    int large = ctx->body.cap >= HTTP_TRIM_AFTER_BYTES;
    http_response_free(&ctx->answer);
    buf_free(&ctx->body);
    free(ctx);
    *con_cls = NULL;
    if (large)
        malloc_trim(0);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    /* Most of what libmicrohttpd reports is a client going away. */
    log_debug("http: %s", msg);
}

static int resolve(const char *host, int port, struct sockaddr_storage *ss, char *err,
                   size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &ai);
    if (rc != 0 || !ai) {
        snprintf(err, errlen, "cannot resolve host '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    return 0;
}

int http_server_start(const http_server_config_t *cfg, http_server_t **out, char *err,
                      size_t errlen)
{
    struct sockaddr_storage ss;
    if (resolve(cfg->host, cfg->port, &ss, err, errlen) < 0)
        return -1;
    http_server_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->cfg = *cfg;
    long threads = cfg->threads > 0 ? cfg->threads : sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    /* ITC lets MHD_quiesce_daemon() wake the workers at shutdown. */
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, s,
        /* First, so that what the options below make it say goes to our log. */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        /* A "pool" of one is the daemon's own thread (libmicrohttpd notes it). */
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(threads > 1 ? threads : 0),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONNECTION_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, errlen, "cannot listen on %s:%d (address in use, or not permitted)",
                 cfg->host, cfg->port);
        free(s);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    *out = s;
    return 0;
}

int http_server_port(const http_server_t *s) { return s->port; }

int http_server_add_connection(http_server_t *s, int fd)
{
    /* A made-up loopback peer: libmicrohttpd wants an address to log. */
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (MHD_add_connection(s->daemon, fd, (struct sockaddr *)&peer, sizeof peer) != MHD_YES) {
        close(fd);
        return -1;
    }
    return 0;
}

int http_server_drain(http_server_t *s, double seconds)
{
    if (!s->quiesced) {
        /* The listen socket is ours to close once quiesced. */
        MHD_socket fd = MHD_quiesce_daemon(s->daemon);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
        s->quiesced = true;
    }
    double deadline = http_now() + seconds;
    while (atomic_load(&s->in_flight) > 0 && http_now() < deadline)
        usleep(2000);
    return atomic_load(&s->in_flight);
}

void http_server_stop(http_server_t *s)
{
    if (!s)
        return;
    http_server_drain(s, 0);
    MHD_stop_daemon(s->daemon);
    free(s);
}
