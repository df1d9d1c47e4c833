/* http_client.h - outbound HTTP to one upstream (the REST core) on libcurl,
 * for the GraphQL gateway's resolvers and the sync daemon.
 *
 * One http_client_t per upstream base URL, shared by every thread. Each
 * client runs one event loop thread that drives all its calls through one
 * curl multi handle, whose connection cache is the pool of kept-alive
 * connections. http_client_submit() hands a batch of calls to that loop and
 * returns at once; a callback says when all are finished, so a server can
 * suspend a request instead of holding a thread. http_client_run() is the
 * same, waiting for the batch.
 *
 * Idempotent calls (GET, HEAD, PUT, DELETE) are retried on connection
 * failures, timeouts, 429, 502, 503 and 504, with exponential backoff and
 * full jitter; POST and PATCH never are. A waiting retry does not hold up
 * the other calls of its batch. Every attempt first asks the client's
 * circuit breaker (lib/breaker.h), which counts transport failures and 5xx
 * answers as failures and any other answer as a success.
 *
 * Errors: 0 or a negative HTTP_CLIENT_E* code; http_client_strerror(). */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include <stddef.h>

#include "breaker.h"
#include "buf.h"

#define HTTP_CLIENT_EINVAL (-1)     /* bad argument: config, method, path, header value */
#define HTTP_CLIENT_ENOMEM (-2)
#define HTTP_CLIENT_ECONNECT (-3)   /* could not resolve the host or connect */
#define HTTP_CLIENT_ETIMEOUT (-4)   /* connect or total timeout */
#define HTTP_CLIENT_ETOOLARGE (-5)  /* answer larger than max_response_bytes */
#define HTTP_CLIENT_EBREAKER (-6)   /* refused without a try: the breaker is open */
#define HTTP_CLIENT_ETRANSPORT (-7) /* the connection broke: reset, empty or cut answer */
#define HTTP_CLIENT_EINTERNAL (-8)  /* libcurl failed in an unexpected way */
#define HTTP_CLIENT_ESTOPPED (-9)   /* http_client_free() began: no new calls */

#define HTTP_CLIENT_ERROR_SIZE 256 /* at least libcurl's CURL_ERROR_SIZE */
#define HTTP_CLIENT_MAX_BATCH 1024 /* calls in one http_client_run() */

/* Called after every attempt (status 0 when there was no HTTP answer,
 * err 0 when there was one) and for every call the breaker refused (err
 * HTTP_CLIENT_EBREAKER, seconds 0), from the client's loop thread: it
 * must be quick and must not call the client. */
typedef void (*http_client_observer_fn)(void *user_data, const char *method, int status,
                                        double seconds, int err);

/* Zero fields take the default in brackets. */
typedef struct http_client_config {
    const char *base_url;         /* "http://127.0.0.1:5000", copied; required */
    long connect_timeout_ms;      /* [1000] */
    long timeout_ms;              /* whole attempt, connect included [10000] */
    size_t max_response_bytes;    /* larger answers fail with ETOOLARGE [8 MiB] */
    int max_attempts;             /* per idempotent call, 1 disables retries [3] */
    long backoff_base_ms;         /* retry n waits rand(0, min(cap, base * 2^(n-1))) [50] */
    long backoff_cap_ms;          /* [2000] */
    long max_connections;         /* open to the upstream at once, all kept alive for reuse;
                                   * more calls than that wait for a free one [64] */
    long idle_seconds;            /* an idle connection older than this is not reused; keep it
                                   * below the upstream's idle timeout [20] */
    breaker_config_t breaker;     /* see breaker.h; zeros: 5 failures, 5 seconds */
    http_client_observer_fn observer; /* optional */
    void *observer_data;
} http_client_config_t;

/* One request and its outcome. Set the inputs (zero the rest, e.g. with a
 * designated initialiser); the inputs are borrowed until http_client_run()
 * returns. http_client_run() overwrites the outputs without freeing them:
 * call http_call_free() before running a call again. */
typedef struct http_call {
    /* inputs */
    const char *method;        /* GET, HEAD, POST, PUT, PATCH, DELETE */
    const char *path;          /* "/articles/1?x=y", already percent-encoded; appended to
                                * base_url */
    const char *body;          /* optional, body_len bytes */
    size_t body_len;
    const char *content_type;  /* of the body, e.g. "application/json" */
    const char *authorization; /* optional Authorization header value */
    const char *traceparent;   /* optional W3C traceparent header value */
    long timeout_ms;           /* overrides the client's total timeout when > 0 */

    /* outputs */
    int status;                 /* HTTP status of the last attempt; 0 when no answer */
    buf_t response;             /* the answer's body (caller frees, http_call_free) */
    char *response_type;        /* its Content-Type or NULL (caller frees, http_call_free) */
    int err;                    /* 0 when there was an HTTP answer, whatever its status */
    char error[HTTP_CLIENT_ERROR_SIZE]; /* what went wrong, "" when err is 0 */
    int attempts;               /* requests sent; 0 when refused by the breaker */
    double seconds;             /* from the first attempt to the end, backoff included */
    long connects;              /* new connections opened for it; 0 when all were reused */
} http_call_t;

typedef struct http_client http_client_t;

/* Returns 0 and the client in *out (free with http_client_free), or a
 * negative code with a message in err. */
int http_client_new(const http_client_config_t *cfg, http_client_t **out, char *err,
                    size_t errlen);
/* Stops the loop thread and returns once it has ended: calls still
 * running end with HTTP_CLIENT_ESTOPPED (their done callbacks run first),
 * later ones fail with it at once. The client stays valid for callers
 * still holding it, such as a suspended request finishing its answer.
 * Idempotent; NULL is allowed. */
void http_client_stop(http_client_t *c);
/* Stops the client as http_client_stop() does and frees it. NULL is
 * allowed. */
void http_client_free(http_client_t *c);

/* Called once when every call of a batch is finished, from the client's
 * loop thread: hand the work to another thread rather than doing it here. */
typedef void (*http_client_done_fn)(void *done_data);

/* Starts the n calls concurrently and returns 0 at once; done(done_data)
 * runs when all are finished (even when none could start). The calls and
 * their inputs must stay valid until then. Returns a negative code, and
 * done never runs, when the batch is refused (EINVAL, ENOMEM, ESTOPPED).
 * Outcomes as for http_client_run. */
int http_client_submit(http_client_t *c, http_call_t *calls, size_t n, http_client_done_fn done,
                       void *done_data);

/* Runs the n calls concurrently and returns when all are finished. Safe
 * to call from many threads at once, but not from an observer or a done
 * callback (the loop thread would wait for itself). Returns 0 when every call got an HTTP
 * answer (look at each status), otherwise the err of the first call that
 * did not. A call that runs out of retries keeps its last answer or
 * error; a retry refused by the breaker ends the call with the previous
 * attempt's outcome. */
int http_client_run(http_client_t *c, http_call_t *calls, size_t n);
/* Frees a call's outputs; the call may then be run again. */
void http_call_free(http_call_t *call);

/* BREAKER_CLOSED, BREAKER_OPEN or BREAKER_HALF_OPEN, for a gauge. */
int http_client_breaker_state(http_client_t *c);
const char *http_client_strerror(int code);

/* Checks a base URL as http_client_new would: http or https, a host, and
 * what libcurl parses. Returns 0, or HTTP_CLIENT_EINVAL with why in err. */
int http_client_check_url(const char *url, char *err, size_t errlen);

#endif
