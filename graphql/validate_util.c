/* validate_util.c - the validator's plumbing: arena maps, error reporting, graphql-js's
 * "Did you mean" suggestions, fragment lookups. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "printer.h"
#include "validate_int.h"

/* ---- maps ---- */

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static vmap_entry_t *vmap_find(const vmap_t *m, const char *key, size_t len)
{
    size_t mask = m->cap - 1;
    for (size_t i = hash_bytes(key, len) & mask;; i = (i + 1) & mask) {
        vmap_entry_t *e = &m->slots[i];
        if (!e->key || (e->len == len && memcmp(e->key, key, len) == 0))
            return e;
    }
}

vmap_entry_t *vmap_get(const vmap_t *m, const char *key, size_t len)
{
    if (!m->cap)
        return NULL;
    vmap_entry_t *e = vmap_find(m, key, len);
    return e->key ? e : NULL;
}

static int vmap_grow(vmap_t *m, arena_t *a)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    vmap_entry_t *old = m->slots;
    size_t ocap = m->cap;
    m->slots = arena_calloc(a, ncap, sizeof *m->slots);
    if (!m->slots) {
        m->slots = old;
        return -1;
    }
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].key)
            *vmap_find(m, old[i].key, old[i].len) = old[i];
    return 0;
}

vmap_entry_t *vmap_put(vmap_t *m, arena_t *a, const char *key, size_t len)
{
    if ((m->count + 1) * 2 > m->cap && vmap_grow(m, a) != 0)
        return NULL;
    vmap_entry_t *e = vmap_find(m, key, len);
    if (!e->key) {
        e->key = key;
        e->len = (uint32_t)len;
        e->value = NULL;
        m->count++;
    }
    return e;
}

static size_t slot64(const vmap64_t *m, uint64_t key)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & mask;
    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & mask;
    return i;
}

uint64_t *vmap64_get(const vmap64_t *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    size_t i = slot64(m, key);
    return m->keys[i] ? &m->values[i] : NULL;
}

uint64_t *vmap64_put(vmap64_t *m, arena_t *a, uint64_t key)
{
    if ((m->count + 1) * 2 > m->cap) {
        vmap64_t n = {.cap = m->cap ? m->cap * 2 : 64};
        n.keys = arena_calloc(a, n.cap, sizeof *n.keys);
        n.values = arena_calloc(a, n.cap, sizeof *n.values);
        if (!n.keys || !n.values)
            return NULL;
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = slot64(&n, m->keys[i]);
                n.keys[j] = m->keys[i];
                n.values[j] = m->values[i];
            }
        n.count = m->count;
        *m = n;
    }
    size_t i = slot64(m, key);
    if (!m->keys[i]) {
        m->keys[i] = key;
        m->values[i] = 0;
        m->count++;
    }
    return &m->values[i];
}

int vvec_push(vvec_t *v, arena_t *a, void *item)
{
    if (v->count == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 8;
        void **items = arena_alloc(a, ncap * sizeof *items);
        if (!items)
            return -1;
        if (v->count)
            memcpy(items, v->items, v->count * sizeof *items);
        v->items = items;
        v->cap = ncap;
    }
    v->items[v->count++] = item;
    return 0;
}

/* ---- errors ---- */

void vnomem(vctx_t *c)
{
    c->rc = GQL_ENOMEM;
    c->stop = true;
}

static gql_validation_error_t *new_error(vctx_t *c)
{
    gql_validation_result_t *r = c->out;
    if (r->nerrors == c->errcap) {
        size_t ncap = c->errcap ? c->errcap * 2 : 8;
        gql_validation_error_t *e = arena_alloc(c->arena, ncap * sizeof *e);
        if (!e) {
            vnomem(c);
            return NULL;
        }
        if (r->nerrors)
            memcpy(e, r->errors, r->nerrors * sizeof *e);
        r->errors = e;
        c->errcap = ncap;
    }
    gql_validation_error_t *e = &r->errors[r->nerrors++];
    memset(e, 0, sizeof *e);
    return e;
}

void verr(vctx_t *c, const gql_node_t *const *nodes, size_t n, const char *fmt, ...)
{
    if (c->stop)
        return;
    if (c->out->nerrors >= c->opt.max_errors) {
        gql_validation_error_t *e = new_error(c);
        if (e)
            e->message = "Too many validation errors, error limit reached. Validation aborted.";
        c->out->aborted = true;
        c->stop = true;
        return;
    }
    gql_validation_error_t *e = new_error(c);
    if (!e)
        return;
    va_list ap;
    va_start(ap, fmt);
    e->message = arena_vprintf(c->arena, fmt, ap);
    va_end(ap);
    e->locations = n ? arena_alloc(c->arena, n * sizeof *e->locations) : NULL;
    if (!e->message || (n && !e->locations)) {
        e->message = "Out of memory.";
        vnomem(c);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (nodes[i])
            e->locations[e->nlocations++] =
                (gql_validation_location_t){nodes[i]->loc.line, nodes[i]->loc.column};
}

/* ---- printing ---- */

const char *vtype_str(vctx_t *c, const gql_type_t *t)
{
    char small[128];
    size_t need = gql_type_print(t, small, sizeof small);
    char *s = arena_alloc(c->arena, need + 1);
    if (!s) {
        vnomem(c);
        return "";
    }
    gql_type_print(t, s, need + 1);
    return s;
}

const char *vprint(vctx_t *c, const gql_node_t *n)
{
    buf_t b = {0};
    const char *s = NULL;
    if (gql_print(n, &b) == 0)
        s = arena_strndup(c->arena, b.data ? b.data : "", b.len);
    buf_free(&b);
    if (!s) {
        vnomem(c);
        return "";
    }
    return s;
}

/* ---- suggestions (graphql-js's suggestionList, didYouMean, naturalCompare) ---- */

#define MAX_SUGGESTIONS 5

/* Optimal string alignment distance between lowercased strings, or -1 above threshold. */
static int lexical_distance(const char *input, const char *option, int threshold)
{
    if (strcmp(input, option) == 0)
        return 0;
    size_t la = strlen(option), lb = strlen(input);
    char *a = malloc(la + 1), *b = malloc(lb + 1);
    int *rows = malloc(3 * (lb > la ? lb + 1 : la + 1) * sizeof *rows);
    int result = -1;
    if (!a || !b || !rows)
        goto done;
    for (size_t i = 0; i <= la; i++)
        a[i] = (char)tolower((unsigned char)option[i]);
    for (size_t i = 0; i <= lb; i++)
        b[i] = (char)tolower((unsigned char)input[i]);
    if (strcmp(a, b) == 0) {
        result = 1; /* a case change counts as one edit */
        goto done;
    }
    if (la < lb) {
        char *t = a;
        a = b;
        b = t;
        size_t tl = la;
        la = lb;
        lb = tl;
    }
    if ((int)(la - lb) > threshold)
        goto done;
    size_t w = lb + 1;
    for (size_t j = 0; j <= lb; j++)
        rows[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int *up = &rows[((i - 1) % 3) * w], *cur = &rows[(i % 3) * w];
        int smallest = cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int cell = up[j] + 1;
            if (cur[j - 1] + 1 < cell)
                cell = cur[j - 1] + 1;
            if (up[j - 1] + cost < cell)
                cell = up[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                int dd = rows[((i - 2) % 3) * w + j - 2] + 1;
                if (dd < cell)
                    cell = dd;
            }
            if (cell < smallest)
                smallest = cell;
            cur[j] = cell;
        }
        if (smallest > threshold)
            goto done;
    }
    int d = rows[(la % 3) * w + lb];
    result = d <= threshold ? d : -1;
done:
    free(a);
    free(b);
    free(rows);
    return result;
}

/* graphql-js's naturalCompare: digit runs compare as numbers. */
static int natural_compare(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            const char *sa = a, *sb = b;
            while (isdigit((unsigned char)*a))
                a++;
            while (isdigit((unsigned char)*b))
                b++;
            double na = strtod(sa, NULL), nb = strtod(sb, NULL);
            if (na != nb)
                return na < nb ? -1 : 1;
        } else {
            if (*a != *b)
                return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    return *a ? 1 : *b ? -1 : 0;
}

typedef struct scored {
    const char *name;
    int distance;
} scored_t;

static int cmp_scored(const void *x, const void *y)
{
    const scored_t *a = x, *b = y;
    if (a->distance != b->distance)
        return a->distance - b->distance;
    return natural_compare(a->name, b->name);
}

const char *vdid_you_mean(vctx_t *c, const char *sub, const char **names, size_t n)
{
    if (n == 0)
        return "";
    if (n > MAX_SUGGESTIONS)
        n = MAX_SUGGESTIONS;
    buf_t b = {0};
    buf_puts(&b, " Did you mean ");
    if (sub)
        buf_printf(&b, "%s ", sub);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && n == 2)
            buf_puts(&b, " or ");
        else if (i > 0 && i == n - 1)
            buf_puts(&b, ", or ");
        else if (i > 0)
            buf_puts(&b, ", ");
        buf_printf(&b, "\"%s\"", names[i]);
    }
    buf_putc(&b, '?');
    const char *s = b.failed ? NULL : arena_strndup(c->arena, b.data, b.len);
    buf_free(&b);
    if (!s)
        vnomem(c);
    return s ? s : "";
}

const char *vsuggest(vctx_t *c, const char *sub, const char *input, const char **options, size_t n)
{
    if (n == 0)
        return "";
    scored_t *sc = malloc(n * sizeof *sc);
    const char **names = malloc(n * sizeof *names);
    const char *res = "";
    if (!sc || !names) {
        vnomem(c);
        goto done;
    }
    int threshold = (int)(strlen(input) * 4 / 10) + 1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int d = lexical_distance(input, options[i], threshold);
        if (d >= 0)
            sc[k++] = (scored_t){options[i], d};
    }
    qsort(sc, k, sizeof *sc, cmp_scored);
    for (size_t i = 0; i < k; i++)
        names[i] = sc[i].name;
    res = vdid_you_mean(c, sub, names, k);
done:
    free(sc);
    free(names);
    return res;
}

/* ---- fragments and fields ---- */

gql_fragment_definition_t *vfragment(vctx_t *c, const gql_name_t *name)
{
    vmap_entry_t *e = vmap_get(&c->fragments, name->value, name->len);
    return e ? e->value : NULL;
}

static int collect_spreads(vctx_t *c, gql_selection_set_t *root, vvec_t *out)
{
    vvec_t stack = {0};
    if (vvec_push(&stack, c->arena, root) != 0)
        return -1;
    while (stack.count) {
        gql_selection_set_t *set = stack.items[--stack.count];
        for (uint32_t i = 0; i < set->selections.count; i++) {
            gql_node_t *s = set->selections.items[i];
            gql_selection_set_t *sub = NULL;
            if (s->kind == GQL_KIND_FRAGMENT_SPREAD) {
                if (vvec_push(out, c->arena, s) != 0)
                    return -1;
            } else if (s->kind == GQL_KIND_FIELD) {
                sub = ((gql_field_t *)s)->selection_set;
            } else {
                sub = ((gql_inline_fragment_t *)s)->selection_set;
            }
            if (sub && vvec_push(&stack, c->arena, sub) != 0)
                return -1;
        }
    }
    return 0;
}

vvec_t *vspreads(vctx_t *c, gql_selection_set_t *set)
{
    vmap_entry_t *e = vmap_put(&c->spreads_cache, c->arena, (const char *)&set, sizeof set);
    if (!e) {
        vnomem(c);
        return NULL;
    }
    if (!e->value) {
        /* the key must outlive this frame: store the pointer's bytes in the arena */
        void **key = arena_alloc(c->arena, sizeof *key);
        vvec_t *v = arena_calloc(c->arena, 1, sizeof *v);
        if (!key || !v || collect_spreads(c, set, v) != 0) {
            vnomem(c);
            return NULL;
        }
        *key = set;
        e->key = (const char *)key;
        e->value = v;
    }
    return e->value;
}

int vreferenced_fragments(vctx_t *c, gql_operation_definition_t *op, vvec_t *out)
{
    vmap_t seen = {0};
    vvec_t todo = {0};
    if (vvec_push(&todo, c->arena, op->selection_set) != 0)
        goto nomem;
    while (todo.count) {
        vvec_t *spreads = vspreads(c, todo.items[--todo.count]);
        if (!spreads)
            return -1;
        for (size_t i = 0; i < spreads->count; i++) {
            gql_fragment_spread_t *sp = spreads->items[i];
            if (vmap_get(&seen, sp->name.value, sp->name.len))
                continue;
            if (!vmap_put(&seen, c->arena, sp->name.value, sp->name.len))
                goto nomem;
            gql_fragment_definition_t *f = vfragment(c, &sp->name);
            if (f && (vvec_push(out, c->arena, f) != 0 ||
                      vvec_push(&todo, c->arena, f->selection_set) != 0))
                goto nomem;
        }
    }
    return 0;
nomem:
    vnomem(c);
    return -1;
}

const gql_field_def_t *vfield_def(vctx_t *c, const gql_type_t *parent, const gql_name_t *name)
{
    if (!parent)
        return NULL;
    const gql_field_def_t *f = gql_schema_meta_field(c->schema, parent, name->value, name->len);
    if (f)
        return f;
    if (parent->kind == GQL_TYPE_OBJECT || parent->kind == GQL_TYPE_INTERFACE)
        return gql_type_field(parent, name->value, name->len);
    return NULL;
}

gql_type_t *vtype_from_ast(vctx_t *c, const gql_node_t *type)
{
    return type ? gql_schema_type_from_ast(c->schema, type, c->arena) : NULL;
}
