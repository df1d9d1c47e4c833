/* inproc_rest.h - a real REST core inside a unit test: the core's own
 * modules (routes, validation, an in-memory SQLite store) serve HTTP on a
 * loopback port, for the tests of what talks to it (the gateway's
 * resolvers, the sync daemon's applier). Fails the test when it cannot
 * start. */
#ifndef INPROC_REST_H
#define INPROC_REST_H

#include "api.h"
#include "http_server.h"
#include "metrics.h"
#include "store.h"

typedef struct inproc_rest {
    metrics_registry_t *reg; /* the REST core's metrics */
    store_pool_t *pool;
    api_t *api;
    http_server_t *server; /* NULL once stopped */
    char base_url[64];     /* "http://127.0.0.1:PORT" */
} inproc_rest_t;

void inproc_rest_start(inproc_rest_t *r);
/* Stops serving; the store stays until inproc_rest_free. */
void inproc_rest_stop(inproc_rest_t *r);
void inproc_rest_free(inproc_rest_t *r);

#endif
