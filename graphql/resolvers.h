/* resolvers.h - the gateway's resolvers: every field of
 * schema/articles.graphql answered through HTTP calls to the REST core,
 * never the database. Root fields of a query are fetched together (the
 * prepare hook runs their GETs in one concurrent batch) and identical GETs
 * within one request are made once. With ctx->suspend, a call that is not
 * in yet (a mutation's write, a GET the prepare hook did not make)
 * suspends the execution too, one call at a time, so that no server
 * thread waits for the REST core.
 *
 * REST answers map to GraphQL as the contract says: 404 on getArticle and
 * updateArticle is null, on deleteArticle false; a 400/422 problem is a
 * BAD_USER_INPUT error with the problem's detail, a 401 UNAUTHENTICATED, a
 * 403 FORBIDDEN; no answer, a 5xx or an open circuit breaker is
 * UPSTREAM_UNAVAILABLE. */
#ifndef GQL_RESOLVERS_H
#define GQL_RESOLVERS_H

#include <stdbool.h>
#include <stddef.h>

#include "execute.h"
#include "http_client.h"

/* Per GraphQL request: the upstream and what is passed on to it. */
typedef struct articles_ctx {
    http_client_t *client;     /* borrowed, shared by all requests */
    const char *authorization; /* the client's Authorization header, or NULL */
    const char *traceparent;   /* W3C traceparent to send, or NULL */
    bool suspend;              /* the execution is suspended rather than wait for the REST
                                * core (no server thread waits): see articles_submit */
    /* private: answers of this request's calls, GETs by path, writes by order */
    struct fetched *fetched;
    size_t nfetched;
    size_t writes_seen; /* writes met by this run of the operation */
    http_call_t *batch; /* the calls of the last suspension, until collected */
    size_t batch_first, batch_n;
} articles_ctx_t;

extern const gql_resolver_t articles_resolvers[];
extern const size_t articles_nresolvers;

/* The prepare hook of gql_exec_options_t; user_data is an articles_ctx_t.
 * It gathers the root fields' GETs (those already fetched for this request
 * are not repeated) and runs them together; with ctx->suspend it returns
 * GQL_EXEC_SUSPENDED instead, leaving them to articles_submit. */
int articles_prepare(gql_exec_t *ex, const gql_field_info_t *roots, size_t n, void *user_data);

/* Call before each run of gql_execute with ctx, the first and every one
 * after a suspension. */
void articles_begin(articles_ctx_t *ctx);

/* After a suspended execution: starts the gathered calls on the client,
 * done(done_data) runs from the client's thread when they are finished;
 * then call articles_collect and execute again. Returns 0, or a negative
 * HTTP_CLIENT_E* code when they could not start (done never runs; the
 * calls carry the error, so executing again reports it). */
int articles_submit(articles_ctx_t *ctx, http_client_done_fn done, void *done_data);
/* Takes the finished GETs of the last prepare into the request's answers. */
void articles_collect(articles_ctx_t *ctx);

/* Frees what a request's fetches hold; call after gql_execute. */
void articles_ctx_release(articles_ctx_t *ctx);

#endif
