/* http_client.c - outbound HTTP on libcurl: one event loop thread per
 * client drives every call through one multi handle; retries with backoff,
 * the breaker; see http_client.h. */
#include "http_client.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/eventfd.h>

#include <curl/curl.h>

#include "log.h"

_Static_assert(HTTP_CLIENT_ERROR_SIZE >= CURL_ERROR_SIZE, "libcurl's error buffer must fit");

enum { JOB_NEW, JOB_DONE, JOB_RUNNING, JOB_WAITING };

/* Bytes libcurl reads from a connection at once, per call. */
#define HTTP_CLIENT_RECV_BUFFER 4096L

/* Easy handles kept for reuse: setting one up from scratch costs a few
 * kilobytes of cleared memory per call. */
#define HTTP_CLIENT_SPARE_EASY 64

/* One call while its batch runs. */
typedef struct job {
    struct batch *bt;
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

/* How one of libcurl's sockets sits in the loop's epoll set. A socket
 * curl stops watching (a kept-alive connection between calls) stays in
 * the set, so that the next call on it costs no epoll_ctl: two or three
 * system calls fewer per call. */
typedef struct watch {
    uint32_t events;  /* registered in epfd; 0: not registered */
    bool wanted;      /* libcurl wants to hear of it now */
} watch_t;

/* The calls of one http_client_submit(). */
typedef struct batch {
    job_t *jobs;
    size_t n;
    size_t pending; /* jobs not yet done */
    http_client_done_fn done;
    void *done_data;
    struct batch *next; /* in the submit queue, then in the loop's active list */
} batch_t;

struct http_client {
    http_client_config_t cfg; /* cfg.base_url points to base_url */
    char *base_url;
    breaker_t breaker;
    CURLM *multi;             /* the loop thread's */
    int epfd;                 /* the loop's epoll set: curl's sockets and wakefd */
    int wakefd;               /* eventfd that submitters write to wake the loop */
    watch_t *watches;         /* by descriptor: how each of curl's sockets sits in epfd */
    size_t nwatches;
    double timer_due;         /* when libcurl wants its timeout action; 0: none */
    pthread_t thread;
    pthread_mutex_t lock;     /* queue, stopping, sleeping, spare */
    batch_t *queue;           /* submitted, not yet taken by the loop (newest first) */
    bool stopping;
    bool joined;              /* http_client_stop() has taken the loop thread */
    bool sleeping;            /* the loop is (about to be) in epoll_wait */
    CURL *spare[HTTP_CLIENT_SPARE_EASY]; /* finished easy handles, reset, for reuse */
    int nspare;
    /* the loop thread's own */
    batch_t *active;
    uint64_t rng;
};

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
    case HTTP_CLIENT_ESTOPPED: return "the HTTP client is shutting down";
    default: return "unknown error";
    }
}

/* ---- client ------------------------------------------------------------ */

int http_client_check_url(const char *url, char *err, size_t errlen)
{
    if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        snprintf(err, errlen, "base URL must start with http:// or https://");
        return HTTP_CLIENT_EINVAL;
    }
    /* libcurl's own parser, so that what passes here is what it will use:
     * a URL it would refuse on every call (no host, port 99999) is a
     * configuration error now, not an outage later. */
    CURLU *h = curl_url();
    CURLUcode uc = h ? curl_url_set(h, CURLUPART_URL, url, 0) : CURLUE_OUT_OF_MEMORY;
    char *host = NULL;
    if (uc == CURLUE_OK)
        uc = curl_url_get(h, CURLUPART_HOST, &host, 0);
    int rc = 0;
    if (uc != CURLUE_OK || !host || !*host) {
        snprintf(err, errlen, "'%.100s' is not a usable URL: %s", url,
                 uc != CURLUE_OK ? curl_url_strerror(uc) : "it names no host");
        rc = HTTP_CLIENT_EINVAL;
    }
    curl_free(host);
    curl_url_cleanup(h);
    return rc;
}

static int check_config(const http_client_config_t *cfg, char *err, size_t errlen)
{
    int rc = http_client_check_url(cfg->base_url, err, errlen);
    if (rc < 0)
        return rc;
    if (cfg->connect_timeout_ms < 0 || cfg->timeout_ms < 0 || cfg->max_attempts < 0 ||
        cfg->backoff_base_ms < 0 || cfg->backoff_cap_ms < 0 || cfg->max_connections < 0 ||
        cfg->idle_seconds < 0) {
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
    if (!cfg->max_connections)
        cfg->max_connections = 64;
    if (!cfg->idle_seconds)
        cfg->idle_seconds = 20;
}

static void *loop_main(void *arg);
static CURL *take_easy(http_client_t *c);

/* The watch of descriptor fd, the table grown to hold it; NULL when
 * memory ran out. */
static watch_t *watch_of(http_client_t *c, curl_socket_t fd)
{
    if ((size_t)fd >= c->nwatches) {
        size_t n = c->nwatches ? c->nwatches : 64;
        while (n <= (size_t)fd)
            n *= 2;
        watch_t *w = realloc(c->watches, n * sizeof *w);
        if (!w)
            return NULL;
        memset(w + c->nwatches, 0, (n - c->nwatches) * sizeof *w);
        c->watches = w;
        c->nwatches = n;
    }
    return &c->watches[fd];
}

/* libcurl tells which of its sockets to watch for what (the multi socket
 * interface): only sockets with activity are then handed back to it, so
 * the cost of a loop turn does not grow with the calls in flight. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    http_client_t *c = userp;
    watch_t *w = watch_of(c, fd);
    if (!w)
        return -1;
    if (what == CURL_POLL_REMOVE) {
        w->wanted = false; /* left registered: see watch_t */
        return 0;
    }
    uint32_t events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    w->wanted = true;
    if (w->events == events)
        return 0;
    struct epoll_event ev = {.events = events, .data.fd = fd};
    int op = w->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(c->epfd, op, fd, &ev) < 0 &&
        epoll_ctl(c->epfd, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0)
        return -1;
    w->events = events;
    return 0;
}

/* libcurl opens its sockets through here. A descriptor number may come
 * back for a new socket once the old one is closed, however libcurl closed
 * it; the old socket left the epoll set with its close, so the new one
 * starts unregistered. */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *addr)
{
    (void)purpose;
    http_client_t *c = clientp;
    curl_socket_t fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    if (fd != CURL_SOCKET_BAD && (size_t)fd < c->nwatches)
        c->watches[fd] = (watch_t){0};
    return fd;
}

/* An event on a socket libcurl does not watch: an idle kept-alive
 * connection that the upstream closed (or wrote to). It leaves the set,
 * or it would wake the loop for ever; libcurl finds it dead when it next
 * looks at it. Returns whether the event is libcurl's. */
static bool wanted_event(http_client_t *c, int fd)
{
    if ((size_t)fd >= c->nwatches || c->watches[fd].wanted)
        return true;
    if (c->watches[fd].events) {
        epoll_ctl(c->epfd, EPOLL_CTL_DEL, fd, NULL);
        c->watches[fd].events = 0;
    }
    return false;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    http_client_t *c = userp;
    c->timer_due = timeout_ms < 0 ? 0 : now_seconds() + (double)timeout_ms / 1000.0;
    return 0;
}

static void close_fds(http_client_t *c)
{
    if (c->epfd >= 0)
        close(c->epfd);
    if (c->wakefd >= 0)
        close(c->wakefd);
}

static void wake_loop(http_client_t *c)
{
    uint64_t one = 1;
    /* A full counter (EAGAIN) wakes the loop just as well. */
    if (write(c->wakefd, &one, sizeof one) < 0) {
    }
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
    c->epfd = c->wakefd = -1;
    apply_defaults(&c->cfg);
    if (breaker_init(&c->breaker, &c->cfg.breaker) < 0) {
        snprintf(err, errlen, "bad circuit breaker settings");
        free(c);
        return HTTP_CLIENT_EINVAL;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->rng = (uint64_t)(now_seconds() * 1e9) ^ (uint64_t)(uintptr_t)c;
    /* Without the trailing slash, so that base + "/path" is one slash. */
    size_t len = strlen(cfg->base_url);
    while (len && cfg->base_url[len - 1] == '/')
        len--;
    c->base_url = strndup(cfg->base_url, len);
    c->cfg.base_url = c->base_url;
    c->multi = c->base_url ? curl_multi_init() : NULL;
    if (!c->multi) {
        snprintf(err, errlen, "out of memory");
        rc = HTTP_CLIENT_ENOMEM;
        goto fail;
    }
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    c->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = c->wakefd};
    if (c->epfd < 0 || c->wakefd < 0 || epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->wakefd, &ev) < 0) {
        snprintf(err, errlen, "cannot set up the HTTP client's event loop");
        rc = HTTP_CLIENT_EINTERNAL;
        goto fail;
    }
    /* Every call runs on this one handle, so its connection cache is the
     * pool of kept-alive connections to the upstream. Calls beyond the pool
     * wait for a connection rather than open one that the cache would close
     * again at once: a burst then costs no connection churn. */
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, c->cfg.max_connections);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, c->cfg.max_connections);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    if (pthread_create(&c->thread, NULL, loop_main, c) != 0) {
        snprintf(err, errlen, "cannot start the HTTP client's thread");
        rc = HTTP_CLIENT_EINTERNAL;
        goto fail;
    }
    *out = c;
    return 0;
fail:
    if (c->multi)
        curl_multi_cleanup(c->multi);
    close_fds(c);
    breaker_destroy(&c->breaker);
    pthread_mutex_destroy(&c->lock);
    free(c->base_url);
    free(c);
    return rc;
}

void http_client_stop(http_client_t *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    bool joined = c->joined;
    c->stopping = c->joined = true;
    pthread_mutex_unlock(&c->lock);
    if (joined)
        return;
    wake_loop(c);
    pthread_join(c->thread, NULL);
}

void http_client_free(http_client_t *c)
{
    if (!c)
        return;
    http_client_stop(c);
    for (int i = 0; i < c->nspare; i++)
        curl_easy_cleanup(c->spare[i]);
    curl_multi_cleanup(c->multi);
    close_fds(c);
    free(c->watches);
    pthread_mutex_destroy(&c->lock);
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

/* "Name: value", or "Name:" for an empty or NULL value (libcurl then drops
 * its own header of that name). */
static int add_header(struct curl_slist **list, const char *name, const char *value)
{
    char small[256];
    size_t nlen = strlen(name), vlen = value ? strlen(value) : 0;
    size_t need = nlen + 2 + vlen + 1;
    char *line = need <= sizeof small ? small : malloc(need);
    if (!line)
        return HTTP_CLIENT_ENOMEM;
    memcpy(line, name, nlen);
    line[nlen] = ':';
    size_t n = nlen + 1;
    if (vlen) {
        line[n++] = ' ';
        memcpy(line + n, value, vlen);
        n += vlen;
    }
    line[n] = '\0';
    struct curl_slist *l = curl_slist_append(*list, line);
    if (line != small)
        free(line);
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
    /* The upstream is named by its URL: a proxy from the environment
     * (http_proxy, all_proxy), meant for a person's outbound traffic, must
     * not take the calls elsewhere. It also spares a getenv() per call. */
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    /* Signals for timeouts would hit whichever thread; timeouts are kept
     * by the multi loop instead. */
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->cfg.connect_timeout_ms);
    long timeout_ms = call->timeout_ms ? call->timeout_ms : c->cfg.timeout_ms;
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, c->cfg.idle_seconds);
    /* libcurl's receive buffer (16 KiB by default) is held by every call
     * from its start, also while it waits for a free connection: with 64
     * clients each asking 10 articles, 640 of them. A REST answer is mostly
     * one article; a longer one takes a few more reads. */
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, HTTP_CLIENT_RECV_BUFFER);
    if (strcmp(call->method, "HEAD") != 0) /* a HEAD's Content-Length is no body */
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)j->max_bytes);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->call->error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, j);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, c);
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
    j->easy = take_easy(c);
    if (!j->easy || build_headers(j->call, &j->headers) < 0)
        return HTTP_CLIENT_ENOMEM;
    set_options(c, j);
    return 0;
}

/* ---- the loop ----------------------------------------------------------- */

static void observe(http_client_t *c, job_t *j, double seconds)
{
    if (c->cfg.observer)
        c->cfg.observer(c->cfg.observer_data, j->call->method, j->call->status, seconds,
                        j->call->err);
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
    j->bt->pending--;
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

static void start_attempt(http_client_t *c, job_t *j)
{
    if (breaker_allow(&c->breaker) < 0) {
        /* A refused retry keeps the outcome of the attempt before it. */
        bool first = j->call->attempts == 0;
        int saved = j->call->err, status = j->call->status;
        j->call->err = HTTP_CLIENT_EBREAKER;
        j->call->status = 0;
        observe(c, j, 0);
        j->call->err = saved;
        j->call->status = status;
        finish(j, first ? HTTP_CLIENT_EBREAKER : 0, NULL);
        return;
    }
    reset_outcome(j);
    j->attempt_started = now_seconds();
    if (!j->started)
        j->started = j->attempt_started;
    if (curl_multi_add_handle(c->multi, j->easy) != CURLM_OK) {
        /* Not the upstream's fault; the record frees a probe slot. */
        breaker_record(&c->breaker, true);
        finish(j, HTTP_CLIENT_EINTERNAL, "cannot add the transfer to libcurl");
        return;
    }
    j->call->attempts++;
    j->state = JOB_RUNNING;
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
static double backoff_seconds(http_client_t *c, int attempts)
{
    const http_client_config_t *cfg = &c->cfg;
    double ceiling = (double)cfg->backoff_base_ms;
    for (int i = 1; i < attempts && ceiling < (double)cfg->backoff_cap_ms; i++)
        ceiling *= 2;
    if (ceiling > (double)cfg->backoff_cap_ms)
        ceiling = (double)cfg->backoff_cap_ms;
    /* splitmix64: only the loop thread draws, so it needs no lock. */
    uint64_t z = (c->rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return ceiling * ((double)(z >> 11) / (double)(UINT64_C(1) << 53)) / 1000.0;
}

static void attempt_done(http_client_t *c, job_t *j, CURLcode rc)
{
    curl_multi_remove_handle(c->multi, j->easy);
    double seconds = now_seconds() - j->attempt_started;
    record_outcome(j, rc);
    breaker_record(&c->breaker, !upstream_failed(j->call));
    observe(c, j, seconds);
    if (j->idempotent && retryable(j) && j->call->attempts < c->cfg.max_attempts) {
        j->state = JOB_WAITING;
        j->due = now_seconds() + backoff_seconds(c, j->call->attempts);
        return;
    }
    finish(j, 0, NULL);
}

static void collect_done(http_client_t *c)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        char *priv = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        job_t *j = (job_t *)(void *)priv;
        /* msg is invalid once the handle is removed. */
        attempt_done(c, j, msg->data.result);
    }
}

/* Starts the retries that are due and returns the milliseconds until the
 * next one (or `ms` when none comes sooner). */
static double start_due(http_client_t *c, double ms)
{
    double now = now_seconds();
    for (batch_t *bt = c->active; bt; bt = bt->next) {
        for (size_t i = 0; i < bt->n; i++) {
            job_t *j = &bt->jobs[i];
            if (j->state != JOB_WAITING)
                continue;
            if (j->due <= now)
                start_attempt(c, j);
            else if ((j->due - now) * 1000 < ms)
                ms = (j->due - now) * 1000;
        }
    }
    return ms;
}

/* libcurl itself failed: every transfer in flight ends with an error. */
static void abort_running(http_client_t *c, int err, const char *msg)
{
    for (batch_t *bt = c->active; bt; bt = bt->next) {
        for (size_t i = 0; i < bt->n; i++) {
            job_t *j = &bt->jobs[i];
            if (j->state == JOB_DONE)
                continue;
            if (j->state == JOB_RUNNING) {
                curl_multi_remove_handle(c->multi, j->easy);
                breaker_record(&c->breaker, true);
            }
            finish(j, err, msg);
        }
    }
}

/* Keeps a finished easy handle for a later call, or frees it. */
static void release_easy(http_client_t *c, CURL *e)
{
    curl_easy_reset(e);
    pthread_mutex_lock(&c->lock);
    if (c->nspare < HTTP_CLIENT_SPARE_EASY) {
        c->spare[c->nspare++] = e;
        e = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    if (e)
        curl_easy_cleanup(e);
}

static CURL *take_easy(http_client_t *c)
{
    CURL *e = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->nspare)
        e = c->spare[--c->nspare];
    pthread_mutex_unlock(&c->lock);
    return e ? e : curl_easy_init();
}

static void free_batch(http_client_t *c, batch_t *bt)
{
    for (size_t i = 0; i < bt->n; i++) {
        job_t *j = &bt->jobs[i];
        if (j->easy)
            release_easy(c, j->easy);
        curl_slist_free_all(j->headers);
        free(j->url);
    }
    free(bt);
}

/* Hands every finished batch back to its submitter. */
static void reap(http_client_t *c)
{
    batch_t **link = &c->active;
    while (*link) {
        batch_t *bt = *link;
        if (bt->pending) {
            link = &bt->next;
            continue;
        }
        *link = bt->next;
        http_client_done_fn done = bt->done;
        void *data = bt->done_data;
        /* The easy handles go before the answer: the caller may free the
         * calls at once. The connections stay in the multi handle. */
        free_batch(c, bt);
        done(data);
    }
}

/* Takes the submitted batches into the active list, oldest first, and
 * starts their calls. Returns false when the client is stopping. */
static bool intake(http_client_t *c)
{
    pthread_mutex_lock(&c->lock);
    batch_t *in = c->queue;
    c->queue = NULL;
    c->sleeping = false;
    bool stopping = c->stopping;
    pthread_mutex_unlock(&c->lock);
    batch_t *ordered = NULL;
    while (in) {
        batch_t *next = in->next;
        in->next = ordered;
        ordered = in;
        in = next;
    }
    while (ordered) {
        batch_t *bt = ordered;
        ordered = bt->next;
        bt->next = c->active;
        c->active = bt;
        for (size_t i = 0; i < bt->n; i++)
            if (bt->jobs[i].state == JOB_NEW)
                start_attempt(c, &bt->jobs[i]);
    }
    return !stopping;
}

/* Submitters wake the loop only when it sleeps: a wake-up is two system
 * calls, and under load the loop is mostly awake anyway. */
static bool may_sleep(http_client_t *c)
{
    pthread_mutex_lock(&c->lock);
    bool idle = !c->queue && !c->stopping;
    c->sleeping = idle;
    pthread_mutex_unlock(&c->lock);
    return idle;
}

/* Hands libcurl what happened: sockets ready, or its timeout. */
static void socket_action(http_client_t *c, curl_socket_t fd, int mask)
{
    int still;
    if (curl_multi_socket_action(c->multi, fd, mask, &still) != CURLM_OK)
        abort_running(c, HTTP_CLIENT_EINTERNAL, "libcurl multi interface failed");
}

/* Waits at most ms for sockets (or a wake-up) and passes them on. */
static void wait_events(http_client_t *c, int ms)
{
    struct epoll_event evs[64];
    int n = epoll_wait(c->epfd, evs, 64, ms);
    for (int i = 0; i < n; i++) {
        int fd = evs[i].data.fd;
        if (fd == c->wakefd) {
            uint64_t v;
            if (read(c->wakefd, &v, sizeof v) < 0) {
                /* EAGAIN: another turn drained it */
            }
            continue;
        }
        if (!wanted_event(c, fd))
            continue;
        uint32_t e = evs[i].events;
        int mask = (e & EPOLLIN ? CURL_CSELECT_IN : 0) | (e & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                   (e & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        socket_action(c, fd, mask);
    }
}

static void *loop_main(void *arg)
{
    http_client_t *c = arg;
    bool running = true;
    while (running) {
        running = intake(c);
        if (c->timer_due && c->timer_due <= now_seconds()) {
            c->timer_due = 0;
            socket_action(c, CURL_SOCKET_TIMEOUT, 0);
        }
        collect_done(c);
        double ms = 1000;
        if (c->timer_due)
            ms = (c->timer_due - now_seconds()) * 1000;
        ms = start_due(c, ms);
        reap(c);
        if (!running)
            break;
        /* Retries just started and new calls want libcurl's attention now. */
        if (c->timer_due && c->timer_due <= now_seconds())
            ms = 0;
        wait_events(c, ms > 0 && may_sleep(c) ? (int)ms + 1 : 0);
        collect_done(c);
    }
    /* Whatever is still submitted or running ends now, so no submitter
     * waits forever. */
    intake(c);
    abort_running(c, HTTP_CLIENT_ESTOPPED, NULL);
    reap(c);
    return NULL;
}

/* ---- submitting --------------------------------------------------------- */

static void prepare_job(http_client_t *c, job_t *j)
{
    http_call_t *call = j->call;
    *call = (http_call_t){
        .method = call->method, .path = call->path, .body = call->body,
        .body_len = call->body_len, .content_type = call->content_type,
        .authorization = call->authorization, .traceparent = call->traceparent,
        .timeout_ms = call->timeout_ms};
    int rc = prepare(c, j);
    if (rc < 0) {
        set_error(call, rc, NULL);
        j->state = JOB_DONE;
        j->bt->pending--;
        return;
    }
    j->state = JOB_NEW; /* started by the loop as soon as it takes the batch in */
}

int http_client_submit(http_client_t *c, http_call_t *calls, size_t n, http_client_done_fn done,
                       void *done_data)
{
    if (!c || !done || (!calls && n) || n > HTTP_CLIENT_MAX_BATCH)
        return HTTP_CLIENT_EINVAL;
    batch_t *bt = calloc(1, sizeof *bt + n * sizeof(job_t));
    if (!bt)
        return HTTP_CLIENT_ENOMEM;
    bt->jobs = (job_t *)(bt + 1);
    bt->n = bt->pending = n;
    bt->done = done;
    bt->done_data = done_data;
    /* The easy handles are set up here, in the caller's thread, so that
     * the loop thread only moves bytes. */
    for (size_t i = 0; i < n; i++) {
        bt->jobs[i].bt = bt;
        bt->jobs[i].call = &calls[i];
        prepare_job(c, &bt->jobs[i]);
    }
    pthread_mutex_lock(&c->lock);
    bool stopping = c->stopping, sleeping = c->sleeping;
    if (!stopping) {
        bt->next = c->queue;
        c->queue = bt;
        c->sleeping = false; /* one wake-up is enough */
    }
    pthread_mutex_unlock(&c->lock);
    if (stopping) {
        free_batch(c, bt);
        return HTTP_CLIENT_ESTOPPED;
    }
    if (sleeping)
        wake_loop(c);
    return 0;
}

/* ---- waiting for a batch ------------------------------------------------ */

typedef struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
} waiter_t;

static void wake(void *data)
{
    waiter_t *w = data;
    pthread_mutex_lock(&w->lock);
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
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
    if (!n)
        return c ? 0 : HTTP_CLIENT_EINVAL;
    waiter_t w = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    int rc = http_client_submit(c, calls, n, wake, &w);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&w.lock);
    while (!w.done)
        pthread_cond_wait(&w.cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    return first_error(calls, n);
}
