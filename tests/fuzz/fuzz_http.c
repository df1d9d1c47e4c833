/* fuzz_http.c - libFuzzer target: raw bytes sent to the REST core as an
 * HTTP connection (libmicrohttpd's parsing, the route table, the query
 * string, body validation and the store on an in-memory SQLite database).
 * The answer, when there is one, must be a well-formed HTTP status line. */
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

static http_server_t *server;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    log_init("fuzz_http", "text", "error");
    metrics_registry_t *reg = metrics_new();
    metrics_add_process(reg);
    store_pool_t *pool = store_pool_new("sqlite::memory:", 1, err, sizeof err);
    if (!pool)
        abort();
    static const api_config_t cfg = {.max_limit = 1000, .max_bulk_ops = 50,
                                     .max_body_bytes = 65536, .limits = {200, 100, 1048576}};
    api_t *api = api_new(&cfg, pool, reg);
    http_server_config_t hc = {.host = "127.0.0.1", .port = 0, .threads = 1,
                               .max_connections = 64, .connection_timeout = 2,
                               .max_body_bytes = 65536, .handler = api_handle, .user_data = api};
    if (!api || http_server_start(&hc, &server, err, sizeof err) < 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fds[2];
    if (size > 60000 || socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
        return 0;
    if (http_server_add_connection(server, fds[0]) < 0) {
        close(fds[1]);
        return 0;
    }
    if (size && write(fds[1], data, size) < 0) {
        close(fds[1]);
        return 0;
    }
    shutdown(fds[1], SHUT_WR);
    char answer[4096];
    size_t got = 0;
    struct pollfd p = {.fd = fds[1], .events = POLLIN};
    while (got < sizeof answer && poll(&p, 1, 3000) > 0) {
        ssize_t n = read(fds[1], answer + got, sizeof answer - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fds[1]);
    if (got > 0 && (got < 12 || memcmp(answer, "HTTP/1.", 7) != 0))
        __builtin_trap();
    return 0;
}
