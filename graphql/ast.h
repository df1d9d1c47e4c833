/* ast.h - the GraphQL abstract syntax tree (specification, October 2021, sections 2 and 3),
 * shaped like graphql-js's, and a visitor over it. The parser builds it; the validator, the
 * executor, the schema builder and the printer read it.
 *
 * Ownership: every node, list and string of a document lives in the arena it was parsed into
 * and dies with it; nothing here is freed on its own. Strings are NUL-terminated UTF-8 with a
 * length (string values may hold NULs written as \u0000).
 *
 * Every node starts with a gql_node_t, so a gql_node_t * converts to the node's own struct
 * once its kind is known, and back. Lists hold gql_node_t pointers; the comment on each list
 * says which kinds it holds. */
#ifndef GQL_AST_H
#define GQL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ast_kinds.h"

typedef enum gql_kind {
#define GQL_KIND_ENUM_(KIND, lower, name, type) GQL_KIND_##KIND,
    GQL_AST_KINDS(GQL_KIND_ENUM_)
#undef GQL_KIND_ENUM_
        GQL_KIND_COUNT
} gql_kind_t;

/* Where a node is: line and column of its first token (1-based, columns in UTF-16 code units
 * like graphql-js), and the byte offsets of its first and past its last token. */
typedef struct gql_loc {
    uint32_t line;
    uint32_t column;
    uint32_t start;
    uint32_t end;
} gql_loc_t;

typedef struct gql_node {
    gql_kind_t kind;
    gql_loc_t loc;
} gql_node_t;

typedef struct gql_node_list {
    gql_node_t **items;
    uint32_t count;
} gql_node_list_t;

typedef enum gql_operation_type {
    GQL_OPERATION_QUERY,
    GQL_OPERATION_MUTATION,
    GQL_OPERATION_SUBSCRIPTION,
} gql_operation_type_t;

/* A Name, embedded by value in the node that has it; absent (no alias, anonymous operation)
 * when value is NULL. */
typedef struct gql_name {
    gql_node_t base;
    const char *value;
    uint32_t len;
} gql_name_t;

typedef struct gql_selection_set {
    gql_node_t base;
    gql_node_list_t selections; /* FIELD, FRAGMENT_SPREAD, INLINE_FRAGMENT; never empty */
} gql_selection_set_t;

typedef struct gql_document {
    gql_node_t base;
    gql_node_list_t definitions; /* any *_DEFINITION or *_EXTENSION kind; never empty */
} gql_document_t;

typedef struct gql_variable {
    gql_node_t base;
    gql_name_t name; /* without the '$' */
} gql_variable_t;

typedef struct gql_operation_definition {
    gql_node_t base;
    gql_operation_type_t operation;       /* the shorthand "{ ... }" is a query */
    gql_name_t name;                      /* value NULL: anonymous */
    gql_node_list_t variable_definitions; /* VARIABLE_DEFINITION */
    gql_node_list_t directives;           /* DIRECTIVE */
    gql_selection_set_t *selection_set;
} gql_operation_definition_t;

typedef struct gql_variable_definition {
    gql_node_t base;
    gql_variable_t *variable;
    gql_node_t *type;           /* NAMED_TYPE, LIST_TYPE, NON_NULL_TYPE */
    gql_node_t *default_value;  /* a constant value, or NULL */
    gql_node_list_t directives; /* DIRECTIVE, constant arguments */
} gql_variable_definition_t;

typedef struct gql_field {
    gql_node_t base;
    gql_name_t alias; /* value NULL: no alias */
    gql_name_t name;
    gql_node_list_t arguments;          /* ARGUMENT */
    gql_node_list_t directives;         /* DIRECTIVE */
    gql_selection_set_t *selection_set; /* NULL for a leaf */
} gql_field_t;

/* An argument, or a field of an object value: the same shape. */
typedef struct gql_argument {
    gql_node_t base;
    gql_name_t name;
    gql_node_t *value; /* any value kind */
} gql_argument_t;
typedef gql_argument_t gql_object_field_t;

typedef struct gql_named_type {
    gql_node_t base;
    gql_name_t name;
} gql_named_type_t;

typedef struct gql_fragment_spread {
    gql_node_t base;
    gql_name_t name;
    gql_node_list_t directives; /* DIRECTIVE */
} gql_fragment_spread_t;

typedef struct gql_inline_fragment {
    gql_node_t base;
    gql_named_type_t *type_condition; /* NULL: none ("... @include(if: $x) { }") */
    gql_node_list_t directives;       /* DIRECTIVE */
    gql_selection_set_t *selection_set;
} gql_inline_fragment_t;

typedef struct gql_fragment_definition {
    gql_node_t base;
    gql_name_t name;
    gql_named_type_t *type_condition;
    gql_node_list_t directives; /* DIRECTIVE */
    gql_selection_set_t *selection_set;
} gql_fragment_definition_t;

/* IntValue, FloatValue, StringValue and EnumValue keep text: numbers as written (the executor
 * coerces them against their type), strings decoded (escapes resolved, block strings
 * dedented), enum values as their name. block is set for StringValues written """...""". */
typedef struct gql_text_value {
    gql_node_t base;
    const char *value;
    uint32_t len;
    bool block;
} gql_text_value_t;
typedef gql_text_value_t gql_int_value_t;
typedef gql_text_value_t gql_float_value_t;
typedef gql_text_value_t gql_string_value_t;
typedef gql_text_value_t gql_enum_value_t;

typedef struct gql_boolean_value {
    gql_node_t base;
    bool value;
} gql_boolean_value_t;

typedef struct gql_null_value {
    gql_node_t base;
} gql_null_value_t;

typedef struct gql_list_value {
    gql_node_t base;
    gql_node_list_t values; /* any value kind */
} gql_list_value_t;

typedef struct gql_object_value {
    gql_node_t base;
    gql_node_list_t fields; /* OBJECT_FIELD */
} gql_object_value_t;

typedef struct gql_directive {
    gql_node_t base;
    gql_name_t name;           /* without the '@' */
    gql_node_list_t arguments; /* ARGUMENT */
} gql_directive_t;

/* ListType and NonNullType: a type wrapped once. */
typedef struct gql_wrapping_type {
    gql_node_t base;
    gql_node_t *type; /* LIST_TYPE: any type kind; NON_NULL_TYPE: NAMED_TYPE or LIST_TYPE */
} gql_wrapping_type_t;
typedef gql_wrapping_type_t gql_list_type_t;
typedef gql_wrapping_type_t gql_non_null_type_t;

/* ---- type system ---- */

/* SchemaDefinition, and SchemaExtension (no description). */
typedef struct gql_schema_definition {
    gql_node_t base;
    gql_string_value_t *description; /* NULL: none */
    gql_node_list_t directives;      /* DIRECTIVE, constant arguments */
    gql_node_list_t operation_types; /* OPERATION_TYPE_DEFINITION */
} gql_schema_definition_t;

typedef struct gql_operation_type_definition {
    gql_node_t base;
    gql_operation_type_t operation;
    gql_named_type_t *type;
} gql_operation_type_definition_t;

/* Every named type definition and its extension: scalar, object, interface, union, enum and
 * input object. Lists that a kind does not have stay empty. Extensions have no description. */
typedef struct gql_type_definition {
    gql_node_t base;
    gql_string_value_t *description; /* NULL: none */
    gql_name_t name;
    gql_node_list_t interfaces; /* object, interface: NAMED_TYPE */
    gql_node_list_t directives; /* DIRECTIVE, constant arguments */
    gql_node_list_t fields;     /* object, interface: FIELD_DEFINITION;
                                   input object: INPUT_VALUE_DEFINITION */
    gql_node_list_t types;      /* union: NAMED_TYPE */
    gql_node_list_t values;     /* enum: ENUM_VALUE_DEFINITION */
} gql_type_definition_t;
typedef gql_type_definition_t gql_scalar_type_definition_t;
typedef gql_type_definition_t gql_object_type_definition_t;
typedef gql_type_definition_t gql_interface_type_definition_t;
typedef gql_type_definition_t gql_union_type_definition_t;
typedef gql_type_definition_t gql_enum_type_definition_t;
typedef gql_type_definition_t gql_input_object_type_definition_t;

typedef struct gql_field_definition {
    gql_node_t base;
    gql_string_value_t *description;
    gql_name_t name;
    gql_node_list_t arguments; /* INPUT_VALUE_DEFINITION */
    gql_node_t *type;
    gql_node_list_t directives;
} gql_field_definition_t;

/* An argument definition, or a field of an input object type. */
typedef struct gql_input_value_definition {
    gql_node_t base;
    gql_string_value_t *description;
    gql_name_t name;
    gql_node_t *type;
    gql_node_t *default_value; /* a constant value, or NULL */
    gql_node_list_t directives;
} gql_input_value_definition_t;

typedef struct gql_enum_value_definition {
    gql_node_t base;
    gql_string_value_t *description;
    gql_name_t name; /* never true, false or null */
    gql_node_list_t directives;
} gql_enum_value_definition_t;

typedef struct gql_directive_definition {
    gql_node_t base;
    gql_string_value_t *description;
    gql_name_t name;           /* without the '@' */
    gql_node_list_t arguments; /* INPUT_VALUE_DEFINITION */
    bool repeatable;
    gql_node_list_t locations; /* NAME, each one of the spec's DirectiveLocation names */
} gql_directive_definition_t;

/* The specification's DirectiveLocation names, in its order (which is also the bit order of
 * gql_directive_location_t in schema.h). */
#define GQL_DIRECTIVE_LOCATION_COUNT 19
extern const char *const gql_directive_location_names[GQL_DIRECTIVE_LOCATION_COUNT];

/* ---- names and visiting ---- */

/* graphql-js's name of the kind ("Field", "ObjectTypeDefinition"), or "?" when out of range. */
const char *gql_kind_name(gql_kind_t kind);

/* What a visitor callback returns. Anything negative aborts the walk too, and gql_visit
 * returns it (the callback's own error code). */
enum {
    GQL_VISIT_CONTINUE = 0,
    GQL_VISIT_SKIP = 1,  /* from enter: do not visit the children, and do not call leave */
    GQL_VISIT_BREAK = 2, /* stop the whole walk */
};

/* parent is the node holding this one (NULL for the root of the walk). */
typedef int (*gql_visit_fn)(gql_node_t *node, gql_node_t *parent, void *user_data);

/* Callbacks of a walk; any may be NULL. enter and leave see every node; the typed ones see
 * nodes of their kind only, e.g. `gql_visitor_t v = {.enter_field = on_field};`. On entering a
 * node the generic enter runs first, on leaving the typed leave runs first; the first answer
 * other than GQL_VISIT_CONTINUE decides. */
typedef struct gql_visitor {
    gql_visit_fn enter;
    gql_visit_fn leave;
#define GQL_VISITOR_FIELDS_(KIND, lower, name, type)                                               \
    int (*enter_##lower)(type * node, gql_node_t * parent, void *user_data);                       \
    int (*leave_##lower)(type * node, gql_node_t * parent, void *user_data);
    GQL_AST_KINDS(GQL_VISITOR_FIELDS_)
#undef GQL_VISITOR_FIELDS_
} gql_visitor_t;

/* Walks the tree under root depth-first, children in source order (graphql-js's key order).
 * Names are visited as NAME nodes; absent names and NULL children are skipped. Returns 0 when
 * the walk completed, GQL_VISIT_BREAK when a callback stopped it, or a callback's negative
 * code. Recursion is as deep as the tree, which the parser bounds (max_depth). */
int gql_visit(gql_node_t *root, const gql_visitor_t *visitor, void *user_data);

#endif
