/* execute.c - GraphQL execution (specification section 6) with graphql-js 16.8's semantics:
 * operation selection, variable coercion, field collection, resolution through the resolver
 * table, value completion with null propagation, and the JSON response written as it goes.
 *
 * Speed: the fields a selection set collects for an object type are collected once per
 * execution (a plan, cached on the field that leads to it), and their arguments coerced once,
 * since both depend on the document and the variables only; completing a list of a thousand
 * objects then costs the resolution and the writing of their values, nothing more. The data
 * is written straight into a buffer; a failure in a non-null position cuts the buffer back to
 * the start of the nearest nullable value, which becomes null. */
#include "execute.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "introspection.h"
#include "lexer.h"
#include "values.h"

#define DEFAULT_MAX_LIST_ITEMS 10000
/* Completion recurses once per object level; the validated document bounds it, this too. */
#define MAX_DEPTH 256

/* completion: value written, error recorded (not written), or a root field's
 * resolver suspended the execution (GQL_EXEC_SUSPENDED) */
enum { DONE = 0, FAILED = 1, SUSPEND = 2 };

typedef enum meta { META_NONE, META_TYPENAME, META_SCHEMA, META_TYPE } meta_t;

typedef struct plan plan_t;

typedef struct subplan {
    const gql_type_t *type;
    plan_t *plan;
    struct subplan *next;
} subplan_t;

/* The fields of one response key in a selection set, collected for one object type. */
typedef struct cfield {
    const char *key;
    const char *json_key; /* "key": written ahead of the value */
    const gql_field_t **nodes;
    uint32_t nnodes, cap;
    const gql_type_t *parent;
    const gql_field_def_t *def; /* NULL: not a field of the type (graphql-js leaves it out) */
    meta_t meta;
    gql_resolve_fn fn;
    bool args_done;
    int args_rc;
    const cJSON *args;
    const char *args_msg;
    const gql_node_t *args_at;
    subplan_t *subs;
} cfield_t;

struct plan {
    cfield_t **fields;
    size_t n, cap;
    int rc;            /* GQL_EINVALID: collection failed (msg, at) */
    const char *msg;
    const gql_node_t *at;
};

typedef struct path {
    const struct path *prev;
    const char *key; /* NULL: index */
    size_t index;
} path_t;

typedef struct frag {
    const gql_fragment_definition_t *def;
    unsigned visited; /* generation of the last collection that spread it */
} frag_t;

typedef struct owned {
    cJSON *v;
    struct owned *next;
} owned_t;

struct gql_exec {
    const gql_schema_t *schema;
    const gql_exec_options_t *opt;
    arena_t *arena;
    cJSON *vars;
    cJSON *empty;
    frag_t *frags; /* open addressing by name */
    size_t frag_mask;
    unsigned gen;
    buf_t errors; /* the errors' JSON, comma separated */
    size_t nerrors;
    const char *first_code;
    const cfield_t *cur; /* the field a resolver runs for, for gql_exec_error */
    const path_t *cur_path;
    owned_t *owned;
    size_t max_list;
    unsigned depth;
    int oom;
};

/* ---- small helpers ---- */

static size_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void truncate_to(buf_t *b, size_t len)
{
    if (b->data && len <= b->len) {
        b->len = len;
        b->data[len] = 0;
    }
}

static bool is_null(const cJSON *v)
{
    return !v || cJSON_IsNull(v) || cJSON_IsInvalid(v);
}

static int keep_owned(gql_exec_t *ex, cJSON *v)
{
    owned_t *o = arena_alloc(ex->arena, sizeof *o);
    if (!o) {
        cJSON_Delete(v);
        return GQL_ENOMEM;
    }
    *o = (owned_t){v, ex->owned};
    ex->owned = o;
    return 0;
}

arena_t *gql_exec_arena(gql_exec_t *ex)
{
    return ex->arena;
}

/* ---- errors ---- */

static void put_path(buf_t *b, const path_t *p)
{
    if (!p)
        return;
    if (p->prev) {
        put_path(b, p->prev);
        buf_putc(b, ',');
    }
    if (p->key)
        buf_put_json_string(b, p->key, strlen(p->key));
    else
        buf_printf(b, "%zu", p->index);
}

static void put_location(buf_t *b, const gql_node_t *n, bool first)
{
    buf_printf(b, "%s{\"line\":%u,\"column\":%u}", first ? "" : ",", n->loc.line, n->loc.column);
}

/* Records an error: located at `at`, else at the field's nodes, else nowhere; with a path
 * when p is given (graphql-js's order of members: message, locations, path, extensions). */
static int record_error(gql_exec_t *ex, const char *msg, const char *code, const cfield_t *cf,
                        const gql_node_t *at, const path_t *p)
{
    buf_t *b = &ex->errors;
    if (ex->nerrors++)
        buf_putc(b, ',');
    else
        ex->first_code = code;
    buf_puts(b, "{\"message\":");
    msg = msg ? msg : "Out of memory.";
    buf_put_json_string(b, msg, strlen(msg));
    if (at || cf) {
        buf_puts(b, ",\"locations\":[");
        if (at)
            put_location(b, at, true);
        for (uint32_t i = 0; !at && i < cf->nnodes; i++)
            put_location(b, &cf->nodes[i]->base, i == 0);
        buf_putc(b, ']');
    }
    if (p) {
        buf_puts(b, ",\"path\":[");
        put_path(b, p);
        buf_putc(b, ']');
    }
    if (code) {
        buf_puts(b, ",\"extensions\":{\"code\":");
        buf_put_json_string(b, code, strlen(code));
        buf_putc(b, '}');
    }
    buf_putc(b, '}');
    return b->failed ? GQL_ENOMEM : 0;
}

/* A field's error. One that is the server's fault (internal) is masked
 * when the options ask for it: the client gets a stable message and code,
 * the options' internal_error callback the detail. */
static int vfield_error(gql_exec_t *ex, const cfield_t *cf, const path_t *p, bool internal,
                        const char *fmt, va_list ap)
{
    const char *msg = arena_vprintf(ex->arena, fmt, ap);
    const char *code = NULL;
    if (internal && ex->opt->internal_error) {
        ex->opt->internal_error(ex->opt->user_data, msg ? msg : "out of memory");
        msg = GQL_INTERNAL_MESSAGE;
        code = GQL_INTERNAL_CODE;
    }
    int rc = record_error(ex, msg, code, cf, NULL, p);
    return rc < 0 ? rc : FAILED;
}

static int field_error(gql_exec_t *ex, const cfield_t *cf, const path_t *p, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int field_error(gql_exec_t *ex, const cfield_t *cf, const path_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfield_error(ex, cf, p, false, fmt, ap);
    va_end(ap);
    return rc;
}

static int internal_error(gql_exec_t *ex, const cfield_t *cf, const path_t *p, const char *fmt,
                          ...) __attribute__((format(printf, 4, 5)));
static int internal_error(gql_exec_t *ex, const cfield_t *cf, const path_t *p, const char *fmt,
                          ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfield_error(ex, cf, p, true, fmt, ap);
    va_end(ap);
    return rc;
}


int gql_exec_error(gql_exec_t *ex, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *msg = arena_vprintf(ex->arena, fmt, ap);
    va_end(ap);
    const char *c = code ? arena_strndup(ex->arena, code, strlen(code)) : NULL;
    if (record_error(ex, msg, c, ex->cur, NULL, ex->cur_path) < 0)
        ex->oom = 1;
    return -1;
}

static const char *inspected(gql_exec_t *ex, const cJSON *v)
{
    buf_t b = {0};
    gql_inspect(&b, v);
    const char *r = b.failed ? NULL : arena_strndup(ex->arena, b.data, b.len);
    buf_free(&b);
    return r ? r : "?";
}

/* ---- operation selection ---- */

static bool name_eq(const gql_name_t *n, const char *s)
{
    return n->value && strcmp(n->value, s) == 0;
}

/* graphql-js's buildExecutionContext: *why is 1 (several, no name), 2 (unknown name) or 3
 * (none). */
static const gql_operation_definition_t *select_op(const gql_document_t *doc, const char *name,
                                                   int *why)
{
    const gql_operation_definition_t *op = NULL;
    for (uint32_t i = 0; i < doc->definitions.count; i++) {
        const gql_node_t *d = doc->definitions.items[i];
        if (d->kind != GQL_KIND_OPERATION_DEFINITION)
            continue;
        const gql_operation_definition_t *o = (const gql_operation_definition_t *)d;
        if (!name) {
            if (op) {
                *why = 1;
                return NULL;
            }
            op = o;
        } else if (name_eq(&o->name, name)) {
            op = o;
        }
    }
    *why = op ? 0 : name ? 2 : 3;
    return op;
}

const gql_operation_definition_t *gql_select_operation(const gql_document_t *doc,
                                                       const char *operation_name,
                                                       const char **why)
{
    int w;
    const gql_operation_definition_t *op = select_op(doc, operation_name, &w);
    *why = w == 1   ? "Must provide operation name if query contains multiple operations."
           : w == 2 ? "Unknown operation named in operationName."
           : w == 3 ? "Must provide an operation."
                    : NULL;
    return op;
}

/* ---- fragments ---- */

static int index_fragments(gql_exec_t *ex, const gql_document_t *doc)
{
    size_t n = 0, cap = 8;
    for (uint32_t i = 0; i < doc->definitions.count; i++)
        n += doc->definitions.items[i]->kind == GQL_KIND_FRAGMENT_DEFINITION;
    while (cap < 2 * n)
        cap *= 2;
    if (!(ex->frags = arena_calloc(ex->arena, cap, sizeof *ex->frags)))
        return GQL_ENOMEM;
    ex->frag_mask = cap - 1;
    for (uint32_t i = 0; i < doc->definitions.count; i++) {
        const gql_node_t *d = doc->definitions.items[i];
        if (d->kind != GQL_KIND_FRAGMENT_DEFINITION)
            continue;
        const gql_fragment_definition_t *f = (const gql_fragment_definition_t *)d;
        size_t h = hash_str(f->name.value) & ex->frag_mask;
        while (ex->frags[h].def && !name_eq(&ex->frags[h].def->name, f->name.value))
            h = (h + 1) & ex->frag_mask;
        ex->frags[h].def = f; /* the last of a name wins, as in graphql-js (validation forbids two) */
    }
    return 0;
}

static frag_t *find_fragment(gql_exec_t *ex, const char *name)
{
    size_t h = hash_str(name) & ex->frag_mask;
    while (ex->frags[h].def) {
        if (name_eq(&ex->frags[h].def->name, name))
            return &ex->frags[h];
        h = (h + 1) & ex->frag_mask;
    }
    return NULL;
}

/* ---- field collection ---- */

typedef struct collector {
    gql_exec_t *ex;
    const gql_type_t *type;
    plan_t *plan;
    cfield_t **map; /* response key -> field, open addressing; grows with the plan */
    size_t map_mask;
} collector_t;

/* @skip / @include: 1 include, 0 leave out, GQL_EINVALID (plan->msg set), GQL_ENOMEM. */
static int directive_if(collector_t *c, const gql_node_list_t *dirs, const char *name, bool *v,
                        bool *present)
{
    *present = false;
    for (uint32_t i = 0; i < dirs->count; i++) {
        const gql_directive_t *d = (const gql_directive_t *)dirs->items[i];
        if (!name_eq(&d->name, name))
            continue;
        *present = true;
        const gql_argument_t *a = d->arguments.count == 1 ? (void *)d->arguments.items[0] : NULL;
        if (a && a->value->kind == GQL_KIND_BOOLEAN_VALUE) { /* the usual case: no cJSON */
            *v = ((const gql_boolean_value_t *)a->value)->value;
            return 0;
        }
        const gql_directive_def_t *def = gql_schema_directive(c->ex->schema, name, strlen(name));
        cJSON *args = NULL;
        int rc = gql_coerce_arguments(c->ex->schema, def->args, def->nargs, &d->arguments,
                                      c->ex->vars, c->ex->arena, &args, &c->plan->msg,
                                      &c->plan->at);
        if (rc < 0) {
            if (!c->plan->at)
                c->plan->at = &d->base;
            return rc;
        }
        *v = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "if"));
        cJSON_Delete(args);
        return 0;
    }
    return 0;
}

static int should_include(collector_t *c, const gql_node_list_t *dirs)
{
    if (!dirs->count)
        return 1;
    bool v = false, present;
    int rc = directive_if(c, dirs, "skip", &v, &present);
    if (rc < 0)
        return rc;
    if (present && v)
        return 0;
    rc = directive_if(c, dirs, "include", &v, &present);
    if (rc < 0)
        return rc;
    return present && !v ? 0 : 1;
}

static bool type_applies(collector_t *c, const gql_named_type_t *cond)
{
    if (!cond)
        return true;
    const gql_type_t *t = gql_schema_type(c->ex->schema, cond->name.value, cond->name.len);
    if (!t)
        return false;
    if (t == c->type)
        return true;
    return gql_type_is_abstract(t) && gql_type_is_possible(t, c->type);
}

static cfield_t **map_slot(collector_t *c, const char *key)
{
    size_t h = hash_str(key) & c->map_mask;
    while (c->map[h] && strcmp(c->map[h]->key, key) != 0)
        h = (h + 1) & c->map_mask;
    return &c->map[h];
}

static int grow(arena_t *a, void *items_p, size_t n, size_t *cap, size_t size)
{
    void **items = items_p;
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = arena_alloc(a, ncap * size);
    if (!p)
        return GQL_ENOMEM;
    if (n)
        memcpy(p, *items, n * size);
    *items = p;
    *cap = ncap;
    return 0;
}

static int rehash(collector_t *c)
{
    size_t cap = (c->map_mask + 1) * 2;
    cfield_t **m = arena_calloc(c->ex->arena, cap, sizeof *m);
    if (!m)
        return GQL_ENOMEM;
    c->map = m;
    c->map_mask = cap - 1;
    for (size_t i = 0; i < c->plan->n; i++)
        *map_slot(c, c->plan->fields[i]->key) = c->plan->fields[i];
    return 0;
}

static gql_resolve_fn find_resolver(const gql_exec_options_t *o, const gql_type_t *t,
                                    const char *field)
{
    for (size_t i = 0; i < o->nresolvers; i++)
        if (strcmp(o->resolvers[i].field_name, field) == 0 &&
            strcmp(o->resolvers[i].type_name, t->name) == 0)
            return o->resolvers[i].fn;
    return NULL;
}

static int new_field(collector_t *c, const gql_field_t *f, const char *key, cfield_t **out)
{
    gql_exec_t *ex = c->ex;
    cfield_t *cf = arena_calloc(ex->arena, 1, sizeof *cf);
    buf_t b = {0};
    buf_put_json_string(&b, key, strlen(key));
    buf_putc(&b, ':');
    if (!cf || b.failed || !(cf->json_key = arena_strndup(ex->arena, b.data, b.len))) {
        buf_free(&b);
        return GQL_ENOMEM;
    }
    buf_free(&b);
    cf->key = key;
    cf->parent = c->type;
    const char *name = f->name.value;
    cf->def = gql_type_field(c->type, name, f->name.len);
    if (!cf->def && (cf->def = gql_schema_meta_field(ex->schema, c->type, name, f->name.len)))
        cf->meta = strcmp(name, "__type") == 0     ? META_TYPE
                   : strcmp(name, "__schema") == 0 ? META_SCHEMA
                                                   : META_TYPENAME;
    if (cf->def && !cf->meta)
        cf->fn = find_resolver(ex->opt, c->type, name);
    size_t cap = c->plan->cap;
    if (grow(ex->arena, &c->plan->fields, c->plan->n, &cap, sizeof *c->plan->fields) < 0)
        return GQL_ENOMEM;
    c->plan->cap = cap;
    c->plan->fields[c->plan->n++] = cf;
    *out = cf;
    return 2 * c->plan->n > c->map_mask ? rehash(c) : 0;
}

static int add_field(collector_t *c, const gql_field_t *f)
{
    const char *key = f->alias.value ? f->alias.value : f->name.value;
    cfield_t **slot = map_slot(c, key), *cf = *slot;
    if (!cf) {
        int rc = new_field(c, f, key, &cf);
        if (rc < 0)
            return rc;
        *map_slot(c, key) = cf;
    }
    size_t cap = cf->cap, n = cf->nnodes;
    if (grow(c->ex->arena, &cf->nodes, n, &cap, sizeof *cf->nodes) < 0)
        return GQL_ENOMEM;
    cf->cap = (uint32_t)cap;
    cf->nodes[cf->nnodes++] = f;
    return 0;
}

static int collect_set(collector_t *c, const gql_selection_set_t *ss)
{
    for (uint32_t i = 0; ss && i < ss->selections.count; i++) {
        const gql_node_t *s = ss->selections.items[i];
        int rc = 0;
        if (s->kind == GQL_KIND_FIELD) {
            const gql_field_t *f = (const gql_field_t *)s;
            if ((rc = should_include(c, &f->directives)) > 0)
                rc = add_field(c, f);
        } else if (s->kind == GQL_KIND_INLINE_FRAGMENT) {
            const gql_inline_fragment_t *f = (const gql_inline_fragment_t *)s;
            if ((rc = should_include(c, &f->directives)) > 0 && type_applies(c, f->type_condition))
                rc = collect_set(c, f->selection_set);
        } else if (s->kind == GQL_KIND_FRAGMENT_SPREAD) {
            const gql_fragment_spread_t *sp = (const gql_fragment_spread_t *)s;
            frag_t *fr = find_fragment(c->ex, sp->name.value);
            if (fr && fr->visited == c->ex->gen)
                continue;
            if ((rc = should_include(c, &sp->directives)) <= 0 || !fr)
                goto next;
            fr->visited = c->ex->gen;
            if (type_applies(c, fr->def->type_condition))
                rc = collect_set(c, fr->def->selection_set);
        }
    next:
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The plan of type over the selection sets of nodes (n of them); errors stay in the plan. */
static int collect(gql_exec_t *ex, const gql_type_t *type, const gql_selection_set_t *const *sets,
                   size_t n, plan_t **out)
{
    plan_t *p = arena_calloc(ex->arena, 1, sizeof *p);
    collector_t c = {.ex = ex, .type = type, .plan = p, .map_mask = 15};
    if (!p || !(c.map = arena_calloc(ex->arena, 16, sizeof *c.map)))
        return GQL_ENOMEM;
    ex->gen++;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = collect_set(&c, sets[i]);
    if (rc == GQL_ENOMEM)
        return rc;
    p->rc = rc;
    *out = p;
    return 0;
}

static int subplan(gql_exec_t *ex, cfield_t *cf, const gql_type_t *type, plan_t **out)
{
    for (subplan_t *s = cf->subs; s; s = s->next)
        if (s->type == type) {
            *out = s->plan;
            return 0;
        }
    const gql_selection_set_t *one, **sets = &one;
    if (cf->nnodes > 1 &&
        !(sets = arena_alloc(ex->arena, cf->nnodes * sizeof *sets)))
        return GQL_ENOMEM;
    for (uint32_t i = 0; i < cf->nnodes; i++)
        sets[i] = cf->nodes[i]->selection_set;
    subplan_t *s = arena_alloc(ex->arena, sizeof *s);
    if (!s || collect(ex, type, sets, cf->nnodes, out) < 0)
        return GQL_ENOMEM;
    *s = (subplan_t){type, *out, cf->subs};
    cf->subs = s;
    return 0;
}

/* ---- arguments ---- */

static int field_args(gql_exec_t *ex, cfield_t *cf)
{
    if (cf->args_done)
        return cf->args_rc;
    cf->args_done = true;
    if (!cf->def->nargs) {
        cf->args = ex->empty;
        return cf->args_rc = 0;
    }
    cJSON *args = NULL;
    int rc = gql_coerce_arguments(ex->schema, cf->def->args, cf->def->nargs,
                                  &cf->nodes[0]->arguments, ex->vars, ex->arena, &args,
                                  &cf->args_msg, &cf->args_at);
    if (rc == 0 && (rc = keep_owned(ex, args)) == 0)
        cf->args = args;
    return cf->args_rc = rc;
}

/* ---- output of values ---- */

static void put_json(buf_t *b, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        buf_put_json_string(b, v->valuestring, strlen(v->valuestring));
    } else if (cJSON_IsNumber(v)) {
        if (isfinite(v->valuedouble))
            gql_put_number(b, v->valuedouble);
        else
            buf_puts(b, "null"); /* JSON.stringify's answer */
    } else if (cJSON_IsBool(v)) {
        buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        bool arr = cJSON_IsArray(v);
        buf_putc(b, arr ? '[' : '{');
        for (const cJSON *c = v->child; c; c = c->next) {
            if (c != v->child)
                buf_putc(b, ',');
            if (!arr) {
                buf_put_json_string(b, c->string, strlen(c->string));
                buf_putc(b, ':');
            }
            put_json(b, c);
        }
        buf_putc(b, arr ? ']' : '}');
    } else {
        buf_puts(b, "null");
    }
}

/* JavaScript's Number(v) for the Int and Float result coercion: false when NaN-like. */
static bool to_number(const cJSON *v, double *d)
{
    if (cJSON_IsBool(v)) {
        *d = cJSON_IsTrue(v);
        return true;
    }
    if (cJSON_IsNumber(v)) {
        *d = v->valuedouble;
        return true;
    }
    return cJSON_IsString(v) && v->valuestring[0] && gql_js_number(v->valuestring, d) == 0;
}

static int serialize_scalar(gql_exec_t *ex, const cfield_t *cf, const gql_type_t *t,
                            const cJSON *v, const path_t *p, buf_t *out)
{
    const char *n = t->name;
    double d = 0;
    if (strcmp(n, "Int") == 0) {
        if (!to_number(v, &d) || d != trunc(d) || !isfinite(d))
            return internal_error(ex, cf, p, "Int cannot represent non-integer value: %s",
                               inspected(ex, v));
        if (d > 2147483647.0 || d < -2147483648.0)
            return internal_error(ex, cf, p, "Int cannot represent non 32-bit signed integer value: %s",
                               inspected(ex, v));
        return buf_put_i64(out, (int64_t)d) < 0 ? GQL_ENOMEM : DONE;
    }
    if (strcmp(n, "Float") == 0) {
        if (!to_number(v, &d) || !isfinite(d))
            return internal_error(ex, cf, p, "Float cannot represent non numeric value: %s",
                               inspected(ex, v));
        return gql_put_number(out, d) < 0 ? GQL_ENOMEM : DONE;
    }
    if (strcmp(n, "String") == 0 || strcmp(n, "ID") == 0) {
        bool id = n[0] == 'I';
        if (cJSON_IsString(v))
            return buf_put_json_string(out, v->valuestring, strlen(v->valuestring)) < 0
                       ? GQL_ENOMEM
                       : DONE;
        d = v->valuedouble;
        bool ok = cJSON_IsNumber(v) && isfinite(d) && (!id || d == trunc(d));
        if (!id && cJSON_IsBool(v))
            return buf_puts(out, cJSON_IsTrue(v) ? "\"true\"" : "\"false\"") < 0 ? GQL_ENOMEM
                                                                                 : DONE;
        if (!ok)
            return internal_error(ex, cf, p, "%s cannot represent value: %s", n, inspected(ex, v));
        buf_putc(out, '"');
        gql_put_number(out, d);
        return buf_putc(out, '"') < 0 ? GQL_ENOMEM : DONE;
    }
    if (strcmp(n, "Boolean") == 0) {
        if (cJSON_IsBool(v))
            d = cJSON_IsTrue(v);
        else if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
            d = v->valuedouble != 0;
        else
            return internal_error(ex, cf, p, "Boolean cannot represent a non boolean value: %s",
                               inspected(ex, v));
        return buf_puts(out, d != 0 ? "true" : "false") < 0 ? GQL_ENOMEM : DONE;
    }
    put_json(out, v); /* custom scalars: graphql-js's identity serialize */
    return out->failed ? GQL_ENOMEM : DONE;
}

static int serialize_enum(gql_exec_t *ex, const cfield_t *cf, const gql_type_t *t,
                          const cJSON *v, const path_t *p, buf_t *out)
{
    if (cJSON_IsString(v))
        for (size_t i = 0; i < t->nenum_values; i++)
            if (strcmp(t->enum_values[i].name, v->valuestring) == 0)
                return buf_put_json_string(out, v->valuestring, strlen(v->valuestring)) < 0
                           ? GQL_ENOMEM
                           : DONE;
    return internal_error(ex, cf, p, "Enum \"%s\" cannot represent value: %s", t->name,
                       inspected(ex, v));
}

/* ---- completion ---- */

static int complete(gql_exec_t *ex, cfield_t *cf, const gql_type_t *t, const cJSON *v,
                    const path_t *p, buf_t *out);
static int execute_field(gql_exec_t *ex, const gql_type_t *parent, const cJSON *source,
                         cfield_t *cf, const path_t *parent_path, buf_t *out);

static int complete_object(gql_exec_t *ex, cfield_t *cf, const gql_type_t *t, const cJSON *v,
                           const path_t *p, buf_t *out)
{
    if (ex->depth >= MAX_DEPTH)
        return field_error(ex, cf, p, "The query is nested too deeply.");
    plan_t *plan;
    if (subplan(ex, cf, t, &plan) < 0)
        return GQL_ENOMEM;
    if (plan->rc) {
        int rc = record_error(ex, plan->msg, NULL, cf, plan->at, p);
        return rc < 0 ? rc : FAILED;
    }
    ex->depth++;
    buf_putc(out, '{');
    bool first = true;
    int rc = DONE;
    for (size_t i = 0; rc == DONE && i < plan->n; i++) {
        cfield_t *f = plan->fields[i];
        if (!f->def)
            continue;
        if (!first)
            buf_putc(out, ',');
        first = false;
        buf_puts(out, f->json_key);
        rc = execute_field(ex, t, v, f, p, out);
    }
    ex->depth--;
    if (rc != DONE)
        return rc;
    return buf_putc(out, '}') < 0 ? GQL_ENOMEM : DONE;
}

static int resolve_abstract(gql_exec_t *ex, cfield_t *cf, const gql_type_t *t, const cJSON *v,
                            const path_t *p, const gql_type_t **rt)
{
    const cJSON *tn = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "__typename") : NULL;
    const char *pn = cf->parent->name, *fn = cf->def->name;
    if (!cJSON_IsString(tn))
        return internal_error(ex, cf, p,
                           "Abstract type \"%s\" must resolve to an Object type at runtime for "
                           "field \"%s.%s\". Either the \"%s\" type should provide a "
                           "\"resolveType\" function or each possible type should provide an "
                           "\"isTypeOf\" function.",
                           t->name, pn, fn, t->name);
    const char *name = tn->valuestring;
    const gql_type_t *o = gql_schema_type(ex->schema, name, strlen(name));
    if (!o || !o->referenced)
        return internal_error(ex, cf, p,
                           "Abstract type \"%s\" was resolved to a type \"%s\" that does not "
                           "exist inside the schema.",
                           t->name, name);
    if (o->kind != GQL_TYPE_OBJECT)
        return internal_error(ex, cf, p, "Abstract type \"%s\" was resolved to a non-object type \"%s\".",
                           t->name, name);
    if (!gql_type_is_possible(t, o))
        return internal_error(ex, cf, p, "Runtime Object type \"%s\" is not a possible type for \"%s\".",
                           name, t->name);
    *rt = o;
    return DONE;
}

static int complete_list(gql_exec_t *ex, cfield_t *cf, const gql_type_t *t, const cJSON *v,
                         const path_t *p, buf_t *out)
{
    if (!cJSON_IsArray(v))
        return internal_error(ex, cf, p,
                           "Expected Iterable, but did not find one for field \"%s.%s\".",
                           cf->parent->name, cf->def->name);
    size_t i = 0;
    buf_putc(out, '[');
    for (const cJSON *item = v->child; item; item = item->next, i++) {
        if (i == ex->max_list)
            return field_error(ex, cf, p, "The list of field \"%s.%s\" has more than %zu items.",
                               cf->parent->name, cf->def->name, ex->max_list);
        if (i)
            buf_putc(out, ',');
        path_t ip = {p, NULL, i};
        int rc = complete(ex, cf, t->of_type, item, &ip, out);
        if (rc != DONE)
            return rc;
    }
    return buf_putc(out, ']') < 0 ? GQL_ENOMEM : DONE;
}

/* t is not NON_NULL and v not null. */
static int complete_inner(gql_exec_t *ex, cfield_t *cf, const gql_type_t *t, const cJSON *v,
                          const path_t *p, buf_t *out)
{
    const gql_type_t *rt = t;
    int rc;
    switch (t->kind) {
    case GQL_TYPE_LIST: return complete_list(ex, cf, t, v, p, out);
    case GQL_TYPE_SCALAR: return serialize_scalar(ex, cf, t, v, p, out);
    case GQL_TYPE_ENUM: return serialize_enum(ex, cf, t, v, p, out);
    case GQL_TYPE_INTERFACE:
    case GQL_TYPE_UNION:
        if ((rc = resolve_abstract(ex, cf, t, v, p, &rt)) != DONE)
            return rc;
        return complete_object(ex, cf, rt, v, p, out);
    default: return complete_object(ex, cf, t, v, p, out);
    }
}

/* Writes v completed as t, or records why not: FAILED leaves the null to the caller when t
 * is non-null; a nullable position takes the null itself. */
static int complete(gql_exec_t *ex, cfield_t *cf, const gql_type_t *t, const cJSON *v,
                    const path_t *p, buf_t *out)
{
    if (t->kind == GQL_TYPE_NON_NULL) {
        if (is_null(v))
            return field_error(ex, cf, p, "Cannot return null for non-nullable field %s.%s.",
                               cf->parent->name, cf->def->name);
        return complete_inner(ex, cf, t->of_type, v, p, out);
    }
    if (is_null(v))
        return buf_puts(out, "null") < 0 ? GQL_ENOMEM : DONE;
    size_t mark = out->len;
    int rc = complete_inner(ex, cf, t, v, p, out);
    if (rc != FAILED)
        return rc;
    truncate_to(out, mark);
    return buf_puts(out, "null") < 0 ? GQL_ENOMEM : DONE;
}

/* A failure at the field itself (arguments, resolver): null, or FAILED when non-null. */
static int field_failed(const cfield_t *cf, buf_t *out)
{
    if (cf->def->type->kind == GQL_TYPE_NON_NULL)
        return FAILED;
    return buf_puts(out, "null") < 0 ? GQL_ENOMEM : DONE;
}

static void field_info(const cfield_t *cf, const cJSON *source, gql_field_info_t *info)
{
    *info = (gql_field_info_t){.parent_type = cf->parent,
                               .field = cf->def,
                               .node = cf->nodes[0],
                               .args = cf->args,
                               .source = source,
                               .response_key = cf->key};
}

/* The field's value: *v (borrowed) and *owned (to delete), or FAILED (error recorded). */
static int resolve(gql_exec_t *ex, const gql_type_t *parent, const cJSON *source, cfield_t *cf,
                   const path_t *p, const cJSON **v, cJSON **owned)
{
    if (cf->meta == META_SCHEMA || cf->meta == META_TYPE) {
        if (!ex->opt->allow_introspection)
            return field_error(ex, cf, p,
                               "GraphQL introspection has been disabled, but the requested query "
                               "contained the field \"%s\".",
                               cf->def->name);
        if (cf->meta == META_SCHEMA)
            return gql_introspection_schema(ex->schema, ex->arena, v);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(cf->args, "name");
        return gql_introspection_type(ex->schema, ex->arena,
                                      cJSON_IsString(name) ? name->valuestring : NULL, v);
    }
    if (gql_introspection_is_meta_type(parent))
        return gql_introspection_resolve(ex->schema, ex->arena, parent, cf->def, source, cf->args,
                                         v);
    if (!cf->fn) {
        *v = cJSON_IsObject(source) ? cJSON_GetObjectItemCaseSensitive(source, cf->def->name)
                                    : NULL;
        return DONE;
    }
    gql_field_info_t info;
    field_info(cf, source, &info);
    ex->cur = cf;
    ex->cur_path = p;
    size_t before = ex->nerrors;
    int rc = cf->fn(ex, &info, ex->opt->user_data, owned);
    ex->cur = NULL;
    ex->cur_path = NULL;
    if (rc == GQL_EXEC_SUSPENDED) {
        cJSON_Delete(*owned);
        *owned = NULL;
        /* Only the root can stop: deeper, the answer is half written. */
        if (!p->prev)
            return SUSPEND;
        return internal_error(ex, cf, p, "Resolver of %s.%s suspended below the root.",
                              cf->parent->name, cf->def->name);
    }
    if (rc < 0) {
        cJSON_Delete(*owned);
        *owned = NULL;
        if (ex->nerrors == before) /* the resolver did not say why */
            return internal_error(ex, cf, p, "Resolver of %s.%s failed.", cf->parent->name,
                               cf->def->name);
        return ex->oom ? GQL_ENOMEM : FAILED;
    }
    *v = *owned;
    return DONE;
}

static int execute_field(gql_exec_t *ex, const gql_type_t *parent, const cJSON *source,
                         cfield_t *cf, const path_t *parent_path, buf_t *out)
{
    path_t p = {parent_path, cf->key, 0};
    if (cf->meta == META_TYPENAME)
        return buf_put_json_string(out, parent->name, strlen(parent->name)) < 0 ? GQL_ENOMEM
                                                                                : DONE;
    int rc = field_args(ex, cf);
    if (rc == GQL_ENOMEM)
        return rc;
    if (rc < 0) {
        if ((rc = record_error(ex, cf->args_msg, NULL, cf, cf->args_at, &p)) < 0)
            return rc;
        return field_failed(cf, out);
    }
    const cJSON *v = NULL;
    cJSON *owned = NULL;
    rc = resolve(ex, parent, source, cf, &p, &v, &owned);
    if (rc == FAILED)
        return field_failed(cf, out);
    if (rc < 0 || rc == SUSPEND)
        return rc;
    rc = complete(ex, cf, cf->def->type, v, &p, out);
    cJSON_Delete(owned);
    return rc;
}

/* ---- the operation ---- */

/* Returns what the prepare hook returned: 0, or GQL_EXEC_SUSPENDED. */
static int prepare_roots(gql_exec_t *ex, plan_t *plan)
{
    gql_field_info_t *infos = arena_alloc(ex->arena, (plan->n + 1) * sizeof *infos);
    size_t n = 0;
    if (!infos)
        return 0;
    for (size_t i = 0; i < plan->n; i++) {
        cfield_t *cf = plan->fields[i];
        if (!cf->def || cf->meta || field_args(ex, cf) != 0)
            continue;
        field_info(cf, NULL, &infos[n++]);
    }
    return n ? ex->opt->prepare(ex, infos, n, ex->opt->user_data) : 0;
}

static int execute_root(gql_exec_t *ex, const gql_operation_definition_t *op, buf_t *data,
                        bool *data_null)
{
    const gql_schema_t *s = ex->schema;
    const gql_type_t *root = op->operation == GQL_OPERATION_QUERY      ? s->query
                             : op->operation == GQL_OPERATION_MUTATION ? s->mutation
                                                                       : s->subscription;
    static const char *const names[] = {"query", "mutation", "subscription"};
    *data_null = true;
    if (!root) {
        const char *msg = arena_printf(ex->arena, "Schema is not configured to execute %s operation.",
                                       names[op->operation]);
        return record_error(ex, msg, NULL, NULL, &op->base, NULL);
    }
    plan_t *plan;
    const gql_selection_set_t *set = op->selection_set;
    if (collect(ex, root, &set, 1, &plan) < 0)
        return GQL_ENOMEM;
    if (plan->rc)
        return record_error(ex, plan->msg, NULL, NULL, plan->at, NULL);
    bool serial = op->operation == GQL_OPERATION_MUTATION;
    if (!serial && ex->opt->prepare && prepare_roots(ex, plan) == GQL_EXEC_SUSPENDED)
        return GQL_EXEC_SUSPENDED;
    bool failed = false, first = true;
    buf_putc(data, '{');
    for (size_t i = 0; i < plan->n && !(failed && serial); i++) {
        cfield_t *cf = plan->fields[i];
        if (!cf->def)
            continue;
        size_t mark = data->len;
        if (!first)
            buf_putc(data, ',');
        buf_puts(data, cf->json_key);
        int rc = execute_field(ex, root, NULL, cf, NULL, data);
        if (rc == SUSPEND)
            return GQL_EXEC_SUSPENDED;
        if (rc < 0)
            return rc;
        if (rc == FAILED) {
            failed = true;
            truncate_to(data, mark);
            continue;
        }
        first = false;
    }
    buf_putc(data, '}');
    *data_null = failed;
    return data->failed ? GQL_ENOMEM : 0;
}

static void put_response(gql_exec_t *ex, buf_t *out, const buf_t *data, bool with_data,
                         bool data_null)
{
    buf_putc(out, '{');
    if (ex->nerrors) {
        buf_puts(out, "\"errors\":[");
        buf_append(out, ex->errors.data, ex->errors.len);
        buf_putc(out, ']');
    }
    if (with_data) {
        buf_puts(out, ex->nerrors ? ",\"data\":" : "\"data\":");
        if (data_null)
            buf_puts(out, "null");
        else
            buf_append(out, data->data, data->len);
    }
    buf_putc(out, '}');
}

static void cleanup(gql_exec_t *ex)
{
    for (owned_t *o = ex->owned; o; o = o->next)
        cJSON_Delete(o->v);
    cJSON_Delete(ex->vars);
    cJSON_Delete(ex->empty);
    buf_free(&ex->errors);
}

static int request_error(gql_exec_t *ex, const char *msg, buf_t *out, gql_exec_result_t *res)
{
    if (record_error(ex, msg, NULL, NULL, NULL, NULL) < 0)
        return GQL_ENOMEM;
    res->request_error = true;
    put_response(ex, out, NULL, false, false);
    return out->failed ? GQL_ENOMEM : 0;
}

static int variable_errors(gql_exec_t *ex, const gql_value_errors_t *errs, buf_t *out,
                           gql_exec_result_t *res)
{
    for (size_t i = 0; i < errs->n; i++)
        if (record_error(ex, errs->items[i].message, NULL, NULL, errs->items[i].node, NULL) < 0)
            return GQL_ENOMEM;
    res->request_error = true;
    put_response(ex, out, NULL, false, false);
    return out->failed ? GQL_ENOMEM : 0;
}

static int run(gql_exec_t *ex, const gql_document_t *doc, const char *operation_name,
               const cJSON *variables, buf_t *out, gql_exec_result_t *res)
{
    int why;
    const gql_operation_definition_t *op = select_op(doc, operation_name, &why);
    if (!op) {
        const char *msg =
            why == 1   ? "Must provide operation name if query contains multiple operations."
            : why == 2 ? arena_printf(ex->arena, "Unknown operation named \"%s\".", operation_name)
                       : "Must provide an operation.";
        return request_error(ex, msg, out, res);
    }
    static const char *const types[] = {"query", "mutation", "subscription"};
    res->operation_type = types[op->operation];
    res->operation_name = op->name.value;
    gql_value_errors_t errs = {0};
    int rc = gql_coerce_variables(ex->schema, op, variables, ex->arena, &ex->vars, &errs);
    if (rc == GQL_EINVALID)
        return variable_errors(ex, &errs, out, res);
    if (rc < 0 || index_fragments(ex, doc) < 0 || !(ex->empty = cJSON_CreateObject()))
        return GQL_ENOMEM;
    buf_t data = {0};
    bool data_null = true;
    rc = execute_root(ex, op, &data, &data_null);
    if (rc == GQL_EXEC_SUSPENDED) {
        buf_free(&data);
        return rc;
    }
    if (rc == 0 && ex->oom)
        rc = GQL_ENOMEM;
    if (rc == 0) {
        res->data_null = data_null;
        put_response(ex, out, &data, true, data_null);
    }
    buf_free(&data);
    return rc;
}

int gql_execute(const gql_schema_t *schema, const gql_document_t *doc, const char *operation_name,
                const cJSON *variables, const gql_exec_options_t *opt, arena_t *arena, buf_t *out,
                gql_exec_result_t *res)
{
    gql_exec_t ex = {.schema = schema, .opt = opt, .arena = arena};
    ex.max_list = opt->max_list_items ? opt->max_list_items : DEFAULT_MAX_LIST_ITEMS;
    *res = (gql_exec_result_t){0};
    if (variables && !cJSON_IsObject(variables))
        variables = NULL;
    int rc = run(&ex, doc, operation_name, variables, out, res);
    res->nerrors = ex.nerrors;
    res->first_error_code = ex.first_code;
    if (rc == 0 && (out->failed || ex.errors.failed))
        rc = GQL_ENOMEM;
    cleanup(&ex);
    return rc;
}
