/* schema.h - a GraphQL schema (specification, October 2021, section 3) built
 * from SDL text, the model the validator, the executor and introspection
 * read. The gateway builds one at start-up from schema/articles.graphql, so
 * the schema lives in one file, not in C tables.
 *
 * Every schema holds, besides the types of its SDL, the built-in scalars
 * (Int, Float, String, Boolean, ID), the built-in directives (@include,
 * @skip, @deprecated, @specifiedBy) and the introspection types (__Schema,
 * __Type, __Field, __InputValue, __EnumValue, __Directive, __TypeKind,
 * __DirectiveLocation), so introspection needs no special casing in the
 * type system.
 *
 * Ownership: the schema owns everything reachable from it (one arena);
 * gql_schema_free() releases it all. A built schema is immutable and may be
 * read from any number of threads. */
#ifndef GQL_SCHEMA_H
#define GQL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "ast.h"
#include "lexer.h"

typedef enum gql_type_kind {
    GQL_TYPE_SCALAR,
    GQL_TYPE_OBJECT,
    GQL_TYPE_INTERFACE,
    GQL_TYPE_UNION,
    GQL_TYPE_ENUM,
    GQL_TYPE_INPUT_OBJECT,
    GQL_TYPE_LIST,     /* wrapper: of_type */
    GQL_TYPE_NON_NULL, /* wrapper: of_type, never itself NON_NULL */
} gql_type_kind_t;

typedef struct gql_type gql_type_t;

/* An argument of a field or directive, or a field of an input object. */
typedef struct gql_input_value {
    const char *name;
    const char *description; /* NULL: none */
    gql_type_t *type;
    const gql_node_t *default_value; /* constant AST value, NULL: none */
    bool deprecated;
    const char *deprecation_reason; /* NULL unless deprecated */
} gql_input_value_t;

typedef struct gql_field_def {
    const char *name;
    const char *description;
    gql_type_t *type;
    gql_input_value_t *args;
    size_t nargs;
    bool deprecated;
    const char *deprecation_reason;
} gql_field_def_t;

typedef struct gql_enum_value_def {
    const char *name;
    const char *description;
    bool deprecated;
    const char *deprecation_reason;
} gql_enum_value_def_t;

struct gql_type {
    gql_type_kind_t kind;
    const char *name;        /* NULL for LIST and NON_NULL */
    const char *description; /* NULL: none */
    gql_type_t *of_type;     /* LIST, NON_NULL */
    gql_field_def_t *fields; /* OBJECT, INTERFACE: in SDL order */
    size_t nfields;
    gql_input_value_t *input_fields; /* INPUT_OBJECT */
    size_t ninput_fields;
    gql_type_t **interfaces; /* OBJECT, INTERFACE: what it implements */
    size_t ninterfaces;
    gql_type_t **possible_types; /* UNION: members; INTERFACE: the object types implementing it */
    size_t npossible_types;
    gql_enum_value_def_t *enum_values; /* ENUM */
    size_t nenum_values;
    const char *specified_by_url; /* SCALAR, NULL: none */
    gql_type_t *list_of;     /* [this] when the SDL uses it, else NULL */
    gql_type_t *non_null_of; /* this! when the SDL uses it, else NULL */
    /* Named types: in graphql-js's schema.getTypeMap(), i.e. in gql_schema_t.type_map. False
     * only for a built-in scalar that nothing references (Float in a schema without floats):
     * graphql-js's introspection does not list it and its validation calls it unknown. */
    bool referenced;
    /* private: name lookup of fields (OBJECT, INTERFACE) or input fields when there are many */
    const void *field_index;
};

/* Directive locations as a bit set (the specification's DirectiveLocation). */
typedef enum gql_directive_location {
    GQL_DL_QUERY = 1u << 0,
    GQL_DL_MUTATION = 1u << 1,
    GQL_DL_SUBSCRIPTION = 1u << 2,
    GQL_DL_FIELD = 1u << 3,
    GQL_DL_FRAGMENT_DEFINITION = 1u << 4,
    GQL_DL_FRAGMENT_SPREAD = 1u << 5,
    GQL_DL_INLINE_FRAGMENT = 1u << 6,
    GQL_DL_VARIABLE_DEFINITION = 1u << 7,
    GQL_DL_SCHEMA = 1u << 8,
    GQL_DL_SCALAR = 1u << 9,
    GQL_DL_OBJECT = 1u << 10,
    GQL_DL_FIELD_DEFINITION = 1u << 11,
    GQL_DL_ARGUMENT_DEFINITION = 1u << 12,
    GQL_DL_INTERFACE = 1u << 13,
    GQL_DL_UNION = 1u << 14,
    GQL_DL_ENUM = 1u << 15,
    GQL_DL_ENUM_VALUE = 1u << 16,
    GQL_DL_INPUT_OBJECT = 1u << 17,
    GQL_DL_INPUT_FIELD_DEFINITION = 1u << 18,
} gql_directive_location_t;

typedef struct gql_directive_def {
    const char *name; /* without '@' */
    const char *description;
    gql_input_value_t *args;
    size_t nargs;
    uint32_t locations; /* gql_directive_location_t bits */
    bool repeatable;
} gql_directive_def_t;

typedef struct gql_schema {
    arena_t arena;
    const char *description;
    gql_type_t *query;        /* never NULL in a built schema */
    gql_type_t *mutation;     /* NULL: none */
    gql_type_t *subscription; /* NULL: none */
    gql_type_t **types;       /* every named type, SDL ones first in SDL order, then built-ins */
    size_t ntypes;
    /* The named types of graphql-js's schema.getTypeMap(), in its order, which is what
     * introspection's __Schema.types lists: the SDL's types in SDL order, each followed by the
     * built-ins it is the first to reference, then the rest of what the directives and __Schema
     * reach. Unreferenced built-in scalars are left out (see gql_type_t.referenced). */
    gql_type_t **type_map;
    size_t ntype_map;
    /* The SDL's first, then the built-ins (@include, @skip, @deprecated, @specifiedBy): the
     * order of graphql-js's schema.getDirectives() for a schema built from SDL. */
    gql_directive_def_t *directives;
    size_t ndirectives;
    /* private: name lookup */
    void *index;
} gql_schema_t;

/* Builds a schema from SDL text (borrowed). Checks what graphql-js's
 * buildSchema + validateSchema check: unknown types, duplicate names, fields
 * of the right kinds (output types for fields, input types for arguments and
 * input fields), interfaces implemented correctly, a query root, and
 * well-formed default values. Returns 0 and *out (caller frees with
 * gql_schema_free), or a negative GQL_E* code with err filled (message and
 * location in the SDL; err->message then lives in static or err_arena
 * memory, which the caller provides and frees; with err_arena NULL it is a
 * static "Invalid schema."). Invalid SDL gives GQL_ESCHEMA
 * and the first error only, in graphql-js's words, at the first location
 * graphql-js gives for it (line 0 when it gives none). Beyond graphql-js 16:
 * redefining a built-in type or directive, default values that do not fit
 * their type, and invalid arguments of any directive applied in the SDL are
 * errors too. */
int gql_schema_build(const char *sdl, size_t len, arena_t *err_arena, gql_schema_t **out,
                     gql_error_t *err);
void gql_schema_free(gql_schema_t *s);

/* Lookups by name (len bytes, not NUL-terminated); NULL when absent. Built-in
 * scalars are found even when unreferenced (check gql_type_t.referenced to
 * behave as graphql-js). */
gql_type_t *gql_schema_type(const gql_schema_t *s, const char *name, size_t len);
const gql_directive_def_t *gql_schema_directive(const gql_schema_t *s, const char *name,
                                                size_t len);
/* A field of an OBJECT or INTERFACE type, or NULL. Meta-fields (__typename,
 * and __schema and __type on the query root) are not fields of any type:
 * see gql_schema_meta_field. */
const gql_field_def_t *gql_type_field(const gql_type_t *t, const char *name, size_t len);
/* The definitions of __typename (any composite type), __schema and __type
 * (the query root only), or NULL when name is none of these or not allowed
 * on parent. */
const gql_field_def_t *gql_schema_meta_field(const gql_schema_t *s, const gql_type_t *parent,
                                             const char *name, size_t len);
const gql_input_value_t *gql_field_arg(const gql_field_def_t *f, const char *name, size_t len);
const gql_input_value_t *gql_input_field(const gql_type_t *t, const char *name, size_t len);

/* The type an AST type reference (NAMED_TYPE, LIST_TYPE, NON_NULL_TYPE)
 * denotes in s, or NULL when a name in it is unknown (or arena ran out).
 * Wrappers the schema already has (list_of, non_null_of) are reused; others
 * are made in arena (the request's), since a built schema is never written
 * again. So compare types with gql_type_equal, not by pointer. */
gql_type_t *gql_schema_type_from_ast(const gql_schema_t *s, const gql_node_t *type,
                                     arena_t *arena);

/* Classification, as the specification defines the terms. */
gql_type_t *gql_type_named(gql_type_t *t); /* strips LIST and NON_NULL */
bool gql_type_is_input(const gql_type_t *t);     /* scalar, enum, input object, or wrappers of them */
bool gql_type_is_output(const gql_type_t *t);    /* scalar, object, interface, union, enum, or wrappers */
/* The next three look at the named type under any wrappers, so [Int!] is a leaf type. */
bool gql_type_is_leaf(const gql_type_t *t);      /* scalar or enum (named) */
bool gql_type_is_composite(const gql_type_t *t); /* object, interface or union (named) */
bool gql_type_is_abstract(const gql_type_t *t);  /* interface or union (named) */
/* True when the named types obj is a possible type of abstract (or equal): a member of the
 * union, or an object or interface type implementing the interface (graphql-js's
 * schema.isSubType). */
bool gql_type_is_possible(const gql_type_t *abstract, const gql_type_t *obj);
/* The type written as in SDL ("[String!]!") into out (the caller's):
 * returns the length it wanted, like snprintf. */
size_t gql_type_print(const gql_type_t *t, char *out, size_t outlen);
/* graphql-js's isTypeSubTypeOf: maybe_sub may be used where super is
 * expected (non-null into nullable, list item-wise, object into an
 * interface or union it belongs to). */
bool gql_type_is_subtype(const gql_type_t *maybe_sub, const gql_type_t *super);
bool gql_type_equal(const gql_type_t *a, const gql_type_t *b);

#endif
