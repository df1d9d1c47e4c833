/* validate.c - the validator's walk: one depth-first pass over the executable definitions
 * that keeps graphql-js's TypeInfo (parent type, field, input type, argument, directive) and,
 * at each node, runs the rules in the order of graphql-js's specifiedRules, so errors come
 * out in the order graphql-js reports them. The rules themselves are in validate_rules.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate_int.h"
#include "validate_rules.h"

static void walk_selection_set(walk_t *w, gql_selection_set_t *set);
static void walk_value(walk_t *w, gql_node_t *v);

static bool is_leaf_named(const gql_type_t *t)
{
    return t && gql_type_is_leaf(gql_type_named((gql_type_t *)t));
}

/* ---- types in variable definitions and fragment conditions ---- */

static void walk_type(walk_t *w, gql_node_t *t)
{
    if (w->c->stop || !t)
        return;
    if (t->kind == GQL_KIND_NAMED_TYPE) {
        if (w->rules)
            rule_known_type_name(w, (gql_named_type_t *)t);
    } else {
        walk_type(w, ((gql_wrapping_type_t *)t)->type);
    }
}

/* ---- directives and arguments ---- */

static void walk_argument(walk_t *w, gql_argument_t *arg)
{
    tinfo_t saved = w->ti;
    const gql_input_value_t *def = NULL;
    if (w->ti.directive) {
        for (size_t i = 0; i < w->ti.directive->nargs && !def; i++)
            if (strlen(w->ti.directive->args[i].name) == arg->name.len &&
                memcmp(w->ti.directive->args[i].name, arg->name.value, arg->name.len) == 0)
                def = &w->ti.directive->args[i];
    } else if (w->ti.field_def) {
        def = gql_field_arg(w->ti.field_def, arg->name.value, arg->name.len);
    }
    w->ti.argument = def;
    w->ti.default_value = def ? def->default_value : NULL;
    w->ti.parent_input_type = w->ti.input_type;
    w->ti.input_type = def && gql_type_is_input(def->type) ? def->type : NULL;
    if (w->rules && !w->ti.directive)
        rule_known_argument(w, arg);
    walk_value(w, arg->value);
    w->ti = saved;
}

static void walk_directives(walk_t *w, const gql_node_list_t *list, uint32_t location)
{
    for (uint32_t i = 0; i < list->count && !w->c->stop; i++) {
        gql_directive_t *d = (gql_directive_t *)list->items[i];
        const gql_directive_def_t *saved = w->ti.directive;
        w->ti.directive = gql_schema_directive(w->c->schema, d->name.value, d->name.len);
        if (w->rules)
            rules_directive_enter(w, d, location);
        for (uint32_t j = 0; j < d->arguments.count && !w->c->stop; j++)
            walk_argument(w, (gql_argument_t *)d->arguments.items[j]);
        if (w->rules)
            rules_directive_leave(w, d);
        w->ti.directive = saved;
    }
}

/* ---- values ---- */

static void walk_list_value(walk_t *w, gql_list_value_t *v)
{
    tinfo_t saved = w->ti;
    const gql_node_t *skip = w->values_skip;
    gql_type_t *lt = w->ti.input_type;
    if (lt && lt->kind == GQL_TYPE_NON_NULL)
        lt = lt->of_type;
    gql_type_t *item = lt && lt->kind == GQL_TYPE_LIST ? lt->of_type : lt;
    w->ti.default_value = NULL;
    w->ti.parent_input_type = w->ti.input_type;
    w->ti.input_type = item && gql_type_is_input(item) ? item : NULL;
    if (w->rules && !w->values_skip)
        rule_values_list(w, v);
    for (uint32_t i = 0; i < v->values.count && !w->c->stop; i++)
        walk_value(w, v->values.items[i]);
    w->values_skip = skip;
    w->ti = saved;
}

static void walk_object_field(walk_t *w, gql_object_field_t *f, vmap_t *seen)
{
    tinfo_t saved = w->ti;
    gql_type_t *ot = w->ti.input_type ? gql_type_named(w->ti.input_type) : NULL;
    const gql_input_value_t *def = NULL;
    if (ot && ot->kind == GQL_TYPE_INPUT_OBJECT)
        def = gql_input_field(ot, f->name.value, f->name.len);
    w->ti.default_value = def ? def->default_value : NULL;
    w->ti.parent_input_type = w->ti.input_type;
    w->ti.input_type = def && gql_type_is_input(def->type) ? def->type : NULL;
    if (w->rules) {
        if (!w->values_skip)
            rule_values_object_field(w, f);
        rule_unique_input_field(w, f, seen);
    }
    walk_value(w, f->value);
    w->ti = saved;
}

static void walk_object_value(walk_t *w, gql_object_value_t *v)
{
    const gql_node_t *skip = w->values_skip;
    vmap_t seen = {0};
    if (w->rules && !w->values_skip)
        rule_values_object(w, v);
    for (uint32_t i = 0; i < v->fields.count && !w->c->stop; i++)
        walk_object_field(w, (gql_object_field_t *)v->fields.items[i], &seen);
    w->values_skip = skip;
}

static void walk_value(walk_t *w, gql_node_t *v)
{
    if (w->c->stop || !v)
        return;
    switch (v->kind) {
    case GQL_KIND_VARIABLE:
        if (!w->rules)
            record_usage(w, (gql_variable_t *)v);
        break;
    case GQL_KIND_LIST_VALUE:
        walk_list_value(w, (gql_list_value_t *)v);
        break;
    case GQL_KIND_OBJECT_VALUE:
        walk_object_value(w, (gql_object_value_t *)v);
        break;
    default:
        if (w->rules && !w->values_skip)
            rule_values_scalar(w, v);
        break;
    }
}

/* ---- selections ---- */

static void walk_field(walk_t *w, gql_field_t *f)
{
    tinfo_t saved = w->ti;
    const gql_field_def_t *def = vfield_def(w->c, w->ti.parent_type, &f->name);
    w->ti.field_def = def;
    w->ti.type = def && gql_type_is_output(def->type) ? def->type : NULL;
    w->depth++;
    if (w->rules)
        rules_field_enter(w, f);
    for (uint32_t i = 0; i < f->arguments.count && !w->c->stop; i++)
        walk_argument(w, (gql_argument_t *)f->arguments.items[i]);
    walk_directives(w, &f->directives, GQL_DL_FIELD);
    if (f->selection_set)
        walk_selection_set(w, f->selection_set);
    if (w->rules && !w->c->stop)
        rule_required_field_args(w, f);
    w->depth--;
    w->ti = saved;
}

static gql_type_t *output_or_null(gql_type_t *t)
{
    return t && gql_type_is_output(t) ? t : NULL;
}

static void walk_inline_fragment(walk_t *w, gql_inline_fragment_t *f)
{
    tinfo_t saved = w->ti;
    gql_type_t *t = f->type_condition ? vtype_from_ast(w->c, &f->type_condition->base)
                    : w->ti.type      ? gql_type_named(w->ti.type)
                                      : NULL;
    w->ti.type = output_or_null(t);
    if (w->rules)
        rules_inline_fragment(w, f);
    if (f->type_condition)
        walk_type(w, &f->type_condition->base);
    walk_directives(w, &f->directives, GQL_DL_INLINE_FRAGMENT);
    walk_selection_set(w, f->selection_set);
    w->ti = saved;
}

static void walk_selection_set(walk_t *w, gql_selection_set_t *set)
{
    if (w->c->stop)
        return;
    gql_type_t *saved = w->ti.parent_type;
    gql_type_t *named = w->ti.type ? gql_type_named(w->ti.type) : NULL;
    w->ti.parent_type = named && gql_type_is_composite(named) ? named : NULL;
    if (w->rules)
        voverlap_selection_set(w->c, w->ti.parent_type, set);
    for (uint32_t i = 0; i < set->selections.count && !w->c->stop; i++) {
        gql_node_t *s = set->selections.items[i];
        if (s->kind == GQL_KIND_FIELD) {
            walk_field(w, (gql_field_t *)s);
        } else if (s->kind == GQL_KIND_INLINE_FRAGMENT) {
            walk_inline_fragment(w, (gql_inline_fragment_t *)s);
        } else {
            gql_fragment_spread_t *sp = (gql_fragment_spread_t *)s;
            if (w->rules)
                rules_fragment_spread(w, sp);
            walk_directives(w, &sp->directives, GQL_DL_FRAGMENT_SPREAD);
        }
    }
    w->ti.parent_type = saved;
}

/* ---- definitions ---- */

static void walk_variable_definition(walk_t *w, gql_variable_definition_t *vd)
{
    tinfo_t saved = w->ti;
    gql_type_t *t = vtype_from_ast(w->c, vd->type);
    w->ti.parent_input_type = w->ti.input_type;
    w->ti.input_type = t && gql_type_is_input(t) ? t : NULL;
    rules_variable_definition(w, vd);
    walk_type(w, vd->type);
    walk_value(w, vd->default_value);
    walk_directives(w, &vd->directives, GQL_DL_VARIABLE_DEFINITION);
    w->ti = saved;
}

static const uint32_t op_locations[] = {GQL_DL_QUERY, GQL_DL_MUTATION, GQL_DL_SUBSCRIPTION};

void walk_operation(walk_t *w, gql_operation_definition_t *op)
{
    tinfo_t saved = w->ti;
    const gql_schema_t *s = w->c->schema;
    gql_type_t *root = op->operation == GQL_OPERATION_QUERY      ? s->query
                       : op->operation == GQL_OPERATION_MUTATION ? s->mutation
                                                                 : s->subscription;
    w->ti.type = root;
    if (w->rules)
        rules_operation_enter(w, op);
    /* variable usages skip variable definitions (graphql-js's getVariableUsages) */
    for (uint32_t i = 0; w->rules && i < op->variable_definitions.count && !w->c->stop; i++)
        walk_variable_definition(w, (gql_variable_definition_t *)op->variable_definitions.items[i]);
    walk_directives(w, &op->directives, op_locations[op->operation]);
    walk_selection_set(w, op->selection_set);
    if (w->rules && !w->c->stop)
        rules_operation_leave(w, op);
    w->ti = saved;
}

void walk_fragment(walk_t *w, gql_fragment_definition_t *f)
{
    tinfo_t saved = w->ti;
    w->ti.type = output_or_null(vtype_from_ast(w->c, &f->type_condition->base));
    if (w->rules)
        rules_fragment_definition(w, f);
    walk_type(w, &f->type_condition->base);
    walk_directives(w, &f->directives, GQL_DL_FRAGMENT_DEFINITION);
    walk_selection_set(w, f->selection_set);
    w->ti = saved;
}

/* ---- variable usages (getVariableUsages), by a walk that runs no rule ---- */

void record_usage(walk_t *w, gql_variable_t *v)
{
    vusage_t *u = arena_alloc(w->c->arena, sizeof *u);
    if (!u || vvec_push(w->usages, w->c->arena, u) != 0) {
        vnomem(w->c);
        return;
    }
    *u = (vusage_t){v, w->ti.input_type, w->ti.default_value};
}

vvec_t *vvariable_usages(vctx_t *c, gql_node_t *def)
{
    vmap_entry_t *e = vmap_put(&c->usages_cache, c->arena, (const char *)&def, sizeof def);
    if (!e) {
        vnomem(c);
        return NULL;
    }
    if (e->value)
        return e->value;
    void **key = arena_alloc(c->arena, sizeof *key);
    vvec_t *v = arena_calloc(c->arena, 1, sizeof *v);
    if (!key || !v) {
        vnomem(c);
        return NULL;
    }
    *key = def;
    e->key = (const char *)key;
    e->value = v;
    walk_t w = {.c = c, .rules = false, .usages = v};
    if (def->kind == GQL_KIND_OPERATION_DEFINITION)
        walk_operation(&w, (gql_operation_definition_t *)def);
    else
        walk_fragment(&w, (gql_fragment_definition_t *)def);
    return v;
}

/* ---- entry ---- */

static int index_fragments(vctx_t *c)
{
    const gql_node_list_t *defs = &c->doc->definitions;
    for (uint32_t i = 0; i < defs->count; i++) {
        if (defs->items[i]->kind != GQL_KIND_FRAGMENT_DEFINITION)
            continue;
        gql_fragment_definition_t *f = (gql_fragment_definition_t *)defs->items[i];
        vmap_entry_t *e = vmap_put(&c->fragments, c->arena, f->name.value, f->name.len);
        if (!e)
            return -1;
        e->value = f; /* the last one wins, as graphql-js's getFragment */
    }
    return 0;
}

int gql_validate(const gql_schema_t *schema, const gql_document_t *doc,
                 const gql_validate_options_t *opt, arena_t *arena, gql_validation_result_t *out)
{
    vctx_t c = {.schema = schema, .doc = doc, .arena = arena, .out = out};
    if (opt)
        c.opt = *opt;
    if (!c.opt.max_errors)
        c.opt.max_errors = GQL_VALIDATE_DEFAULT_MAX_ERRORS;
    memset(out, 0, sizeof *out);
    if (index_fragments(&c) != 0)
        return GQL_ENOMEM;
    walk_t w = {.c = &c, .rules = true};
    rules_document_enter(&w);
    const gql_node_list_t *defs = &doc->definitions;
    for (uint32_t i = 0; i < defs->count && !c.stop; i++) {
        gql_node_t *d = defs->items[i];
        if (d->kind == GQL_KIND_OPERATION_DEFINITION)
            walk_operation(&w, (gql_operation_definition_t *)d);
        else if (d->kind == GQL_KIND_FRAGMENT_DEFINITION)
            walk_fragment(&w, (gql_fragment_definition_t *)d);
    }
    if (!c.stop)
        rules_document_leave(&w);
    out->aliases = w.aliases;
    if (c.rc)
        return c.rc;
    return out->nerrors ? GQL_EINVALID : 0;
}

bool vis_leaf(const gql_type_t *t)
{
    return is_leaf_named(t);
}
