/* introspection.h - the resolvers of __schema, __type(name:) and every field of the
 * introspection types (__Schema, __Type, __Field, __InputValue, __EnumValue, __Directive), as
 * graphql-js 16.8 answers them, read from the schema model. The executor calls them for
 * fields of those types, so introspection goes through the same field collection, argument
 * coercion and value completion as any other query.
 *
 * Values are cJSON nodes allocated in the execution's arena (never cJSON_Delete them): leaves
 * are ordinary cJSON strings, booleans and nulls; objects of the introspection types are
 * cJSON objects without members that carry the schema element they stand for, which only
 * these functions read. */
#ifndef GQL_INTROSPECTION_H
#define GQL_INTROSPECTION_H

#include <stdbool.h>

#include <cJSON.h>

#include "arena.h"
#include "schema.h"

/* The value of __schema. Returns 0 and *out, or GQL_ENOMEM. */
int gql_introspection_schema(const gql_schema_t *s, arena_t *a, const cJSON **out);

/* The value of __type(name:): the named type of the schema's type map, or a null node. */
int gql_introspection_type(const gql_schema_t *s, arena_t *a, const char *name,
                           const cJSON **out);

/* True for the introspection object types, whose fields gql_introspection_resolve answers. */
bool gql_introspection_is_meta_type(const gql_type_t *t);

/* The value of field (of parent, an introspection type) on source (a value these functions
 * made), args coerced (includeDeprecated). Returns 0 and *out, or GQL_ENOMEM. */
int gql_introspection_resolve(const gql_schema_t *s, arena_t *a, const gql_type_t *parent,
                              const gql_field_def_t *field, const cJSON *source,
                              const cJSON *args, const cJSON **out);

/* graphql-js's print(astFromValue(value, type)) for a default value given as a constant AST
 * literal: "20", "\"x\"", "[1, 2]", "{a: 1}". Returns the text in a, or NULL (no value, or
 * memory ran out). */
const char *gql_introspection_default_value(const gql_schema_t *s, arena_t *a,
                                            const gql_node_t *literal, const gql_type_t *type);

#endif
