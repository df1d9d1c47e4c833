/* report.c - the sync daemon's metrics endpoint, Pushgateway and textfile
 * output; see report.h. */
#include "report.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "breaker.h"

struct report_server {
    http_server_t *server;
    metrics_registry_t *reg;
    http_client_t *client;
    const ops_token_t *token;
};

static void handle(void *user_data, http_request_t *req, http_response_t *res)
{
    report_server_t *rs = user_data;
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    bool route = strcmp(req->path, "/metrics") == 0 || strcmp(req->path, "/health") == 0;
    int auth = route && get ? ops_check(rs->token, http_request_header(req, "Authorization"))
                            : OPS_OK;
    if (auth != OPS_OK) {
        res->content_type = "text/plain; charset=utf-8";
        buf_printf(&res->body, "%s\n", ops_strerror(auth));
        ops_challenge(res, auth);
    } else if (strcmp(req->path, "/metrics") == 0 && get) {
        res->status = 200;
        res->content_type = "text/plain; version=0.0.4; charset=utf-8";
        metrics_render(rs->reg, &res->body);
    } else if (strcmp(req->path, "/health") == 0 && get) {
        bool ok = !rs->client || http_client_breaker_state(rs->client) != BREAKER_OPEN;
        res->status = ok ? 200 : 503;
        res->content_type = "application/json";
        buf_puts(&res->body, ok ? "{\"status\":\"ok\"}"
                                : "{\"status\":\"unavailable\",\"rest\":\"unreachable\"}");
    } else {
        res->status = route ? 405 : 404;
        res->content_type = "text/plain; charset=utf-8";
        buf_puts(&res->body, res->status == 405 ? "use GET\n" : "routes: /metrics, /health\n");
        if (res->status == 405)
            http_response_header(res, "Allow", "GET, HEAD");
    }
}

int report_serve(const char *host, int port, metrics_registry_t *reg, http_client_t *client,
                 const ops_token_t *token, report_server_t **out, char *err, size_t errlen)
{
    report_server_t *rs = calloc(1, sizeof *rs);
    if (!rs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rs->reg = reg;
    rs->client = client;
    rs->token = token;
    http_server_config_t hc = {.host = host, .port = port, .threads = 1, .max_connections = 64,
                               .connection_timeout = 30, .max_body_bytes = 1024,
                               .handler = handle, .user_data = rs};
    if (http_server_start(&hc, &rs->server, err, errlen) < 0) {
        free(rs);
        return -1;
    }
    *out = rs;
    return 0;
}

void report_stop(report_server_t *rs)
{
    if (!rs)
        return;
    http_server_stop(rs->server);
    free(rs);
}

int report_push(const char *url, metrics_registry_t *reg, char *err, size_t errlen)
{
    http_client_t *c = NULL;
    http_client_config_t cfg = {.base_url = url, .timeout_ms = 5000};
    if (http_client_new(&cfg, &c, err, errlen) < 0)
        return -1;
    buf_t body = {0};
    metrics_render(reg, &body);
    http_call_t call = {.method = "PUT", .path = "/metrics/job/articles-sync", .body = body.data,
                        .body_len = body.len,
                        .content_type = "text/plain; version=0.0.4; charset=utf-8"};
    int rc = body.failed ? -1 : 0;
    if (rc == 0) {
        http_client_run(c, &call, 1);
        if (call.err) {
            snprintf(err, errlen, "cannot push to the Pushgateway at %s: %s", url, call.error);
            rc = -1;
        } else if (call.status / 100 != 2) {
            snprintf(err, errlen, "the Pushgateway at %s answered %d", url, call.status);
            rc = -1;
        }
    }
    http_call_free(&call);
    buf_free(&body);
    http_client_free(c);
    return rc;
}

int report_textfile(const char *path, metrics_registry_t *reg, char *err, size_t errlen)
{
    buf_t body = {0}, tmp = {0};
    metrics_render(reg, &body);
    buf_printf(&tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = body.failed || tmp.failed ? NULL : fopen(tmp.data, "w");
    bool ok = f && fwrite(body.data, 1, body.len, f) == body.len;
    if (f && fclose(f) != 0)
        ok = false;
    int rc = 0;
    if (!ok || rename(tmp.data, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %m", path);
        if (tmp.data)
            unlink(tmp.data);
        rc = -1;
    }
    buf_free(&body);
    buf_free(&tmp);
    return rc;
}
