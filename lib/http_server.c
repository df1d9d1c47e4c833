/* http_server.c - libmicrohttpd glue: sockets, worker threads, bodies under
 * a limit, responses; see http_server.h. */
#include "http_server.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <malloc.h>
#include <microhttpd.h>

#include "log.h"
#include "num.h"

/* Where a connection is in its request cycle, for the deadlines. */
enum conn_phase {
    PHASE_WAITING,   /* for a request line: the idle timeout applies */
    PHASE_RECEIVING, /* a request line came: the rest within request_timeout */
    PHASE_HANDLING,  /* the program has the request: no deadline of ours */
    PHASE_SENDING,   /* the answer is queued: the client reads it within request_timeout */
};

/* One per open connection, from libmicrohttpd's connection-started notice
 * to its closed notice, linked into the server's list for the reaper. The
 * phase is written by the connection's worker and read by the reaper. */
typedef struct conn_rec {
    struct conn_rec *prev, *next;
    int fd;
    int cut;                  /* the reaper shut it down; under the list lock */
    atomic_int phase;
    _Atomic int64_t since_ms; /* monotonic milliseconds when the phase began */
    char peer[INET6_ADDRSTRLEN];
} conn_rec_t;

struct http_server {
    struct MHD_Daemon *daemon;
    http_server_config_t cfg;
    int port;
    atomic_int in_flight; /* requests begun (headers in) and not yet completed; a
                           * graceful stop waits for them, request_timeout bounding
                           * an upload that stalls */
    atomic_size_t body_memory; /* body bytes held by all requests, for max_body_memory */
    bool quiesced;
    MHD_socket listen_fd; /* once quiesced: ours to close after stopping */
    /* The connections, for the whole-request deadline. */
    pthread_mutex_t conns_lock;
    conn_rec_t *conns;
    pthread_t reaper;
    bool reaper_running;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    bool stopping;
};

/* How often the reaper looks for connections past their deadline: the
 * deadline is kept to within this. */
#define HTTP_REAPER_INTERVAL_MS 250

/* Memory per connection: the request line and headers must fit (a larger
 * header gets 431, a longer URI 414), and libmicrohttpd clears it for
 * every request, so smaller is faster. */
#define HTTP_CONNECTION_MEMORY (16 * 1024)

/* Bodies up to this size are not counted against max_body_memory. */
#define HTTP_SMALL_BODY_BYTES (16 * 1024)

/* Bodies from this size on are followed by malloc_trim(). */
#define HTTP_TRIM_AFTER_BYTES (64 * 1024)

/* Per-request state, kept between libmicrohttpd's calls for one request.
 * A deferred request is this struct too (http_deferred_t). */
typedef struct request_ctx {
    buf_t body;
    double start;
    int reject_status;
    const char *reject_reason;
    size_t charged;           /* body bytes counted in the server's body_memory */
    conn_rec_t *rec;          /* its connection's record (NULL: no deadlines), looked up once */
    int begun;                /* its headers are in: counted in in_flight */
    const char *raw_uri;      /* where the request target began in libmicrohttpd's buffer
                               * (decoded in place since), and its length up to a NUL */
    size_t raw_uri_len;
    int path_nul;             /* the path held %00 as sent */
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
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

static int64_t now_ms(void)
{
    return (int64_t)(http_now() * 1000.0);
}

/* The connection's record, or NULL when deadlines are off (or its
 * allocation failed: then only the idle timeout guards it). */
static conn_rec_t *conn_rec(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void conn_enter(conn_rec_t *r, enum conn_phase phase)
{
    if (!r)
        return;
    /* The time first: a reaper that sees the new phase sees its time. */
    atomic_store(&r->since_ms, now_ms());
    atomic_store(&r->phase, (int)phase);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    http_server_t *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_rec_t *r = calloc(1, sizeof *r);
        if (!r)
            return;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        r->fd = ci ? ci->connect_fd : -1;
        ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = ci ? ci->client_addr : NULL;
        if (sa && sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->peer, sizeof r->peer);
        else if (sa && sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->peer,
                      sizeof r->peer);
        atomic_init(&r->phase, PHASE_WAITING);
        atomic_init(&r->since_ms, now_ms());
        pthread_mutex_lock(&s->conns_lock);
        r->next = s->conns;
        if (s->conns)
            s->conns->prev = r;
        s->conns = r;
        pthread_mutex_unlock(&s->conns_lock);
        *socket_context = r;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        /* libmicrohttpd closes the socket after this notice, so the
         * reaper, under the same lock, never touches a reused descriptor. */
        conn_rec_t *r = *socket_context;
        pthread_mutex_lock(&s->conns_lock);
        if (r->prev)
            r->prev->next = r->next;
        else
            s->conns = r->next;
        if (r->next)
            r->next->prev = r->prev;
        pthread_mutex_unlock(&s->conns_lock);
        free(r);
        *socket_context = NULL;
    }
}

static request_ctx_t *ctx_new(struct MHD_Connection *c)
{
    request_ctx_t *ctx = calloc(1, sizeof(http_deferred_t));
    if (ctx) {
        ctx->start = http_now();
        ctx->conn = c;
        ctx->rec = conn_rec(c);
    }
    return ctx;
}

/* libmicrohttpd calls this once a request line has arrived, with the
 * target as sent (it decodes it in place afterwards): the request's state
 * and its deadline start here. What this returns is on_request's *con_cls,
 * and on_completed sees it however the request ends. */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    request_ctx_t *ctx = ctx_new(c);
    conn_enter(ctx ? ctx->rec : conn_rec(c), PHASE_RECEIVING);
    if (ctx) {
        ctx->raw_uri = uri;
        ctx->raw_uri_len = strlen(uri);
        ctx->path_nul = memmem(uri, strcspn(uri, "?"), "%00", 3) != NULL;
    }
    return ctx;
}

/* Shuts down, under the list lock, the connections past their deadline.
 * shutdown() rather than close(): libmicrohttpd's worker sees the end of
 * the stream and closes the connection itself, in its own thread. */
static void reap(http_server_t *s)
{
    int64_t now = now_ms();
    int64_t idle = (int64_t)s->cfg.connection_timeout * 1000;
    int64_t deadline = (int64_t)s->cfg.request_timeout * 1000;
    pthread_mutex_lock(&s->conns_lock);
    for (conn_rec_t *r = s->conns; r; r = r->next) {
        int phase = atomic_load(&r->phase);
        int64_t age = now - atomic_load(&r->since_ms);
        /* A connection that is merely idle is libmicrohttpd's to close; the
         * second of grace leaves it that, and catches one whose request
         * line trickles in a byte at a time. */
        int64_t limit = phase == PHASE_WAITING     ? idle + 1000
                        : phase == PHASE_HANDLING ? INT64_MAX
                                                  : deadline;
        if (r->cut || r->fd < 0 || age <= limit)
            continue;
        r->cut = 1;
        shutdown(r->fd, SHUT_RDWR);
        log_info("http: closed the connection of %s: %s not %s within %d s", r->peer,
                 phase == PHASE_SENDING ? "answer" : "request",
                 phase == PHASE_SENDING ? "read" : "received",
                 phase == PHASE_WAITING ? s->cfg.connection_timeout : s->cfg.request_timeout);
    }
    pthread_mutex_unlock(&s->conns_lock);
}

static void *reaper_main(void *arg)
{
    http_server_t *s = arg;
    pthread_mutex_lock(&s->stop_lock);
    while (!s->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += HTTP_REAPER_INTERVAL_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->stop_cond, &s->stop_lock, &ts);
        if (s->stopping)
            break;
        pthread_mutex_unlock(&s->stop_lock);
        reap(s);
        pthread_mutex_lock(&s->stop_lock);
    }
    pthread_mutex_unlock(&s->stop_lock);
    return NULL;
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
static enum MHD_Result send_response(request_ctx_t *ctx, http_response_t *res)
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
    conn_enter(ctx->rec, PHASE_SENDING);
    enum MHD_Result ret = MHD_queue_response(ctx->conn, (unsigned)res->status, r);
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
        .reject_reason = ctx->reject_reason,
        .start = start,
        .resumed = ctx->state,
        .glue = ctx,
    };
    ctx->state = NULL;
    conn_enter(ctx->rec, PHASE_HANDLING);
    http_response_t res = {.status = 500};
    s->cfg.handler(s->cfg.user_data, &req, &res);
    if (ctx->deferred) {
        http_response_free(&res);
        return MHD_YES;
    }
    /* After a refused framing the rest of the stream cannot be trusted. */
    if (ctx->reject_status && ctx->reject_status != 413)
        http_response_header(&res, "Connection", "close");
    if (ctx->reject_status == 503)
        http_response_header(&res, "Retry-After", "1");
    return send_response(ctx, &res);
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

/* What the framing check counts while walking the headers. */
typedef struct framing {
    int hosts, lengths, codings;
    int bad_name, bad_value;
    const char *coding;
} framing_t;

static int is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static enum MHD_Result framing_iter(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    framing_t *f = cls;
    for (size_t i = 0; i < key_size; i++)
        f->bad_name |= !is_tchar((unsigned char)key[i]);
    f->bad_name |= key_size == 0;
    for (size_t i = 0; value && i < value_size; i++) {
        unsigned char ch = (unsigned char)value[i];
        f->bad_value |= (ch < 0x20 && ch != '\t') || ch == 0x7f;
    }
    if (strcasecmp(key, "Host") == 0)
        f->hosts++;
    else if (strcasecmp(key, "Content-Length") == 0)
        f->lengths++;
    else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->codings++;
        f->coding = value;
    }
    return MHD_YES;
}

/* A NUL in the request target, sent raw or as %00 in the path, would cut
 * the decoded path short: /articles/4%00x would be routed as /articles/4.
 * libmicrohttpd 0.9 splits the request line in place, so the version
 * follows the target's end unless a raw NUL cut the target short; the test
 * is made only when the version lies where that layout puts it. */
static const char *target_refusal(const request_ctx_t *ctx, const char *version)
{
    if (!ctx->raw_uri)
        return NULL;
    const char *end = ctx->raw_uri + ctx->raw_uri_len;
    if (version > end && version - ctx->raw_uri < HTTP_CONNECTION_MEMORY && version != end + 1)
        return "the request target holds a NUL byte";
    if (ctx->path_nul)
        return "the path holds %00 (a NUL byte)";
    return NULL;
}

/* Refuses the shapes of request smuggling that libmicrohttpd 0.9 lets
 * through, where two parsers could disagree on where a request ends
 * (RFC 9112, sections 3.2, 5, 6.1 and 6.3), and targets holding a NUL.
 * Returns 0, or the status to answer with and the reason in *why. */
static int framing_refusal(const request_ctx_t *ctx, struct MHD_Connection *c,
                           const char *version, const char **why)
{
    framing_t f = {0};
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, framing_iter, &f);
    if ((*why = target_refusal(ctx, version)))
        return 400;
    if (f.bad_name)
        *why = "a header name holds a character that is not allowed (whitespace before the "
               "colon?)";
    else if (f.bad_value)
        *why = "a header value holds a control character (a bare CR?)";
    else if (f.hosts > 1)
        *why = "the request has more than one Host header";
    else if (f.lengths > 1)
        *why = "the request has more than one Content-Length header";
    else if (f.codings && f.lengths)
        *why = "the request has both Content-Length and Transfer-Encoding; send one";
    else if (f.codings > 1)
        *why = "the request has more than one Transfer-Encoding header";
    else if (f.codings && strcmp(version, MHD_HTTP_VERSION_1_1) != 0)
        *why = "Transfer-Encoding needs HTTP/1.1";
    else if (f.codings && strcasecmp(f.coding, "chunked") != 0) {
        *why = "the only transfer coding understood is chunked";
        return 501;
    } else
        return 0;
    return 400;
}

/* Counts a request body about to hold `need` bytes against the server's
 * budget for bodies in memory. Returns 0, or -1 (nothing counted) when the
 * budget cannot take it. */
static int body_charge(http_server_t *s, request_ctx_t *ctx, size_t need)
{
    /* Small bodies always pass, so that a flood of large uploads cannot
     * turn away ordinary requests (a GraphQL query is a body): together
     * they hold at most max_connections times this much. */
    if (!s->cfg.max_body_memory || need <= ctx->charged || need <= HTTP_SMALL_BODY_BYTES)
        return 0;
    size_t more = need - ctx->charged;
    size_t cur = atomic_load(&s->body_memory);
    /* Checked before it is added, so that a body refused for a moment
     * never makes another one look over the budget. */
    do {
        if (cur + more > s->cfg.max_body_memory)
            return -1;
    } while (!atomic_compare_exchange_weak(&s->body_memory, &cur, cur + more));
    ctx->charged = need;
    return 0;
}

static void body_refuse(request_ctx_t *ctx, int status)
{
    ctx->reject_status = status;
    ctx->reject_reason = status == 413 ? "the body is larger than the server accepts"
                                       : "the server holds too many request bodies at once; "
                                         "retry shortly";
    buf_free(&ctx->body);
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
    http_server_t *s = cls;
    request_ctx_t *ctx = *con_cls;
    /* The first call brings only the headers. A response queued there makes
     * libmicrohttpd close the connection, so it is done only to refuse a
     * body too large to read; everything else is answered on the last call. */
    if (!ctx || !ctx->begun) {
        if (!ctx && !(ctx = ctx_new(c)))
            return MHD_NO;
        ctx->begun = 1;
        *con_cls = ctx;
        atomic_fetch_add(&s->in_flight, 1);
        int refusal = framing_refusal(ctx, c, version, &ctx->reject_reason);
        if (refusal) {
            ctx->reject_status = refusal;
            return dispatch(s, c, url, method, ctx, ctx->start);
        }
        size_t declared = declared_length(c);
        if (declared > s->cfg.max_body_bytes || body_charge(s, ctx, declared) < 0) {
            body_refuse(ctx, declared > s->cfg.max_body_bytes ? 413 : 503);
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
        return send_response(ctx, &ctx->answer);
    }
    if (*upload_data_size) {
        /* A chunked body (no length announced) is counted as it grows; the
         * rest of a refused one is read and dropped. */
        size_t need = ctx->body.len + *upload_data_size;
        if (!ctx->reject_status) {
            if (need > s->cfg.max_body_bytes)
                body_refuse(ctx, 413);
            else if (body_charge(s, ctx, need) < 0)
                body_refuse(ctx, 503);
            else if (buf_append(&ctx->body, upload_data, *upload_data_size) < 0)
                return MHD_NO;
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
    (void)toe;
    request_ctx_t *ctx = *con_cls;
    conn_enter(ctx ? ctx->rec : conn_rec(c), PHASE_WAITING);
    if (!ctx)
        return;
    if (ctx->begun)
        atomic_fetch_sub(&s->in_flight, 1);
    /* A large body leaves its decoded copies spread over glibc's per-thread
     * arenas, which keep freed memory resident; giving it back after such a
     * request keeps the server's footprint at its working set. */
    int large = ctx->body.cap >= HTTP_TRIM_AFTER_BYTES;
    atomic_fetch_sub(&s->body_memory, ctx->charged);
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

/* The reaper enforces request_timeout; without one it is not started and
 * connections are not tracked. */
static int start_reaper(http_server_t *s)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&s->stop_cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return -1;
    if (pthread_create(&s->reaper, NULL, reaper_main, s) != 0) {
        pthread_cond_destroy(&s->stop_cond);
        return -1;
    }
    s->reaper_running = true;
    return 0;
}

static void stop_reaper(http_server_t *s)
{
    if (!s->reaper_running)
        return;
    pthread_mutex_lock(&s->stop_lock);
    s->stopping = true;
    pthread_cond_signal(&s->stop_cond);
    pthread_mutex_unlock(&s->stop_lock);
    pthread_join(s->reaper, NULL);
    pthread_cond_destroy(&s->stop_cond);
    s->reaper_running = false;
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
    s->listen_fd = MHD_INVALID_SOCKET;
    pthread_mutex_init(&s->conns_lock, NULL);
    pthread_mutex_init(&s->stop_lock, NULL);
    long threads = cfg->threads > 0 ? cfg->threads : sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    /* poll(), not epoll: libmicrohttpd 0.9.75's MHD_quiesce_daemon() races
     * its epoll workers, both taking the listen socket out of the worker's
     * epoll set, and the loser aborts the process ("Failed to remove listen
     * FD from epoll set") now and then at a graceful stop. Its poll loop just
     * leaves the socket out once quiesced. A worker polls its own share of
     * the connections, so the cost per wake-up stays small.
     * ITC lets MHD_quiesce_daemon() wake the workers at shutdown. */
    unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    int deadlines = cfg->request_timeout > 0;
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, s,
        /* First, so that what the options below make it say goes to our log. */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        /* A "pool" of one is the daemon's own thread (libmicrohttpd notes it). */
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(threads > 1 ? threads : 0),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)(cfg->max_per_client > 0
                                                           ? cfg->max_per_client : 0),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONNECTION_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_URI_LOG_CALLBACK, on_request_line, s,
        /* Without a deadline the option below is skipped (an END here ends
         * the list early), and no connection is tracked. */
        deadlines ? MHD_OPTION_NOTIFY_CONNECTION : MHD_OPTION_END, on_connection, s,
        MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, errlen, "cannot listen on %s:%d (address in use, or not permitted)",
                 cfg->host, cfg->port);
        goto fail;
    }
    if (deadlines && start_reaper(s) < 0) {
        snprintf(err, errlen, "cannot start the request deadline thread");
        MHD_stop_daemon(s->daemon);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    *out = s;
    return 0;
fail:
    pthread_mutex_destroy(&s->conns_lock);
    pthread_mutex_destroy(&s->stop_lock);
    free(s);
    return -1;
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
        /* The listen socket is ours once quiesced. Shut, new connections are
         * refused at once; it is closed only after MHD_stop_daemon, when no
         * worker can be looking at it any more. */
        s->listen_fd = MHD_quiesce_daemon(s->daemon);
        if (s->listen_fd != MHD_INVALID_SOCKET)
            shutdown(s->listen_fd, SHUT_RDWR);
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
    stop_reaper(s);
    MHD_stop_daemon(s->daemon);
    if (s->listen_fd != MHD_INVALID_SOCKET)
        close(s->listen_fd);
    pthread_mutex_destroy(&s->conns_lock);
    pthread_mutex_destroy(&s->stop_lock);
    free(s);
}
