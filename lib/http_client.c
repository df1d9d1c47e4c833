/* http_client.c - outbound HTTP on libcurl: pooled multi handles, batches,
 * retries with backoff, the breaker; see http_client.h. */
#include "http_client.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

_Static_assert(HTTP_CLIENT_ERROR_SIZE >= CURL_ERROR_SIZE, "libcurl's error buffer must fit");

/* A multi handle between batches: its connection cache holds the idle
 * connections, so handing it to the next batch reuses them. */
typedef struct pooled {
    CURLM *multi;
    struct pooled *next;
} pooled_t;

struct http_client {
    http_client_config_t cfg; /* cfg.base_url points to base_url */
    char *base_url;
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    pthread_mutex_t pool_lock;
    pooled_t *idle;
    int nidle;
    breaker_t breaker;
};

enum { JOB_DONE, JOB_RUNNING, JOB_WAITING };

/* One call while its batch runs. */
typedef struct job {
    http_call_t *call;
    CURL *easy;
    struct curl_slist *headers;
    char *url;
    int state;
    bool idempotent;
    bool too_large; /* the write callback refused the answer */
    bool oom;
    size_t max_bytes;
    double started;         /* first attempt */
    double attempt_started;
    double due;             /* when a waiting retry may start */
} job_t;

typedef struct batch {
    http_client_t *c;
    CURLM *multi;
    job_t *jobs;
    size_t n;
    size_t running, waiting;
    uint64_t rng;
} batch_t;

/* ---- library set-up ---------------------------------------------------- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_cleanup(void)
{
    curl_global_cleanup();
}

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_ALL);
    /* At exit rather than with the last client: curl_global_init and
     * cleanup are costly and must not race with another client's start. */
    if (global_rc == CURLE_OK)
        atexit(global_cleanup);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *http_client_strerror(int code)
{
    switch (code) {
    case 0: return "ok";
    case HTTP_CLIENT_EINVAL: return "invalid argument";
    case HTTP_CLIENT_ENOMEM: return "out of memory";
    case HTTP_CLIENT_ECONNECT: return "could not connect";
    case HTTP_CLIENT_ETIMEOUT: return "timed out";
    case HTTP_CLIENT_ETOOLARGE: return "answer too large";
    case HTTP_CLIENT_EBREAKER: return "circuit breaker open";
    case HTTP_CLIENT_ETRANSPORT: return "connection failed";
    case HTTP_CLIENT_EINTERNAL: return "internal error in the HTTP client";
    default: return "unknown error";
    }
}

/* ---- client ------------------------------------------------------------ */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ud)
{
    (void)h;
    (void)access;
    http_client_t *c = ud;
    pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ud)
{
    (void)h;
    http_client_t *c = ud;
    pthread_mutex_unlock(&c->share_locks[data]);
}

static int check_config(const http_client_config_t *cfg, char *err, size_t errlen)
{
    const char *u = cfg->base_url;
    if (!u || (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)) {
        snprintf(err, errlen, "base URL must start with http:// or https://");
        return HTTP_CLIENT_EINVAL;
    }
    if (cfg->connect_timeout_ms < 0 || cfg->timeout_ms < 0 || cfg->max_attempts < 0 ||
        cfg->backoff_base_ms < 0 || cfg->backoff_cap_ms < 0 || cfg->max_idle_connections < 0 ||
        cfg->idle_seconds < 0 || cfg->max_pooled < 0) {
        snprintf(err, errlen, "negative HTTP client setting");
        return HTTP_CLIENT_EINVAL;
    }
    return 0;
}

static void apply_defaults(http_client_config_t *cfg)
{
    if (!cfg->connect_timeout_ms)
        cfg->connect_timeout_ms = 1000;
    if (!cfg->timeout_ms)
        cfg->timeout_ms = 10000;
    if (!cfg->max_response_bytes)
        cfg->max_response_bytes = 8 << 20;
    if (!cfg->max_attempts)
        cfg->max_attempts = 3;
    if (!cfg->backoff_base_ms)
        cfg->backoff_base_ms = 50;
    if (!cfg->backoff_cap_ms)
        cfg->backoff_cap_ms = 2000;
    if (!cfg->max_idle_connections)
        cfg->max_idle_connections = 32;
    if (!cfg->idle_seconds)
        cfg->idle_seconds = 20;
    if (!cfg->max_pooled)
        cfg->max_pooled = 16;
}

static int make_share(http_client_t *c)
{
    c->share = curl_share_init();
    if (!c->share)
        return HTTP_CLIENT_ENOMEM;
    /* Only DNS: libcurl does not support a shared connection cache between
     * concurrent threads, hence the pool of multi handles. */
    if (curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
        curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
        curl_share_setopt(c->share, CURLSHOPT_USERDATA, c) != CURLSHE_OK ||
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK)
        return HTTP_CLIENT_EINTERNAL;
    return 0;
}

int http_client_new(const http_client_config_t *cfg, http_client_t **out, char *err,
                    size_t errlen)
{
    int rc = check_config(cfg, err, errlen);
    if (rc < 0)
        return rc;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(global_rc));
        return HTTP_CLIENT_EINTERNAL;
    }
    http_client_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return HTTP_CLIENT_ENOMEM;
    }
    c->cfg = *cfg;
    apply_defaults(&c->cfg);
    if (breaker_init(&c->breaker, &c->cfg.breaker) < 0) {
        snprintf(err, errlen, "bad circuit breaker settings");
        free(c);
        return HTTP_CLIENT_EINVAL;
    }
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&c->share_locks[i], NULL);
    pthread_mutex_init(&c->pool_lock, NULL);
    /* Without the trailing slash, so that base + "/path" is one slash. */
    size_t len = strlen(cfg->base_url);
    while (len && cfg->base_url[len - 1] == '/')
        len--;
    c->base_url = strndup(cfg->base_url, len);
    c->cfg.base_url = c->base_url;
    rc = c->base_url ? make_share(c) : HTTP_CLIENT_ENOMEM;
    if (rc < 0) {
        snprintf(err, errlen, "cannot set up libcurl: %s", http_client_strerror(rc));
        goto fail;
    }
    *out = c;
    return 0;
fail:
    breaker_destroy(&c->breaker);
    if (c->share)
        curl_share_cleanup(c->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&c->share_locks[i]);
    pthread_mutex_destroy(&c->pool_lock);
    free(c->base_url);
    free(c);
    return rc;
}

void http_client_free(http_client_t *c)
{
    if (!c)
        return;
    while (c->idle) {
        pooled_t *p = c->idle;
        c->idle = p->next;
        curl_multi_cleanup(p->multi);
        free(p);
    }
    /* After the multi handles: closing their connections still uses the
     * share's DNS cache. */
    curl_share_cleanup(c->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&c->share_locks[i]);
    pthread_mutex_destroy(&c->pool_lock);
    breaker_destroy(&c->breaker);
    free(c->base_url);
    free(c);
}

int http_client_breaker_state(http_client_t *c)
{
    return breaker_state(&c->breaker);
}

void http_call_free(http_call_t *call)
{
    buf_free(&call->response);
    free(call->response_type);
    call->response_type = NULL;
}

/* ---- the pool of multi handles ------------------------------------------ */

static CURLM *pool_take(http_client_t *c)
{
    pthread_mutex_lock(&c->pool_lock);
    pooled_t *p = c->idle;
    if (p) {
        c->idle = p->next;
        c->nidle--;
    }
    pthread_mutex_unlock(&c->pool_lock);
    if (p) {
        CURLM *m = p->multi;
        free(p);
        return m;
    }
    CURLM *m = curl_multi_init();
    if (m)
        curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, c->cfg.max_idle_connections);
    return m;
}

static void pool_put(http_client_t *c, CURLM *m)
{
    pooled_t *p = malloc(sizeof *p);
    if (p) {
        p->multi = m;
        pthread_mutex_lock(&c->pool_lock);
        if (c->nidle < c->cfg.max_pooled) {
            p->next = c->idle;
            c->idle = p;
            c->nidle++;
            p = NULL;
            m = NULL;
        }
        pthread_mutex_unlock(&c->pool_lock);
        free(p);
    }
    /* Beyond max_pooled (a burst of concurrent batches) the handle and its
     * connections go. */
    if (m)
        curl_multi_cleanup(m);
}

/* ---- preparing a call --------------------------------------------------- */

static bool is_method(const char *m, bool *idempotent)
{
    static const char *const idem[] = {"GET", "HEAD", "PUT", "DELETE"};
    for (size_t i = 0; i < sizeof idem / sizeof *idem; i++)
        if (strcmp(m, idem[i]) == 0)
            return *idempotent = true;
    *idempotent = false;
    return strcmp(m, "POST") == 0 || strcmp(m, "PATCH") == 0;
}

/* Header values and paths go into the request line and headers as they
 * are: a CR or LF would let a caller's data inject headers. */
static bool clean_text(const char *s, bool allow_space)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch == 0x7f || (ch == ' ' && !allow_space))
            return false;
    }
    return true;
}

static bool valid_call(const http_call_t *call, bool *idempotent)
{
    return call->method && is_method(call->method, idempotent) && call->path &&
           call->path[0] == '/' && clean_text(call->path, false) &&
           clean_text(call->authorization, true) && clean_text(call->traceparent, true) &&
           clean_text(call->content_type, true) && (call->body || !call->body_len) &&
           call->timeout_ms >= 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    job_t *j = ud;
    size_t n = size * nmemb;
    buf_t *b = &j->call->response;
    if (n > j->max_bytes - b->len) {
        j->too_large = true;
        return 0; /* aborts the transfer */
    }
    if (buf_append(b, data, n) < 0) {
        j->oom = true;
        return 0;
    }
    return n;
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
    buf_t line = {0};
    buf_printf(&line, "%s:%s%s", name, value && *value ? " " : "", value ? value : "");
    struct curl_slist *l = line.failed ? NULL : curl_slist_append(*list, line.data);
    buf_free(&line);
    if (!l)
        return HTTP_CLIENT_ENOMEM;
    *list = l;
    return 0;
}

/* A POST, PUT or PATCH without a body still sends "Content-Length: 0",
 * which servers expect. */
static bool sends_body(const http_call_t *call)
{
    const char *m = call->method;
    return call->body || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 ||
           strcmp(m, "PATCH") == 0;
}

static int build_headers(const http_call_t *call, struct curl_slist **list)
{
    if (call->authorization && add_header(list, "Authorization", call->authorization) < 0)
        return HTTP_CLIENT_ENOMEM;
    if (call->traceparent && add_header(list, "traceparent", call->traceparent) < 0)
        return HTTP_CLIENT_ENOMEM;
    if (!sends_body(call))
        return 0;
    /* An empty value makes libcurl drop its own header: no form-urlencoded
     * default type, and no "Expect: 100-continue" that would stall larger
     * bodies for a second. */
    if (add_header(list, "Content-Type", call->content_type) < 0 ||
        add_header(list, "Expect", NULL) < 0)
        return HTTP_CLIENT_ENOMEM;
    return 0;
}

static void set_method(CURL *e, const http_call_t *call)
{
    const char *m = call->method;
    if (strcmp(m, "GET") == 0)
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    else if (strcmp(m, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (strcmp(m, "POST") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    if (sends_body(call)) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, call->body ? call->body : "");
    }
}

static void set_options(http_client_t *c, job_t *j)
{
    CURL *e = j->easy;
    const http_call_t *call = j->call;
    curl_easy_setopt(e, CURLOPT_URL, j->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_SHARE, c->share);
    /* Signals for timeouts would hit whichever thread; timeouts are kept
     * by the multi loop instead. */
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->cfg.connect_timeout_ms);
    long timeout_ms = call->timeout_ms ? call->timeout_ms : c->cfg.timeout_ms;
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, c->cfg.idle_seconds);
    if (strcmp(call->method, "HEAD") != 0) /* a HEAD's Content-Length is no body */
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)j->max_bytes);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->call->error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, j);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
    set_method(e, call);
}

static int prepare(http_client_t *c, job_t *j)
{
    if (!valid_call(j->call, &j->idempotent))
        return HTTP_CLIENT_EINVAL;
    buf_t url = {0};
    buf_puts(&url, c->base_url);
    buf_puts(&url, j->call->path);
    if (url.failed)
        return HTTP_CLIENT_ENOMEM;
    j->url = buf_detach(&url);
    j->max_bytes = c->cfg.max_response_bytes;
    j->easy = curl_easy_init();
    if (!j->easy || build_headers(j->call, &j->headers) < 0)
        return HTTP_CLIENT_ENOMEM;
    set_options(c, j);
    return 0;
}

/* ---- running a batch ---------------------------------------------------- */

static void observe(batch_t *bt, job_t *j, double seconds)
{
    const http_client_config_t *cfg = &bt->c->cfg;
    if (cfg->observer)
        cfg->observer(cfg->observer_data, j->call->method, j->call->status, seconds, j->call->err);
}

/* msg NULL: keep what libcurl wrote into call->error, if anything. */
static void set_error(http_call_t *call, int err, const char *msg)
{
    call->err = err;
    if (msg)
        snprintf(call->error, sizeof call->error, "%s", msg);
    else if (!call->error[0])
        snprintf(call->error, sizeof call->error, "%s", http_client_strerror(err));
}

/* Ends the call, with err when not 0. */
static void finish(job_t *j, int err, const char *msg)
{
    http_call_t *call = j->call;
    if (err)
        set_error(call, err, msg);
    if (j->started)
        call->seconds = now_seconds() - j->started;
    j->state = JOB_DONE;
}

static void reset_outcome(job_t *j)
{
    http_call_t *call = j->call;
    http_call_free(call);
    call->status = 0;
    call->err = 0;
    call->error[0] = '\0';
    j->too_large = j->oom = false;
}

static void start_attempt(batch_t *bt, job_t *j)
{
    if (breaker_allow(&bt->c->breaker) < 0) {
        /* A refused retry keeps the outcome of the attempt before it. */
        bool first = j->call->attempts == 0;
        int saved = j->call->err, status = j->call->status;
        j->call->err = HTTP_CLIENT_EBREAKER;
        j->call->status = 0;
        observe(bt, j, 0);
        j->call->err = saved;
        j->call->status = status;
        finish(j, first ? HTTP_CLIENT_EBREAKER : 0, NULL);
        return;
    }
    reset_outcome(j);
    j->attempt_started = now_seconds();
    if (!j->started)
        j->started = j->attempt_started;
    if (curl_multi_add_handle(bt->multi, j->easy) != CURLM_OK) {
        /* Not the upstream's fault; the record frees a probe slot. */
        breaker_record(&bt->c->breaker, true);
        finish(j, HTTP_CLIENT_EINTERNAL, "cannot add the transfer to libcurl");
        return;
    }
    j->call->attempts++;
    j->state = JOB_RUNNING;
    bt->running++;
}

static int map_curl_error(const job_t *j, CURLcode rc)
{
    if (j->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        return HTTP_CLIENT_ETOOLARGE;
    if (j->oom || rc == CURLE_OUT_OF_MEMORY)
        return HTTP_CLIENT_ENOMEM;
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return HTTP_CLIENT_ECONNECT;
    case CURLE_OPERATION_TIMEDOUT: return HTTP_CLIENT_ETIMEOUT;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return HTTP_CLIENT_EINVAL;
    default: return HTTP_CLIENT_ETRANSPORT;
    }
}

static bool retryable(const job_t *j)
{
    int err = j->call->err, s = j->call->status;
    if (err)
        return err == HTTP_CLIENT_ECONNECT || err == HTTP_CLIENT_ETIMEOUT ||
               err == HTTP_CLIENT_ETRANSPORT;
    return s == 429 || s == 502 || s == 503 || s == 504;
}

static bool upstream_failed(const http_call_t *call)
{
    int err = call->err;
    return err == HTTP_CLIENT_ECONNECT || err == HTTP_CLIENT_ETIMEOUT ||
           err == HTTP_CLIENT_ETRANSPORT || (!err && call->status >= 500);
}

static void record_outcome(job_t *j, CURLcode rc)
{
    http_call_t *call = j->call;
    long connects = 0;
    curl_easy_getinfo(j->easy, CURLINFO_NUM_CONNECTS, &connects);
    call->connects += connects;
    if (rc != CURLE_OK) {
        int err = map_curl_error(j, rc);
        http_call_free(call); /* a part of an answer is no answer */
        if (err == HTTP_CLIENT_ETOOLARGE) {
            char msg[80];
            snprintf(msg, sizeof msg, "answer larger than %zu bytes", j->max_bytes);
            set_error(call, err, msg);
        } else {
            set_error(call, err, call->error[0] ? NULL : curl_easy_strerror(rc));
        }
        return;
    }
    long status = 0;
    char *type = NULL;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(j->easy, CURLINFO_CONTENT_TYPE, &type);
    call->status = (int)status;
    if (type && !(call->response_type = strdup(type)))
        set_error(call, HTTP_CLIENT_ENOMEM, NULL);
}

/* Full jitter: uniform in [0, min(cap, base * 2^(attempts-1))] ms. */
static double backoff_seconds(batch_t *bt, int attempts)
{
    const http_client_config_t *cfg = &bt->c->cfg;
    double ceiling = (double)cfg->backoff_base_ms;
    for (int i = 1; i < attempts && ceiling < (double)cfg->backoff_cap_ms; i++)
        ceiling *= 2;
    if (ceiling > (double)cfg->backoff_cap_ms)
        ceiling = (double)cfg->backoff_cap_ms;
    /* splitmix64: a batch-local generator needs no lock. */
    uint64_t z = (bt->rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return ceiling * ((double)(z >> 11) / (double)(UINT64_C(1) << 53)) / 1000.0;
}

static void attempt_done(batch_t *bt, job_t *j, CURLcode rc)
{
    curl_multi_remove_handle(bt->multi, j->easy);
    bt->running--;
    double seconds = now_seconds() - j->attempt_started;
    record_outcome(j, rc);
    breaker_record(&bt->c->breaker, !upstream_failed(j->call));
    observe(bt, j, seconds);
    if (j->idempotent && retryable(j) && j->call->attempts < bt->c->cfg.max_attempts) {
        j->state = JOB_WAITING;
        j->due = now_seconds() + backoff_seconds(bt, j->call->attempts);
        bt->waiting++;
        return;
    }
    finish(j, 0, NULL);
}

static void collect_done(batch_t *bt)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(bt->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        char *priv = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        job_t *j = (job_t *)(void *)priv;
        /* msg is invalid once the handle is removed. */
        attempt_done(bt, j, msg->data.result);
    }
}

static void start_due(batch_t *bt)
{
    double now = now_seconds();
    for (size_t i = 0; i < bt->n; i++) {
        job_t *j = &bt->jobs[i];
        if (j->state == JOB_WAITING && j->due <= now) {
            bt->waiting--;
            start_attempt(bt, j);
        }
    }
}

/* How long to sleep in curl_multi_poll: until libcurl's next timeout or
 * the next retry, whichever comes first. */
static int wait_ms(batch_t *bt)
{
    long tmo = -1;
    curl_multi_timeout(bt->multi, &tmo);
    double ms = tmo >= 0 ? (double)tmo : 1000;
    double now = now_seconds();
    for (size_t i = 0; i < bt->n; i++) {
        const job_t *j = &bt->jobs[i];
        if (j->state == JOB_WAITING && (j->due - now) * 1000 < ms)
            ms = (j->due - now) * 1000;
    }
    return ms <= 0 ? 0 : (int)ms + 1;
}

/* libcurl itself failed: every transfer in flight ends with an error. */
static void abort_running(batch_t *bt)
{
    for (size_t i = 0; i < bt->n; i++) {
        job_t *j = &bt->jobs[i];
        if (j->state == JOB_DONE)
            continue;
        if (j->state == JOB_RUNNING) {
            curl_multi_remove_handle(bt->multi, j->easy);
            breaker_record(&bt->c->breaker, true);
        }
        finish(j, HTTP_CLIENT_EINTERNAL, "libcurl multi interface failed");
    }
    bt->running = bt->waiting = 0;
}

static void drive(batch_t *bt)
{
    while (bt->running || bt->waiting) {
        int still;
        if (curl_multi_perform(bt->multi, &still) != CURLM_OK) {
            abort_running(bt);
            return;
        }
        collect_done(bt);
        start_due(bt);
        if (!bt->running && !bt->waiting)
            return;
        int ms = wait_ms(bt);
        if (ms > 0 && curl_multi_poll(bt->multi, NULL, 0, ms, NULL) != CURLM_OK) {
            abort_running(bt);
            return;
        }
    }
}

static void start_all(batch_t *bt)
{
    for (size_t i = 0; i < bt->n; i++) {
        job_t *j = &bt->jobs[i];
        http_call_t *call = j->call;
        *call = (http_call_t){
            .method = call->method, .path = call->path, .body = call->body,
            .body_len = call->body_len, .content_type = call->content_type,
            .authorization = call->authorization, .traceparent = call->traceparent,
            .timeout_ms = call->timeout_ms};
        int rc = bt->multi ? prepare(bt->c, j) : HTTP_CLIENT_ENOMEM;
        if (rc < 0)
            finish(j, rc, NULL);
        else
            start_attempt(bt, j);
    }
}

static void free_jobs(batch_t *bt)
{
    for (size_t i = 0; i < bt->n; i++) {
        job_t *j = &bt->jobs[i];
        if (j->easy)
            curl_easy_cleanup(j->easy);
        curl_slist_free_all(j->headers);
        free(j->url);
    }
    free(bt->jobs);
}

static int first_error(const http_call_t *calls, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (calls[i].err)
            return calls[i].err;
    return 0;
}

int http_client_run(http_client_t *c, http_call_t *calls, size_t n)
{
    if (!c || (!calls && n) || n > HTTP_CLIENT_MAX_BATCH)
        return HTTP_CLIENT_EINVAL;
    if (!n)
        return 0;
    batch_t bt = {.c = c, .n = n};
    bt.jobs = calloc(n, sizeof *bt.jobs);
    if (!bt.jobs)
        return HTTP_CLIENT_ENOMEM;
    for (size_t i = 0; i < n; i++)
        bt.jobs[i].call = &calls[i];
    bt.rng = (uint64_t)(now_seconds() * 1e9) ^ (uint64_t)(uintptr_t)&bt;
    bt.multi = pool_take(c);
    start_all(&bt);
    drive(&bt);
    /* The easy handles go first: the multi handle keeps their connections. */
    free_jobs(&bt);
    if (bt.multi)
        pool_put(c, bt.multi);
    return first_error(calls, n);
}
