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
#include "store.h"

typedef struct api_config {
    int64_t max_limit;    /* largest ?limit= */
    int64_t max_bulk_ops; /* operations in one bulk request */
    int64_t max_body_bytes; /* for the 413 message; the HTTP glue enforces it */
    article_limits_t limits;
    struct writer *writer; /* group commit for SQLite, or NULL: writes run on the pool */
    const auth_t *auth;    /* bearer tokens, or NULL: no token is asked for (borrowed) */
    int auth_reads;        /* with auth: reads of /articles need a token too */
} api_config_t;

typedef struct api api_t;

/* Borrows pool, reg and cfg->auth, which must outlive the api. Returns NULL when
 * memory ran out. */
api_t *api_new(const api_config_t *cfg, store_pool_t *pool, metrics_registry_t *reg);
void api_free(api_t *api);

/* The http_handler_fn of the REST core; user_data is the api_t. */
void api_handle(void *user_data, http_request_t *req, http_response_t *res);

#endif
