/* values.h - GraphQL input coercion (specification, October 2021, sections 3.5, 3.10, 3.11,
 * 6.1.2 and 6.4.1) as graphql-js 16 does it: variable values from JSON (coerceVariableValues,
 * coerceInputValue, with its error messages), value literals and arguments from the AST
 * (valueFromAST, getArgumentValues), and the JavaScript-style printing of numbers and values
 * that those messages and the response need. The executor calls these; introspection uses the
 * literal coercion for default values.
 *
 * Coerced values are cJSON trees (caller deletes): Int and Float as numbers, String and ID as
 * strings, Boolean as booleans, enum values as their names, input objects as objects with
 * their fields in definition order. Messages live in the arena passed in. */
#ifndef GQL_VALUES_H
#define GQL_VALUES_H

#include <stddef.h>

#include <cJSON.h>

#include "arena.h"
#include "ast.h"
#include "buf.h"
#include "schema.h"

/* graphql-js stops coercing variables after this many errors. */
#define GQL_MAX_VARIABLE_ERRORS 50

typedef struct gql_value_error {
    const char *message;
    const gql_node_t *node; /* the variable definition; NULL: no location */
} gql_value_error_t;

typedef struct gql_value_errors {
    gql_value_error_t *items; /* in the arena */
    size_t n;
    size_t cap;
} gql_value_errors_t;

/* graphql-js's coerceVariableValues: the operation's variables from inputs (a JSON object, or
 * NULL: none). Returns 0 and *out (an object; caller deletes), GQL_EINVALID with errs filled
 * (and *out NULL), or GQL_ENOMEM. */
int gql_coerce_variables(const gql_schema_t *s, const gql_operation_definition_t *op,
                         const cJSON *inputs, arena_t *a, cJSON **out, gql_value_errors_t *errs);

/* graphql-js's valueFromAST: the literal node against type, variables from vars (coerced; a
 * member absent means not provided). Returns 0 and *out (caller deletes), 1 when the literal
 * is invalid (graphql-js's undefined), or GQL_ENOMEM. node NULL counts as invalid. */
int gql_value_from_ast(const gql_schema_t *s, const gql_node_t *node, const gql_type_t *type,
                       const cJSON *vars, cJSON **out);

/* graphql-js's getArgumentValues: the arguments (ARGUMENT nodes) against their definitions,
 * defaults applied. Returns 0 and *out (an object; caller deletes), GQL_EINVALID with *msg (in
 * a, graphql-js's message) and *at (the value node the error is located at; NULL: the field
 * or directive itself), or GQL_ENOMEM. */
int gql_coerce_arguments(const gql_schema_t *s, const gql_input_value_t *defs, size_t ndefs,
                         const gql_node_list_t *args, const cJSON *vars, arena_t *a, cJSON **out,
                         const char **msg, const gql_node_t **at);

/* Appends v as JavaScript's String(v) writes it: integers without ".0", shortest round-trip
 * digits, exponents from 1e21 and below 1e-6 ("1e+21", "1.5e-7"), NaN and Infinity by name. */
int gql_put_number(buf_t *b, double v);

/* Appends graphql-js's inspect(v): strings quoted as JSON, objects as { a: 1 }, lists as
 * [1, 2], nested beyond two levels as [Object] / [Array]. */
int gql_inspect(buf_t *b, const cJSON *v);

/* JavaScript's Number(string) for the result coercion of Int and Float: 0 and *out, or -1
 * when the text is not a number (NaN). */
int gql_js_number(const char *s, double *out);

#endif
