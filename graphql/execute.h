/* execute.h - GraphQL execution (specification, October 2021, section 6):
 * operation selection, variable coercion, field collection with @skip and
 * @include, argument coercion, resolution through a resolver table, value
 * completion with null propagation for non-null fields, errors with message,
 * locations, path and extensions.code, mutation root fields in order,
 * __typename, and introspection (__schema, __type) answered from the schema
 * itself. The result is written as JSON text, ready to send.
 *
 * Resolvers see coerced arguments as cJSON values and return cJSON values
 * (the engine completes them against the field's type: scalars are coerced
 * as the specification's result coercion says, objects are read member by
 * member by the default resolver). Data fetching is the resolvers' affair;
 * the prepare hook lets them start every root field's fetch at once before
 * any is resolved (the gateway runs those REST calls in parallel).
 *
 * Ownership: everything of one execution lives in the request's arena,
 * except cJSON values, which the resolver hands over (the engine frees
 * them) and the output buffer, which the caller owns. */
#ifndef GQL_EXECUTE_H
#define GQL_EXECUTE_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "arena.h"
#include "ast.h"
#include "buf.h"
#include "schema.h"

typedef struct gql_exec gql_exec_t; /* one execution; opaque */

/* What a resolver knows about the field it resolves. */
typedef struct gql_field_info {
    const gql_type_t *parent_type;  /* the object type the field is read on */
    const gql_field_def_t *field;   /* its definition */
    const gql_field_t *node;        /* the first AST node of the field */
    const cJSON *args;              /* coerced arguments: an object, defaults applied */
    const cJSON *source;            /* the parent value (NULL on the root) */
    const char *response_key;       /* alias or name */
} gql_field_info_t;

/* A resolver returns 0 and *result (ownership passes to the engine; NULL
 * or a cJSON null means null), or a negative value after gql_exec_error()
 * recorded why. A root field's resolver may also return GQL_EXEC_SUSPENDED
 * (see below) when its answer is not in yet: the execution stops, and the
 * caller runs it again from the start once it is, the resolvers giving
 * the same answers as before to the fields already resolved. */
typedef int (*gql_resolve_fn)(gql_exec_t *ex, const gql_field_info_t *info, void *user_data,
                              cJSON **result);

typedef struct gql_resolver {
    const char *type_name;  /* "Query" */
    const char *field_name; /* "getArticle" */
    gql_resolve_fn fn;
} gql_resolver_t;

/* Called once before the root fields of a query operation are resolved,
 * with each root field's info (arguments coerced): a resolver layer may
 * start all their fetches together. Not called for mutations, whose root
 * fields run one after another as the specification requires.
 *
 * Returns 0 to go on, or GQL_EXEC_SUSPENDED to stop the execution before
 * any field is resolved: gql_execute then returns GQL_EXEC_SUSPENDED with
 * nothing written, and the caller runs it again, from the start, once the
 * fetches are in (the hook then returns 0). A server thus never waits for
 * the network while executing. */
#define GQL_EXEC_SUSPENDED 1
typedef int (*gql_prepare_fn)(gql_exec_t *ex, const gql_field_info_t *roots, size_t n,
                              void *user_data);

typedef struct gql_exec_options {
    const gql_resolver_t *resolvers; /* fields without one use the default resolver */
    size_t nresolvers;
    gql_prepare_fn prepare;          /* may be NULL */
    void *user_data;                 /* passed to resolvers and prepare */
    size_t max_list_items;           /* longest list a field may return (0: 10000) */
    bool allow_introspection;        /* false: __schema and __type are errors */
    /* Errors that are the server's fault, not the client's (a resolver's
     * value that does not fit the schema, a resolver failing without
     * saying why): when set, the client gets only INTERNAL_MESSAGE with
     * the code INTERNAL_SERVER_ERROR, and this gets the detail (to log). */
    void (*internal_error)(void *user_data, const char *detail);
} gql_exec_options_t;

#define GQL_INTERNAL_MESSAGE "Internal server error."
#define GQL_INTERNAL_CODE "INTERNAL_SERVER_ERROR"

/* The outcome, for the HTTP layer's status code and metrics. */
typedef struct gql_exec_result {
    bool request_error;   /* no operation ran: no such operation, bad variables */
    bool data_null;       /* "data" is null (a non-null root field failed) */
    size_t nerrors;
    const char *operation_type;  /* "query", "mutation", "subscription", or NULL */
    const char *operation_name;  /* NULL: anonymous or none selected */
    const char *first_error_code; /* extensions.code of the first error, or NULL */
} gql_exec_result_t;

/* Executes doc (parsed and validated) against schema and appends the JSON
 * response ({"data":...,"errors":[...]} with errors omitted when none) to
 * out. operation_name may be NULL; variables is a JSON object or NULL.
 * Returns 0 (also when the response holds errors: see res), GQL_EXEC_SUSPENDED
 * when the prepare hook asked for it, or GQL_ENOMEM. */
int gql_execute(const gql_schema_t *schema, const gql_document_t *doc, const char *operation_name,
                const cJSON *variables, const gql_exec_options_t *opt, arena_t *arena, buf_t *out,
                gql_exec_result_t *res);

/* The operation gql_execute would run (for the HTTP layer, which refuses
 * mutations over GET before executing), or NULL with a message in *why. */
const gql_operation_definition_t *gql_select_operation(const gql_document_t *doc,
                                                       const char *operation_name,
                                                       const char **why);

/* For resolvers: records a field error at the current field (its path and
 * locations are added by the engine) with extensions.code (may be NULL).
 * Returns -1 so a resolver can `return gql_exec_error(...)`. */
int gql_exec_error(gql_exec_t *ex, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The arena of the execution, for resolvers' scratch memory. */
arena_t *gql_exec_arena(gql_exec_t *ex);

#endif
