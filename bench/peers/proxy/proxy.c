/* proxy.c - the floor of the benchmark's GraphQL figure: a forwarding proxy
 * with no GraphQL in it, built from the gateway's two libraries
 * (libmicrohttpd in front, libcurl behind) in the leanest shape they allow.
 *
 *   proxy PORT UPSTREAM_PORT curl|plain [THREADS]
 *
 * Every GET is passed to 127.0.0.1:UPSTREAM_PORT with the same path and
 * its answer returned as it came. Each thread runs one event loop holding
 * a libmicrohttpd daemon of its own (external epoll mode, the port shared
 * with SO_REUSEPORT) and the upstream sockets, so a request never changes
 * threads and no thread is woken for another's work:
 *   curl   libcurl's multi socket interface, sockets kept in the loop's
 *          epoll set between calls (as lib/http_client.c does);
 *   plain  64 kept-alive upstream connections per thread, the request
 *          written and the answer framed by hand (Content-Length only) —
 *          what the upstream side costs without libcurl.
 * bench/run.sh measures both against the REST core in the run that
 * measures the gateway. Not a product: no limits, no errors worth the
 * name; it exits on any surprise. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>

#define MAX_FDS 65536
#define PLAIN_CONNS 64

typedef struct settings {
    int port, upstream_port;
    bool plain;
} settings_t;

/* One upstream connection of the plain mode. */
typedef struct upstream {
    int fd;
    struct exchange *x; /* the request it carries, NULL when idle */
    char in[16384];
    size_t len;
} upstream_t;

/* What an epoll event points at. */
enum { EV_DAEMON, EV_CURL, EV_PLAIN };
typedef struct source {
    int kind;
    int fd;
    upstream_t *up;
} source_t;

typedef struct loop {
    const settings_t *set;
    int ep;
    struct MHD_Daemon *daemon;
    CURLM *multi;
    double curl_due;      /* when libcurl wants its timeout action, monotonic s; 0: none */
    source_t daemon_src;
    source_t *curl_src[MAX_FDS]; /* by descriptor; registered events in wanted */
    uint32_t curl_events[MAX_FDS];
    bool curl_wanted[MAX_FDS];
    upstream_t up[PLAIN_CONNS];
    source_t up_src[PLAIN_CONNS];
    bool resumed;
} loop_t;

/* One request while it waits for the upstream. */
typedef struct exchange {
    struct MHD_Connection *conn;
    CURL *easy;
    char url[512];
    char *body;
    size_t len, cap;
    long status;
    bool answered;
} exchange_t;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void append(exchange_t *x, const char *data, size_t n)
{
    if (x->len + n > x->cap) {
        x->cap = (x->len + n) * 2;
        if (!(x->body = realloc(x->body, x->cap)))
            die("realloc");
    }
    memcpy(x->body + x->len, data, n);
    x->len += n;
}

static void watch(loop_t *l, int op, int fd, uint32_t events, source_t *src)
{
    struct epoll_event ev = {.events = events, .data.ptr = src};
    if (epoll_ctl(l->ep, op, fd, &ev) < 0)
        die("epoll_ctl");
}

/* ---- curl mode ------------------------------------------------------------ */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    append(ud, data, size * nmemb);
    return size * nmemb;
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *ud, void *sp)
{
    (void)e;
    (void)sp;
    loop_t *l = ud;
    if (fd >= MAX_FDS)
        die("descriptor out of range");
    if (what == CURL_POLL_REMOVE) {
        l->curl_wanted[fd] = false;
        return 0;
    }
    uint32_t events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    l->curl_wanted[fd] = true;
    if (l->curl_events[fd] == events)
        return 0;
    if (!l->curl_src[fd] && !(l->curl_src[fd] = calloc(1, sizeof(source_t))))
        die("calloc");
    *l->curl_src[fd] = (source_t){.kind = EV_CURL, .fd = fd};
    watch(l, l->curl_events[fd] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, events, l->curl_src[fd]);
    l->curl_events[fd] = events;
    return 0;
}

static curl_socket_t on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)purpose;
    loop_t *l = ud;
    curl_socket_t fd = socket(a->family, a->socktype, a->protocol);
    if (fd >= 0 && fd < MAX_FDS) {
        l->curl_events[fd] = 0;
        l->curl_wanted[fd] = false;
    }
    return fd;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int on_timer(CURLM *m, long ms, void *ud)
{
    (void)m;
    ((loop_t *)ud)->curl_due = ms < 0 ? 0 : now() + (double)ms / 1000;
    return 0;
}

static void curl_start(loop_t *l, exchange_t *x, const char *path)
{
    snprintf(x->url, sizeof x->url, "http://127.0.0.1:%d%s", l->set->upstream_port, path);
    if (!(x->easy = curl_easy_init()))
        die("curl_easy_init");
    curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETDATA, l);
    curl_multi_add_handle(l->multi, x->easy);
}

static void curl_collect(loop_t *l)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(l->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        exchange_t *x = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &x->status);
        curl_multi_remove_handle(l->multi, e);
        curl_easy_cleanup(e);
        x->easy = NULL;
        x->answered = true;
        MHD_resume_connection(x->conn);
        l->resumed = true;
    }
}

static void curl_act(loop_t *l, int fd, uint32_t events)
{
    int running;
    int mask = (events & EPOLLIN ? CURL_CSELECT_IN : 0) | (events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
               (events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
    if (fd != CURL_SOCKET_TIMEOUT && !l->curl_wanted[fd]) {
        /* An idle kept-alive connection the upstream closed. */
        epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
        l->curl_events[fd] = 0;
        return;
    }
    curl_multi_socket_action(l->multi, fd, mask, &running);
    curl_collect(l);
}

/* ---- plain mode ----------------------------------------------------------- */

static void plain_connect(loop_t *l)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)l->set->upstream_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < PLAIN_CONNS; i++) {
        upstream_t *u = &l->up[i];
        int one = 1;
        if ((u->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
            connect(u->fd, (struct sockaddr *)&a, sizeof a) < 0)
            die("connect to the upstream");
        setsockopt(u->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(u->fd, F_SETFL, O_NONBLOCK);
        l->up_src[i] = (source_t){.kind = EV_PLAIN, .fd = u->fd, .up = u};
        watch(l, EPOLL_CTL_ADD, u->fd, EPOLLIN, &l->up_src[i]);
    }
}

static void plain_start(loop_t *l, exchange_t *x, const char *path)
{
    upstream_t *u = NULL;
    for (int i = 0; i < PLAIN_CONNS && !u; i++)
        if (!l->up[i].x)
            u = &l->up[i];
    if (!u) {
        fprintf(stderr, "proxy: more than %d requests at once on one thread\n", PLAIN_CONNS);
        exit(1);
    }
    char req[600];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", path,
                     l->set->upstream_port);
    if (n < 0 || (size_t)n >= sizeof req || send(u->fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        die("send to the upstream");
    u->x = x;
    u->len = 0;
}

static void plain_read(loop_t *l, upstream_t *u)
{
    ssize_t n = recv(u->fd, u->in + u->len, sizeof u->in - u->len, 0);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0 || !u->x)
        die("the upstream closed a connection");
    u->len += (size_t)n;
    char *end = memmem(u->in, u->len, "\r\n\r\n", 4);
    if (!end)
        return;
    size_t head = (size_t)(end - u->in) + 4;
    *end = '\0';
    const char *cl = strcasestr(u->in, "\r\nContent-Length:");
    size_t body = cl ? strtoul(cl + 17, NULL, 10) : 0;
    if (u->len < head + body) {
        *end = '\r';
        return;
    }
    exchange_t *x = u->x;
    x->status = strtol(u->in + 9, NULL, 10);
    append(x, u->in + head, body);
    u->x = NULL;
    x->answered = true;
    MHD_resume_connection(x->conn);
    l->resumed = true;
}

/* ---- the server side ------------------------------------------------------ */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **ctx)
{
    (void)method;
    (void)version;
    (void)data;
    loop_t *l = cls;
    exchange_t *x = *ctx;
    if (!x) {
        if (!(x = calloc(1, sizeof *x)))
            die("calloc");
        x->conn = conn;
        *ctx = x;
        return MHD_YES;
    }
    if (*size) {
        *size = 0;
        return MHD_YES;
    }
    if (!x->answered) {
        MHD_suspend_connection(conn);
        if (l->set->plain)
            plain_start(l, x, url);
        else
            curl_start(l, x, url);
        return MHD_YES;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(x->len, x->body, MHD_RESPMEM_MUST_FREE);
    x->body = NULL;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)x->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)conn;
    (void)why;
    exchange_t *x = *ctx;
    if (x) {
        free(x->body);
        free(x);
    }
    *ctx = NULL;
}

static int next_timeout(loop_t *l)
{
    int ms = 1000;
    MHD_UNSIGNED_LONG_LONG mhd_ms;
    if (MHD_get_timeout(l->daemon, &mhd_ms) == MHD_YES && mhd_ms < (MHD_UNSIGNED_LONG_LONG)ms)
        ms = (int)mhd_ms;
    if (l->curl_due) {
        double left = (l->curl_due - now()) * 1000;
        if (left < ms)
            ms = left > 0 ? (int)left + 1 : 0;
    }
    return ms;
}

static void *loop_main(void *arg)
{
    loop_t *l = arg;
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(l->ep, evs, 64, next_timeout(l));
        bool run_daemon = n == 0;
        for (int i = 0; i < n; i++) {
            source_t *src = evs[i].data.ptr;
            if (src->kind == EV_DAEMON)
                run_daemon = true;
            else if (src->kind == EV_CURL)
                curl_act(l, src->fd, evs[i].events);
            else
                plain_read(l, src->up);
        }
        if (run_daemon || l->resumed) {
            l->resumed = false;
            MHD_run(l->daemon);
        }
        /* Calls just added want libcurl's attention at once (a due time of now). */
        if (l->curl_due && l->curl_due <= now()) {
            l->curl_due = 0;
            curl_act(l, CURL_SOCKET_TIMEOUT, 0);
        }
    }
    return NULL;
}

static loop_t *loop_new(const settings_t *set, int port)
{
    loop_t *l = calloc(1, sizeof *l);
    if (!l || (l->ep = epoll_create1(0)) < 0)
        die("epoll_create1");
    l->set = set;
    l->daemon = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO,
                                 (uint16_t)port, NULL, NULL, on_request, l,
                                 MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
                                 MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_END);
    if (!l->daemon) {
        fprintf(stderr, "proxy: cannot listen on port %d\n", port);
        exit(1);
    }
    l->daemon_src = (source_t){.kind = EV_DAEMON};
    watch(l, EPOLL_CTL_ADD, MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd,
          EPOLLIN, &l->daemon_src);
    if (set->plain) {
        plain_connect(l);
    } else {
        if (!(l->multi = curl_multi_init()))
            die("curl_multi_init");
        curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
        curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, on_timer);
        curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
        curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, (long)PLAIN_CONNS);
    }
    return l;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[3], "curl") != 0 && strcmp(argv[3], "plain") != 0)) {
        fprintf(stderr, "usage: proxy PORT UPSTREAM_PORT curl|plain [THREADS]\n");
        return 2;
    }
    settings_t set = {.port = atoi(argv[1]), .upstream_port = atoi(argv[2]),
                      .plain = strcmp(argv[3], "plain") == 0};
    int threads = argc > 4 ? atoi(argv[4]) : 1;
    if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
        die("curl_global_init");
    pthread_t tid;
    for (int i = 0; i < threads; i++) {
        loop_t *l = loop_new(&set, set.port);
        if (pthread_create(&tid, NULL, loop_main, l) != 0)
            die("pthread_create");
    }
    for (;;)
        pause();
}
