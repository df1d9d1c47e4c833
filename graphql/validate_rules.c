/* validate_rules.c - the validation rules of graphql-js 16's specifiedRules (but the value
 * and field-merging ones, in validate_values.c and validate_overlap.c) and the gateway's
 * limits, as hooks of the walk in validate.c. */
#include <stdlib.h>
#include <string.h>

#include "validate_rules.h"

static bool name_eq(const char *s, const gql_name_t *n)
{
    return strlen(s) == n->len && memcmp(s, n->value, n->len) == 0;
}

static vmap_entry_t *put(walk_t *w, vmap_t *m, const gql_name_t *n)
{
    vmap_entry_t *e = vmap_put(m, w->c->arena, n->value, n->len);
    if (!e)
        vnomem(w->c);
    return e;
}

static const char *op_label(vctx_t *c, const gql_operation_definition_t *op, const char *fmt)
{
    return op->name.value ? arena_printf(c->arena, fmt, op->name.value) : "";
}

/* ---- document ---- */

static const char *definition_name(vctx_t *c, const gql_node_t *d)
{
    if (d->kind == GQL_KIND_SCHEMA_DEFINITION || d->kind == GQL_KIND_SCHEMA_EXTENSION)
        return "schema";
    const gql_name_t *n = d->kind == GQL_KIND_DIRECTIVE_DEFINITION
                              ? &((const gql_directive_definition_t *)d)->name
                              : &((const gql_type_definition_t *)d)->name;
    return arena_printf(c->arena, "\"%s\"", n->value);
}

void rules_document_enter(walk_t *w)
{
    const gql_node_list_t *defs = &w->c->doc->definitions;
    for (uint32_t i = 0; i < defs->count; i++) { /* ExecutableDefinitions */
        gql_node_t *d = defs->items[i];
        if (d->kind != GQL_KIND_OPERATION_DEFINITION && d->kind != GQL_KIND_FRAGMENT_DEFINITION)
            VERR1(w->c, d, "The %s definition is not executable.", definition_name(w->c, d));
    }
    for (uint32_t i = 0; i < defs->count; i++) /* LoneAnonymousOperation */
        w->nops += defs->items[i]->kind == GQL_KIND_OPERATION_DEFINITION;
}

void rules_document_leave(walk_t *w)
{
    vctx_t *c = w->c;
    const gql_node_list_t *defs = &c->doc->definitions;
    vmap_t used = {0};
    for (uint32_t i = 0; i < defs->count && !c->stop; i++) { /* NoUnusedFragments */
        if (defs->items[i]->kind != GQL_KIND_OPERATION_DEFINITION)
            continue;
        vvec_t frags = {0};
        if (vreferenced_fragments(c, (gql_operation_definition_t *)defs->items[i], &frags) != 0)
            return;
        for (size_t j = 0; j < frags.count; j++)
            if (!put(w, &used, &((gql_fragment_definition_t *)frags.items[j])->name))
                return;
    }
    for (uint32_t i = 0; i < defs->count && !c->stop; i++) {
        if (defs->items[i]->kind != GQL_KIND_FRAGMENT_DEFINITION)
            continue;
        gql_fragment_definition_t *f = (gql_fragment_definition_t *)defs->items[i];
        if (!vmap_get(&used, f->name.value, f->name.len))
            VERR1(c, f, "Fragment \"%s\" is never used.", f->name.value);
    }
}

/* ---- SingleFieldSubscriptions: graphql-js's collectFields with no variables ---- */

static bool directive_if(const gql_directive_t *d, bool want)
{
    for (uint32_t i = 0; i < d->arguments.count; i++) {
        const gql_argument_t *a = (const gql_argument_t *)d->arguments.items[i];
        if (name_eq("if", &a->name) && a->value->kind == GQL_KIND_BOOLEAN_VALUE)
            return ((const gql_boolean_value_t *)a->value)->value == want;
    }
    return false;
}

/* A variable condition cannot be known here; the selection is kept. */
static bool included(const gql_node_list_t *dirs)
{
    for (uint32_t i = 0; i < dirs->count; i++) {
        const gql_directive_t *d = (const gql_directive_t *)dirs->items[i];
        if ((name_eq("skip", &d->name) && directive_if(d, true)) ||
            (name_eq("include", &d->name) && directive_if(d, false)))
            return false;
    }
    return true;
}

static bool condition_matches(vctx_t *c, const gql_named_type_t *cond, const gql_type_t *rt)
{
    if (!cond)
        return true;
    gql_type_t *t = vtype_from_ast(c, &cond->base);
    if (t == rt)
        return true;
    return t && gql_type_is_abstract(t) && gql_type_is_possible(t, rt);
}

typedef struct collected {
    vmap_t by_name; /* response name -> vvec_t of fields */
    vvec_t groups;  /* the vvec_t's in first-seen order */
} collected_t;

static int collect_field(vctx_t *c, collected_t *out, gql_field_t *f)
{
    const gql_name_t *rn = f->alias.value ? &f->alias : &f->name;
    vmap_entry_t *e = vmap_put(&out->by_name, c->arena, rn->value, rn->len);
    if (!e)
        return -1;
    if (!e->value) {
        e->value = arena_calloc(c->arena, 1, sizeof(vvec_t));
        if (!e->value || vvec_push(&out->groups, c->arena, e->value) != 0)
            return -1;
    }
    return vvec_push(e->value, c->arena, f);
}

/* Iterative so that long chains of fragments cannot exhaust the stack. */
static int collect_fields(vctx_t *c, const gql_type_t *rt, gql_selection_set_t *root,
                          collected_t *out)
{
    vmap_t visited = {0};
    vvec_t sets = {0}, idx = {0};
    if (vvec_push(&sets, c->arena, root) || vvec_push(&idx, c->arena, (void *)0))
        return -1;
    while (sets.count) {
        gql_selection_set_t *set = sets.items[sets.count - 1];
        uintptr_t i = (uintptr_t)idx.items[idx.count - 1];
        if (i == set->selections.count) {
            sets.count--;
            idx.count--;
            continue;
        }
        idx.items[idx.count - 1] = (void *)(i + 1);
        gql_node_t *s = set->selections.items[i];
        gql_selection_set_t *sub = NULL;
        if (s->kind == GQL_KIND_FIELD) {
            gql_field_t *f = (gql_field_t *)s;
            if (included(&f->directives) && collect_field(c, out, f) != 0)
                return -1;
        } else if (s->kind == GQL_KIND_INLINE_FRAGMENT) {
            gql_inline_fragment_t *f = (gql_inline_fragment_t *)s;
            if (included(&f->directives) && condition_matches(c, f->type_condition, rt))
                sub = f->selection_set;
        } else {
            gql_fragment_spread_t *sp = (gql_fragment_spread_t *)s;
            if (vmap_get(&visited, sp->name.value, sp->name.len) || !included(&sp->directives))
                continue;
            if (!vmap_put(&visited, c->arena, sp->name.value, sp->name.len))
                return -1;
            gql_fragment_definition_t *fd = vfragment(c, &sp->name);
            if (fd && condition_matches(c, fd->type_condition, rt))
                sub = fd->selection_set;
        }
        if (sub && (vvec_push(&sets, c->arena, sub) || vvec_push(&idx, c->arena, (void *)0)))
            return -1;
    }
    return 0;
}

static void report_subscription(vctx_t *c, gql_operation_definition_t *op, collected_t *cf)
{
    const char *who = op->name.value ? arena_printf(c->arena, "Subscription \"%s\"", op->name.value)
                                     : "Anonymous Subscription";
    if (cf->groups.count > 1) {
        vvec_t extra = {0};
        for (size_t g = 1; g < cf->groups.count; g++) {
            vvec_t *fs = cf->groups.items[g];
            for (size_t i = 0; i < fs->count; i++)
                if (vvec_push(&extra, c->arena, fs->items[i]) != 0)
                    return vnomem(c);
        }
        verr(c, (const gql_node_t *const *)extra.items, extra.count,
             "%s must select only one top level field.", who);
    }
    for (size_t g = 0; g < cf->groups.count; g++) {
        vvec_t *fs = cf->groups.items[g];
        gql_field_t *f = fs->items[0];
        if (f->name.len >= 2 && memcmp(f->name.value, "__", 2) == 0)
            verr(c, (const gql_node_t *const *)fs->items, fs->count,
                 "%s must not select an introspection top level field.", who);
    }
}

static void rule_single_field_subscription(walk_t *w, gql_operation_definition_t *op)
{
    vctx_t *c = w->c;
    if (op->operation != GQL_OPERATION_SUBSCRIPTION || !c->schema->subscription)
        return;
    collected_t cf = {0};
    if (collect_fields(c, c->schema->subscription, op->selection_set, &cf) != 0)
        return vnomem(c);
    report_subscription(c, op, &cf);
}

/* ---- operations and variables ---- */

static void rule_unique_directives(walk_t *w, const gql_node_list_t *dirs)
{
    vmap_t seen = {0};
    for (uint32_t i = 0; i < dirs->count && !w->c->stop; i++) {
        gql_directive_t *d = (gql_directive_t *)dirs->items[i];
        const gql_directive_def_t *def =
            gql_schema_directive(w->c->schema, d->name.value, d->name.len);
        if (!def || def->repeatable)
            continue;
        vmap_entry_t *e = put(w, &seen, &d->name);
        if (!e)
            return;
        if (e->value)
            VERR2(w->c, e->value, d,
                  "The directive \"@%s\" can only be used once at this location.", d->name.value);
        else
            e->value = d;
    }
}

static void limit_directives(walk_t *w, const gql_node_list_t *dirs)
{
    size_t max = w->c->opt.max_directives;
    if (max && dirs->count > max)
        VERR1(w->c, dirs->items[max], "Too many directives at this location: the limit is %zu.",
              max);
}

static void rule_unique_variables(walk_t *w, gql_operation_definition_t *op)
{
    vmap_t groups = {0};
    vvec_t order = {0};
    vctx_t *c = w->c;
    for (uint32_t i = 0; i < op->variable_definitions.count; i++) {
        gql_variable_definition_t *vd =
            (gql_variable_definition_t *)op->variable_definitions.items[i];
        vmap_entry_t *e = put(w, &groups, &vd->variable->name);
        if (!e)
            return;
        if (!e->value && (!(e->value = arena_calloc(c->arena, 1, sizeof(vvec_t))) ||
                          vvec_push(&order, c->arena, e->value) != 0))
            return vnomem(c);
        if (vvec_push(e->value, c->arena, &vd->variable->name) != 0)
            return vnomem(c);
    }
    for (size_t i = 0; i < order.count; i++) {
        vvec_t *g = order.items[i];
        if (g->count > 1)
            verr(c, (const gql_node_t *const *)g->items, g->count,
                 "There can be only one variable named \"$%s\".",
                 ((gql_name_t *)g->items[0])->value);
    }
}

void rules_operation_enter(walk_t *w, gql_operation_definition_t *op)
{
    vctx_t *c = w->c;
    if (op->name.value) { /* UniqueOperationNames */
        vmap_entry_t *e = put(w, &w->op_names, &op->name);
        if (!e)
            return;
        if (e->value)
            VERR2(c, e->value, &op->name, "There can be only one operation named \"%s\".",
                  op->name.value);
        else
            e->value = &op->name;
    } else if (w->nops > 1) {
        VERR1(c, op, "This anonymous operation must be the only defined operation.");
    }
    rule_single_field_subscription(w, op);
    rule_unique_variables(w, op);
    w->var_defs = (vmap_t){0};
    w->var_list = (vvec_t){0};
    rule_unique_directives(w, &op->directives);
    limit_directives(w, &op->directives);
}

static void rule_no_undefined_variables(walk_t *w, gql_operation_definition_t *op, vvec_t *usages)
{
    const char *in_op = op_label(w->c, op, " by operation \"%s\"");
    for (size_t i = 0; i < usages->count && !w->c->stop; i++) {
        vusage_t *u = usages->items[i];
        if (!vmap_get(&w->var_defs, u->node->name.value, u->node->name.len))
            VERR2(w->c, u->node, op, "Variable \"$%s\" is not defined%s.", u->node->name.value,
                  in_op);
    }
}

static void rule_no_unused_variables(walk_t *w, gql_operation_definition_t *op, vvec_t *usages)
{
    vmap_t used = {0};
    for (size_t i = 0; i < usages->count; i++)
        if (!put(w, &used, &((vusage_t *)usages->items[i])->node->name))
            return;
    const char *in_op = op_label(w->c, op, " in operation \"%s\"");
    for (size_t i = 0; i < w->var_list.count && !w->c->stop; i++) {
        gql_variable_definition_t *vd = w->var_list.items[i];
        if (!vmap_get(&used, vd->variable->name.value, vd->variable->name.len))
            VERR1(w->c, vd, "Variable \"$%s\" is never used%s.", vd->variable->name.value, in_op);
    }
}

/* graphql-js's allowedVariableUsage: the default-value exception for non-null places. */
static bool allowed_usage(gql_type_t *var_type, const gql_node_t *var_default, gql_type_t *loc_type,
                          const gql_node_t *loc_default)
{
    if (loc_type->kind == GQL_TYPE_NON_NULL && var_type->kind != GQL_TYPE_NON_NULL) {
        bool var_has = var_default && var_default->kind != GQL_KIND_NULL_VALUE;
        if (!var_has && !loc_default)
            return false;
        return gql_type_is_subtype(var_type, loc_type->of_type);
    }
    return gql_type_is_subtype(var_type, loc_type);
}

static void rule_variables_in_allowed_position(walk_t *w, vvec_t *usages)
{
    vctx_t *c = w->c;
    for (size_t i = 0; i < usages->count && !c->stop; i++) {
        vusage_t *u = usages->items[i];
        vmap_entry_t *e = vmap_get(&w->var_defs, u->node->name.value, u->node->name.len);
        if (!e || !u->type)
            continue;
        gql_variable_definition_t *vd = e->value;
        gql_type_t *vt = vtype_from_ast(c, vd->type);
        if (vt && !allowed_usage(vt, vd->default_value, u->type, u->default_value))
            VERR2(c, vd, u->node,
                  "Variable \"$%s\" of type \"%s\" used in position expecting type \"%s\".",
                  u->node->name.value, vtype_str(c, vt), vtype_str(c, u->type));
    }
}

/* Every usage of the operation and of the fragments it reaches, in graphql-js's order. */
static int recursive_usages(vctx_t *c, gql_operation_definition_t *op, vvec_t *out)
{
    vvec_t frags = {0};
    if (vreferenced_fragments(c, op, &frags) != 0)
        return -1;
    for (size_t i = 0; i <= frags.count; i++) {
        gql_node_t *def = i == 0 ? &op->base : frags.items[i - 1];
        vvec_t *u = vvariable_usages(c, def);
        if (!u)
            return -1;
        for (size_t j = 0; j < u->count; j++)
            if (vvec_push(out, c->arena, u->items[j]) != 0) {
                vnomem(c);
                return -1;
            }
    }
    return 0;
}

static size_t selection_depth(vctx_t *c, gql_selection_set_t *set, vmap_t *memo, size_t guard);

static size_t selections_depth(vctx_t *c, gql_selection_set_t *set, vmap_t *memo, size_t guard)
{
    size_t best = 0;
    for (uint32_t i = 0; i < set->selections.count; i++) {
        gql_node_t *s = set->selections.items[i];
        size_t d = 0;
        if (s->kind == GQL_KIND_FIELD) {
            gql_field_t *f = (gql_field_t *)s;
            d = 1 + (f->selection_set ? selection_depth(c, f->selection_set, memo, guard) : 0);
        } else if (s->kind == GQL_KIND_INLINE_FRAGMENT) {
            d = selection_depth(c, ((gql_inline_fragment_t *)s)->selection_set, memo, guard);
        } else {
            gql_fragment_definition_t *fd = vfragment(c, &((gql_fragment_spread_t *)s)->name);
            d = fd ? selection_depth(c, fd->selection_set, memo, guard) : 0;
        }
        if (d > best)
            best = d;
    }
    return best;
}

/* Depth of fields under set, fragments expanded and memoised per selection set (stored as
 * depth + 1; 0 marks a set being measured). A set met again while being measured is a
 * fragment cycle, which NoFragmentCycles reports: it adds nothing here, as graphql-js adds no
 * error of its own for it. guard bounds the recursion of long chains of fragments or inline
 * fragments: when it runs out the answer is "too deep", so the limit errs on refusing. */
static size_t selection_depth(vctx_t *c, gql_selection_set_t *set, vmap_t *memo, size_t guard)
{
    if (guard == 0)
        return SIZE_MAX / 4;
    vmap_entry_t *e = vmap_get(memo, (const char *)&set, sizeof set);
    if (e)
        return e->value ? (size_t)(uintptr_t)e->value - 1 : 0;
    void **key = arena_alloc(c->arena, sizeof *key);
    if (!key)
        return selections_depth(c, set, memo, guard - 1);
    *key = set;
    e = vmap_put(memo, c->arena, (const char *)key, sizeof set);
    if (e)
        e->value = NULL;
    size_t d = selections_depth(c, set, memo, guard - 1);
    /* The map may have grown meanwhile: look the entry up again. */
    e = vmap_get(memo, (const char *)&set, sizeof set);
    if (e)
        e->value = (void *)(uintptr_t)(d + 1);
    return d;
}

static void limits_operation(walk_t *w, gql_operation_definition_t *op)
{
    vctx_t *c = w->c;
    const char *label = op->name.value ? arena_printf(c->arena, "Operation \"%s\"", op->name.value)
                                       : "The anonymous operation";
    size_t max = c->opt.max_root_fields;
    gql_type_t *root = op->operation == GQL_OPERATION_QUERY      ? c->schema->query
                       : op->operation == GQL_OPERATION_MUTATION ? c->schema->mutation
                                                                 : c->schema->subscription;
    if (max && root) {
        collected_t cf = {0};
        if (collect_fields(c, root, op->selection_set, &cf) != 0)
            return vnomem(c);
        if (cf.groups.count > c->out->root_fields)
            c->out->root_fields = cf.groups.count;
        if (cf.groups.count > max)
            VERR1(c, op, "%s selects %zu root fields, more than the limit of %zu.", label,
                  cf.groups.count, max);
    }
    max = c->opt.max_depth;
    if (max) {
        vmap_t memo = {0};
        /* the guard counts selection sets entered: fields, fragments and inline fragments */
        size_t d = selection_depth(c, op->selection_set, &memo, 4 * max + 64);
        if (d > max)
            VERR1(c, op, "%s is nested deeper than the limit of %zu levels.", label, max);
    }
}

void rules_operation_leave(walk_t *w, gql_operation_definition_t *op)
{
    vvec_t usages = {0};
    if (recursive_usages(w->c, op, &usages) != 0)
        return;
    rule_no_undefined_variables(w, op, &usages);
    rule_no_unused_variables(w, op, &usages);
    rule_variables_in_allowed_position(w, &usages);
    limits_operation(w, op);
}

void rules_variable_definition(walk_t *w, gql_variable_definition_t *vd)
{
    vctx_t *c = w->c;
    gql_type_t *t = vtype_from_ast(c, vd->type);
    if (t && !gql_type_is_input(t)) /* VariablesAreInputTypes */
        VERR1(c, vd->type, "Variable \"$%s\" cannot be non-input type \"%s\".",
              vd->variable->name.value, vprint(c, vd->type));
    vmap_entry_t *e = put(w, &w->var_defs, &vd->variable->name);
    if (!e)
        return;
    e->value = vd; /* the last one wins, as graphql-js's varDefMap */
    if (vvec_push(&w->var_list, c->arena, vd) != 0)
        return vnomem(c);
    rule_unique_directives(w, &vd->directives);
    limit_directives(w, &vd->directives);
}

/* ---- fragments ---- */

static void rule_fragment_cycles(walk_t *w, gql_fragment_definition_t *f);

void rules_fragment_definition(walk_t *w, gql_fragment_definition_t *f)
{
    vctx_t *c = w->c;
    gql_type_t *t = vtype_from_ast(c, &f->type_condition->base);
    if (t && !gql_type_is_composite(t)) /* FragmentsOnCompositeTypes */
        VERR1(c, f->type_condition,
              "Fragment \"%s\" cannot condition on non composite type \"%s\".", f->name.value,
              f->type_condition->name.value);
    vmap_entry_t *e = put(w, &w->frag_names, &f->name); /* UniqueFragmentNames */
    if (!e)
        return;
    if (e->value)
        VERR2(c, e->value, &f->name, "There can be only one fragment named \"%s\".", f->name.value);
    else
        e->value = &f->name;
    rule_fragment_cycles(w, f);
    rule_unique_directives(w, &f->directives);
    limit_directives(w, &f->directives);
}

typedef struct cycle_frame {
    gql_fragment_definition_t *frag;
    vvec_t *spreads;
    size_t next;
} cycle_frame_t;

static void report_cycle(vctx_t *c, vvec_t *path, size_t from, gql_fragment_spread_t *sp)
{
    buf_t via = {0};
    for (size_t i = from; i + 1 < path->count; i++)
        buf_printf(&via, "%s\"%s\"", i > from ? ", " : "",
                   ((gql_fragment_spread_t *)path->items[i])->name.value);
    if (via.failed) {
        buf_free(&via);
        return vnomem(c);
    }
    verr(c, (const gql_node_t *const *)&path->items[from], path->count - from,
         "Cannot spread fragment \"%s\" within itself%s%s.", sp->name.value, via.len ? " via " : "",
         via.len ? via.data : "");
    buf_free(&via);
}

/* Enters frag for NoFragmentCycles: marks it visited and pushes a frame when it spreads
 * anything. Returns 1 when a frame was pushed. */
static int cycle_enter(walk_t *w, gql_fragment_definition_t *frag, vvec_t *frames, vmap_t *index,
                       vvec_t *path)
{
    vctx_t *c = w->c;
    vmap_entry_t *e = put(w, &w->frag_visited, &frag->name);
    if (!e || e->value)
        return 0;
    e->value = frag;
    vvec_t *spreads = vspreads(c, frag->selection_set);
    if (!spreads || spreads->count == 0)
        return 0;
    cycle_frame_t *fr = arena_alloc(c->arena, sizeof *fr);
    vmap_entry_t *ie = put(w, index, &frag->name);
    if (!fr || !ie || vvec_push(frames, c->arena, fr) != 0) {
        vnomem(c);
        return 0;
    }
    ie->value = (void *)(uintptr_t)(path->count + 1);
    *fr = (cycle_frame_t){frag, spreads, 0};
    return 1;
}

/* graphql-js's detectCycleRecursive with an explicit stack: fragment chains are as long as
 * the document allows, the C stack is not. */
static void rule_fragment_cycles(walk_t *w, gql_fragment_definition_t *f)
{
    vctx_t *c = w->c;
    vvec_t frames = {0}, path = {0};
    vmap_t index = {0}; /* fragment name -> its position in path + 1; 0: not on the path */
    cycle_enter(w, f, &frames, &index, &path);
    while (frames.count && !c->stop) {
        cycle_frame_t *fr = frames.items[frames.count - 1];
        if (fr->next == fr->spreads->count) {
            vmap_get(&index, fr->frag->name.value, fr->frag->name.len)->value = NULL;
            frames.count--;
            if (frames.count)
                path.count--; /* the spread that led into fr */
            continue;
        }
        gql_fragment_spread_t *sp = fr->spreads->items[fr->next++];
        vmap_entry_t *ie = vmap_get(&index, sp->name.value, sp->name.len);
        size_t at = ie ? (size_t)(uintptr_t)ie->value : 0;
        if (vvec_push(&path, c->arena, sp) != 0)
            return vnomem(c);
        if (at) {
            report_cycle(c, &path, at - 1, sp);
            path.count--;
            continue;
        }
        gql_fragment_definition_t *target = vfragment(c, &sp->name);
        if (!target || !cycle_enter(w, target, &frames, &index, &path))
            path.count--;
    }
}

static bool types_overlap(const gql_type_t *a, const gql_type_t *b)
{
    if (a == b)
        return true;
    if (gql_type_is_abstract(a)) {
        if (!gql_type_is_abstract(b))
            return gql_type_is_possible(a, b);
        for (size_t i = 0; i < a->npossible_types; i++)
            if (gql_type_is_possible(b, a->possible_types[i]))
                return true;
        return false;
    }
    return gql_type_is_abstract(b) && gql_type_is_possible(b, a);
}

void rules_inline_fragment(walk_t *w, gql_inline_fragment_t *f)
{
    vctx_t *c = w->c;
    if (f->type_condition) { /* FragmentsOnCompositeTypes */
        gql_type_t *t = vtype_from_ast(c, &f->type_condition->base);
        if (t && !gql_type_is_composite(t))
            VERR1(c, f->type_condition, "Fragment cannot condition on non composite type \"%s\".",
                  f->type_condition->name.value);
    }
    gql_type_t *ft = w->ti.type, *pt = w->ti.parent_type; /* PossibleFragmentSpreads */
    if (ft && pt && gql_type_is_composite(ft) && gql_type_is_composite(pt) &&
        !types_overlap(ft, pt))
        VERR1(c, f,
              "Fragment cannot be spread here as objects of type \"%s\" can never be of type "
              "\"%s\".",
              pt->name, ft->name);
    rule_unique_directives(w, &f->directives);
    limit_directives(w, &f->directives);
}

void rules_fragment_spread(walk_t *w, gql_fragment_spread_t *sp)
{
    vctx_t *c = w->c;
    gql_fragment_definition_t *fd = vfragment(c, &sp->name);
    if (!fd) /* KnownFragmentNames */
        VERR1(c, &sp->name, "Unknown fragment \"%s\".", sp->name.value);
    gql_type_t *ft = fd ? vtype_from_ast(c, &fd->type_condition->base) : NULL;
    gql_type_t *pt = w->ti.parent_type;
    if (ft && pt && gql_type_is_composite(ft) && !types_overlap(ft, pt))
        VERR1(c, sp,
              "Fragment \"%s\" cannot be spread here as objects of type \"%s\" can never be of "
              "type \"%s\".",
              sp->name.value, pt->name, ft->name);
    rule_unique_directives(w, &sp->directives);
    limit_directives(w, &sp->directives);
}

/* ---- fields, arguments, directives ---- */

static void field_suggestions(vctx_t *c, const gql_type_t *t, const gql_name_t *name,
                              const char **out_suffix);

static void rule_unique_arguments(walk_t *w, const gql_node_list_t *args)
{
    vmap_t groups = {0};
    vvec_t order = {0};
    vctx_t *c = w->c;
    for (uint32_t i = 0; i < args->count; i++) {
        gql_argument_t *a = (gql_argument_t *)args->items[i];
        vmap_entry_t *e = put(w, &groups, &a->name);
        if (!e)
            return;
        if (!e->value && (!(e->value = arena_calloc(c->arena, 1, sizeof(vvec_t))) ||
                          vvec_push(&order, c->arena, e->value) != 0))
            return vnomem(c);
        if (vvec_push(e->value, c->arena, &a->name) != 0)
            return vnomem(c);
    }
    for (size_t i = 0; i < order.count; i++) {
        vvec_t *g = order.items[i];
        if (g->count > 1)
            verr(c, (const gql_node_t *const *)g->items, g->count,
                 "There can be only one argument named \"%s\".",
                 ((gql_name_t *)g->items[0])->value);
    }
}

void rules_field_enter(walk_t *w, gql_field_t *f)
{
    vctx_t *c = w->c;
    gql_type_t *t = w->ti.type;
    const char *name = f->name.value;
    if (t && vis_leaf(t) && f->selection_set) /* ScalarLeafs */
        VERR1(c, f->selection_set,
              "Field \"%s\" must not have a selection since type \"%s\" has no subfields.", name,
              vtype_str(c, t));
    else if (t && !vis_leaf(t) && !f->selection_set)
        VERR1(c, f,
              "Field \"%s\" of type \"%s\" must have a selection of subfields. Did you mean "
              "\"%s { ... }\"?",
              name, vtype_str(c, t), name);
    if (w->ti.parent_type && !w->ti.field_def) { /* FieldsOnCorrectType */
        const char *suffix = "";
        field_suggestions(c, w->ti.parent_type, &f->name, &suffix);
        VERR1(c, f, "Cannot query field \"%s\" on type \"%s\".%s", name, w->ti.parent_type->name,
              suffix);
    }
    rule_unique_directives(w, &f->directives);
    rule_unique_arguments(w, &f->arguments);
    if (f->alias.value && c->opt.max_aliases && ++w->aliases == c->opt.max_aliases + 1)
        VERR1(c, &f->alias, "Too many aliases: the limit is %zu in a document.",
              c->opt.max_aliases);
    limit_directives(w, &f->directives);
}

void rule_required_field_args(walk_t *w, gql_field_t *f)
{
    const gql_field_def_t *def = w->ti.field_def;
    if (!def)
        return;
    for (size_t i = 0; i < def->nargs && !w->c->stop; i++) {
        const gql_input_value_t *a = &def->args[i];
        if (a->type->kind != GQL_TYPE_NON_NULL || a->default_value)
            continue;
        bool found = false;
        for (uint32_t j = 0; j < f->arguments.count && !found; j++)
            found = name_eq(a->name, &((gql_argument_t *)f->arguments.items[j])->name);
        if (!found)
            VERR1(w->c, f,
                  "Field \"%s\" argument \"%s\" of type \"%s\" is required, but it was not "
                  "provided.",
                  def->name, a->name, vtype_str(w->c, a->type));
    }
}

void rule_known_argument(walk_t *w, gql_argument_t *arg)
{
    const gql_field_def_t *fd = w->ti.field_def;
    if (w->ti.argument || !fd || !w->ti.parent_type)
        return;
    const char **names = malloc((fd->nargs + 1) * sizeof *names);
    if (!names)
        return vnomem(w->c);
    for (size_t i = 0; i < fd->nargs; i++)
        names[i] = fd->args[i].name;
    const char *s = vsuggest(w->c, NULL, arg->name.value, names, fd->nargs);
    free(names);
    VERR1(w->c, arg, "Unknown argument \"%s\" on field \"%s.%s\".%s", arg->name.value,
          w->ti.parent_type->name, fd->name, s);
}


static const char *location_name(uint32_t loc)
{
    for (unsigned i = 0; i < GQL_DIRECTIVE_LOCATION_COUNT; i++)
        if (loc == 1u << i)
            return gql_directive_location_names[i];
    return "?";
}

static void directive_unknown_args(walk_t *w, gql_directive_t *d, const gql_directive_def_t *def)
{
    const char **names = malloc((def->nargs + 1) * sizeof *names);
    if (!names)
        return vnomem(w->c);
    for (size_t i = 0; i < def->nargs; i++)
        names[i] = def->args[i].name;
    for (uint32_t i = 0; i < d->arguments.count && !w->c->stop; i++) {
        gql_argument_t *a = (gql_argument_t *)d->arguments.items[i];
        bool known = false;
        for (size_t j = 0; j < def->nargs && !known; j++)
            known = name_eq(names[j], &a->name);
        if (!known)
            VERR1(w->c, a, "Unknown argument \"%s\" on directive \"@%s\".%s", a->name.value,
                  d->name.value, vsuggest(w->c, NULL, a->name.value, names, def->nargs));
    }
    free(names);
}

void rules_directive_enter(walk_t *w, gql_directive_t *d, uint32_t location)
{
    const gql_directive_def_t *def = w->ti.directive;
    if (!def) /* KnownDirectives */
        VERR1(w->c, d, "Unknown directive \"@%s\".", d->name.value);
    else if (!(def->locations & location))
        VERR1(w->c, d, "Directive \"@%s\" may not be used on %s.", d->name.value,
              location_name(location));
    if (def) /* KnownArgumentNamesOnDirectives */
        directive_unknown_args(w, d, def);
    rule_unique_arguments(w, &d->arguments);
}

void rules_directive_leave(walk_t *w, gql_directive_t *d)
{
    const gql_directive_def_t *def = w->ti.directive;
    for (size_t i = 0; def && i < def->nargs && !w->c->stop; i++) {
        const gql_input_value_t *a = &def->args[i];
        if (a->type->kind != GQL_TYPE_NON_NULL || a->default_value)
            continue;
        bool found = false;
        for (uint32_t j = 0; j < d->arguments.count && !found; j++)
            found = name_eq(a->name, &((gql_argument_t *)d->arguments.items[j])->name);
        if (!found)
            VERR1(w->c, d,
                  "Directive \"@%s\" argument \"%s\" of type \"%s\" is required, but it was not "
                  "provided.",
                  d->name.value, a->name, vtype_str(w->c, a->type));
    }
}

void rule_known_type_name(walk_t *w, gql_named_type_t *t)
{
    vctx_t *c = w->c;
    if (gql_schema_type(c->schema, t->name.value, t->name.len))
        return;
    const char **names = malloc((c->schema->ntypes + 1) * sizeof *names);
    if (!names)
        return vnomem(c);
    for (size_t i = 0; i < c->schema->ntypes; i++)
        names[i] = c->schema->types[i]->name;
    const char *s = vsuggest(c, NULL, t->name.value, names, c->schema->ntypes);
    free(names);
    VERR1(c, t, "Unknown type \"%s\".%s", t->name.value, s);
}

/* ---- FieldsOnCorrectType's suggestions ---- */

typedef struct suggested {
    const gql_type_t *type;
    int count;
} suggested_t;

static bool is_sub(const gql_type_t *iface, const gql_type_t *t)
{
    for (size_t i = 0; i < t->ninterfaces; i++)
        if (t->interfaces[i] == iface)
            return true;
    return false;
}

static int name_cmp(const char *a, const char *b)
{
    return strcmp(a, b);
}

static int cmp_suggested(const void *x, const void *y)
{
    const suggested_t *a = x, *b = y;
    if (a->count != b->count)
        return b->count - a->count;
    if (a->type->kind == GQL_TYPE_INTERFACE && is_sub(a->type, b->type))
        return -1;
    if (b->type->kind == GQL_TYPE_INTERFACE && is_sub(b->type, a->type))
        return 1;
    return name_cmp(a->type->name, b->type->name);
}

static int add_suggested(suggested_t *s, size_t *n, const gql_type_t *t)
{
    for (size_t i = 0; i < *n; i++)
        if (s[i].type == t)
            return ++s[i].count;
    s[(*n)++] = (suggested_t){t, 1};
    return 1;
}

/* graphql-js's getSuggestedTypeNames, then getSuggestedFieldNames when there are none. */
static void field_suggestions(vctx_t *c, const gql_type_t *t, const gql_name_t *name,
                              const char **out_suffix)
{
    size_t cap = 1;
    for (size_t i = 0; i < t->npossible_types; i++)
        cap += 1 + t->possible_types[i]->ninterfaces;
    suggested_t *s = malloc(cap * sizeof *s);
    const char **names = malloc((cap + t->nfields) * sizeof *names);
    size_t n = 0;
    if (!s || !names)
        goto done;
    for (size_t i = 0; gql_type_is_abstract(t) && i < t->npossible_types; i++) {
        const gql_type_t *p = t->possible_types[i];
        if (!gql_type_field(p, name->value, name->len))
            continue;
        s[n++] = (suggested_t){p, 1};
        for (size_t j = 0; j < p->ninterfaces; j++)
            if (gql_type_field(p->interfaces[j], name->value, name->len))
                add_suggested(s, &n, p->interfaces[j]);
    }
    qsort(s, n, sizeof *s, cmp_suggested);
    for (size_t i = 0; i < n; i++)
        names[i] = s[i].type->name;
    if (n) {
        *out_suffix = vdid_you_mean(c, "to use an inline fragment on", names, n);
    } else if (t->kind == GQL_TYPE_OBJECT || t->kind == GQL_TYPE_INTERFACE) {
        for (size_t i = 0; i < t->nfields; i++)
            names[i] = t->fields[i].name;
        *out_suffix = vsuggest(c, NULL, name->value, names, t->nfields);
    }
done:
    free(s);
    free(names);
}
