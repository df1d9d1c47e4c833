/* api.h - the REST core's routes: a table of {template, method, handler}
 * rows checked before any handler runs (unknown route 404, wrong method 405
 * with Allow, a bearer token 401, body limits 413, content type 415), and the
 * handlers that turn validated requests into store calls. Every request is
 * counted and timed by route template in the metrics registry. */
#ifndef API_H
#define API_H

#include <stdint.h>

#include "article.h"
#include "auth.h"
#include "http_server.h"
#include "metrics.h"
#include "ops.h"
#include "store.h"

typedef struct api_config {
    int64_t max_limit;    /* largest ?limit= */
    int64_t max_bulk_ops; /* operations in one bulk request */
    int64_t max_body_bytes; /* for the 413 message; the HTTP glue enforces it */
    article_limits_t limits;
    struct writer *writer; /* group commit for SQLite, or NULL: writes run on the pool */
    const auth_t *auth;    /* bearer tokens, or NULL: no token is asked for (borrowed) */
    int auth_reads;        /* with auth: reads of /articles need a token too */
    const ops_token_t *metrics_token; /* what /metrics and /health need, or NULL or empty:
                                       * open (borrowed); API tokens never open them */
    int ops_listener;      /* /metrics and /health are served by api_handle_ops on a listener
                            * of their own (--metrics-port), and api_handle answers 404 */
} api_config_t;

typedef struct api api_t;

/* Borrows pool, reg, cfg->auth and cfg->metrics_token, which must outlive
 * the api. Returns NULL when memory ran out. */
api_t *api_new(const api_config_t *cfg, store_pool_t *pool, metrics_registry_t *reg);
void api_free(api_t *api);

/* The http_handler_fn of the REST core; user_data is the api_t. */
void api_handle(void *user_data, http_request_t *req, http_response_t *res);
/* The http_handler_fn of the listener of --metrics-port: /metrics and
 * /health, and 404 for every other path. */
void api_handle_ops(void *user_data, http_request_t *req, http_response_t *res);

/* What api_route_match answers besides 0. */
enum {
    API_ENOROUTE = -1, /* no route has this path: 404 */
    API_EMETHOD = -2,  /* the route exists but not with this method: 405 */
};

/* The route table's part of routing, on its own, for the fuzzer: finds the
 * route of path (percent-decoded, without the query string) and checks
 * method against it, HEAD counting as GET, as api_handle and api_handle_ops
 * do before they hide the other listener's routes (--metrics-port) and
 * check anything else. Does not depend on an api_t. Returns 0, API_EMETHOD or
 * API_ENOROUTE. With 0 or API_EMETHOD *route_template is the route's
 * template ("/articles/{id}", static), else NULL; for the {id} route
 * *id_seg and *id_len give the segment of path that query_parse_id reads
 * (borrowed from path), else NULL and 0. */
int api_route_match(const char *method, const char *path, const char **route_template,
                    const char **id_seg, size_t *id_len);

#endif
