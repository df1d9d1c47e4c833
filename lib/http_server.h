/* http_server.h - the HTTP server glue shared by the programs, on
 * libmicrohttpd.
 *
 * The glue owns the sockets, the worker threads (a pool with one thread per
 * core by default), body collection under a size limit, and turning an
 * http_response_t into bytes. The program supplies one handler that sees a
 * complete request and fills in a response; routing lives in the program.
 *
 * A request whose body exceeds max_body_bytes is not read further: the
 * handler is still called, with reject_status set to 413, so that the
 * program answers it in its own error format and counts it. So is a request
 * whose framing is ambiguous (Content-Length with Transfer-Encoding, either
 * twice, a transfer coding other than chunked, a control character in a
 * header, two Host headers: the shapes of request smuggling), with 400 or
 * 501; the connection is closed after the answer.
 *
 * Abuse limits beyond libmicrohttpd's own (total connections, idle
 * timeout, header and URI size, strict parsing): connections per client
 * address; a deadline for a whole request, so that a client trickling a
 * byte at a time is cut off although it is never idle; and a budget for
 * the request bodies held in memory at once, so that many large uploads
 * together get 503 instead of the server's memory. */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"

#define HTTP_MAX_EXTRA_HEADERS 6

typedef struct http_request {
    void *conn;           /* the libmicrohttpd connection, for the accessors below */
    const char *method;   /* "GET", ... as sent */
    const char *path;     /* percent-decoded path, without the query string */
    char *body;           /* NUL-terminated for convenience; may hold NUL bytes;
                           * the handler may modify it in place */
    size_t body_len;
    int reject_status;    /* 0, or the status the glue decided on (400, 413, 501, 503) */
    const char *reject_reason; /* static text saying why, when reject_status is set */
    double start;         /* monotonic seconds when the headers arrived */
    void *resumed;        /* NULL, or the state given to http_request_suspend when the
                           * handler runs again after http_deferred_resume */
    void *glue;           /* private to http_server.c */
} http_request_t;

typedef struct http_header {
    const char *name;
    char *value; /* heap, owned by the response */
} http_header_t;

typedef struct http_response {
    int status;
    const char *content_type; /* static string, or NULL for no body type */
    buf_t body;
    http_header_t headers[HTTP_MAX_EXTRA_HEADERS];
    size_t nheaders;
} http_response_t;

typedef void (*http_handler_fn)(void *user_data, http_request_t *req, http_response_t *res);

typedef struct http_server_config {
    const char *host;
    int port;
    int threads;              /* 0: one per core */
    int max_connections;
    int connection_timeout;   /* seconds of inactivity before a connection is closed */
    int request_timeout;      /* seconds for a request to arrive once its first line has,
                               * and for its answer to be taken; 0: no such deadline */
    int max_per_client;       /* connections from one client address; 0: no limit */
    size_t max_body_memory;   /* request bytes held in memory across all connections;
                               * a body that would pass it gets 503; 0: no limit */
    size_t max_body_bytes;
    http_handler_fn handler;
    void *user_data;
} http_server_config_t;

typedef struct http_server http_server_t;

/* The command-line options of the abuse limits, for a program's option
 * table (lib/config.h); the destinations are int64_t. */
#define HTTP_SERVER_LIMIT_OPTIONS(request_timeout_dest, per_client_dest, body_memory_dest)     \
    {"request-timeout", "REQUEST_TIMEOUT", CONFIG_INT, "30",                                    \
     "seconds for a whole request to arrive once its first line has, and for its answer to "   \
     "be read; a client trickling bytes is cut off (0: no deadline)",                          \
     (request_timeout_dest), 0, 86400, NULL},                                                   \
    {"max-connections-per-client", "MAX_CONNECTIONS_PER_CLIENT", CONFIG_INT, "256",            \
     "simultaneous connections from one client address; more are closed at once "             \
     "(0: no limit, for servers behind a proxy)",                                               \
     (per_client_dest), 0, 1000000, NULL},                                                      \
    {"max-body-memory", "MAX_BODY_MEMORY", CONFIG_INT, "67108864",                             \
     "bytes of request bodies held at once across all connections; a body that would pass "   \
     "it gets 503 with Retry-After (0: no limit)",                                             \
     (body_memory_dest), 0, INT64_MAX, NULL}

/* Starts listening and serving in background threads. Returns 0, or a
 * negative code with a message in err. */
int http_server_start(const http_server_config_t *cfg, http_server_t **out, char *err,
                      size_t errlen);
/* Serves a connection the caller already has (one end of a socketpair, in
 * the fuzzer); the server owns fd from then on. Returns 0 or -1. */
int http_server_add_connection(http_server_t *s, int fd);

/* The port actually bound (useful with port 0). */
int http_server_port(const http_server_t *s);
/* Stops accepting connections and waits up to `seconds` for the requests
 * already begun to be answered (idle keep-alive connections do not count).
 * Returns how many are still unfinished. */
int http_server_drain(http_server_t *s, double seconds);
/* Stops accepting, closes every connection, joins the workers, frees s.
 * Drain first for a graceful stop. */
void http_server_stop(http_server_t *s);

/* Request accessors. The returned strings belong to the request. */
const char *http_request_header(const http_request_t *req, const char *name);
/* Calls fn for every query argument in order (decoded key and value; value
 * is NULL for "?flag" without '='; has_nul is set when either contained an
 * encoded NUL, which cuts the C strings short). Stops early when fn returns
 * non-zero and returns that value. */
typedef int (*http_query_fn)(void *ud, const char *key, const char *value, int has_nul);
int http_request_query_each(const http_request_t *req, http_query_fn fn, void *ud);

/* Answering later: a handler that hands its work to another thread calls
 * http_request_defer() and leaves res alone; the connection sleeps (no
 * thread waits for it) until someone calls http_deferred_finish() with the
 * answer, from any thread, exactly once. The request's strings stay valid
 * until then. */
typedef struct http_deferred http_deferred_t;
http_deferred_t *http_request_defer(http_request_t *req);
/* Moves res into the deferred request (res is left empty) and wakes it. */
void http_deferred_finish(http_deferred_t *d, http_response_t *res);

/* Continuing later in a server thread: a handler waiting for an event (an
 * upstream's answer) calls http_request_suspend() with its state and leaves
 * res alone. Once someone calls http_deferred_resume(), from any thread,
 * exactly once, the handler runs again for the same request with
 * req->resumed = state, and answers or suspends again. The state is the
 * handler's to free. */
http_deferred_t *http_request_suspend(http_request_t *req, void *state);
void http_deferred_resume(http_deferred_t *d);

/* Response helpers. Header values are copied. */
int http_response_header(http_response_t *res, const char *name, const char *value);
void http_response_free(http_response_t *res);

/* Monotonic clock in seconds, for durations. */
double http_now(void);
/* The reason phrase of a status code ("Not Found"). */
const char *http_status_text(int status);

#endif
