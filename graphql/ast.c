/* ast.c - kind names and the depth-first visitor of the GraphQL AST; see ast.h. */
#include "ast.h"

static const char *const kind_names[] = {
#define KIND_NAME_(KIND, lower, name, type) [GQL_KIND_##KIND] = name,
    GQL_AST_KINDS(KIND_NAME_)
#undef KIND_NAME_
};

const char *gql_kind_name(gql_kind_t kind)
{
    return (unsigned)kind < GQL_KIND_COUNT ? kind_names[kind] : "?";
}

typedef struct walk {
    const gql_visitor_t *v;
    void *user_data;
} walk_t;

static int call_typed_enter(const walk_t *w, gql_node_t *n, gql_node_t *parent)
{
    switch (n->kind) {
#define ENTER_(KIND, lower, name, type)                                                            \
    case GQL_KIND_##KIND:                                                                          \
        return w->v->enter_##lower ? w->v->enter_##lower((type *)n, parent, w->user_data) : 0;
        GQL_AST_KINDS(ENTER_)
#undef ENTER_
    case GQL_KIND_COUNT:
        break;
    }
    return 0;
}

static int call_typed_leave(const walk_t *w, gql_node_t *n, gql_node_t *parent)
{
    switch (n->kind) {
#define LEAVE_(KIND, lower, name, type)                                                            \
    case GQL_KIND_##KIND:                                                                          \
        return w->v->leave_##lower ? w->v->leave_##lower((type *)n, parent, w->user_data) : 0;
        GQL_AST_KINDS(LEAVE_)
#undef LEAVE_
    case GQL_KIND_COUNT:
        break;
    }
    return 0;
}

static int walk_node(const walk_t *w, gql_node_t *n, gql_node_t *parent);

static int walk_opt(const walk_t *w, void *child, gql_node_t *parent)
{
    return child ? walk_node(w, child, parent) : 0;
}

static int walk_name(const walk_t *w, gql_name_t *name, gql_node_t *parent)
{
    return name->value ? walk_node(w, &name->base, parent) : 0;
}

static int walk_list(const walk_t *w, const gql_node_list_t *list, gql_node_t *parent)
{
    for (uint32_t i = 0; i < list->count; i++) {
        int r = walk_node(w, list->items[i], parent);
        if (r)
            return r;
    }
    return 0;
}

/* The children walkers chain steps with ||: the first non-zero result (a break or an error
 * from a callback) stops the chain and is returned. */
static int walk_type_definition(const walk_t *w, gql_type_definition_t *t)
{
    gql_node_t *self = &t->base;
    int r;
    if ((r = walk_opt(w, t->description, self)) || (r = walk_name(w, &t->name, self)) ||
        (r = walk_list(w, &t->interfaces, self)) || (r = walk_list(w, &t->directives, self)) ||
        (r = walk_list(w, &t->fields, self)) || (r = walk_list(w, &t->types, self)) ||
        (r = walk_list(w, &t->values, self)))
        return r;
    return 0;
}

static int walk_executable(const walk_t *w, gql_node_t *n)
{
    int r = 0;
    switch (n->kind) {
    case GQL_KIND_DOCUMENT:
        return walk_list(w, &((gql_document_t *)n)->definitions, n);
    case GQL_KIND_OPERATION_DEFINITION: {
        gql_operation_definition_t *o = (gql_operation_definition_t *)n;
        (void)((r = walk_name(w, &o->name, n)) || (r = walk_list(w, &o->variable_definitions, n)) ||
               (r = walk_list(w, &o->directives, n)) || (r = walk_opt(w, o->selection_set, n)));
        return r;
    }
    case GQL_KIND_VARIABLE_DEFINITION: {
        gql_variable_definition_t *d = (gql_variable_definition_t *)n;
        (void)((r = walk_opt(w, d->variable, n)) || (r = walk_opt(w, d->type, n)) ||
               (r = walk_opt(w, d->default_value, n)) || (r = walk_list(w, &d->directives, n)));
        return r;
    }
    case GQL_KIND_SELECTION_SET:
        return walk_list(w, &((gql_selection_set_t *)n)->selections, n);
    case GQL_KIND_FIELD: {
        gql_field_t *f = (gql_field_t *)n;
        (void)((r = walk_name(w, &f->alias, n)) || (r = walk_name(w, &f->name, n)) ||
               (r = walk_list(w, &f->arguments, n)) || (r = walk_list(w, &f->directives, n)) ||
               (r = walk_opt(w, f->selection_set, n)));
        return r;
    }
    case GQL_KIND_FRAGMENT_SPREAD: {
        gql_fragment_spread_t *s = (gql_fragment_spread_t *)n;
        (void)((r = walk_name(w, &s->name, n)) || (r = walk_list(w, &s->directives, n)));
        return r;
    }
    case GQL_KIND_INLINE_FRAGMENT: {
        gql_inline_fragment_t *f = (gql_inline_fragment_t *)n;
        (void)((r = walk_opt(w, f->type_condition, n)) || (r = walk_list(w, &f->directives, n)) ||
               (r = walk_opt(w, f->selection_set, n)));
        return r;
    }
    case GQL_KIND_FRAGMENT_DEFINITION: {
        gql_fragment_definition_t *f = (gql_fragment_definition_t *)n;
        (void)((r = walk_name(w, &f->name, n)) || (r = walk_opt(w, f->type_condition, n)) ||
               (r = walk_list(w, &f->directives, n)) || (r = walk_opt(w, f->selection_set, n)));
        return r;
    }
    default:
        return 0;
    }
}

static int walk_values(const walk_t *w, gql_node_t *n)
{
    int r = 0;
    switch (n->kind) {
    case GQL_KIND_ARGUMENT:
    case GQL_KIND_OBJECT_FIELD: {
        gql_argument_t *a = (gql_argument_t *)n;
        (void)((r = walk_name(w, &a->name, n)) || (r = walk_opt(w, a->value, n)));
        return r;
    }
    case GQL_KIND_VARIABLE:
        return walk_name(w, &((gql_variable_t *)n)->name, n);
    case GQL_KIND_LIST_VALUE:
        return walk_list(w, &((gql_list_value_t *)n)->values, n);
    case GQL_KIND_OBJECT_VALUE:
        return walk_list(w, &((gql_object_value_t *)n)->fields, n);
    case GQL_KIND_DIRECTIVE: {
        gql_directive_t *d = (gql_directive_t *)n;
        (void)((r = walk_name(w, &d->name, n)) || (r = walk_list(w, &d->arguments, n)));
        return r;
    }
    case GQL_KIND_NAMED_TYPE:
        return walk_name(w, &((gql_named_type_t *)n)->name, n);
    case GQL_KIND_LIST_TYPE:
    case GQL_KIND_NON_NULL_TYPE:
        return walk_opt(w, ((gql_wrapping_type_t *)n)->type, n);
    default:
        return 0;
    }
}

static int walk_type_system(const walk_t *w, gql_node_t *n)
{
    int r = 0;
    switch (n->kind) {
    case GQL_KIND_SCHEMA_DEFINITION:
    case GQL_KIND_SCHEMA_EXTENSION: {
        gql_schema_definition_t *s = (gql_schema_definition_t *)n;
        (void)((r = walk_opt(w, s->description, n)) || (r = walk_list(w, &s->directives, n)) ||
               (r = walk_list(w, &s->operation_types, n)));
        return r;
    }
    case GQL_KIND_OPERATION_TYPE_DEFINITION:
        return walk_opt(w, ((gql_operation_type_definition_t *)n)->type, n);
    case GQL_KIND_FIELD_DEFINITION: {
        gql_field_definition_t *f = (gql_field_definition_t *)n;
        (void)((r = walk_opt(w, f->description, n)) || (r = walk_name(w, &f->name, n)) ||
               (r = walk_list(w, &f->arguments, n)) || (r = walk_opt(w, f->type, n)) ||
               (r = walk_list(w, &f->directives, n)));
        return r;
    }
    case GQL_KIND_INPUT_VALUE_DEFINITION: {
        gql_input_value_definition_t *d = (gql_input_value_definition_t *)n;
        (void)((r = walk_opt(w, d->description, n)) || (r = walk_name(w, &d->name, n)) ||
               (r = walk_opt(w, d->type, n)) || (r = walk_opt(w, d->default_value, n)) ||
               (r = walk_list(w, &d->directives, n)));
        return r;
    }
    case GQL_KIND_ENUM_VALUE_DEFINITION: {
        gql_enum_value_definition_t *d = (gql_enum_value_definition_t *)n;
        (void)((r = walk_opt(w, d->description, n)) || (r = walk_name(w, &d->name, n)) ||
               (r = walk_list(w, &d->directives, n)));
        return r;
    }
    case GQL_KIND_DIRECTIVE_DEFINITION: {
        gql_directive_definition_t *d = (gql_directive_definition_t *)n;
        (void)((r = walk_opt(w, d->description, n)) || (r = walk_name(w, &d->name, n)) ||
               (r = walk_list(w, &d->arguments, n)) || (r = walk_list(w, &d->locations, n)));
        return r;
    }
    case GQL_KIND_SCALAR_TYPE_DEFINITION:
    case GQL_KIND_OBJECT_TYPE_DEFINITION:
    case GQL_KIND_INTERFACE_TYPE_DEFINITION:
    case GQL_KIND_UNION_TYPE_DEFINITION:
    case GQL_KIND_ENUM_TYPE_DEFINITION:
    case GQL_KIND_INPUT_OBJECT_TYPE_DEFINITION:
    case GQL_KIND_SCALAR_TYPE_EXTENSION:
    case GQL_KIND_OBJECT_TYPE_EXTENSION:
    case GQL_KIND_INTERFACE_TYPE_EXTENSION:
    case GQL_KIND_UNION_TYPE_EXTENSION:
    case GQL_KIND_ENUM_TYPE_EXTENSION:
    case GQL_KIND_INPUT_OBJECT_TYPE_EXTENSION:
        return walk_type_definition(w, (gql_type_definition_t *)n);
    default:
        return 0;
    }
}

/* Children of n in graphql-js's key order. Leaves (names, scalar values) have none. */
static int walk_children(const walk_t *w, gql_node_t *n)
{
    int r = walk_executable(w, n);
    if (!r)
        r = walk_values(w, n);
    if (!r)
        r = walk_type_system(w, n);
    return r;
}

static int walk_node(const walk_t *w, gql_node_t *n, gql_node_t *parent)
{
    int r = w->v->enter ? w->v->enter(n, parent, w->user_data) : 0;
    if (r == GQL_VISIT_CONTINUE)
        r = call_typed_enter(w, n, parent);
    if (r == GQL_VISIT_SKIP)
        return 0;
    if (r)
        return r;
    if ((r = walk_children(w, n)))
        return r;
    r = call_typed_leave(w, n, parent);
    if (r == GQL_VISIT_CONTINUE && w->v->leave)
        r = w->v->leave(n, parent, w->user_data);
    return r == GQL_VISIT_SKIP ? 0 : r;
}

int gql_visit(gql_node_t *root, const gql_visitor_t *visitor, void *user_data)
{
    walk_t w = {visitor, user_data};
    return root ? walk_node(&w, root, NULL) : 0;
}

const char *const gql_directive_location_names[GQL_DIRECTIVE_LOCATION_COUNT] = {
    "QUERY",           "MUTATION",           "SUBSCRIPTION",           "FIELD",
    "FRAGMENT_DEFINITION", "FRAGMENT_SPREAD", "INLINE_FRAGMENT",       "VARIABLE_DEFINITION",
    "SCHEMA",          "SCALAR",             "OBJECT",                 "FIELD_DEFINITION",
    "ARGUMENT_DEFINITION", "INTERFACE",      "UNION",                  "ENUM",
    "ENUM_VALUE",      "INPUT_OBJECT",       "INPUT_FIELD_DEFINITION",
};
