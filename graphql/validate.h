/* validate.h - validation of executable GraphQL documents against a schema (specification,
 * October 2021, section 5): every rule of graphql-js 16's specifiedRules, with its messages,
 * locations and error order, plus the gateway's own limits. Runs between parsing and
 * execution; a document with errors is answered with them and never executed.
 *
 * Ownership: everything in the result (messages, location arrays) lives in the arena passed
 * to gql_validate and dies with it. The schema and document are borrowed, never written. */
#ifndef GQL_VALIDATE_H
#define GQL_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "ast.h"
#include "schema.h"

/* graphql-js's default maxErrors. */
#define GQL_VALIDATE_DEFAULT_MAX_ERRORS 100

/* Zero-initialised ({0}) or NULL: graphql-js's behaviour, no gateway limits. */
typedef struct gql_validate_options {
    /* At most this many errors are kept; one more ends validation with graphql-js's "Too many
     * validation errors, error limit reached. Validation aborted." (0: 100). */
    size_t max_errors;
    /* Gateway limits, each an extra rule run after the specification's; 0 turns it off. */
    size_t max_aliases;     /* aliased fields in the whole document */
    size_t max_root_fields; /* fields an operation selects at its root, fragments expanded */
    size_t max_depth;       /* nesting of fields in an operation, fragments expanded */
    size_t max_directives;  /* directives on one node (field, fragment, operation...) */
} gql_validate_options_t;

typedef struct gql_validation_location {
    uint32_t line;
    uint32_t column;
} gql_validation_location_t;

typedef struct gql_validation_error {
    const char *message;
    gql_validation_location_t *locations; /* in graphql-js's order; NULL when nlocations is 0 */
    size_t nlocations;
} gql_validation_error_t;

typedef struct gql_validation_result {
    gql_validation_error_t *errors; /* in the order graphql-js reports them */
    size_t nerrors;
    bool aborted; /* the error limit was reached: the last error says so */
    /* What the document spends of the limits that add up over a batch of
     * operations, counted while the limit is set: aliased fields, and the
     * most root fields an operation selects. */
    size_t aliases;
    size_t root_fields;
} gql_validation_result_t;

/* Validates doc against schema. Returns 0 when the document is valid (out->nerrors 0),
 * GQL_EINVALID when out holds errors, or GQL_ENOMEM when arena ran out (out then holds the
 * errors found so far). Cost: linear in the document for every rule but field merging, which
 * is bounded as validate_overlap.c explains. */
int gql_validate(const gql_schema_t *schema, const gql_document_t *doc,
                 const gql_validate_options_t *opt, arena_t *arena, gql_validation_result_t *out);

#endif
