/* request.h - GraphQL over HTTP, the request side: which media type to
 * answer in (the Accept header), and the GraphQL request a POST body or a
 * GET query string carries ({query, operationName, variables, extensions}),
 * with the statuses the GraphQL-over-HTTP specification gives for each way
 * a request can be malformed. The endpoint (graphql/server.c) calls these
 * before anything is parsed as GraphQL. */
#ifndef GQL_REQUEST_H
#define GQL_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

typedef enum gql_media {
    GQL_MEDIA_JSON,             /* application/json: the legacy format, always 200 */
    GQL_MEDIA_GRAPHQL_RESPONSE, /* application/graphql-response+json: 4xx for bad requests */
} gql_media_t;

/* A refused request: the HTTP status and one sentence for the client. */
typedef struct gql_request_error {
    int status;
    char message[160];
} gql_request_error_t;

typedef struct gql_http_request {
    const char *query;          /* borrowed from json or from the caller; NUL-terminated */
    size_t query_len;
    const char *operation_name; /* NULL: none */
    const cJSON *variables;     /* an object, or NULL: none */
    const cJSON *extensions;    /* an object, or NULL: none */
    cJSON *json;                /* owned: what the strings above point into */
} gql_http_request_t;

/* Chooses the answer's media type from an Accept header (NULL: absent,
 * which means application/json). Media ranges with q-values are honoured;
 * application/graphql-response+json wins a tie. Returns 0, or -1 with a 406
 * in err when neither type is acceptable. */
int gql_request_negotiate(const char *accept, gql_media_t *out, gql_request_error_t *err);

/* The request of a POST: content_type must be application/json (a charset
 * other than utf-8 is refused with 415), body a JSON object with a string
 * "query" and optional operationName (string or null), variables and
 * extensions (object or null); anything else is 400. On success the caller
 * frees with gql_request_free.
 *
 * A body that is a JSON array is a batch of such objects (as Apollo's
 * clients send them): with max_batch 0 it is refused with 400, else it
 * holds 1 to max_batch items, GQL_REQUEST_BATCH is returned, out->json is
 * the array and out->query NULL, and gql_request_batch_item reads each. */
#define GQL_REQUEST_BATCH 1
int gql_request_from_post(const char *content_type, const char *body, size_t len,
                          size_t max_batch, gql_http_request_t *out, gql_request_error_t *err);

/* Item i of a batch (0 <= i < cJSON_GetArraySize(batch->json)); out
 * borrows from batch and needs no freeing. An item that is not a request
 * object is refused with 400 in err. */
int gql_request_batch_item(const gql_http_request_t *batch, size_t i, gql_http_request_t *out,
                           gql_request_error_t *err);

/* The request of a GET from its decoded query parameters (NULL: absent);
 * variables and extensions are JSON texts. */
int gql_request_from_get(const char *query, const char *operation_name, const char *variables,
                         const char *extensions, gql_http_request_t *out,
                         gql_request_error_t *err);

void gql_request_free(gql_http_request_t *r);

#endif
