/* server.h - the GraphQL endpoint of bin/articles-graphql: GraphQL over
 * HTTP on /graphql (POST with JSON, GET for queries), /health (whether the
 * REST core answers) and /metrics. Each request is parsed, validated and
 * executed with the REST-backed resolvers; the client's Authorization and a
 * W3C traceparent (made when absent) go on to the REST core. */
#ifndef GQL_SERVER_H
#define GQL_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "http_client.h"
#include "cors.h"
#include "http_server.h"
#include "metrics.h"
#include "ops.h"
#include "schema.h"

typedef struct gateway_config {
    size_t max_document_bytes; /* GraphQL source text */
    size_t max_tokens;
    unsigned max_depth;        /* nesting of selections and values */
    size_t max_aliases;
    size_t max_root_fields;
    size_t max_batch;          /* operations in one batched POST (0: batches refused); the
                                * aliases and root fields of a batch's operations add up */
    size_t max_list_items;     /* longest list a field may answer */
    bool introspection;        /* __schema and __type allowed */
    bool playground;           /* a browser's GET on /graphql gets GraphiQL */
    cors_t cors;               /* origins whose pages may call /graphql */
    const ops_token_t *metrics_token; /* what /health and /metrics need, or NULL or empty:
                                       * open (borrowed) */
    bool ops_listener;         /* /health and /metrics are served by gateway_handle_ops on a
                                * listener of their own (--metrics-port); gateway_handle
                                * answers 404 for them */
} gateway_config_t;

typedef struct gateway gateway_t;

/* Borrows schema, client, reg and cfg->metrics_token, which must outlive
 * the gateway. NULL when memory ran out. */
gateway_t *gateway_new(const gateway_config_t *cfg, const gql_schema_t *schema,
                       http_client_t *client, metrics_registry_t *reg);
void gateway_free(gateway_t *g);

/* The http_handler_fn of the gateway; user_data is the gateway_t. */
void gateway_handle(void *user_data, http_request_t *req, http_response_t *res);
/* The http_handler_fn of the listener of --metrics-port: /health and
 * /metrics, and 404 for every other path. */
void gateway_handle_ops(void *user_data, http_request_t *req, http_response_t *res);

#endif
