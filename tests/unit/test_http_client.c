/* test_http_client.c - tests of lib/http_client.c against a real HTTP
 * server started in the test with lib/http_server.h; no mocks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h> /* needs the four headers above included first */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"
#include "http_server.h"

/* ---- the server --------------------------------------------------------- */

/* A /slow request is deferred and answered by a thread of its own, so a
 * sleeping request holds none of the server's workers. */
typedef struct sleeper {
    pthread_t tid;
    http_deferred_t *deferred;
    long ms;
    struct sleeper *next;
} sleeper_t;

#define MAX_KEYS 64

static struct {
    http_server_t *server;
    char base_url[64];
    pthread_mutex_t lock; /* sleepers and keys */
    sleeper_t *sleepers;
    struct {
        char name[32];
        long seen;
    } keys[MAX_KEYS];
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER};

typedef struct query {
    long ms, n, code, bytes;
    char key[32];
} query_t;

static int on_query(void *ud, const char *key, const char *value, int has_nul)
{
    query_t *q = ud;
    if (!value || has_nul)
        return 0;
    if (strcmp(key, "key") == 0)
        snprintf(q->key, sizeof q->key, "%s", value);
    else if (strcmp(key, "ms") == 0)
        q->ms = atol(value);
    else if (strcmp(key, "n") == 0)
        q->n = atol(value);
    else if (strcmp(key, "code") == 0)
        q->code = atol(value);
    else if (strcmp(key, "bytes") == 0)
        q->bytes = atol(value);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void *sleeper_run(void *arg)
{
    sleeper_t *s = arg;
    sleep_ms(s->ms);
    http_response_t res = {.status = 200, .content_type = "text/plain"};
    buf_puts(&res.body, "slow");
    http_deferred_finish(s->deferred, &res);
    return NULL;
}

static void serve_slow(http_request_t *req, http_response_t *res, long ms)
{
    sleeper_t *s = calloc(1, sizeof *s);
    if (!s) {
        res->status = 500;
        return;
    }
    s->ms = ms;
    s->deferred = http_request_defer(req);
    pthread_mutex_lock(&srv.lock);
    s->next = srv.sleepers;
    srv.sleepers = s;
    pthread_create(&s->tid, NULL, sleeper_run, s);
    pthread_mutex_unlock(&srv.lock);
}

/* How many requests came with this key before this one. */
static long key_seen(const char *key)
{
    long seen = -1;
    pthread_mutex_lock(&srv.lock);
    for (int i = 0; i < MAX_KEYS && seen < 0; i++) {
        if (!srv.keys[i].name[0])
            snprintf(srv.keys[i].name, sizeof srv.keys[i].name, "%s", key);
        if (strcmp(srv.keys[i].name, key) == 0)
            seen = srv.keys[i].seen++;
    }
    pthread_mutex_unlock(&srv.lock);
    return seen;
}

static void serve_echo(http_request_t *req, http_response_t *res)
{
    const char *auth = http_request_header(req, "Authorization");
    const char *trace = http_request_header(req, "traceparent");
    const char *type = http_request_header(req, "Content-Type");
    buf_printf(&res->body, "method=%s\nauthorization=%s\ntraceparent=%s\ncontent-type=%s\nbody=",
               req->method, auth ? auth : "-", trace ? trace : "-", type ? type : "-");
    buf_append(&res->body, req->body, req->body_len);
}

static void handler(void *ud, http_request_t *req, http_response_t *res)
{
    (void)ud;
    query_t q = {0};
    http_request_query_each(req, on_query, &q);
    res->status = 200;
    res->content_type = "text/plain";
    if (strcmp(req->path, "/ok") == 0) {
        buf_puts(&res->body, "ok");
    } else if (strcmp(req->path, "/slow") == 0) {
        serve_slow(req, res, q.ms);
    } else if (strcmp(req->path, "/fail-then-ok") == 0) {
        bool fail = key_seen(q.key) < q.n;
        res->status = fail ? 503 : 200;
        buf_puts(&res->body, fail ? "unavailable" : "ok");
    } else if (strcmp(req->path, "/big") == 0) {
        for (long i = 0; i < q.bytes; i++)
            buf_putc(&res->body, 'x');
    } else if (strcmp(req->path, "/echo") == 0) {
        serve_echo(req, res);
    } else if (strcmp(req->path, "/status") == 0) {
        res->status = (int)q.code;
        buf_printf(&res->body, "status %ld", q.code);
    } else {
        res->status = 404;
    }
}

static int start_server(int port, http_server_t **out)
{
    char err[256];
    http_server_config_t cfg = {.host = "127.0.0.1", .port = port, .threads = 4,
                                .max_connections = 512, .connection_timeout = 30,
                                .max_body_bytes = 1 << 20, .handler = handler};
    return http_server_start(&cfg, out, err, sizeof err);
}

static int group_setup(void **state)
{
    (void)state;
    if (start_server(0, &srv.server) < 0)
        return -1;
    snprintf(srv.base_url, sizeof srv.base_url, "http://127.0.0.1:%d",
             http_server_port(srv.server));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    /* Every deferred request is answered before the server stops. */
    while (srv.sleepers) {
        sleeper_t *s = srv.sleepers;
        srv.sleepers = s->next;
        pthread_join(s->tid, NULL);
        free(s);
    }
    http_server_stop(srv.server);
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

/* A port on which nothing listens: bound once by the kernel's choice, then
 * closed without ever listening, so it is free and refuses connections. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static http_client_t *new_client(http_client_config_t cfg)
{
    if (!cfg.base_url)
        cfg.base_url = srv.base_url;
    /* Short backoff keeps the retry tests quick. */
    if (!cfg.backoff_base_ms)
        cfg.backoff_base_ms = 5;
    http_client_t *c = NULL;
    char err[256] = "";
    int rc = http_client_new(&cfg, &c, err, sizeof err);
    if (rc < 0)
        fail_msg("http_client_new: %s", err);
    return c;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Observes attempts; the atomics let batches of many threads report. */
typedef struct observed {
    atomic_int attempts;
    atomic_int refused;
    int statuses[16]; /* of the first attempts, in order, for one-thread tests */
} observed_t;

static void observer(void *ud, const char *method, int status, double seconds, int err)
{
    observed_t *o = ud;
    (void)method;
    (void)seconds;
    if (err == HTTP_CLIENT_EBREAKER) {
        o->refused++;
        return;
    }
    int i = o->attempts++;
    if (i < 16)
        o->statuses[i] = status;
}

static http_call_t get(const char *path)
{
    return (http_call_t){.method = "GET", .path = path};
}

/* ---- tests -------------------------------------------------------------- */

static void test_get(void **state)
{
    (void)state;
    http_client_t *c = new_client((http_client_config_t){0});
    http_call_t call = get("/ok");
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(call.status, 200);
    assert_int_equal(call.err, 0);
    assert_string_equal(call.error, "");
    assert_int_equal(call.response.len, 2);
    assert_string_equal(call.response.data, "ok");
    assert_string_equal(call.response_type, "text/plain");
    assert_int_equal(call.attempts, 1);
    assert_true(call.seconds > 0 && call.seconds < 5);
    assert_int_equal(call.connects, 1);
    http_call_free(&call);

    /* A 404 is an answer like any other. */
    call = get("/nowhere");
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(call.status, 404);
    assert_int_equal(call.attempts, 1);
    http_call_free(&call);
    http_client_free(c);
}

static void test_post_body_and_headers(void **state)
{
    (void)state;
    http_client_t *c = new_client((http_client_config_t){.base_url = srv.base_url});
    static const char body[] = "{\"title\":\"Hello\",\"x\":\"\\u0000\"}";
    http_call_t call = {.method = "POST", .path = "/echo", .body = body,
                        .body_len = sizeof body - 1, .content_type = "application/json",
                        .authorization = "Bearer s3cret",
                        .traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"};
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(call.status, 200);
    assert_string_equal(call.response.data,
                        "method=POST\nauthorization=Bearer s3cret\n"
                        "traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n"
                        "content-type=application/json\n"
                        "body={\"title\":\"Hello\",\"x\":\"\\u0000\"}");
    http_call_free(&call);

    /* No header that was not asked for; a POST without a body has none. */
    call = (http_call_t){.method = "POST", .path = "/echo"};
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_string_equal(call.response.data, "method=POST\nauthorization=-\ntraceparent=-\n"
                                            "content-type=-\nbody=");
    http_call_free(&call);
    http_client_free(c);
}

static void test_every_method(void **state)
{
    (void)state;
    http_client_t *c = new_client((http_client_config_t){0});
    const char *methods[] = {"GET", "PUT", "PATCH", "DELETE", "POST"};
    http_call_t calls[5];
    for (int i = 0; i < 5; i++)
        calls[i] = (http_call_t){.method = methods[i], .path = "/echo", .body = "b",
                                 .body_len = i == 0 ? 0 : 1, .content_type = "text/plain"};
    calls[0].body = NULL;
    calls[0].content_type = NULL;
    assert_int_equal(http_client_run(c, calls, 5), 0);
    for (int i = 0; i < 5; i++) {
        char expect[128];
        snprintf(expect, sizeof expect, "method=%s\n", methods[i]);
        assert_int_equal(calls[i].status, 200);
        assert_memory_equal(calls[i].response.data, expect, strlen(expect));
        assert_non_null(strstr(calls[i].response.data, i ? "body=b" : "body="));
        http_call_free(&calls[i]);
    }
    http_call_t head = {.method = "HEAD", .path = "/big?bytes=100"};
    assert_int_equal(http_client_run(c, &head, 1), 0);
    assert_int_equal(head.status, 200);
    assert_int_equal(head.response.len, 0);
    http_call_free(&head);
    http_client_free(c);
}

static void test_invalid_calls_fail_alone(void **state)
{
    (void)state;
    http_client_t *c = new_client((http_client_config_t){0});
    http_call_t calls[] = {
        {.method = "FETCH", .path = "/ok"},
        {.method = "GET", .path = "ok"},
        {.method = "GET", .path = "/o k"},
        {.method = "GET", .path = "/ok", .authorization = "x\r\nX-Injected: 1"},
        {.method = "GET", .path = "/ok"},
    };
    assert_int_equal(http_client_run(c, calls, 5), HTTP_CLIENT_EINVAL);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(calls[i].err, HTTP_CLIENT_EINVAL);
        assert_int_equal(calls[i].attempts, 0);
        assert_int_equal(calls[i].status, 0);
    }
    assert_int_equal(calls[4].status, 200);
    for (int i = 0; i < 5; i++)
        http_call_free(&calls[i]);
    assert_int_equal(http_client_run(c, NULL, 0), 0);
    assert_int_equal(http_client_run(c, NULL, 1), HTTP_CLIENT_EINVAL);

    http_client_t *bad = NULL;
    char err[128];
    http_client_config_t cfg = {.base_url = "ftp://x"};
    assert_int_equal(http_client_new(&cfg, &bad, err, sizeof err), HTTP_CLIENT_EINVAL);
    cfg = (http_client_config_t){.base_url = srv.base_url, .timeout_ms = -1};
    assert_int_equal(http_client_new(&cfg, &bad, err, sizeof err), HTTP_CLIENT_EINVAL);
    assert_null(bad);
    assert_string_equal(http_client_strerror(HTTP_CLIENT_EBREAKER), "circuit breaker open");
    http_client_free(c);
}

static void test_batch_runs_concurrently(void **state)
{
    (void)state;
    http_client_t *c = new_client((http_client_config_t){0});
    http_call_t one = get("/slow?ms=300");
    double t0 = now();
    assert_int_equal(http_client_run(c, &one, 1), 0);
    double single = now() - t0;
    assert_int_equal(one.status, 200);
    http_call_free(&one);

    http_call_t calls[10];
    for (int i = 0; i < 10; i++)
        calls[i] = get("/slow?ms=300");
    t0 = now();
    assert_int_equal(http_client_run(c, calls, 10), 0);
    double batch = now() - t0;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(calls[i].status, 200);
        assert_string_equal(calls[i].response.data, "slow");
        http_call_free(&calls[i]);
    }
    /* Sequential would be 10x; a generous margin against a loaded machine. */
    assert_true(batch >= 0.29);
    if (!(batch < 3 * single))
        fail_msg("batch of 10 took %.3f s, one call %.3f s", batch, single);
    http_client_free(c);
}

static void test_connections_are_reused(void **state)
{
    (void)state;
    http_client_t *c = new_client((http_client_config_t){0});
    http_call_t call = get("/ok");
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(call.connects, 1);
    http_call_free(&call);
    call = get("/ok");
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(call.status, 200);
    assert_int_equal(call.connects, 0);
    http_call_free(&call);

    /* A batch of three needs two more connections; the next batch none. */
    http_call_t calls[3] = {get("/slow?ms=50"), get("/slow?ms=50"), get("/slow?ms=50")};
    long opened = 0;
    assert_int_equal(http_client_run(c, calls, 3), 0);
    for (int i = 0; i < 3; i++) {
        opened += calls[i].connects;
        http_call_free(&calls[i]);
        calls[i] = get("/slow?ms=50");
    }
    assert_int_equal(opened, 2);
    assert_int_equal(http_client_run(c, calls, 3), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(calls[i].status, 200);
        assert_int_equal(calls[i].connects, 0);
        http_call_free(&calls[i]);
    }
    http_client_free(c);
}

static void test_connect_failure(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
    observed_t seen = {0};
    http_client_t *c = new_client((http_client_config_t){
        .base_url = url, .observer = observer, .observer_data = &seen});
    http_call_t call = get("/ok");
    assert_int_equal(http_client_run(c, &call, 1), HTTP_CLIENT_ECONNECT);
    assert_int_equal(call.err, HTTP_CLIENT_ECONNECT);
    assert_int_equal(call.status, 0);
    assert_int_equal(call.attempts, 3); /* a GET is retried */
    assert_int_equal(seen.attempts, 3);
    assert_true(strlen(call.error) > 0);
    assert_null(call.response.data);
    http_call_free(&call);

    call = (http_call_t){.method = "POST", .path = "/ok", .body = "x", .body_len = 1};
    assert_int_equal(http_client_run(c, &call, 1), HTTP_CLIENT_ECONNECT);
    assert_int_equal(call.attempts, 1);
    http_call_free(&call);
    http_client_free(c);
}

static void test_timeouts(void **state)
{
    (void)state;
    http_client_t *c = new_client((http_client_config_t){.timeout_ms = 200, .max_attempts = 1});
    http_call_t call = get("/slow?ms=1000");
    double t0 = now();
    assert_int_equal(http_client_run(c, &call, 1), HTTP_CLIENT_ETIMEOUT);
    double took = now() - t0;
    assert_int_equal(call.err, HTTP_CLIENT_ETIMEOUT);
    assert_int_equal(call.status, 0);
    assert_int_equal(call.attempts, 1);
    assert_true(took >= 0.19 && took < 0.8);
    http_call_free(&call);
    /* The client is still usable after an aborted transfer. */
    call = get("/ok");
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(call.status, 200);
    http_call_free(&call);
    http_client_free(c);

    /* The per-call override, and a GET retried after each timeout. */
    c = new_client((http_client_config_t){0});
    call = get("/slow?ms=1000");
    call.timeout_ms = 150;
    t0 = now();
    assert_int_equal(http_client_run(c, &call, 1), HTTP_CLIENT_ETIMEOUT);
    took = now() - t0;
    assert_int_equal(call.attempts, 3);
    assert_true(took >= 0.44 && took < 0.95);
    assert_true(call.seconds >= 0.44 && call.seconds <= took);
    http_call_free(&call);
    http_client_free(c);
}

static void test_get_retried_until_success(void **state)
{
    (void)state;
    observed_t seen = {0};
    http_client_t *c =
        new_client((http_client_config_t){.observer = observer, .observer_data = &seen});
    http_call_t call = get("/fail-then-ok?key=retry-get&n=2");
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(call.status, 200);
    assert_string_equal(call.response.data, "ok");
    assert_int_equal(call.attempts, 3);
    assert_int_equal(seen.attempts, 3);
    assert_int_equal(seen.statuses[0], 503);
    assert_int_equal(seen.statuses[1], 503);
    assert_int_equal(seen.statuses[2], 200);
    http_call_free(&call);

    /* PUT and DELETE are idempotent too; 429 is retried like 503. */
    call = (http_call_t){.method = "PUT", .path = "/fail-then-ok?key=retry-put&n=1",
                         .body = "{}", .body_len = 2, .content_type = "application/json"};
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(call.status, 200);
    assert_int_equal(call.attempts, 2);
    http_call_free(&call);
    call = (http_call_t){.method = "DELETE", .path = "/fail-then-ok?key=retry-del&n=1"};
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(call.attempts, 2);
    http_call_free(&call);
    call = get("/status?code=429");
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(call.status, 429);
    assert_int_equal(call.attempts, 3);
    http_call_free(&call);
    http_client_free(c);
}

static void test_post_and_patch_not_retried(void **state)
{
    (void)state;
    http_client_t *c = new_client((http_client_config_t){0});
    const char *methods[] = {"POST", "PATCH"};
    const char *paths[] = {"/fail-then-ok?key=no-retry-post&n=1",
                           "/fail-then-ok?key=no-retry-patch&n=1"};
    for (int i = 0; i < 2; i++) {
        http_call_t call = {.method = methods[i], .path = paths[i], .body = "{}", .body_len = 2,
                            .content_type = "application/json"};
        assert_int_equal(http_client_run(c, &call, 1), 0);
        assert_int_equal(call.status, 503);
        assert_int_equal(call.attempts, 1);
        http_call_free(&call);
        /* The server saw exactly one request: the next one passes. */
        call = get(paths[i]);
        assert_int_equal(http_client_run(c, &call, 1), 0);
        assert_int_equal(call.status, 200);
        assert_int_equal(call.attempts, 1);
        http_call_free(&call);
    }
    http_client_free(c);
}

static void test_retry_gives_up(void **state)
{
    (void)state;
    http_client_t *c = new_client((http_client_config_t){0});
    http_call_t call = get("/fail-then-ok?key=give-up&n=100");
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(call.status, 503);
    assert_int_equal(call.err, 0);
    assert_int_equal(call.attempts, 3);
    assert_string_equal(call.response.data, "unavailable");
    http_call_free(&call);
    http_client_free(c);

    /* Five 503 in a row would open a default breaker for the calls after. */
    c = new_client((http_client_config_t){.max_attempts = 5, .breaker.failure_threshold = 100});
    call = get("/fail-then-ok?key=give-up-5&n=100");
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(call.attempts, 5);
    http_call_free(&call);
    /* Statuses that are not transient are not retried. */
    const char *final[] = {"/status?code=500", "/status?code=404", "/status?code=400"};
    for (int i = 0; i < 3; i++) {
        call = get(final[i]);
        assert_int_equal(http_client_run(c, &call, 1), 0);
        assert_int_equal(call.attempts, 1);
        http_call_free(&call);
    }
    http_client_free(c);
}

static void test_waiting_retry_does_not_block_the_batch(void **state)
{
    (void)state;
    /* Each retry of the first call waits up to 400 ms; the others finish
     * meanwhile. With a 400 ms base two full-jitter waits could both be
     * near 0, so the test looks at the fast calls only. */
    http_client_t *c = new_client((http_client_config_t){.backoff_base_ms = 400,
                                                         .backoff_cap_ms = 400});
    http_call_t calls[4] = {get("/fail-then-ok?key=batch-retry&n=2"), get("/ok"),
                            get("/slow?ms=100"), get("/ok")};
    assert_int_equal(http_client_run(c, calls, 4), 0);
    assert_int_equal(calls[0].status, 200);
    assert_int_equal(calls[0].attempts, 3);
    assert_true(calls[1].seconds < 0.1);
    assert_true(calls[2].seconds < 0.3);
    assert_true(calls[3].seconds < 0.1);
    for (int i = 0; i < 4; i++)
        http_call_free(&calls[i]);
    http_client_free(c);
}

static void mark_done(void *data)
{
    *(atomic_int *)data = 1;
}

static void test_stop_cuts_calls_short(void **state)
{
    (void)state;
    http_client_t *c = new_client((http_client_config_t){0});
    http_call_t call = get("/slow?ms=5000");
    atomic_int done = 0;
    assert_int_equal(http_client_submit(c, &call, 1, mark_done, &done), 0);
    usleep(100 * 1000);
    double t0 = now();
    http_client_stop(c);
    /* The call ended at once, its callback ran before stop returned. */
    assert_true(now() - t0 < 1.0);
    assert_int_equal(atomic_load(&done), 1);
    assert_int_equal(call.err, HTTP_CLIENT_ESTOPPED);
    assert_int_equal(call.status, 0);
    http_call_free(&call);
    /* A stopped client refuses at once; stopping again changes nothing. */
    http_client_stop(c);
    call = get("/ok");
    assert_int_equal(http_client_run(c, &call, 1), HTTP_CLIENT_ESTOPPED);
    assert_int_equal(http_client_submit(c, &call, 1, mark_done, &done), HTTP_CLIENT_ESTOPPED);
    http_call_free(&call);
    http_client_free(c);
}

/* An upstream that answers each connection's first request, keeping it
 * alive, and closes it 100 ms later while the client holds it idle. */
typedef struct closer {
    int listen_fd;
    int connections;
} closer_t;

static void *closer_run(void *arg)
{
    closer_t *cl = arg;
    for (int i = 0; i < cl->connections; i++) {
        int fd = accept(cl->listen_fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        char req[2048];
        size_t len = 0;
        ssize_t n;
        while (len < sizeof req - 1 && (n = read(fd, req + len, sizeof req - 1 - len)) > 0) {
            len += (size_t)n;
            req[len] = '\0';
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        if (write(fd, answer, sizeof answer - 1) < 0) {
        }
        sleep_ms(100);
        close(fd);
    }
    return NULL;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Kept-alive sockets stay in the loop's epoll set between calls; one the
 * upstream closes meanwhile must neither make the loop spin nor be
 * reused. */
static void test_idle_connection_closed_by_upstream(void **state)
{
    (void)state;
    closer_t cl = {.listen_fd = socket(AF_INET, SOCK_STREAM, 0), .connections = 2};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(cl.listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(cl.listen_fd, 4), 0);
    assert_int_equal(getsockname(cl.listen_fd, (struct sockaddr *)&a, &alen), 0);
    pthread_t tid;
    pthread_create(&tid, NULL, closer_run, &cl);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    http_client_t *c = new_client((http_client_config_t){.base_url = url, .max_attempts = 1});

    http_call_t call = get("/first");
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(call.status, 200);
    assert_int_equal(call.connects, 1);
    http_call_free(&call);
    sleep_ms(200); /* the upstream has closed the idle connection */
    double cpu = cpu_seconds();
    sleep_ms(500);
    assert_true(cpu_seconds() - cpu < 0.1); /* the loop did not spin on the dead socket */

    call = get("/second");
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(call.status, 200);
    assert_int_equal(call.connects, 1); /* a new connection, not the dead one */
    http_call_free(&call);
    http_client_free(c);
    pthread_join(tid, NULL);
    close(cl.listen_fd);
}

static void test_response_size_limit(void **state)
{
    (void)state;
    http_client_t *c = new_client((http_client_config_t){.max_response_bytes = 1000});
    http_call_t call = get("/big?bytes=1000");
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(call.status, 200);
    assert_int_equal(call.response.len, 1000);
    http_call_free(&call);

    call = get("/big?bytes=1001");
    assert_int_equal(http_client_run(c, &call, 1), HTTP_CLIENT_ETOOLARGE);
    assert_int_equal(call.err, HTTP_CLIENT_ETOOLARGE);
    assert_int_equal(call.status, 0);
    assert_int_equal(call.attempts, 1);
    assert_null(call.response.data);
    assert_non_null(strstr(call.error, "1000"));
    http_call_free(&call);

    call = get("/big?bytes=200000");
    assert_int_equal(http_client_run(c, &call, 1), HTTP_CLIENT_ETOOLARGE);
    http_call_free(&call);
    /* A refusal is not the upstream's failure. */
    assert_int_equal(http_client_breaker_state(c), BREAKER_CLOSED);
    http_client_free(c);
}

static void test_breaker_opens_fails_fast_and_recovers(void **state)
{
    (void)state;
    int port = closed_port();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    observed_t seen = {0};
    http_client_t *c = new_client((http_client_config_t){
        .base_url = url, .max_attempts = 1, .observer = observer, .observer_data = &seen,
        .breaker = {.failure_threshold = 3, .open_seconds = 0.3}});
    for (int i = 0; i < 3; i++) {
        assert_int_equal(http_client_breaker_state(c), BREAKER_CLOSED);
        http_call_t call = get("/ok");
        assert_int_equal(http_client_run(c, &call, 1), HTTP_CLIENT_ECONNECT);
        http_call_free(&call);
    }
    assert_int_equal(http_client_breaker_state(c), BREAKER_OPEN);
    assert_int_equal(seen.attempts, 3);

    /* Open: refused without a request; a whole batch in well under a
     * millisecond each. */
    http_call_t calls[20];
    for (int i = 0; i < 20; i++)
        calls[i] = get("/ok");
    double t0 = now();
    assert_int_equal(http_client_run(c, calls, 20), HTTP_CLIENT_EBREAKER);
    double took = now() - t0;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(calls[i].err, HTTP_CLIENT_EBREAKER);
        assert_int_equal(calls[i].attempts, 0);
        assert_int_equal(calls[i].connects, 0);
        assert_true(calls[i].seconds < 0.01);
        http_call_free(&calls[i]);
    }
    assert_true(took < 0.05);
    assert_int_equal(seen.attempts, 3);
    assert_int_equal(seen.refused, 20);

    /* The upstream comes back on the same port; after the period one
     * probe goes through and closes the breaker. */
    http_server_t *back = NULL;
    assert_int_equal(start_server(port, &back), 0);
    sleep_ms(350);
    http_call_t call = get("/ok");
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(call.status, 200);
    assert_int_equal(call.attempts, 1);
    assert_int_equal(http_client_breaker_state(c), BREAKER_CLOSED);
    http_call_free(&call);
    http_server_stop(back);
    http_client_free(c);
}

static void test_breaker_counts_5xx_and_probe_failure_reopens(void **state)
{
    (void)state;
    http_client_t *c = new_client((http_client_config_t){
        .max_attempts = 1, .breaker = {.failure_threshold = 2, .open_seconds = 0.2}});
    http_call_t calls[2] = {get("/status?code=500"), get("/status?code=502")};
    assert_int_equal(http_client_run(c, calls, 2), 0);
    http_call_free(&calls[0]);
    http_call_free(&calls[1]);
    assert_int_equal(http_client_breaker_state(c), BREAKER_OPEN);
    sleep_ms(250);
    /* In the half-open batch only the first call probes; it fails. */
    calls[0] = get("/status?code=503");
    calls[1] = get("/ok");
    assert_int_equal(http_client_run(c, calls, 2), HTTP_CLIENT_EBREAKER);
    assert_int_equal(calls[0].status, 503);
    assert_int_equal(calls[1].err, HTTP_CLIENT_EBREAKER);
    http_call_free(&calls[0]);
    http_call_free(&calls[1]);
    assert_int_equal(http_client_breaker_state(c), BREAKER_OPEN);
    sleep_ms(250);
    http_call_t call = get("/status?code=404");
    assert_int_equal(http_client_run(c, &call, 1), 0);
    assert_int_equal(http_client_breaker_state(c), BREAKER_CLOSED);
    http_call_free(&call);
    http_client_free(c);
}

#define THREADS 8
#define ROUNDS 25

typedef struct worker {
    http_client_t *c;
    int id;
    long calls, connects;
} worker_t;

/* cmocka's asserts longjmp and so must not run off the main thread: a
 * worker returns how many of its calls went wrong. */
static void *worker_run(void *arg)
{
    worker_t *w = arg;
    intptr_t wrong = 0;
    for (int r = 0; r < ROUNDS; r++) {
        char trace[3][64];
        http_call_t calls[3];
        for (int i = 0; i < 3; i++) {
            snprintf(trace[i], sizeof trace[i], "00-%032d-%016d-01", w->id, r * 3 + i);
            calls[i] = (http_call_t){.method = "GET", .path = "/echo", .traceparent = trace[i]};
        }
        if (http_client_run(w->c, calls, 3) != 0)
            wrong++;
        for (int i = 0; i < 3; i++) {
            if (calls[i].status != 200 || !calls[i].response.data ||
                !strstr(calls[i].response.data, trace[i]))
                wrong++;
            w->calls++;
            w->connects += calls[i].connects;
            http_call_free(&calls[i]);
        }
    }
    return (void *)wrong;
}

static void test_many_threads_share_one_client(void **state)
{
    (void)state;
    observed_t seen = {0};
    http_client_t *c =
        new_client((http_client_config_t){.observer = observer, .observer_data = &seen});
    pthread_t tid[THREADS];
    worker_t w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_t){.c = c, .id = i};
        assert_int_equal(pthread_create(&tid[i], NULL, worker_run, &w[i]), 0);
    }
    long calls = 0, connects = 0;
    for (int i = 0; i < THREADS; i++) {
        void *wrong;
        pthread_join(tid[i], &wrong);
        assert_null(wrong);
        calls += w[i].calls;
        connects += w[i].connects;
    }
    assert_int_equal(calls, THREADS * ROUNDS * 3);
    assert_int_equal(seen.attempts, calls);
    /* Kept-alive connections serve most calls. */
    assert_true(connects <= THREADS * 3 * 2);
    http_client_free(c);
}

/* What libcurl would refuse on every call is refused when configured. */
static void test_check_url(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(http_client_check_url("http://127.0.0.1:5000", err, sizeof err), 0);
    assert_int_equal(http_client_check_url("https://rest.example/base", err, sizeof err), 0);
    static const char *const bad[] = {NULL, "", "ftp://x", "127.0.0.1:5000", "http://",
                                      "http://127.0.0.1:99999", "http://:80", "http://a b"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        err[0] = 0;
        if (http_client_check_url(bad[k], err, sizeof err) != HTTP_CLIENT_EINVAL)
            fail_msg("'%s' passed", bad[k] ? bad[k] : "(null)");
        assert_true(err[0] != 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_url),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_post_body_and_headers),
        cmocka_unit_test(test_every_method),
        cmocka_unit_test(test_invalid_calls_fail_alone),
        cmocka_unit_test(test_batch_runs_concurrently),
        cmocka_unit_test(test_connections_are_reused),
        cmocka_unit_test(test_connect_failure),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_get_retried_until_success),
        cmocka_unit_test(test_post_and_patch_not_retried),
        cmocka_unit_test(test_retry_gives_up),
        cmocka_unit_test(test_waiting_retry_does_not_block_the_batch),
        cmocka_unit_test(test_stop_cuts_calls_short),
        cmocka_unit_test(test_idle_connection_closed_by_upstream),
        cmocka_unit_test(test_response_size_limit),
        cmocka_unit_test(test_breaker_opens_fails_fast_and_recovers),
        cmocka_unit_test(test_breaker_counts_5xx_and_probe_failure_reopens),
        cmocka_unit_test(test_many_threads_share_one_client),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
