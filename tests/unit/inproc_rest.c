/* inproc_rest.c - a real REST core inside a unit test; see inproc_rest.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include <stdio.h>

#include "inproc_rest.h"

void inproc_rest_start(inproc_rest_t *r)
{
    char err[256] = "";
    r->reg = metrics_new();
    r->pool = store_pool_new("sqlite::memory:", 1, err, sizeof err);
    if (!r->reg || !r->pool)
        fail_msg("in-process REST core: %s", err);
    static const api_config_t cfg = {.max_limit = 1000, .max_bulk_ops = 100,
                                     .max_body_bytes = 1 << 20, .limits = {200, 100, 1048576}};
    r->api = api_new(&cfg, r->pool, r->reg);
    assert_non_null(r->api);
    http_server_config_t hc = {.host = "127.0.0.1", .port = 0, .threads = 2,
                               .max_connections = 64, .connection_timeout = 5,
                               .max_body_bytes = 1 << 20, .handler = api_handle, .user_data = r->api};
    if (http_server_start(&hc, &r->server, err, sizeof err) < 0)
        fail_msg("in-process REST core: %s", err);
    snprintf(r->base_url, sizeof r->base_url, "http://127.0.0.1:%d", http_server_port(r->server));
}

void inproc_rest_stop(inproc_rest_t *r)
{
    http_server_stop(r->server);
    r->server = NULL;
}

void inproc_rest_free(inproc_rest_t *r)
{
    inproc_rest_stop(r);
    api_free(r->api);
    store_pool_free(r->pool);
    metrics_free(r->reg);
}
