/* validate_overlap.c - OverlappingFieldsCanBeMerged (specification 5.3.2, "Field Selection
 * Merging"), reporting what graphql-js 16 reports, in its order, with the same fields.
 *
 * Cost. graphql-js compares every pair of fields sharing a response name, which is
 * quadratic in repeated fields ({ a a a ... }) and, through nested selections, worse. Here:
 *   - fields are grouped per response name with hash maps, and fields and fragment names of
 *     a selection set are collected once (cached per selection set);
 *   - fragment pairs already compared are remembered (graphql-js's PairSet), so fragments
 *     spreading each other cost O(fragments^2) pair visits at most;
 *   - within a group of more than a few fields, identical fields (same parent type, same
 *     printed text) form one class; pairs of classes are compared once, and fields are only
 *     compared pair by pair when some class pair conflicts, stopping once more conflicts were
 *     found than can be reported. n identical fields cost O(n) (printing them), not O(n^2);
 *   - hard limits: OVERLAP_MAX_COMPARISONS field comparisons per document (beyond it one
 *     error says the document is too complex) and OVERLAP_MAX_DEPTH nested comparisons
 *     (fragment chains), so no document costs more than about that many comparisons. */
#include <stdlib.h>
#include <string.h>

#include "printer.h"
#include "validate_int.h"

#define OVERLAP_MAX_COMPARISONS 500000
#define OVERLAP_MAX_DEPTH 200
#define CLASS_THRESHOLD 4 /* groups larger than this are deduplicated first */
#define MAX_CLASSES 1024  /* beyond it the class matrix would cost more than it saves */

typedef struct ofield {
    gql_type_t *parent;
    gql_field_t *node;
    const gql_field_def_t *def;
    uint64_t sig; /* class signature, 0: not computed */
} ofield_t;

typedef struct ogroup {
    const char *name; /* response name */
    uint32_t len;
    vvec_t fields; /* ofield_t */
} ogroup_t;

typedef struct ofields {
    vvec_t groups; /* ogroup_t in first-seen order */
    vmap_t by_name;
    vvec_t frags; /* gql_name_t of spread fragments, first-seen order, no repeats */
    vmap_t frag_seen;
} ofields_t;

typedef struct reason {
    const char *msg; /* NULL: subs holds the subfield conflicts */
    vvec_t subs;     /* conflict_t */
} reason_t;

typedef struct conflict {
    const char *name;
    reason_t reason;
    vvec_t f1, f2; /* gql_field_t */
} conflict_t;

typedef struct ostate {
    vmap64_t sets;   /* selection set -> ofields_t */
    vmap64_t pairs;  /* fragment pair -> 1 (compared not exclusive) or 2 (exclusive) */
    vmap64_t clean;  /* field class pairs found not to conflict */
    vmap_t frag_ids; /* fragment name -> id + 1 */
    size_t nfrag_ids;
    size_t comparisons; /* field comparisons so far */
    size_t depth;
    size_t cap; /* most conflicts worth collecting in one list */
    bool gave_up;
} ostate_t;

static conflict_t *find_conflict(vctx_t *c, bool mutex, const char *name, ofield_t *a, ofield_t *b);

static bool full(vctx_t *c, const vvec_t *conflicts)
{
    ostate_t *s = c->overlap;
    return c->stop || s->gave_up || conflicts->count >= s->cap;
}

/* ---- collecting fields and fragment names ---- */

static int add_field(vctx_t *c, ofields_t *o, gql_type_t *parent, gql_field_t *f)
{
    const gql_name_t *rn = f->alias.value ? &f->alias : &f->name;
    vmap_entry_t *e = vmap_put(&o->by_name, c->arena, rn->value, rn->len);
    ofield_t *of = arena_calloc(c->arena, 1, sizeof *of);
    if (!e || !of)
        return -1;
    if (!e->value) {
        ogroup_t *g = arena_calloc(c->arena, 1, sizeof *g);
        if (!g || vvec_push(&o->groups, c->arena, g) != 0)
            return -1;
        g->name = rn->value;
        g->len = rn->len;
        e->value = g;
    }
    of->parent = parent;
    of->node = f;
    if (parent && (parent->kind == GQL_TYPE_OBJECT || parent->kind == GQL_TYPE_INTERFACE))
        of->def = gql_type_field(parent, f->name.value, f->name.len);
    return vvec_push(&((ogroup_t *)e->value)->fields, c->arena, of);
}

static int collect(vctx_t *c, ofields_t *o, gql_type_t *parent, gql_selection_set_t *set)
{
    for (uint32_t i = 0; i < set->selections.count; i++) {
        gql_node_t *s = set->selections.items[i];
        if (s->kind == GQL_KIND_FIELD) {
            if (add_field(c, o, parent, (gql_field_t *)s) != 0)
                return -1;
        } else if (s->kind == GQL_KIND_FRAGMENT_SPREAD) {
            gql_name_t *n = &((gql_fragment_spread_t *)s)->name;
            vmap_entry_t *e = vmap_put(&o->frag_seen, c->arena, n->value, n->len);
            if (!e)
                return -1;
            if (!e->value && vvec_push(&o->frags, c->arena, n) != 0)
                return -1;
            e->value = n;
        } else {
            gql_inline_fragment_t *f = (gql_inline_fragment_t *)s;
            gql_type_t *t =
                f->type_condition ? vtype_from_ast(c, &f->type_condition->base) : parent;
            if (collect(c, o, t, f->selection_set) != 0)
                return -1;
        }
    }
    return 0;
}

/* graphql-js's getFieldsAndFragmentNames, cached per selection set. */
static ofields_t *fields_of(vctx_t *c, gql_type_t *parent, gql_selection_set_t *set)
{
    ostate_t *s = c->overlap;
    uint64_t *v = vmap64_put(&s->sets, c->arena, (uint64_t)(uintptr_t)set);
    if (!v)
        goto nomem;
    if (!*v) {
        ofields_t *o = arena_calloc(c->arena, 1, sizeof *o);
        if (!o || collect(c, o, parent, set) != 0)
            goto nomem;
        /* the map may have grown while collecting: look the slot up again */
        v = vmap64_put(&s->sets, c->arena, (uint64_t)(uintptr_t)set);
        if (!v)
            goto nomem;
        *v = (uint64_t)(uintptr_t)o;
    }
    return (ofields_t *)(uintptr_t)*v;
nomem:
    vnomem(c);
    return NULL;
}

static ofields_t *fragment_fields(vctx_t *c, gql_fragment_definition_t *f)
{
    return fields_of(c, vtype_from_ast(c, &f->type_condition->base), f->selection_set);
}

/* ---- comparing two fields ---- */

static bool values_equal(const gql_node_t *a, const gql_node_t *b);

static const gql_node_t *object_field_value(const gql_object_value_t *o, const gql_name_t *n)
{
    for (uint32_t i = 0; i < o->fields.count; i++) {
        const gql_object_field_t *f = (const gql_object_field_t *)o->fields.items[i];
        if (f->name.len == n->len && memcmp(f->name.value, n->value, n->len) == 0)
            return f->value;
    }
    return NULL;
}

/* print(sortValueNode(a)) === print(sortValueNode(b)): object fields in any order. */
static bool values_equal(const gql_node_t *a, const gql_node_t *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case GQL_KIND_VARIABLE: {
        const gql_name_t *x = &((const gql_variable_t *)a)->name,
                         *y = &((const gql_variable_t *)b)->name;
        return x->len == y->len && memcmp(x->value, y->value, x->len) == 0;
    }
    case GQL_KIND_BOOLEAN_VALUE:
        return ((const gql_boolean_value_t *)a)->value == ((const gql_boolean_value_t *)b)->value;
    case GQL_KIND_NULL_VALUE:
        return true;
    case GQL_KIND_LIST_VALUE: {
        const gql_node_list_t *x = &((const gql_list_value_t *)a)->values,
                              *y = &((const gql_list_value_t *)b)->values;
        if (x->count != y->count)
            return false;
        for (uint32_t i = 0; i < x->count; i++)
            if (!values_equal(x->items[i], y->items[i]))
                return false;
        return true;
    }
    case GQL_KIND_OBJECT_VALUE: {
        const gql_object_value_t *x = (const gql_object_value_t *)a,
                                 *y = (const gql_object_value_t *)b;
        if (x->fields.count != y->fields.count)
            return false;
        for (uint32_t i = 0; i < x->fields.count; i++) {
            const gql_object_field_t *f = (const gql_object_field_t *)x->fields.items[i];
            const gql_node_t *other = object_field_value(y, &f->name);
            if (!other || !values_equal(f->value, other))
                return false;
        }
        return true;
    }
    default: {
        const gql_text_value_t *x = (const gql_text_value_t *)a, *y = (const gql_text_value_t *)b;
        return x->len == y->len && x->block == y->block && memcmp(x->value, y->value, x->len) == 0;
    }
    }
}

static bool same_arguments(const gql_field_t *a, const gql_field_t *b)
{
    if (a->arguments.count != b->arguments.count)
        return false;
    for (uint32_t i = 0; i < a->arguments.count; i++) {
        const gql_argument_t *x = (const gql_argument_t *)a->arguments.items[i];
        const gql_node_t *yv = NULL;
        for (uint32_t j = 0; j < b->arguments.count && !yv; j++) {
            const gql_argument_t *y = (const gql_argument_t *)b->arguments.items[j];
            if (y->name.len == x->name.len &&
                memcmp(y->name.value, x->name.value, x->name.len) == 0)
                yv = y->value;
        }
        if (!yv || !values_equal(x->value, yv))
            return false;
    }
    return true;
}

static bool types_conflict(const gql_type_t *a, const gql_type_t *b)
{
    if (a->kind == GQL_TYPE_LIST)
        return b->kind == GQL_TYPE_LIST ? types_conflict(a->of_type, b->of_type) : true;
    if (b->kind == GQL_TYPE_LIST)
        return true;
    if (a->kind == GQL_TYPE_NON_NULL)
        return b->kind == GQL_TYPE_NON_NULL ? types_conflict(a->of_type, b->of_type) : true;
    if (b->kind == GQL_TYPE_NON_NULL)
        return true;
    if (gql_type_is_leaf(a) || gql_type_is_leaf(b))
        return !gql_type_equal(a, b);
    return false;
}

static conflict_t *new_conflict(vctx_t *c, const char *name, const char *msg, gql_field_t *a,
                                gql_field_t *b)
{
    conflict_t *k = arena_calloc(c->arena, 1, sizeof *k);
    if (!k || !msg || vvec_push(&k->f1, c->arena, a) || vvec_push(&k->f2, c->arena, b)) {
        vnomem(c);
        return NULL;
    }
    k->name = name;
    k->reason.msg = msg;
    return k;
}

static int push(vctx_t *c, vvec_t *conflicts, conflict_t *k)
{
    if (k && vvec_push(conflicts, c->arena, k) != 0) {
        vnomem(c);
        return -1;
    }
    return 0;
}

/* ---- fragment pairs (graphql-js's PairSet) ---- */

static uint64_t frag_id(vctx_t *c, const gql_name_t *n)
{
    ostate_t *s = c->overlap;
    vmap_entry_t *e = vmap_put(&s->frag_ids, c->arena, n->value, n->len);
    if (!e) {
        vnomem(c);
        return 0;
    }
    if (!e->value)
        e->value = (void *)(uintptr_t)++s->nfrag_ids;
    return (uint64_t)(uintptr_t)e->value;
}

static uint64_t pair_key(vctx_t *c, const gql_name_t *a, const gql_name_t *b)
{
    uint64_t x = frag_id(c, a), y = frag_id(c, b);
    return x < y ? x << 32 | y : y << 32 | x;
}

static bool pair_has(vctx_t *c, const gql_name_t *a, const gql_name_t *b, bool mutex)
{
    uint64_t *v = vmap64_get(&((ostate_t *)c->overlap)->pairs, pair_key(c, a, b));
    if (!v)
        return false;
    return mutex ? true : *v == 1;
}

static void pair_add(vctx_t *c, const gql_name_t *a, const gql_name_t *b, bool mutex)
{
    uint64_t *v = vmap64_put(&((ostate_t *)c->overlap)->pairs, c->arena, pair_key(c, a, b));
    if (!v)
        return vnomem(c);
    *v = mutex ? 2 : 1;
}

static bool name_eq(const gql_name_t *a, const gql_name_t *b)
{
    return a->len == b->len && memcmp(a->value, b->value, a->len) == 0;
}

/* ---- field classes ---- */

static uint64_t field_sig(vctx_t *c, ofield_t *f)
{
    if (f->sig)
        return f->sig;
    buf_t b = {0};
    gql_print(&f->node->base, &b);
    if (b.failed) {
        buf_free(&b);
        vnomem(c);
        return 1;
    }
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)f->parent;
    for (size_t i = 0; i < b.len; i++)
        h = (h ^ (unsigned char)b.data[i]) * 1099511628211ull;
    buf_free(&b);
    f->sig = h ? h : 1;
    return f->sig;
}

typedef struct classes {
    size_t n;          /* distinct classes */
    size_t *of;        /* field index -> class */
    ofield_t **rep;    /* class -> first field */
    ofield_t **second; /* class -> second field, NULL: only one */
} classes_t;

static int classify(vctx_t *c, vvec_t *fields, classes_t *k)
{
    vmap64_t ids = {0};
    k->n = 0;
    k->of = arena_alloc(c->arena, (fields->count + 1) * sizeof *k->of);
    k->rep = arena_calloc(c->arena, fields->count + 1, sizeof *k->rep);
    k->second = arena_calloc(c->arena, fields->count + 1, sizeof *k->second);
    if (!k->of || !k->rep || !k->second)
        return -1;
    for (size_t i = 0; i < fields->count; i++) {
        ofield_t *f = fields->items[i];
        uint64_t *v = vmap64_put(&ids, c->arena, field_sig(c, f));
        if (!v)
            return -1;
        if (!*v) {
            *v = ++k->n;
            k->rep[*v - 1] = f;
        } else if (!k->second[*v - 1]) {
            k->second[*v - 1] = f;
        }
        k->of[i] = *v - 1;
    }
    return 0;
}

/* ---- collecting conflicts ---- */

/* Pairs i < j of one group (within == true), or all pairs of two groups, compared in
 * graphql-js's order. */
static void compare_pairs(vctx_t *c, vvec_t *conflicts, bool mutex, const char *name, vvec_t *a,
                          vvec_t *b, const bool *bad, const size_t *ka, const size_t *kb, size_t nk)
{
    bool within = a == b;
    for (size_t i = 0; i < a->count && !full(c, conflicts); i++) {
        for (size_t j = within ? i + 1 : 0; j < b->count && !full(c, conflicts); j++) {
            if (bad && !bad[ka[i] * nk + kb[j]])
                continue;
            if (push(c, conflicts, find_conflict(c, mutex, name, a->items[i], b->items[j])))
                return;
        }
    }
}

/* For big groups: compare class representatives first; the pairwise pass only visits pairs
 * whose classes conflict. Returns false when no pair can conflict. */
static bool class_filter(vctx_t *c, bool mutex, const char *name, vvec_t *a, vvec_t *b,
                         classes_t *ka, classes_t *kb, bool **bad_out, size_t *nk)
{
    bool within = a == b;
    if (classify(c, a, ka) != 0 || (!within && classify(c, b, kb) != 0)) {
        vnomem(c);
        return false;
    }
    if (within)
        *kb = *ka;
    /* one index space for both sides' classes */
    size_t n = ka->n + (within ? 0 : kb->n);
    if (n > MAX_CLASSES) { /* mostly different fields: compare them all, within the budget */
        *bad_out = NULL;
        return true;
    }
    bool *bad = arena_calloc(c->arena, n * n + 1, sizeof *bad);
    if (!bad) {
        vnomem(c);
        return false;
    }
    if (!within)
        for (size_t i = 0; i < b->count; i++)
            kb->of[i] += ka->n;
    bool any = false;
    for (size_t x = 0; x < ka->n && !c->stop; x++) {
        for (size_t y = within ? x : 0; y < (within ? ka->n : kb->n) && !c->stop; y++) {
            ofield_t *f1 = ka->rep[x], *f2 = within ? kb->rep[y] : kb->rep[y];
            if (within && x == y) {
                if (!ka->second[x])
                    continue;
                f2 = ka->second[x];
            }
            size_t yy = within ? y : y + ka->n;
            if (find_conflict(c, mutex, name, f1, f2)) {
                bad[x * n + yy] = bad[yy * n + x] = true;
                any = true;
            }
            if (((ostate_t *)c->overlap)->gave_up)
                return false;
        }
    }
    *bad_out = bad;
    *nk = n;
    return any;
}

static void compare_groups(vctx_t *c, vvec_t *conflicts, bool mutex, const char *name, vvec_t *a,
                           vvec_t *b)
{
    bool within = a == b;
    size_t big = within ? a->count : a->count * b->count;
    if (big <= CLASS_THRESHOLD * CLASS_THRESHOLD || a->count + b->count <= CLASS_THRESHOLD * 2) {
        compare_pairs(c, conflicts, mutex, name, a, b, NULL, NULL, NULL, 0);
        return;
    }
    classes_t ka, kb;
    bool *bad = NULL;
    size_t nk = 0;
    if (class_filter(c, mutex, name, a, b, &ka, &kb, &bad, &nk))
        compare_pairs(c, conflicts, mutex, name, a, b, bad, bad ? ka.of : NULL, bad ? kb.of : NULL,
                      nk);
}

static void collect_within(vctx_t *c, vvec_t *conflicts, ofields_t *o)
{
    for (size_t g = 0; g < o->groups.count && !full(c, conflicts); g++) {
        ogroup_t *gr = o->groups.items[g];
        if (gr->fields.count > 1)
            compare_groups(c, conflicts, false, gr->name, &gr->fields, &gr->fields);
    }
}

static void collect_between(vctx_t *c, vvec_t *conflicts, bool mutex, ofields_t *a, ofields_t *b)
{
    for (size_t g = 0; g < a->groups.count && !full(c, conflicts); g++) {
        ogroup_t *ga = a->groups.items[g];
        vmap_entry_t *e = vmap_get(&b->by_name, ga->name, ga->len);
        if (e)
            compare_groups(c, conflicts, mutex, ga->name, &ga->fields,
                           &((ogroup_t *)e->value)->fields);
    }
}

static bool enter(vctx_t *c)
{
    ostate_t *s = c->overlap;
    if (s->depth >= OVERLAP_MAX_DEPTH)
        return false;
    s->depth++;
    return true;
}

static void leave(vctx_t *c)
{
    ((ostate_t *)c->overlap)->depth--;
}

static void fields_and_fragment(vctx_t *c, vvec_t *conflicts, bool mutex, ofields_t *fm,
                                const gql_name_t *frag_name)
{
    gql_fragment_definition_t *f = vfragment(c, frag_name);
    if (!f || full(c, conflicts) || !enter(c))
        return;
    ofields_t *fm2 = fragment_fields(c, f);
    if (fm2 && fm2 != fm) {
        collect_between(c, conflicts, mutex, fm, fm2);
        for (size_t i = 0; i < fm2->frags.count && !full(c, conflicts); i++) {
            const gql_name_t *ref = fm2->frags.items[i];
            if (pair_has(c, ref, frag_name, mutex))
                continue;
            pair_add(c, ref, frag_name, mutex);
            fields_and_fragment(c, conflicts, mutex, fm, ref);
        }
    }
    leave(c);
}

static void fragments_pair(vctx_t *c, vvec_t *conflicts, bool mutex, const gql_name_t *n1,
                           const gql_name_t *n2)
{
    if (name_eq(n1, n2) || pair_has(c, n1, n2, mutex) || full(c, conflicts))
        return;
    pair_add(c, n1, n2, mutex);
    gql_fragment_definition_t *f1 = vfragment(c, n1), *f2 = vfragment(c, n2);
    if (!f1 || !f2 || !enter(c))
        return;
    ofields_t *a = fragment_fields(c, f1), *b = fragment_fields(c, f2);
    if (a && b) {
        collect_between(c, conflicts, mutex, a, b);
        for (size_t i = 0; i < b->frags.count; i++)
            fragments_pair(c, conflicts, mutex, n1, b->frags.items[i]);
        for (size_t i = 0; i < a->frags.count; i++)
            fragments_pair(c, conflicts, mutex, a->frags.items[i], n2);
    }
    leave(c);
}

static void between_sub_selections(vctx_t *c, vvec_t *conflicts, bool mutex, gql_type_t *t1,
                                   gql_selection_set_t *s1, gql_type_t *t2, gql_selection_set_t *s2)
{
    ofields_t *a = fields_of(c, t1, s1), *b = fields_of(c, t2, s2);
    if (!a || !b)
        return;
    collect_between(c, conflicts, mutex, a, b);
    for (size_t i = 0; i < b->frags.count; i++)
        fields_and_fragment(c, conflicts, mutex, a, b->frags.items[i]);
    for (size_t i = 0; i < a->frags.count; i++)
        fields_and_fragment(c, conflicts, mutex, b, a->frags.items[i]);
    for (size_t i = 0; i < a->frags.count; i++)
        for (size_t j = 0; j < b->frags.count; j++)
            fragments_pair(c, conflicts, mutex, a->frags.items[i], b->frags.items[j]);
}

static conflict_t *sub_conflicts(vctx_t *c, vvec_t *subs, const char *name, gql_field_t *n1,
                                 gql_field_t *n2)
{
    if (subs->count == 0)
        return NULL;
    conflict_t *k = arena_calloc(c->arena, 1, sizeof *k);
    if (!k || vvec_push(&k->f1, c->arena, n1) || vvec_push(&k->f2, c->arena, n2))
        goto nomem;
    k->name = name;
    k->reason.subs = *subs;
    for (size_t i = 0; i < subs->count; i++) {
        conflict_t *s = subs->items[i];
        for (size_t j = 0; j < s->f1.count; j++)
            if (vvec_push(&k->f1, c->arena, s->f1.items[j]))
                goto nomem;
        for (size_t j = 0; j < s->f2.count; j++)
            if (vvec_push(&k->f2, c->arena, s->f2.items[j]))
                goto nomem;
    }
    return k;
nomem:
    vnomem(c);
    return NULL;
}

static gql_type_t *named_or_null(gql_type_t *t)
{
    return t ? gql_type_named(t) : NULL;
}

static conflict_t *find_conflict(vctx_t *c, bool parent_mutex, const char *name, ofield_t *a,
                                 ofield_t *b)
{
    ostate_t *s = c->overlap;
    if (++s->comparisons > OVERLAP_MAX_COMPARISONS) {
        s->gave_up = true;
        return NULL;
    }
    bool mutex =
        parent_mutex || (a->parent != b->parent && a->parent && b->parent &&
                         a->parent->kind == GQL_TYPE_OBJECT && b->parent->kind == GQL_TYPE_OBJECT);
    gql_field_t *n1 = a->node, *n2 = b->node;
    if (!mutex) {
        if (!name_eq(&n1->name, &n2->name))
            return new_conflict(c, name,
                                arena_printf(c->arena, "\"%s\" and \"%s\" are different fields",
                                             n1->name.value, n2->name.value),
                                n1, n2);
        if (!same_arguments(n1, n2))
            return new_conflict(c, name, "they have differing arguments", n1, n2);
    }
    gql_type_t *t1 = a->def ? a->def->type : NULL, *t2 = b->def ? b->def->type : NULL;
    if (t1 && t2 && types_conflict(t1, t2))
        return new_conflict(c, name,
                            arena_printf(c->arena,
                                         "they return conflicting types \"%s\" and \"%s\"",
                                         vtype_str(c, t1), vtype_str(c, t2)),
                            n1, n2);
    if (!n1->selection_set || !n2->selection_set)
        return NULL;
    /* Identical subtrees meet again and again (two copies at every level is exponential in
     * graphql-js): a pair of classes found clean once is clean again, since the fragment
     * pairs remembered meanwhile can only remove comparisons. */
    uint64_t key = (field_sig(c, a) * 0x9E3779B97F4A7C15ull) ^ (field_sig(c, b) + mutex);
    key = key ? key : 1;
    if (vmap64_get(&s->clean, key) || !enter(c))
        return NULL;
    vvec_t subs = {0};
    between_sub_selections(c, &subs, mutex, named_or_null(t1), n1->selection_set, named_or_null(t2),
                           n2->selection_set);
    leave(c);
    conflict_t *k = sub_conflicts(c, &subs, name, n1, n2);
    if (!k && !c->stop && !s->gave_up) {
        uint64_t *v = vmap64_put(&s->clean, c->arena, key);
        if (!v)
            vnomem(c);
    }
    return k;
}

/* ---- reporting ---- */

static void reason_text(buf_t *b, const reason_t *r)
{
    if (r->msg) {
        buf_puts(b, r->msg);
        return;
    }
    for (size_t i = 0; i < r->subs.count; i++) {
        const conflict_t *s = r->subs.items[i];
        buf_printf(b, "%ssubfields \"%s\" conflict because ", i ? " and " : "", s->name);
        reason_text(b, &s->reason);
    }
}

static void report(vctx_t *c, conflict_t *k)
{
    buf_t b = {0};
    reason_text(&b, &k->reason);
    if (b.failed) {
        buf_free(&b);
        return vnomem(c);
    }
    vvec_t nodes = {0};
    for (size_t i = 0; i < k->f1.count + k->f2.count; i++)
        if (vvec_push(&nodes, c->arena,
                      i < k->f1.count ? k->f1.items[i] : k->f2.items[i - k->f1.count])) {
            buf_free(&b);
            return vnomem(c);
        }
    verr(c, (const gql_node_t *const *)nodes.items, nodes.count,
         "Fields \"%s\" conflict because %s. Use different aliases on the fields to fetch both "
         "if this was intentional.",
         k->name, b.data);
    buf_free(&b);
}

void voverlap_selection_set(vctx_t *c, gql_type_t *parent, gql_selection_set_t *set)
{
    if (!c->overlap) {
        c->overlap = arena_calloc(c->arena, 1, sizeof(ostate_t));
        if (!c->overlap)
            return vnomem(c);
        ((ostate_t *)c->overlap)->cap = c->opt.max_errors + 1;
    }
    ostate_t *s = c->overlap;
    if (s->gave_up)
        return;
    vvec_t conflicts = {0};
    ofields_t *o = fields_of(c, parent, set);
    if (!o)
        return;
    collect_within(c, &conflicts, o);
    for (size_t i = 0; i < o->frags.count; i++) {
        fields_and_fragment(c, &conflicts, false, o, o->frags.items[i]);
        for (size_t j = i + 1; j < o->frags.count; j++)
            fragments_pair(c, &conflicts, false, o->frags.items[i], o->frags.items[j]);
    }
    for (size_t i = 0; i < conflicts.count && !c->stop; i++)
        report(c, conflicts.items[i]);
    if (s->gave_up)
        VERR1(c, set,
              "The document is too complex to check that its fields can be merged (more than %d "
              "field comparisons).",
              OVERLAP_MAX_COMPARISONS);
}
