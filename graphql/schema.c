/* schema.c - builds the schema model of schema.h from SDL (the built-ins of introspection_sdl.h
 * and the user's SDL, through one builder), checks it as graphql-js 16's buildSchema and
 * validateSchema do (plus default values), and answers the lookups and type relations that the
 * validator, the executor and introspection ask.
 *
 * The build runs in steps, each stopping at the first error:
 *   1. parse both documents into the schema's arena (the AST stays: default values point in it);
 *   2. collect every definition and extension by name;
 *   3. the SDL rules of graphql-js (unique names, known types and directives...) in one visit
 *      of the user's document, so errors come in graphql-js's order;
 *   4. build the model, the roots, graphql-js's type map order and the name index;
 *   5. arguments of applied directives, validateSchema's rules, then default values.
 * Messages and locations are graphql-js's; where graphql-js names several places, the first. */
#include "schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "introspection_sdl.h"
#include "parser.h"
#include "printer.h"

/* Types and input objects with more fields than this get a hash index for their fields. */
#define FIELD_INDEX_MIN 8
/* graphql-js's didYouMean lists at most this many suggestions. */
#define MAX_SUGGESTIONS 5

/* ---- hash map of names, in an arena ---- */

typedef struct hentry {
    const char *key;
    size_t len;
    void *val;
} hentry_t;

/* Open addressing; the capacity is fixed at init for at most n entries, so it never grows. */
typedef struct hmap {
    hentry_t *slots;
    size_t mask;
} hmap_t;

static size_t hash_name(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int hmap_init(hmap_t *m, arena_t *a, size_t n)
{
    size_t cap = 8;
    while (cap < 2 * n)
        cap *= 2;
    m->slots = arena_calloc(a, cap, sizeof *m->slots);
    m->mask = cap - 1;
    return m->slots ? 0 : GQL_ENOMEM;
}

static hentry_t *hmap_slot(const hmap_t *m, const char *key, size_t len)
{
    size_t i = hash_name(key, len) & m->mask;
    while (m->slots[i].key && !(m->slots[i].len == len && memcmp(m->slots[i].key, key, len) == 0))
        i = (i + 1) & m->mask;
    return &m->slots[i];
}

static void *hmap_get(const hmap_t *m, const char *key, size_t len)
{
    return m && m->slots ? hmap_slot(m, key, len)->val : NULL;
}

/* Adds key -> val unless key is there; returns the value the key now has. */
static void *hmap_put(hmap_t *m, const char *key, size_t len, void *val)
{
    hentry_t *e = hmap_slot(m, key, len);
    if (!e->key)
        *e = (hentry_t){key, len, val};
    return e->val;
}

/* ---- build state ---- */

typedef struct ext_node {
    const gql_type_definition_t *node;
    struct ext_node *next;
} ext_node_t;

/* Everything known about one type name while building. */
typedef struct btype {
    gql_type_t *t;                    /* NULL when the name is only extended */
    const gql_type_definition_t *def; /* the first definition */
    ext_node_t *exts;                 /* extensions in document order */
    ext_node_t **exts_tail;
    const gql_type_definition_t **nodes; /* def then extensions, once built */
    size_t nnodes;
    bool builtin;
    /* Upper bounds of, and sets for, the uniqueness rules across definition and extensions. */
    size_t nfields, nvalues, ndirectives;
    hmap_t seen_fields, seen_values, seen_directives;
    size_t seq;      /* position in graphql-js's type map, 0: not in it */
    long cycle_at;   /* input object cycle search: index on the path, -1: not on it */
    bool cycle_seen; /* input object cycle search: visited */
} btype_t;

typedef struct bdir {
    gql_directive_def_t *d;
    const gql_directive_definition_t *def;  /* the first definition */
    const gql_directive_definition_t *last; /* the last one: what graphql-js's rules read */
    bool builtin;
} bdir_t;

typedef struct names {
    const char **v;
    size_t n, cap;
} names_t;

typedef struct schema_index {
    hmap_t types;
    hmap_t directives;
    gql_field_def_t typename_field;
    gql_field_def_t schema_field;
    gql_field_def_t type_field;
    gql_input_value_t type_name_arg;
} schema_index_t;

typedef struct build {
    gql_schema_t *s;
    arena_t *a;
    gql_error_t *err;
    gql_document_t *builtin_doc;
    gql_document_t *doc;
    hmap_t types; /* name -> btype_t */
    hmap_t dirs;  /* name -> bdir_t */
    const gql_schema_definition_t *schema_def;
    size_t nschema_defs;
    size_t nschema_directives;
    hmap_t seen_schema_directives;
    const gql_operation_type_definition_t *seen_ops[3]; /* SDL rules */
    bool ivd_is_input_field; /* the input value definition being visited is an input field */
    size_t seq;
    struct cycle_frame *cycle_path; /* input object cycle search, one frame per input type */
} build_t;

static const char *const op_names[] = {"query", "mutation", "subscription"};

#define NLOCATIONS GQL_DIRECTIVE_LOCATION_COUNT


/* ---- errors ---- */

static int oom(build_t *b)
{
    *b->err = (gql_error_t){GQL_ENOMEM, 0, 0, 0, "Out of memory."};
    return GQL_ENOMEM;
}

static int fail_at(build_t *b, const gql_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(build_t *b, const gql_node_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *msg = arena_vprintf(b->a, fmt, ap);
    va_end(ap);
    if (!msg)
        return oom(b);
    *b->err = (gql_error_t){GQL_ESCHEMA, at ? at->loc.line : 0, at ? at->loc.column : 0,
                            at ? at->loc.start : 0, msg};
    return GQL_ESCHEMA;
}

/* The printed text of an AST node (graphql-js's print), in the arena; NULL: out of memory. */
static const char *print_node(build_t *b, const gql_node_t *n)
{
    buf_t out = {0};
    const char *s = NULL;
    if (gql_print(n, &out) == 0)
        s = arena_strndup(b->a, out.data ? out.data : "", out.len);
    buf_free(&out);
    return s;
}

/* String(type) of graphql-js, in the arena ("?" when memory ran out: only a message suffers). */
static const char *type_str(build_t *b, const gql_type_t *t)
{
    size_t n = gql_type_print(t, NULL, 0);
    char *s = arena_alloc(b->a, n + 1);
    if (!s)
        return "?";
    gql_type_print(t, s, n + 1);
    return s;
}

/* ---- "Did you mean" suggestions, as graphql-js's suggestionList and didYouMean ---- */

static int names_push(arena_t *a, names_t *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        const char **v = arena_alloc(a, cap * sizeof *v);
        if (!v)
            return GQL_ENOMEM;
        if (l->n)
            memcpy(v, l->v, l->n * sizeof *v);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return 0;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* Damerau-Levenshtein distance where a change of case is one edit, or SIZE_MAX above
 * threshold: graphql-js's LexicalDistance. Names are ASCII, so bytes are characters. */
static size_t lexical_distance(arena_t *a, const char *input, const char *option, size_t threshold)
{
    size_t il = strlen(input), ol = strlen(option);
    if (strcmp(input, option) == 0)
        return 0;
    bool same_lower = il == ol;
    for (size_t i = 0; same_lower && i < il; i++)
        same_lower = lower(input[i]) == lower(option[i]);
    if (same_lower)
        return 1;
    const char *x = option, *y = input;
    size_t xl = ol, yl = il;
    if (xl < yl) {
        x = input, y = option;
        xl = il, yl = ol;
    }
    if (xl - yl > threshold)
        return SIZE_MAX;
    size_t w = yl + 1;
    size_t *rows = arena_calloc(a, 3 * w, sizeof *rows);
    if (!rows)
        return SIZE_MAX;
    for (size_t j = 0; j <= yl; j++)
        rows[j] = j;
    for (size_t i = 1; i <= xl; i++) {
        size_t *up = rows + ((i - 1) % 3) * w, *cur = rows + (i % 3) * w;
        size_t smallest = cur[0] = i;
        for (size_t j = 1; j <= yl; j++) {
            size_t cost = lower(x[i - 1]) == lower(y[j - 1]) ? 0 : 1;
            size_t cell = min3(up[j] + 1, cur[j - 1] + 1, up[j - 1] + cost);
            if (i > 1 && j > 1 && lower(x[i - 1]) == lower(y[j - 2]) &&
                lower(x[i - 2]) == lower(y[j - 1])) {
                size_t dd = rows[((i - 2) % 3) * w + j - 2] + 1;
                cell = cell < dd ? cell : dd;
            }
            if (cell < smallest)
                smallest = cell;
            cur[j] = cell;
        }
        if (smallest > threshold)
            return SIZE_MAX;
    }
    size_t d = rows[(xl % 3) * w + yl];
    return d <= threshold ? d : SIZE_MAX;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* graphql-js's naturalCompare: digit runs compare as numbers. */
static int natural_compare(const char *a, const char *b)
{
    size_t i = 0, j = 0, al = strlen(a), bl = strlen(b);
    while (i < al && j < bl) {
        if (is_digit(a[i]) && is_digit(b[j])) {
            unsigned long long an = 0, bn = 0;
            do
                an = an * 10 + (unsigned)(a[i++] - '0');
            while (i < al && is_digit(a[i]) && an > 0);
            do
                bn = bn * 10 + (unsigned)(b[j++] - '0');
            while (j < bl && is_digit(b[j]) && bn > 0);
            if (an != bn)
                return an < bn ? -1 : 1;
        } else {
            if (a[i] != b[j])
                return (unsigned char)a[i] < (unsigned char)b[j] ? -1 : 1;
            i++, j++;
        }
    }
    return al < bl ? -1 : al > bl;
}

typedef struct suggestion {
    const char *name;
    size_t distance;
} suggestion_t;

static int suggestion_cmp(const void *pa, const void *pb)
{
    const suggestion_t *a = pa, *b = pb;
    if (a->distance != b->distance)
        return a->distance < b->distance ? -1 : 1;
    return natural_compare(a->name, b->name);
}

/* Appends graphql-js's didYouMean(sub, suggestionList(input, options)) to m. Suggestions are a
 * courtesy: when memory runs out they are left out. */
static void did_you_mean(build_t *b, buf_t *m, const char *sub, const char *input,
                         const names_t *options)
{
    suggestion_t *s = arena_calloc(b->a, options->n ? options->n : 1, sizeof *s);
    if (!s)
        return;
    size_t n = 0, threshold = strlen(input) * 2 / 5 + 1;
    for (size_t i = 0; i < options->n; i++) {
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++)
            dup = strcmp(s[k].name, options->v[i]) == 0;
        size_t d = dup ? SIZE_MAX : lexical_distance(b->a, input, options->v[i], threshold);
        if (d != SIZE_MAX)
            s[n++] = (suggestion_t){options->v[i], d};
    }
    if (!n)
        return;
    qsort(s, n, sizeof *s, suggestion_cmp);
    if (n > MAX_SUGGESTIONS)
        n = MAX_SUGGESTIONS;
    buf_printf(m, " Did you mean %s%s", sub ? sub : "", sub ? " " : "");
    for (size_t i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : n == 2 ? " or " : i == n - 1 ? ", or " : ", ";
        buf_printf(m, "%s\"%s\"", sep, s[i].name);
    }
    buf_putc(m, '?');
}

/* Fails with head followed by the suggestions for input among options. */
static int fail_suggest(build_t *b, const gql_node_t *at, const char *head, const char *sub,
                        const char *input, const names_t *options)
{
    buf_t m = {0};
    buf_puts(&m, head);
    did_you_mean(b, &m, sub, input, options);
    int r = m.failed ? oom(b) : fail_at(b, at, "%s", m.data);
    buf_free(&m);
    return r;
}

/* ---- types: classification, printing, comparison (public) ---- */

gql_type_t *gql_type_named(gql_type_t *t)
{
    while (t && (t->kind == GQL_TYPE_LIST || t->kind == GQL_TYPE_NON_NULL))
        t = t->of_type;
    return t;
}

static const gql_type_t *named_c(const gql_type_t *t)
{
    while (t && (t->kind == GQL_TYPE_LIST || t->kind == GQL_TYPE_NON_NULL))
        t = t->of_type;
    return t;
}

static bool named_kind_in(const gql_type_t *t, unsigned kinds)
{
    t = named_c(t);
    return t && (kinds & (1u << t->kind));
}

#define K(kind) (1u << GQL_TYPE_##kind)

bool gql_type_is_input(const gql_type_t *t)
{
    return named_kind_in(t, K(SCALAR) | K(ENUM) | K(INPUT_OBJECT));
}

bool gql_type_is_output(const gql_type_t *t)
{
    return named_kind_in(t, K(SCALAR) | K(OBJECT) | K(INTERFACE) | K(UNION) | K(ENUM));
}

bool gql_type_is_leaf(const gql_type_t *t)
{
    return named_kind_in(t, K(SCALAR) | K(ENUM));
}

bool gql_type_is_composite(const gql_type_t *t)
{
    return named_kind_in(t, K(OBJECT) | K(INTERFACE) | K(UNION));
}

bool gql_type_is_abstract(const gql_type_t *t)
{
    return named_kind_in(t, K(INTERFACE) | K(UNION));
}

static bool implements(const gql_type_t *t, const gql_type_t *iface)
{
    for (size_t i = 0; i < t->ninterfaces; i++)
        if (t->interfaces[i] == iface)
            return true;
    return false;
}

bool gql_type_is_possible(const gql_type_t *abstract, const gql_type_t *obj)
{
    if (!abstract || !obj)
        return false;
    if (abstract == obj)
        return true;
    if (abstract->kind == GQL_TYPE_UNION) {
        for (size_t i = 0; i < abstract->npossible_types; i++)
            if (abstract->possible_types[i] == obj)
                return true;
        return false;
    }
    return abstract->kind == GQL_TYPE_INTERFACE &&
           (obj->kind == GQL_TYPE_OBJECT || obj->kind == GQL_TYPE_INTERFACE) &&
           implements(obj, abstract);
}

static void put_text(char *out, size_t outlen, size_t *pos, const char *s)
{
    for (; *s; s++, (*pos)++)
        if (*pos + 1 < outlen)
            out[*pos] = *s;
}

static void print_type(const gql_type_t *t, char *out, size_t outlen, size_t *pos)
{
    if (!t) {
        put_text(out, outlen, pos, "?");
    } else if (t->kind == GQL_TYPE_LIST) {
        put_text(out, outlen, pos, "[");
        print_type(t->of_type, out, outlen, pos);
        put_text(out, outlen, pos, "]");
    } else if (t->kind == GQL_TYPE_NON_NULL) {
        print_type(t->of_type, out, outlen, pos);
        put_text(out, outlen, pos, "!");
    } else {
        put_text(out, outlen, pos, t->name);
    }
}

size_t gql_type_print(const gql_type_t *t, char *out, size_t outlen)
{
    size_t pos = 0;
    print_type(t, out, outlen, &pos);
    if (outlen)
        out[pos < outlen ? pos : outlen - 1] = '\0';
    return pos;
}

bool gql_type_equal(const gql_type_t *a, const gql_type_t *b)
{
    while (a && b && a != b) {
        if (a->kind != b->kind || (a->kind != GQL_TYPE_LIST && a->kind != GQL_TYPE_NON_NULL))
            return false;
        a = a->of_type;
        b = b->of_type;
    }
    return a == b;
}

bool gql_type_is_subtype(const gql_type_t *sub, const gql_type_t *super)
{
    if (!sub || !super)
        return false;
    if (gql_type_equal(sub, super))
        return true;
    if (super->kind == GQL_TYPE_NON_NULL)
        return sub->kind == GQL_TYPE_NON_NULL && gql_type_is_subtype(sub->of_type, super->of_type);
    if (sub->kind == GQL_TYPE_NON_NULL)
        return gql_type_is_subtype(sub->of_type, super);
    if (super->kind == GQL_TYPE_LIST)
        return sub->kind == GQL_TYPE_LIST && gql_type_is_subtype(sub->of_type, super->of_type);
    if (sub->kind == GQL_TYPE_LIST)
        return false;
    return (super->kind == GQL_TYPE_INTERFACE || super->kind == GQL_TYPE_UNION) &&
           gql_type_is_possible(super, sub);
}

/* ---- step 2: collect definitions by name ---- */

static bool is_type_definition(gql_kind_t k)
{
    return k >= GQL_KIND_SCALAR_TYPE_DEFINITION && k <= GQL_KIND_INPUT_OBJECT_TYPE_DEFINITION &&
           k != GQL_KIND_FIELD_DEFINITION && k != GQL_KIND_INPUT_VALUE_DEFINITION &&
           k != GQL_KIND_ENUM_VALUE_DEFINITION;
}

static bool is_type_extension(gql_kind_t k)
{
    return k >= GQL_KIND_SCALAR_TYPE_EXTENSION && k <= GQL_KIND_INPUT_OBJECT_TYPE_EXTENSION;
}

/* The definition kind an extension kind extends. */
static gql_kind_t definition_kind(gql_kind_t k)
{
    switch (k) {
    case GQL_KIND_SCALAR_TYPE_EXTENSION:
        return GQL_KIND_SCALAR_TYPE_DEFINITION;
    case GQL_KIND_OBJECT_TYPE_EXTENSION:
        return GQL_KIND_OBJECT_TYPE_DEFINITION;
    case GQL_KIND_INTERFACE_TYPE_EXTENSION:
        return GQL_KIND_INTERFACE_TYPE_DEFINITION;
    case GQL_KIND_UNION_TYPE_EXTENSION:
        return GQL_KIND_UNION_TYPE_DEFINITION;
    case GQL_KIND_ENUM_TYPE_EXTENSION:
        return GQL_KIND_ENUM_TYPE_DEFINITION;
    case GQL_KIND_INPUT_OBJECT_TYPE_EXTENSION:
        return GQL_KIND_INPUT_OBJECT_TYPE_DEFINITION;
    default:
        return k;
    }
}

static gql_type_kind_t type_kind(gql_kind_t def_kind)
{
    switch (def_kind) {
    case GQL_KIND_OBJECT_TYPE_DEFINITION:
        return GQL_TYPE_OBJECT;
    case GQL_KIND_INTERFACE_TYPE_DEFINITION:
        return GQL_TYPE_INTERFACE;
    case GQL_KIND_UNION_TYPE_DEFINITION:
        return GQL_TYPE_UNION;
    case GQL_KIND_ENUM_TYPE_DEFINITION:
        return GQL_TYPE_ENUM;
    case GQL_KIND_INPUT_OBJECT_TYPE_DEFINITION:
        return GQL_TYPE_INPUT_OBJECT;
    default:
        return GQL_TYPE_SCALAR;
    }
}

static btype_t *btype(const build_t *b, const char *name, size_t len)
{
    return hmap_get(&b->types, name, len);
}

static btype_t *btype_of(const build_t *b, const gql_type_t *t)
{
    return btype(b, t->name, strlen(t->name));
}

static bdir_t *bdir(const build_t *b, const char *name, size_t len)
{
    return hmap_get(&b->dirs, name, len);
}

static btype_t *btype_get(build_t *b, const gql_name_t *name)
{
    btype_t *bt = btype(b, name->value, name->len);
    if (bt)
        return bt;
    if (!(bt = arena_calloc(b->a, 1, sizeof *bt)))
        return NULL;
    bt->exts_tail = &bt->exts;
    bt->cycle_at = -1;
    return hmap_put(&b->types, name->value, name->len, bt);
}

static const char *description(const gql_string_value_t *d)
{
    return d ? d->value : NULL;
}

static void count_members(btype_t *bt, const gql_type_definition_t *n)
{
    bt->nfields += n->fields.count;
    bt->nvalues += n->values.count;
    bt->ndirectives += n->directives.count;
}

static int collect_type(build_t *b, const gql_type_definition_t *n, bool builtin)
{
    btype_t *bt = btype_get(b, &n->name);
    if (!bt)
        return oom(b);
    count_members(bt, n);
    if (is_type_extension(n->base.kind)) {
        ext_node_t *e = arena_calloc(b->a, 1, sizeof *e);
        if (!e)
            return oom(b);
        e->node = n;
        *bt->exts_tail = e;
        bt->exts_tail = &e->next;
        return 0;
    }
    if (bt->def)
        return 0; /* a duplicate: the SDL rules report it */
    if (!(bt->t = arena_calloc(b->a, 1, sizeof *bt->t)))
        return oom(b);
    bt->def = n;
    bt->builtin = builtin;
    bt->t->kind = type_kind(n->base.kind);
    bt->t->name = n->name.value;
    bt->t->description = description(n->description);
    return 0;
}

static int collect_directive(build_t *b, const gql_directive_definition_t *n, bool builtin)
{
    bdir_t *d = bdir(b, n->name.value, n->name.len);
    if (!d) {
        if (!(d = arena_calloc(b->a, 1, sizeof *d)))
            return oom(b);
        hmap_put(&b->dirs, n->name.value, n->name.len, d);
        d->def = n;
        d->builtin = builtin;
    }
    d->last = n;
    return 0;
}

static int collect(build_t *b, const gql_document_t *doc, bool builtin)
{
    for (uint32_t i = 0; i < doc->definitions.count; i++) {
        const gql_node_t *n = doc->definitions.items[i];
        int r = 0;
        if (is_type_definition(n->kind) || is_type_extension(n->kind))
            r = collect_type(b, (const gql_type_definition_t *)n, builtin);
        else if (n->kind == GQL_KIND_DIRECTIVE_DEFINITION)
            r = collect_directive(b, (const gql_directive_definition_t *)n, builtin);
        else if (n->kind == GQL_KIND_SCHEMA_DEFINITION && !b->schema_def)
            b->schema_def = (const gql_schema_definition_t *)n;
        if (n->kind == GQL_KIND_SCHEMA_DEFINITION || n->kind == GQL_KIND_SCHEMA_EXTENSION)
            b->nschema_directives += ((const gql_schema_definition_t *)n)->directives.count;
        if (r)
            return r;
    }
    return 0;
}

static void count_definitions(const gql_document_t *doc, size_t *ntypes, size_t *ndirs)
{
    for (uint32_t i = 0; i < doc->definitions.count; i++) {
        gql_kind_t k = doc->definitions.items[i]->kind;
        *ntypes += is_type_definition(k) || is_type_extension(k);
        *ndirs += k == GQL_KIND_DIRECTIVE_DEFINITION;
    }
}

/* The definition and extensions of bt as one array, in document order (built-ins first). */
static int type_nodes(build_t *b, btype_t *bt)
{
    if (bt->nodes || !bt->def)
        return 0;
    size_t n = 1;
    for (const ext_node_t *e = bt->exts; e; e = e->next)
        n++;
    bt->nodes = arena_alloc(b->a, n * sizeof *bt->nodes);
    if (!bt->nodes)
        return oom(b);
    bt->nodes[0] = bt->def;
    n = 1;
    for (const ext_node_t *e = bt->exts; e; e = e->next)
        bt->nodes[n++] = e->node;
    bt->nnodes = n;
    return 0;
}

/* ---- step 3: graphql-js's SDL rules, in the order its visit reports them ---- */

static bool same_name(const gql_name_t *a, const gql_name_t *b)
{
    return a->len == b->len && memcmp(a->value, b->value, a->len) == 0;
}

static bool name_is(const gql_name_t *n, const char *s)
{
    return n->len == strlen(s) && memcmp(n->value, s, n->len) == 0;
}

/* Items of lists of argument-like nodes: their name. */
static const gql_name_t *item_name(const gql_node_t *n)
{
    switch (n->kind) {
    case GQL_KIND_INPUT_VALUE_DEFINITION:
        return &((const gql_input_value_definition_t *)n)->name;
    case GQL_KIND_ARGUMENT:
    case GQL_KIND_OBJECT_FIELD:
        return &((const gql_argument_t *)n)->name;
    case GQL_KIND_DIRECTIVE:
        return &((const gql_directive_t *)n)->name;
    case GQL_KIND_FIELD_DEFINITION:
        return &((const gql_field_definition_t *)n)->name;
    case GQL_KIND_ENUM_VALUE_DEFINITION:
        return &((const gql_enum_value_definition_t *)n)->name;
    case GQL_KIND_NAMED_TYPE:
        return &((const gql_named_type_t *)n)->name;
    default:
        return NULL;
    }
}

/* graphql-js's groupBy check: the first name of the list that occurs more than once (at its
 * first occurrence), or NULL. Lists inside one node are short: quadratic is fine. */
static const gql_name_t *first_repeated(const gql_node_list_t *l)
{
    for (uint32_t i = 0; i < l->count; i++) {
        const gql_name_t *n = item_name(l->items[i]);
        bool earlier = false;
        for (uint32_t j = 0; j < i && !earlier; j++)
            earlier = same_name(n, item_name(l->items[j]));
        for (uint32_t j = i + 1; j < l->count && !earlier; j++)
            if (same_name(n, item_name(l->items[j])))
                return n;
    }
    return NULL;
}

/* The node stored earlier under name in the set, or NULL after storing node there. The set is
 * made on first use, for at most bound names. */
static const void *seen_before(build_t *b, hmap_t *set, size_t bound, const gql_name_t *name,
                               const void *node, int *r)
{
    *r = 0;
    if (!set->slots && (*r = hmap_init(set, b->a, bound)) < 0)
        return NULL;
    const void *first = hmap_put(set, name->value, name->len, (void *)node);
    return first != node ? first : NULL;
}

/* UniqueDirectivesPerLocation over list; set (NULL: the list alone) carries what the earlier
 * nodes of the same type, or of the schema, applied. */
static int check_unique_directives(build_t *b, const gql_node_list_t *list, hmap_t *set,
                                   size_t bound)
{
    for (uint32_t i = 0; i < list->count; i++) {
        const gql_directive_t *d = (const gql_directive_t *)list->items[i];
        const bdir_t *def = bdir(b, d->name.value, d->name.len);
        if (!def || def->last->repeatable)
            continue;
        const gql_node_t *first = NULL;
        int r = 0;
        if (set && !(first = seen_before(b, set, bound, &d->name, d, &r)) && r < 0)
            return oom(b);
        for (uint32_t j = 0; !set && j < i && !first; j++)
            if (same_name(&d->name, item_name(list->items[j])))
                first = list->items[j];
        if (first)
            return fail_at(b, first,
                           "The directive \"@%s\" can only be used once at this location.",
                           d->name.value);
    }
    return 0;
}

/* Names of the SDL's own type definitions, and with_builtins the built-in ones before them. */
static int defined_type_names(build_t *b, bool with_builtins, names_t *out)
{
    const gql_document_t *docs[2] = {with_builtins ? b->builtin_doc : NULL, b->doc};
    for (int d = 0; d < 2; d++)
        for (uint32_t i = 0; docs[d] && i < docs[d]->definitions.count; i++) {
            const gql_node_t *n = docs[d]->definitions.items[i];
            if (is_type_definition(n->kind) &&
                names_push(b->a, out, ((const gql_type_definition_t *)n)->name.value) < 0)
                return oom(b);
        }
    return 0;
}

static int check_schema_node(build_t *b, const gql_schema_definition_t *s)
{
    if (s->base.kind == GQL_KIND_SCHEMA_DEFINITION && b->nschema_defs++ > 0)
        return fail_at(b, &s->base, "Must provide only one schema definition.");
    for (uint32_t i = 0; i < s->operation_types.count; i++) {
        const gql_operation_type_definition_t *op =
            (const gql_operation_type_definition_t *)s->operation_types.items[i];
        if (b->seen_ops[op->operation])
            return fail_at(b, &b->seen_ops[op->operation]->base,
                           "There can be only one %s type in schema.", op_names[op->operation]);
        b->seen_ops[op->operation] = op;
    }
    return check_unique_directives(b, &s->directives, &b->seen_schema_directives,
                                   b->nschema_directives);
}

/* UniqueTypeNames, with the built-ins as the types of an existing schema. */
static int check_type_name(build_t *b, const gql_type_definition_t *t, const btype_t *bt)
{
    if (bt->def == t)
        return 0;
    if (bt->builtin)
        return fail_at(b, &t->name.base,
                       "Type \"%s\" already exists in the schema. It cannot also be defined in "
                       "this type definition.",
                       t->name.value);
    return fail_at(b, &bt->def->name.base, "There can be only one type named \"%s\".",
                   t->name.value);
}

/* UniqueEnumValueNames or UniqueFieldDefinitionNames over one definition or extension. */
static int check_unique_members(build_t *b, const gql_type_definition_t *t, btype_t *bt)
{
    bool values = t->values.count > 0;
    const gql_node_list_t *l = values ? &t->values : &t->fields;
    for (uint32_t i = 0; i < l->count; i++) {
        const gql_name_t *name = item_name(l->items[i]);
        int r;
        const gql_name_t *first =
            values ? seen_before(b, &bt->seen_values, bt->nvalues, name, name, &r)
                   : seen_before(b, &bt->seen_fields, bt->nfields, name, name, &r);
        if (r < 0)
            return oom(b);
        if (first)
            return fail_at(b, &first->base, "%s \"%s.%s\" can only be defined once.",
                           values ? "Enum value" : "Field", t->name.value, name->value);
    }
    return 0;
}

/* UniqueArgumentDefinitionNames for the fields of an object or interface. */
static int check_unique_field_args(build_t *b, const gql_type_definition_t *t)
{
    if (t->base.kind != GQL_KIND_OBJECT_TYPE_DEFINITION &&
        t->base.kind != GQL_KIND_OBJECT_TYPE_EXTENSION &&
        t->base.kind != GQL_KIND_INTERFACE_TYPE_DEFINITION &&
        t->base.kind != GQL_KIND_INTERFACE_TYPE_EXTENSION)
        return 0;
    for (uint32_t i = 0; i < t->fields.count; i++) {
        const gql_field_definition_t *f = (const gql_field_definition_t *)t->fields.items[i];
        const gql_name_t *dup = first_repeated(&f->arguments);
        if (dup)
            return fail_at(b, &dup->base, "Argument \"%s.%s(%s:)\" can only be defined once.",
                           t->name.value, f->name.value, dup->value);
    }
    return 0;
}

static const char *extension_kind_name(gql_kind_t k)
{
    switch (k) {
    case GQL_KIND_SCALAR_TYPE_EXTENSION:
        return "scalar";
    case GQL_KIND_OBJECT_TYPE_EXTENSION:
        return "object";
    case GQL_KIND_INTERFACE_TYPE_EXTENSION:
        return "interface";
    case GQL_KIND_UNION_TYPE_EXTENSION:
        return "union";
    case GQL_KIND_ENUM_TYPE_EXTENSION:
        return "enum";
    default:
        return "input object";
    }
}

/* PossibleTypeExtensions. Built-in types count as undefined, as in graphql-js's buildSchema,
 * which has no schema to extend. */
static int check_extension(build_t *b, const gql_type_definition_t *t, const btype_t *bt)
{
    if (!bt->def || bt->builtin) {
        names_t names = {0};
        const char *head = arena_printf(b->a,
                                        "Cannot extend type \"%s\" because it is not "
                                        "defined.",
                                        t->name.value);
        if (!head || defined_type_names(b, false, &names) < 0)
            return oom(b);
        return fail_suggest(b, &t->name.base, head, NULL, t->name.value, &names);
    }
    if (definition_kind(t->base.kind) != bt->def->base.kind)
        return fail_at(b, &bt->def->base, "Cannot extend non-%s type \"%s\".",
                       extension_kind_name(t->base.kind), t->name.value);
    return 0;
}

static int check_type_node(build_t *b, const gql_type_definition_t *t)
{
    btype_t *bt = btype(b, t->name.value, t->name.len);
    bool ext = is_type_extension(t->base.kind);
    int r;
    if ((!ext && (r = check_type_name(b, t, bt))) || (r = check_unique_members(b, t, bt)) ||
        (r = check_unique_field_args(b, t)) ||
        (r = check_unique_directives(b, &t->directives, &bt->seen_directives, bt->ndirectives)) ||
        (ext && (r = check_extension(b, t, bt))))
        return r;
    return 0;
}

static int check_directive_definition(build_t *b, const gql_directive_definition_t *d)
{
    const gql_name_t *dup = first_repeated(&d->arguments);
    if (dup)
        return fail_at(b, &dup->base, "Argument \"@%s(%s:)\" can only be defined once.",
                       d->name.value, dup->value);
    const bdir_t *known = bdir(b, d->name.value, d->name.len);
    if (known->def == d)
        return 0;
    if (known->builtin)
        return fail_at(b, &d->name.base,
                       "Directive \"@%s\" already exists in the schema. It cannot be redefined.",
                       d->name.value);
    return fail_at(b, &known->def->name.base, "There can be only one directive named \"@%s\".",
                   d->name.value);
}

static int check_known_type(build_t *b, const gql_named_type_t *n)
{
    const btype_t *bt = btype(b, n->name.value, n->name.len);
    if (bt && bt->def)
        return 0;
    names_t names = {0};
    const char *head = arena_printf(b->a, "Unknown type \"%s\".", n->name.value);
    if (!head || defined_type_names(b, true, &names) < 0)
        return oom(b);
    return fail_suggest(b, &n->base, head, NULL, n->name.value, &names);
}

/* The DirectiveLocation index of a directive whose node is parent, or -1. */
static int directive_location(const build_t *b, const gql_node_t *parent)
{
    switch (parent->kind) {
    case GQL_KIND_OPERATION_DEFINITION:
        return (int)((const gql_operation_definition_t *)parent)->operation;
    case GQL_KIND_FIELD:
        return 3;
    case GQL_KIND_FRAGMENT_DEFINITION:
        return 4;
    case GQL_KIND_FRAGMENT_SPREAD:
        return 5;
    case GQL_KIND_INLINE_FRAGMENT:
        return 6;
    case GQL_KIND_VARIABLE_DEFINITION:
        return 7;
    case GQL_KIND_SCHEMA_DEFINITION:
    case GQL_KIND_SCHEMA_EXTENSION:
        return 8;
    case GQL_KIND_FIELD_DEFINITION:
        return 11;
    case GQL_KIND_INPUT_VALUE_DEFINITION:
        return b->ivd_is_input_field ? 18 : 12;
    case GQL_KIND_ENUM_VALUE_DEFINITION:
        return 16;
    default:
        break;
    }
    switch (definition_kind(parent->kind)) {
    case GQL_KIND_SCALAR_TYPE_DEFINITION:
        return 9;
    case GQL_KIND_OBJECT_TYPE_DEFINITION:
        return 10;
    case GQL_KIND_INTERFACE_TYPE_DEFINITION:
        return 13;
    case GQL_KIND_UNION_TYPE_DEFINITION:
        return 14;
    case GQL_KIND_ENUM_TYPE_DEFINITION:
        return 15;
    case GQL_KIND_INPUT_OBJECT_TYPE_DEFINITION:
        return 17;
    default:
        return -1;
    }
}

static uint32_t location_bits(const gql_directive_definition_t *d)
{
    uint32_t bits = 0;
    for (uint32_t i = 0; i < d->locations.count; i++) {
        const gql_name_t *n = (const gql_name_t *)d->locations.items[i];
        for (size_t k = 0; k < NLOCATIONS; k++)
            if (name_is(n, gql_directive_location_names[k]))
                bits |= 1u << k;
    }
    return bits;
}

static const gql_input_value_definition_t *arg_def_named(const gql_node_list_t *args,
                                                         const gql_name_t *name)
{
    for (uint32_t i = 0; i < args->count; i++)
        if (same_name(item_name(args->items[i]), name))
            return (const gql_input_value_definition_t *)args->items[i];
    return NULL;
}

/* KnownArgumentNamesOnDirectives. */
static int check_directive_args(build_t *b, const gql_directive_t *d,
                                const gql_directive_definition_t *def)
{
    for (uint32_t i = 0; i < d->arguments.count; i++) {
        const gql_argument_t *a = (const gql_argument_t *)d->arguments.items[i];
        if (arg_def_named(&def->arguments, &a->name))
            continue;
        names_t names = {0};
        for (uint32_t k = 0; k < def->arguments.count; k++)
            if (names_push(b->a, &names, item_name(def->arguments.items[k])->value) < 0)
                return oom(b);
        const char *head = arena_printf(b->a, "Unknown argument \"%s\" on directive \"@%s\".",
                                        a->name.value, d->name.value);
        if (!head)
            return oom(b);
        return fail_suggest(b, &a->base, head, NULL, a->name.value, &names);
    }
    return 0;
}

/* KnownDirectives, KnownArgumentNamesOnDirectives, UniqueArgumentNames. */
static int check_directive_use(build_t *b, const gql_directive_t *d, const gql_node_t *parent)
{
    const bdir_t *known = bdir(b, d->name.value, d->name.len);
    if (!known)
        return fail_at(b, &d->base, "Unknown directive \"@%s\".", d->name.value);
    int loc = parent ? directive_location(b, parent) : -1;
    if (loc >= 0 && !(location_bits(known->last) & (1u << loc)))
        return fail_at(b, &d->base, "Directive \"@%s\" may not be used on %s.", d->name.value,
                       gql_directive_location_names[loc]);
    int r = check_directive_args(b, d, known->last);
    if (r)
        return r;
    const gql_name_t *dup = first_repeated(&d->arguments);
    if (dup)
        return fail_at(b, &dup->base, "There can be only one argument named \"%s\".", dup->value);
    return 0;
}

/* ProvidedRequiredArgumentsOnDirectives, on leaving the directive as graphql-js does. */
static int check_required_args(build_t *b, const gql_directive_t *d)
{
    const bdir_t *known = bdir(b, d->name.value, d->name.len);
    if (!known)
        return 0;
    const gql_node_list_t *defs = &known->last->arguments;
    for (uint32_t i = 0; i < defs->count; i++) {
        const gql_input_value_definition_t *a =
            (const gql_input_value_definition_t *)defs->items[i];
        if (a->type->kind != GQL_KIND_NON_NULL_TYPE || a->default_value)
            continue;
        bool given = false;
        for (uint32_t k = 0; k < d->arguments.count && !given; k++)
            given = same_name(item_name(d->arguments.items[k]), &a->name);
        if (given)
            continue;
        const char *type = print_node(b, a->type);
        if (!type)
            return oom(b);
        return fail_at(b, &d->base,
                       "Directive \"@%s\" argument \"%s\" of type \"%s\" is required, but it "
                       "was not provided.",
                       d->name.value, a->name.value, type);
    }
    return 0;
}

/* UniqueInputFieldNames: f against the fields before it in its object value. */
static int check_object_field(build_t *b, const gql_object_field_t *f, const gql_node_t *parent)
{
    const gql_object_value_t *o = (const gql_object_value_t *)parent;
    for (uint32_t i = 0; i < o->fields.count && o->fields.items[i] != &f->base; i++) {
        const gql_name_t *n = item_name(o->fields.items[i]);
        if (same_name(n, &f->name))
            return fail_at(b, &n->base, "There can be only one input field named \"%s\".",
                           n->value);
    }
    return 0;
}

static bool is_input_object_node(const gql_node_t *n)
{
    return n && (n->kind == GQL_KIND_INPUT_OBJECT_TYPE_DEFINITION ||
                 n->kind == GQL_KIND_INPUT_OBJECT_TYPE_EXTENSION);
}

static int sdl_enter(gql_node_t *n, gql_node_t *parent, void *user_data)
{
    build_t *b = user_data;
    if (is_type_definition(n->kind) || is_type_extension(n->kind))
        return check_type_node(b, (const gql_type_definition_t *)n);
    switch (n->kind) {
    case GQL_KIND_SCHEMA_DEFINITION:
    case GQL_KIND_SCHEMA_EXTENSION:
        return check_schema_node(b, (const gql_schema_definition_t *)n);
    case GQL_KIND_DIRECTIVE_DEFINITION:
        return check_directive_definition(b, (const gql_directive_definition_t *)n);
    case GQL_KIND_FIELD_DEFINITION:
        return check_unique_directives(b, &((gql_field_definition_t *)n)->directives, NULL, 0);
    case GQL_KIND_INPUT_VALUE_DEFINITION:
        /* graphql-js looks for an input object definition only, so it takes the fields of an
         * input object extension for arguments; here both are input fields. */
        b->ivd_is_input_field = is_input_object_node(parent);
        return check_unique_directives(b, &((gql_input_value_definition_t *)n)->directives, NULL,
                                       0);
    case GQL_KIND_ENUM_VALUE_DEFINITION:
        return check_unique_directives(b, &((gql_enum_value_definition_t *)n)->directives, NULL, 0);
    case GQL_KIND_NAMED_TYPE:
        return check_known_type(b, (const gql_named_type_t *)n);
    case GQL_KIND_DIRECTIVE:
        return check_directive_use(b, (const gql_directive_t *)n, parent);
    case GQL_KIND_OBJECT_FIELD:
        return check_object_field(b, (const gql_object_field_t *)n, parent);
    default:
        return 0;
    }
}

static int sdl_leave(gql_node_t *n, gql_node_t *parent, void *user_data)
{
    (void)parent;
    return n->kind == GQL_KIND_DIRECTIVE
               ? check_required_args(user_data, (const gql_directive_t *)n)
               : 0;
}

static int check_sdl_rules(build_t *b)
{
    int r = hmap_init(&b->seen_schema_directives, b->a, b->nschema_directives);
    if (r)
        return oom(b);
    gql_visitor_t v = {.enter = sdl_enter, .leave = sdl_leave};
    r = gql_visit(&b->doc->base, &v, b);
    return r < 0 ? r : 0;
}

/* ---- step 4: the model ---- */

/* The wrapper of kind LIST or NON_NULL around t, made once and kept in t (build time only). */
static gql_type_t *wrap(build_t *b, gql_type_t *t, gql_type_kind_t kind)
{
    gql_type_t **slot = kind == GQL_TYPE_LIST ? &t->list_of : &t->non_null_of;
    if (!*slot && (*slot = arena_calloc(b->a, 1, sizeof **slot))) {
        (*slot)->kind = kind;
        (*slot)->of_type = t;
    }
    return *slot;
}

/* The type an SDL type reference denotes, its wrappers interned; err is set when NULL. */
static gql_type_t *intern(build_t *b, const gql_node_t *n)
{
    if (n->kind == GQL_KIND_NAMED_TYPE) {
        const gql_name_t *name = &((const gql_named_type_t *)n)->name;
        const btype_t *bt = btype(b, name->value, name->len);
        if (!bt || !bt->t)
            fail_at(b, n, "Unknown type \"%s\".", name->value); /* the SDL rules said it first */
        return bt ? bt->t : NULL;
    }
    gql_type_t *inner = intern(b, ((const gql_wrapping_type_t *)n)->type);
    if (!inner)
        return NULL;
    gql_type_t *w =
        wrap(b, inner, n->kind == GQL_KIND_LIST_TYPE ? GQL_TYPE_LIST : GQL_TYPE_NON_NULL);
    if (!w)
        oom(b);
    return w;
}

static const gql_directive_t *find_directive(const gql_node_list_t *l, const char *name)
{
    for (uint32_t i = 0; i < l->count; i++)
        if (name_is(item_name(l->items[i]), name))
            return (const gql_directive_t *)l->items[i];
    return NULL;
}

static const gql_node_t *directive_arg(const gql_directive_t *d, const char *name)
{
    for (uint32_t i = 0; d && i < d->arguments.count; i++) {
        const gql_argument_t *a = (const gql_argument_t *)d->arguments.items[i];
        if (name_is(&a->name, name))
            return a->value;
    }
    return NULL;
}

/* @deprecated as graphql-js reads it: no reason means the default one, an explicit null means
 * not deprecated; a reason that is no string is reported later (applied directive values). */
static void deprecation(build_t *b, const gql_node_list_t *directives, bool *deprecated,
                        const char **reason)
{
    const gql_directive_t *d = find_directive(directives, "deprecated");
    const gql_node_t *v = directive_arg(d, "reason");
    *deprecated = d && (!v || v->kind != GQL_KIND_NULL_VALUE);
    *reason = NULL;
    if (v && v->kind == GQL_KIND_STRING_VALUE)
        *reason = ((const gql_string_value_t *)v)->value;
    else if (d && !v) {
        const bdir_t *def = bdir(b, "deprecated", strlen("deprecated"));
        const gql_input_value_definition_t *arg =
            (const gql_input_value_definition_t *)def->def->arguments.items[0];
        *reason = ((const gql_string_value_t *)arg->default_value)->value;
    }
}

static int build_input_value(build_t *b, gql_input_value_t *v,
                             const gql_input_value_definition_t *n)
{
    v->name = n->name.value;
    v->description = description(n->description);
    if (!(v->type = intern(b, n->type)))
        return b->err->code;
    v->default_value = n->default_value;
    deprecation(b, &n->directives, &v->deprecated, &v->deprecation_reason);
    return 0;
}

static int build_args(build_t *b, const gql_node_list_t *l, gql_input_value_t **out, size_t *n)
{
    *n = l->count;
    if (!l->count)
        return 0;
    if (!(*out = arena_calloc(b->a, l->count, sizeof **out)))
        return oom(b);
    for (uint32_t i = 0; i < l->count; i++) {
        int r = build_input_value(b, &(*out)[i], (const gql_input_value_definition_t *)l->items[i]);
        if (r)
            return r;
    }
    return 0;
}

static int build_field(build_t *b, gql_field_def_t *f, const gql_field_definition_t *n)
{
    f->name = n->name.value;
    f->description = description(n->description);
    if (!(f->type = intern(b, n->type)))
        return b->err->code;
    deprecation(b, &n->directives, &f->deprecated, &f->deprecation_reason);
    return build_args(b, &n->arguments, &f->args, &f->nargs);
}

/* Which list of a type definition node. */
typedef enum member_list { L_FIELDS, L_INTERFACES, L_TYPES, L_VALUES } member_list_t;

static const gql_node_list_t *member_list(const gql_type_definition_t *n, member_list_t which)
{
    switch (which) {
    case L_FIELDS:
        return &n->fields;
    case L_INTERFACES:
        return &n->interfaces;
    case L_TYPES:
        return &n->types;
    default:
        return &n->values;
    }
}

static size_t count_members_of(const btype_t *bt, member_list_t which)
{
    size_t n = 0;
    for (size_t i = 0; i < bt->nnodes; i++)
        n += member_list(bt->nodes[i], which)->count;
    return n;
}

/* The AST node of the i-th member of a type, across its definition and extensions. */
static const gql_node_t *member_node(const build_t *b, const gql_type_t *t, member_list_t which,
                                     size_t i)
{
    const btype_t *bt = btype_of(b, t);
    for (size_t k = 0; bt && k < bt->nnodes; k++) {
        const gql_node_list_t *l = member_list(bt->nodes[k], which);
        if (i < l->count)
            return l->items[i];
        i -= l->count;
    }
    return NULL;
}

/* Allocates *out for the members of bt (definition and extensions) and returns their count. */
static int alloc_members(build_t *b, const btype_t *bt, member_list_t which, size_t size,
                         void **out, size_t *n)
{
    *n = count_members_of(bt, which);
    *out = NULL;
    if (*n && !(*out = arena_calloc(b->a, *n, size)))
        return oom(b);
    return 0;
}

static int build_fields(build_t *b, btype_t *bt)
{
    gql_type_t *t = bt->t;
    int r;
    if (t->kind == GQL_TYPE_INPUT_OBJECT)
        r = alloc_members(b, bt, L_FIELDS, sizeof *t->input_fields, (void **)&t->input_fields,
                          &t->ninput_fields);
    else
        r = alloc_members(b, bt, L_FIELDS, sizeof *t->fields, (void **)&t->fields, &t->nfields);
    for (size_t k = 0, i = 0; !r && k < bt->nnodes; k++) {
        const gql_node_list_t *l = &bt->nodes[k]->fields;
        for (uint32_t j = 0; !r && j < l->count; j++, i++)
            r = t->kind == GQL_TYPE_INPUT_OBJECT
                    ? build_input_value(b, &t->input_fields[i],
                                        (const gql_input_value_definition_t *)l->items[j])
                    : build_field(b, &t->fields[i], (const gql_field_definition_t *)l->items[j]);
    }
    return r;
}

/* Interfaces (which = L_INTERFACES) or union members (L_TYPES). */
static int build_type_refs(build_t *b, btype_t *bt, member_list_t which, gql_type_t ***out,
                           size_t *n)
{
    int r = alloc_members(b, bt, which, sizeof **out, (void **)out, n);
    for (size_t k = 0, i = 0; !r && k < bt->nnodes; k++) {
        const gql_node_list_t *l = member_list(bt->nodes[k], which);
        for (uint32_t j = 0; j < l->count; j++, i++)
            if (!((*out)[i] = intern(b, l->items[j])))
                return b->err->code;
    }
    return r;
}

static int build_enum_values(build_t *b, btype_t *bt)
{
    gql_type_t *t = bt->t;
    int r = alloc_members(b, bt, L_VALUES, sizeof *t->enum_values, (void **)&t->enum_values,
                          &t->nenum_values);
    for (size_t k = 0, i = 0; !r && k < bt->nnodes; k++) {
        const gql_node_list_t *l = &bt->nodes[k]->values;
        for (uint32_t j = 0; j < l->count; j++, i++) {
            const gql_enum_value_definition_t *n = (const gql_enum_value_definition_t *)l->items[j];
            gql_enum_value_def_t *v = &t->enum_values[i];
            v->name = n->name.value;
            v->description = description(n->description);
            deprecation(b, &n->directives, &v->deprecated, &v->deprecation_reason);
        }
    }
    return r;
}

static int build_type(build_t *b, btype_t *bt)
{
    gql_type_t *t = bt->t;
    int r = type_nodes(b, bt);
    if (r)
        return r;
    switch (t->kind) {
    case GQL_TYPE_SCALAR: {
        /* graphql-js reads @specifiedBy on the definition only, not on extensions. */
        const gql_node_t *url =
            directive_arg(find_directive(&bt->def->directives, "specifiedBy"), "url");
        if (url && url->kind == GQL_KIND_STRING_VALUE)
            t->specified_by_url = ((const gql_string_value_t *)url)->value;
        return 0;
    }
    case GQL_TYPE_OBJECT:
    case GQL_TYPE_INTERFACE:
        if ((r = build_type_refs(b, bt, L_INTERFACES, &t->interfaces, &t->ninterfaces)))
            return r;
        return build_fields(b, bt);
    case GQL_TYPE_UNION:
        return build_type_refs(b, bt, L_TYPES, &t->possible_types, &t->npossible_types);
    case GQL_TYPE_ENUM:
        return build_enum_values(b, bt);
    case GQL_TYPE_INPUT_OBJECT:
        return build_fields(b, bt);
    default:
        return 0;
    }
}

/* The types of the definitions of doc, in order, into s->types from *n on. */
static void list_types(build_t *b, const gql_document_t *doc, size_t *n)
{
    for (uint32_t i = 0; i < doc->definitions.count; i++) {
        const gql_node_t *d = doc->definitions.items[i];
        if (!is_type_definition(d->kind))
            continue;
        const gql_name_t *name = &((const gql_type_definition_t *)d)->name;
        const btype_t *bt = btype(b, name->value, name->len);
        if (bt->def == (const gql_type_definition_t *)d)
            b->s->types[(*n)++] = bt->t;
    }
}

static int build_types(build_t *b)
{
    size_t n = 0;
    for (int d = 0; d < 2; d++) {
        const gql_document_t *doc = d ? b->builtin_doc : b->doc;
        for (uint32_t i = 0; i < doc->definitions.count; i++)
            n += is_type_definition(doc->definitions.items[i]->kind);
    }
    if (!(b->s->types = arena_calloc(b->a, n, sizeof *b->s->types)))
        return oom(b);
    n = 0;
    list_types(b, b->doc, &n);
    list_types(b, b->builtin_doc, &n);
    b->s->ntypes = n;
    for (size_t i = 0; i < n; i++) {
        int r = build_type(b, btype_of(b, b->s->types[i]));
        if (r)
            return r;
    }
    return 0;
}

static int build_directive(build_t *b, gql_directive_def_t *d, const gql_directive_definition_t *n)
{
    d->name = n->name.value;
    d->description = description(n->description);
    d->locations = location_bits(n);
    d->repeatable = n->repeatable;
    bdir(b, n->name.value, n->name.len)->d = d;
    return build_args(b, &n->arguments, &d->args, &d->nargs);
}

/* The SDL's directives, then the built-ins: graphql-js's order for a schema built from SDL. */
static int build_directives(build_t *b)
{
    size_t n = 0;
    for (int d = 0; d < 2; d++) {
        const gql_document_t *doc = d ? b->builtin_doc : b->doc;
        for (uint32_t i = 0; i < doc->definitions.count; i++)
            n += doc->definitions.items[i]->kind == GQL_KIND_DIRECTIVE_DEFINITION;
    }
    if (!(b->s->directives = arena_calloc(b->a, n, sizeof *b->s->directives)))
        return oom(b);
    n = 0;
    for (int d = 0; d < 2; d++) {
        const gql_document_t *doc = d ? b->builtin_doc : b->doc;
        for (uint32_t i = 0; i < doc->definitions.count; i++) {
            const gql_node_t *def = doc->definitions.items[i];
            if (def->kind != GQL_KIND_DIRECTIVE_DEFINITION)
                continue;
            int r =
                build_directive(b, &b->s->directives[n++], (const gql_directive_definition_t *)def);
            if (r)
                return r;
        }
    }
    b->s->ndirectives = n;
    return 0;
}

/* The operation type definition of op: the schema definition's, else the first extension's,
 * as graphql-js's getOperationTypeNode looks for it. */
static const gql_operation_type_definition_t *operation_node(const build_t *b,
                                                             gql_operation_type_t op)
{
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < b->doc->definitions.count; i++) {
            const gql_node_t *n = b->doc->definitions.items[i];
            if (n->kind != (pass ? GQL_KIND_SCHEMA_EXTENSION : GQL_KIND_SCHEMA_DEFINITION) ||
                (!pass && n != &b->schema_def->base))
                continue;
            const gql_node_list_t *l = &((const gql_schema_definition_t *)n)->operation_types;
            for (uint32_t k = 0; k < l->count; k++)
                if (((const gql_operation_type_definition_t *)l->items[k])->operation == op)
                    return (const gql_operation_type_definition_t *)l->items[k];
        }
    }
    return NULL;
}

/* Without a schema definition graphql-js takes the types named Query, Mutation and
 * Subscription, whatever an extension said. */
static int build_roots(build_t *b)
{
    static const char *const defaults[] = {"Query", "Mutation", "Subscription"};
    gql_type_t *roots[3] = {0};
    for (int op = 0; op < 3; op++) {
        const gql_operation_type_definition_t *n = operation_node(b, (gql_operation_type_t)op);
        if (n && !(roots[op] = intern(b, &n->type->base)))
            return b->err->code;
        const btype_t *bt = btype(b, defaults[op], strlen(defaults[op]));
        if (!b->schema_def && bt && bt->t && !bt->builtin)
            roots[op] = bt->t;
    }
    b->s->query = roots[0];
    b->s->mutation = roots[1];
    b->s->subscription = roots[2];
    b->s->description = b->schema_def ? description(b->schema_def->description) : NULL;
    return 0;
}

/* INTERFACE possible_types: the object types implementing it, in type order. */
static int build_implementations(build_t *b)
{
    gql_schema_t *s = b->s;
    for (size_t i = 0; i < s->ntypes; i++) {
        gql_type_t *iface = s->types[i];
        if (iface->kind != GQL_TYPE_INTERFACE)
            continue;
        size_t n = 0;
        for (int pass = 0; pass < 2; pass++) {
            for (size_t k = 0; k < s->ntypes; k++)
                if (s->types[k]->kind == GQL_TYPE_OBJECT && implements(s->types[k], iface)) {
                    if (pass)
                        iface->possible_types[iface->npossible_types++] = s->types[k];
                    else
                        n++;
                }
            if (!pass && n && !(iface->possible_types = arena_calloc(b->a, n, sizeof(void *))))
                return oom(b);
        }
    }
    return 0;
}

/* graphql-js's collectReferencedTypes: adds t and, depth first, what it references. Only
 * built-in types can be reached that are not yet in (the SDL's are all in from the start), so
 * the recursion is as deep as the introspection types nest, whatever the SDL. */
static void collect_referenced(build_t *b, gql_type_t *t)
{
    t = gql_type_named(t);
    btype_t *bt = t ? btype_of(b, t) : NULL;
    if (!bt || bt->seq)
        return;
    bt->seq = ++b->seq;
    if (t->kind == GQL_TYPE_UNION)
        for (size_t i = 0; i < t->npossible_types; i++)
            collect_referenced(b, t->possible_types[i]);
    for (size_t i = 0; i < t->ninterfaces; i++)
        collect_referenced(b, t->interfaces[i]);
    for (size_t i = 0; i < t->nfields; i++) {
        collect_referenced(b, t->fields[i].type);
        for (size_t k = 0; k < t->fields[i].nargs; k++)
            collect_referenced(b, t->fields[i].args[k].type);
    }
    for (size_t i = 0; i < t->ninput_fields; i++)
        collect_referenced(b, t->input_fields[i].type);
}

typedef struct ranked {
    size_t seq;
    gql_type_t *t;
} ranked_t;

static int ranked_cmp(const void *pa, const void *pb)
{
    const ranked_t *a = pa, *b = pb;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The order of graphql-js's GraphQLSchema constructor: the SDL's types are in the set from
 * the start, each is taken out and put back with what it references, then the roots, the
 * directives' arguments and __Schema add what is still missing. */
static int build_type_map(build_t *b)
{
    gql_schema_t *s = b->s;
    size_t nuser = 0;
    while (nuser < s->ntypes && !btype_of(b, s->types[nuser])->builtin)
        nuser++;
    for (size_t i = 0; i < nuser; i++)
        btype_of(b, s->types[i])->seq = ++b->seq;
    for (size_t i = 0; i < nuser; i++) {
        btype_of(b, s->types[i])->seq = 0;
        collect_referenced(b, s->types[i]);
    }
    collect_referenced(b, s->query);
    collect_referenced(b, s->mutation);
    collect_referenced(b, s->subscription);
    for (size_t i = 0; i < s->ndirectives; i++)
        for (size_t k = 0; k < s->directives[i].nargs; k++)
            collect_referenced(b, s->directives[i].args[k].type);
    collect_referenced(b, btype(b, "__Schema", strlen("__Schema"))->t);
    ranked_t *r = arena_calloc(b->a, s->ntypes, sizeof *r);
    if (!r || !(s->type_map = arena_calloc(b->a, s->ntypes, sizeof *s->type_map)))
        return oom(b);
    size_t n = 0;
    for (size_t i = 0; i < s->ntypes; i++) {
        size_t seq = btype_of(b, s->types[i])->seq;
        if ((s->types[i]->referenced = seq != 0))
            r[n++] = (ranked_t){seq, s->types[i]};
    }
    qsort(r, n, sizeof *r, ranked_cmp);
    for (size_t i = 0; i < n; i++)
        s->type_map[i] = r[i].t;
    s->ntype_map = n;
    return 0;
}

/* The name index of the schema, field indexes of the larger types, and the meta-fields. */
static int build_field_index(build_t *b, gql_type_t *t)
{
    bool input = t->kind == GQL_TYPE_INPUT_OBJECT;
    size_t n = input ? t->ninput_fields : t->nfields;
    if (n <= FIELD_INDEX_MIN)
        return 0;
    hmap_t *m = arena_calloc(b->a, 1, sizeof *m);
    if (!m || hmap_init(m, b->a, n) < 0)
        return oom(b);
    for (size_t i = 0; i < n; i++) {
        const char *name = input ? t->input_fields[i].name : t->fields[i].name;
        hmap_put(m, name, strlen(name), input ? (void *)&t->input_fields[i] : &t->fields[i]);
    }
    t->field_index = m;
    return 0;
}

static gql_type_t *builtin_type(const build_t *b, const char *name)
{
    return btype(b, name, strlen(name))->t;
}

static int build_meta_fields(build_t *b, schema_index_t *x)
{
    gql_type_t *string = wrap(b, builtin_type(b, "String"), GQL_TYPE_NON_NULL);
    gql_type_t *schema = wrap(b, builtin_type(b, "__Schema"), GQL_TYPE_NON_NULL);
    if (!string || !schema)
        return oom(b);
    x->typename_field = (gql_field_def_t){
        .name = "__typename",
        .description = "The name of the current Object type at runtime.",
        .type = string,
    };
    x->schema_field = (gql_field_def_t){
        .name = "__schema",
        .description = "Access the current type schema of this server.",
        .type = schema,
    };
    x->type_name_arg = (gql_input_value_t){.name = "name", .type = string};
    x->type_field = (gql_field_def_t){
        .name = "__type",
        .description = "Request the type information of a single type.",
        .type = builtin_type(b, "__Type"),
        .args = &x->type_name_arg,
        .nargs = 1,
    };
    return 0;
}

static int build_index(build_t *b)
{
    gql_schema_t *s = b->s;
    schema_index_t *x = arena_calloc(b->a, 1, sizeof *x);
    if (!x || hmap_init(&x->types, b->a, s->ntypes) < 0 ||
        hmap_init(&x->directives, b->a, s->ndirectives) < 0)
        return oom(b);
    for (size_t i = 0; i < s->ntypes; i++) {
        hmap_put(&x->types, s->types[i]->name, strlen(s->types[i]->name), s->types[i]);
        int r = build_field_index(b, s->types[i]);
        if (r)
            return r;
    }
    for (size_t i = 0; i < s->ndirectives; i++)
        hmap_put(&x->directives, s->directives[i].name, strlen(s->directives[i].name),
                 &s->directives[i]);
    s->index = x;
    return build_meta_fields(b, x);
}

/* ---- step 5: values (applied directive arguments, default values) ---- */

static bool is_required(const gql_input_value_t *v)
{
    return v->type->kind == GQL_TYPE_NON_NULL && !v->default_value;
}

/* A value that does not fit: the message, unless quiet (graphql-js's valueFromAST, which
 * only answers whether a value fits). */
static int bad_value(build_t *b, bool quiet, const gql_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int bad_value(build_t *b, bool quiet, const gql_node_t *at, const char *fmt, ...)
{
    if (quiet)
        return GQL_ESCHEMA;
    va_list ap;
    va_start(ap, fmt);
    const char *msg = arena_vprintf(b->a, fmt, ap);
    va_end(ap);
    return msg ? fail_at(b, at, "%s", msg) : oom(b);
}

static int check_enum_literal(build_t *b, const gql_node_t *v, const gql_type_t *e, bool quiet)
{
    if (v->kind == GQL_KIND_ENUM_VALUE) {
        const gql_enum_value_t *ev = (const gql_enum_value_t *)v;
        for (size_t i = 0; i < e->nenum_values; i++)
            if (strlen(e->enum_values[i].name) == ev->len &&
                memcmp(e->enum_values[i].name, ev->value, ev->len) == 0)
                return 0;
    }
    if (quiet)
        return GQL_ESCHEMA;
    const char *text = print_node(b, v);
    names_t names = {0};
    for (size_t i = 0; text && i < e->nenum_values; i++)
        if (names_push(b->a, &names, e->enum_values[i].name) < 0)
            return oom(b);
    const char *head =
        !text ? NULL
        : v->kind == GQL_KIND_ENUM_VALUE
            ? arena_printf(b->a, "Value \"%s\" does not exist in \"%s\" enum.", text, e->name)
            : arena_printf(b->a, "Enum \"%s\" cannot represent non-enum value: %s.", e->name, text);
    if (!head)
        return oom(b);
    return fail_suggest(b, v, head, "the enum value", text, &names);
}

static bool int32_literal(const gql_node_t *v)
{
    errno = 0;
    long long n = strtoll(((const gql_int_value_t *)v)->value, NULL, 10);
    return errno == 0 && n >= INT32_MIN && n <= INT32_MAX;
}

/* The built-in scalars' parseLiteral; other scalars take any literal. */
static int check_scalar_literal(build_t *b, const gql_node_t *v, const gql_type_t *t, bool quiet)
{
    const char *what = NULL;
    gql_kind_t k = v->kind;
    if (!strcmp(t->name, "Int") && k != GQL_KIND_INT_VALUE)
        what = "Int cannot represent non-integer value: %s";
    else if (!strcmp(t->name, "Int") && !int32_literal(v))
        return bad_value(b, quiet, v, "Int cannot represent non 32-bit signed integer value: %s",
                         ((const gql_int_value_t *)v)->value);
    else if (!strcmp(t->name, "Float") && k != GQL_KIND_INT_VALUE && k != GQL_KIND_FLOAT_VALUE)
        what = "Float cannot represent non numeric value: %s";
    else if (!strcmp(t->name, "String") && k != GQL_KIND_STRING_VALUE)
        what = "String cannot represent a non string value: %s";
    else if (!strcmp(t->name, "Boolean") && k != GQL_KIND_BOOLEAN_VALUE)
        what = "Boolean cannot represent a non boolean value: %s";
    else if (!strcmp(t->name, "ID") && k != GQL_KIND_STRING_VALUE && k != GQL_KIND_INT_VALUE)
        what = "ID cannot represent a non-string and non-integer value: %s";
    if (!what || quiet)
        return what ? GQL_ESCHEMA : 0;
    const char *text = print_node(b, v);
    return text ? bad_value(b, quiet, v, what, text) : oom(b);
}

/* graphql-js's isValidValueNode: a literal that is no list or object where it is expected. */
static int check_leaf_literal(build_t *b, const gql_node_t *v, const gql_type_t *type, bool quiet)
{
    const gql_type_t *named = named_c(type);
    if (named->kind == GQL_TYPE_ENUM)
        return check_enum_literal(b, v, named, quiet);
    if (named->kind == GQL_TYPE_SCALAR)
        return check_scalar_literal(b, v, named, quiet);
    if (quiet)
        return GQL_ESCHEMA;
    const char *text = print_node(b, v);
    return text ? bad_value(b, quiet, v, "Expected value of type \"%s\", found %s.",
                            type_str(b, type), text)
                : oom(b);
}

static int check_value(build_t *b, const gql_node_t *v, const gql_type_t *type, bool quiet);

static const gql_object_field_t *object_field(const gql_object_value_t *o, const char *name)
{
    for (uint32_t i = 0; i < o->fields.count; i++)
        if (name_is(item_name(o->fields.items[i]), name))
            return (const gql_object_field_t *)o->fields.items[i];
    return NULL;
}

static int check_unknown_field(build_t *b, const gql_object_field_t *f, const gql_type_t *t)
{
    names_t names = {0};
    for (size_t i = 0; i < t->ninput_fields; i++)
        if (names_push(b->a, &names, t->input_fields[i].name) < 0)
            return oom(b);
    const char *head =
        arena_printf(b->a, "Field \"%s\" is not defined by type \"%s\".", f->name.value, t->name);
    return head ? fail_suggest(b, &f->base, head, NULL, f->name.value, &names) : oom(b);
}

static int check_object_value(build_t *b, const gql_object_value_t *o, const gql_type_t *type,
                              bool quiet)
{
    const gql_type_t *t = named_c(type);
    if (t->kind != GQL_TYPE_INPUT_OBJECT)
        return check_leaf_literal(b, &o->base, type, quiet);
    for (size_t i = 0; i < t->ninput_fields; i++)
        if (is_required(&t->input_fields[i]) && !object_field(o, t->input_fields[i].name))
            return bad_value(b, quiet, &o->base,
                             "Field \"%s.%s\" of required type \"%s\" was not provided.", t->name,
                             t->input_fields[i].name, type_str(b, t->input_fields[i].type));
    for (uint32_t i = 0; i < o->fields.count; i++) {
        const gql_object_field_t *f = (const gql_object_field_t *)o->fields.items[i];
        const gql_input_value_t *def = gql_input_field(t, f->name.value, f->name.len);
        int r = def     ? check_value(b, f->value, def->type, quiet)
                : quiet ? 0 /* valueFromAST ignores unknown fields */
                        : check_unknown_field(b, f, t);
        if (r)
            return r;
    }
    return 0;
}

/* graphql-js's ValuesOfCorrectType on one constant value of the given type (quiet: whether it
 * fits, as valueFromAST). Recursion is as deep as the value, which the parser bounds. */
static int check_value(build_t *b, const gql_node_t *v, const gql_type_t *type, bool quiet)
{
    const gql_type_t *nullable = type->kind == GQL_TYPE_NON_NULL ? type->of_type : type;
    switch (v->kind) {
    case GQL_KIND_NULL_VALUE:
        if (type->kind != GQL_TYPE_NON_NULL)
            return 0;
        return bad_value(b, quiet, v, "Expected value of type \"%s\", found null.",
                         type_str(b, type));
    case GQL_KIND_LIST_VALUE: {
        if (nullable->kind != GQL_TYPE_LIST)
            return check_leaf_literal(b, v, type, quiet);
        const gql_list_value_t *l = (const gql_list_value_t *)v;
        for (uint32_t i = 0; i < l->values.count; i++) {
            int r = check_value(b, l->values.items[i], nullable->of_type, quiet);
            if (r)
                return r;
        }
        return 0;
    }
    case GQL_KIND_OBJECT_VALUE:
        return check_object_value(b, (const gql_object_value_t *)v, type, quiet);
    default:
        return check_leaf_literal(b, v, type, quiet);
    }
}

/* Arguments of a directive applied in the SDL, coerced as graphql-js's buildSchema coerces
 * @deprecated and @specifiedBy (getDirectiveValues), with its messages; other directives are
 * held to the same rule rather than left unchecked. */
static int enter_directive_values(gql_directive_t *d, gql_node_t *parent, void *user_data)
{
    (void)parent;
    build_t *b = user_data;
    const bdir_t *def = bdir(b, d->name.value, d->name.len);
    for (uint32_t i = 0; def && i < d->arguments.count; i++) {
        const gql_argument_t *a = (const gql_argument_t *)d->arguments.items[i];
        const gql_input_value_t *arg =
            gql_field_arg(&(gql_field_def_t){.args = def->d->args, .nargs = def->d->nargs},
                          a->name.value, a->name.len);
        if (!arg || !gql_type_is_input(arg->type)) /* a wrong type is validateSchema's to say */
            continue;
        if (a->value->kind == GQL_KIND_NULL_VALUE && arg->type->kind == GQL_TYPE_NON_NULL)
            return fail_at(b, a->value, "Argument \"%s\" of non-null type \"%s\" must not be null.",
                           a->name.value, type_str(b, arg->type));
        if (check_value(b, a->value, arg->type, true) == 0)
            continue;
        const char *text = print_node(b, a->value);
        return text ? fail_at(b, a->value, "Argument \"%s\" has invalid value %s.", a->name.value,
                              text)
                    : oom(b);
    }
    return 0;
}

/* Default values, which graphql-js 16 does not check (17 will). */
static int enter_default_value(gql_input_value_definition_t *d, gql_node_t *parent, void *user_data)
{
    (void)parent;
    build_t *b = user_data;
    if (!d->default_value)
        return 0;
    const gql_type_t *type = intern(b, d->type);
    return type ? check_value(b, d->default_value, type, false) : b->err->code;
}

static int check_directive_values(build_t *b)
{
    gql_visitor_t v = {.enter_directive = enter_directive_values};
    int r = gql_visit(&b->doc->base, &v, b);
    return r < 0 ? r : 0;
}

static int check_default_values(build_t *b)
{
    gql_visitor_t v = {.enter_input_value_definition = enter_default_value};
    int r = gql_visit(&b->doc->base, &v, b);
    return r < 0 ? r : 0;
}

/* ---- step 5: graphql-js's validateSchema ---- */

static const char *const reserved_name_fmt =
    "Name \"%s\" must not begin with \"__\", which is reserved by GraphQL introspection.";

static bool reserved(const char *name)
{
    return name[0] == '_' && name[1] == '_';
}

static const gql_node_t *deprecated_node(const gql_node_t *n)
{
    const gql_node_list_t *l = n->kind == GQL_KIND_INPUT_VALUE_DEFINITION
                                   ? &((const gql_input_value_definition_t *)n)->directives
                                   : &((const gql_field_definition_t *)n)->directives;
    const gql_directive_t *d = find_directive(l, "deprecated");
    return d ? &d->base : NULL;
}

static const gql_node_t *type_node_of(const gql_node_t *n)
{
    return n->kind == GQL_KIND_INPUT_VALUE_DEFINITION
               ? ((const gql_input_value_definition_t *)n)->type
               : ((const gql_field_definition_t *)n)->type;
}

static int validate_roots(build_t *b)
{
    static const char *const fmts[] = {
        "Query root type must be Object type, it cannot be %s.",
        "Mutation root type must be Object type if provided, it cannot be %s.",
        "Subscription root type must be Object type if provided, it cannot be %s.",
    };
    const gql_type_t *roots[] = {b->s->query, b->s->mutation, b->s->subscription};
    if (!roots[0])
        return fail_at(b, b->schema_def ? &b->schema_def->base : NULL,
                       "Query root type must be provided.");
    for (int op = 0; op < 3; op++) {
        if (!roots[op] || roots[op]->kind == GQL_TYPE_OBJECT)
            continue;
        const gql_operation_type_definition_t *n = operation_node(b, (gql_operation_type_t)op);
        const btype_t *bt = btype_of(b, roots[op]);
        return fail_at(b, n ? &n->type->base : &bt->def->base, fmts[op], roots[op]->name);
    }
    return 0;
}

/* The checks of one argument; prefix names its owner ("@dir" or "Type.field"). */
static int validate_arg(build_t *b, const char *prefix, const gql_input_value_t *a,
                        const gql_node_t *n, bool of_directive)
{
    if (reserved(a->name))
        return fail_at(b, n, reserved_name_fmt, a->name);
    if (!gql_type_is_input(a->type))
        return fail_at(b, of_directive ? n : type_node_of(n),
                       "The type of %s(%s:) must be Input Type but got: %s.", prefix, a->name,
                       type_str(b, a->type));
    if (is_required(a) && a->deprecated)
        return fail_at(b, deprecated_node(n), "Required argument %s(%s:) cannot be deprecated.",
                       prefix, a->name);
    return 0;
}

static int validate_directive(build_t *b, const gql_directive_def_t *d)
{
    const bdir_t *bd = bdir(b, d->name, strlen(d->name));
    if (reserved(d->name))
        return fail_at(b, &bd->def->base, reserved_name_fmt, d->name);
    const char *prefix = arena_printf(b->a, "@%s", d->name);
    if (!prefix)
        return oom(b);
    for (size_t i = 0; i < d->nargs; i++) {
        int r = validate_arg(b, prefix, &d->args[i], bd->def->arguments.items[i], true);
        if (r)
            return r;
    }
    return 0;
}

static int validate_fields(build_t *b, const gql_type_t *t, const btype_t *bt)
{
    if (!t->nfields)
        return fail_at(b, &bt->def->base, "Type %s must define one or more fields.", t->name);
    for (size_t i = 0; i < t->nfields; i++) {
        const gql_field_def_t *f = &t->fields[i];
        const gql_field_definition_t *n =
            (const gql_field_definition_t *)member_node(b, t, L_FIELDS, i);
        if (reserved(f->name))
            return fail_at(b, &n->base, reserved_name_fmt, f->name);
        if (!gql_type_is_output(f->type))
            return fail_at(b, n->type, "The type of %s.%s must be Output Type but got: %s.",
                           t->name, f->name, type_str(b, f->type));
        const char *prefix = arena_printf(b->a, "%s.%s", t->name, f->name);
        if (!prefix)
            return oom(b);
        for (size_t k = 0; k < f->nargs; k++) {
            int r = validate_arg(b, prefix, &f->args[k], n->arguments.items[k], false);
            if (r)
                return r;
        }
    }
    return 0;
}

static const gql_field_def_t *field_named(const gql_type_t *t, const char *name)
{
    return gql_type_field(t, name, strlen(name));
}

static const gql_input_value_t *arg_named(const gql_field_def_t *f, const char *name)
{
    return gql_field_arg(f, name, strlen(name));
}

static size_t field_pos(const gql_type_t *t, const gql_field_def_t *f)
{
    return (size_t)(f - t->fields);
}

static const gql_node_t *arg_node(const build_t *b, const gql_type_t *t, const gql_field_def_t *f,
                                  const gql_input_value_t *a)
{
    const gql_field_definition_t *n =
        (const gql_field_definition_t *)member_node(b, t, L_FIELDS, field_pos(t, f));
    return n->arguments.items[a - f->args];
}

/* The arguments of one field against those of the interface field it implements. */
static int validate_impl_args(build_t *b, const gql_type_t *t, const gql_field_def_t *tf,
                              const gql_type_t *iface, const gql_field_def_t *f)
{
    for (size_t i = 0; i < f->nargs; i++) {
        const gql_input_value_t *ia = &f->args[i];
        const gql_input_value_t *ta = arg_named(tf, ia->name);
        const gql_node_t *in = arg_node(b, iface, f, ia);
        if (!ta)
            return fail_at(b, in,
                           "Interface field argument %s.%s(%s:) expected but %s.%s does not "
                           "provide it.",
                           iface->name, f->name, ia->name, t->name, f->name);
        if (!gql_type_equal(ia->type, ta->type))
            return fail_at(b, type_node_of(in),
                           "Interface field argument %s.%s(%s:) expects type %s but %s.%s(%s:) "
                           "is type %s.",
                           iface->name, f->name, ia->name, type_str(b, ia->type), t->name, f->name,
                           ia->name, type_str(b, ta->type));
    }
    for (size_t i = 0; i < tf->nargs; i++)
        if (!arg_named(f, tf->args[i].name) && is_required(&tf->args[i]))
            return fail_at(b, arg_node(b, t, tf, &tf->args[i]),
                           "Object field %s.%s includes required argument %s that is missing "
                           "from the Interface field %s.%s.",
                           t->name, f->name, tf->args[i].name, iface->name, f->name);
    return 0;
}

static int validate_implementation(build_t *b, const gql_type_t *t, const gql_type_t *iface)
{
    for (size_t i = 0; i < iface->nfields; i++) {
        const gql_field_def_t *f = &iface->fields[i];
        const gql_field_def_t *tf = field_named(t, f->name);
        const gql_node_t *fn = member_node(b, iface, L_FIELDS, i);
        if (!tf)
            return fail_at(b, fn, "Interface field %s.%s expected but %s does not provide it.",
                           iface->name, f->name, t->name);
        if (!gql_type_is_subtype(tf->type, f->type))
            return fail_at(b, type_node_of(fn),
                           "Interface field %s.%s expects type %s but %s.%s is type %s.",
                           iface->name, f->name, type_str(b, f->type), t->name, f->name,
                           type_str(b, tf->type));
        int r = validate_impl_args(b, t, tf, iface, f);
        if (r)
            return r;
    }
    return 0;
}

/* The first node where t names iface among its interfaces (or union members). */
static const gql_node_t *ref_node(const build_t *b, const gql_type_t *t, const gql_type_t *ref,
                                  member_list_t which)
{
    gql_type_t *const *refs = which == L_INTERFACES ? t->interfaces : t->possible_types;
    size_t n = which == L_INTERFACES ? t->ninterfaces : t->npossible_types;
    for (size_t i = 0; i < n; i++)
        if (refs[i] == ref)
            return member_node(b, t, which, i);
    return NULL;
}

static int validate_ancestors(build_t *b, const gql_type_t *t, const gql_type_t *iface)
{
    for (size_t i = 0; i < iface->ninterfaces; i++) {
        const gql_type_t *up = iface->interfaces[i];
        if (implements(t, up))
            continue;
        const gql_node_t *at = member_node(b, iface, L_INTERFACES, i);
        if (up == t)
            return fail_at(b, at,
                           "Type %s cannot implement %s because it would create a circular "
                           "reference.",
                           t->name, iface->name);
        return fail_at(b, at, "Type %s must implement %s because it is implemented by %s.", t->name,
                       up->name, iface->name);
    }
    return 0;
}

static int validate_interfaces(build_t *b, const gql_type_t *t)
{
    for (size_t i = 0; i < t->ninterfaces; i++) {
        const gql_type_t *iface = t->interfaces[i];
        const gql_node_t *at = ref_node(b, t, iface, L_INTERFACES);
        int r;
        if (iface->kind != GQL_TYPE_INTERFACE)
            return fail_at(b, at,
                           "Type %s must only implement Interface types, it cannot implement %s.",
                           t->name, iface->name);
        if (iface == t)
            return fail_at(b, at,
                           "Type %s cannot implement itself because it would create a circular "
                           "reference.",
                           t->name);
        if (at != member_node(b, t, L_INTERFACES, i))
            return fail_at(b, at, "Type %s can only implement %s once.", t->name, iface->name);
        if ((r = validate_ancestors(b, t, iface)) || (r = validate_implementation(b, t, iface)))
            return r;
    }
    return 0;
}

static int validate_union(build_t *b, const gql_type_t *t, const btype_t *bt)
{
    if (!t->npossible_types)
        return fail_at(b, &bt->def->base, "Union type %s must define one or more member types.",
                       t->name);
    for (size_t i = 0; i < t->npossible_types; i++) {
        const gql_type_t *m = t->possible_types[i];
        const gql_node_t *at = ref_node(b, t, m, L_TYPES);
        if (at != member_node(b, t, L_TYPES, i))
            return fail_at(b, at, "Union type %s can only include type %s once.", t->name, m->name);
        if (m->kind != GQL_TYPE_OBJECT)
            return fail_at(b, at,
                           "Union type %s can only include Object types, it cannot include %s.",
                           t->name, m->name);
    }
    return 0;
}

static int validate_enum(build_t *b, const gql_type_t *t, const btype_t *bt)
{
    if (!t->nenum_values)
        return fail_at(b, &bt->def->base, "Enum type %s must define one or more values.", t->name);
    for (size_t i = 0; i < t->nenum_values; i++)
        if (reserved(t->enum_values[i].name))
            return fail_at(b, member_node(b, t, L_VALUES, i), reserved_name_fmt,
                           t->enum_values[i].name);
    return 0;
}

static int validate_input_fields(build_t *b, const gql_type_t *t, const btype_t *bt)
{
    if (!t->ninput_fields)
        return fail_at(b, &bt->def->base, "Input Object type %s must define one or more fields.",
                       t->name);
    for (size_t i = 0; i < t->ninput_fields; i++) {
        const gql_input_value_t *f = &t->input_fields[i];
        const gql_node_t *n = member_node(b, t, L_FIELDS, i);
        if (reserved(f->name))
            return fail_at(b, n, reserved_name_fmt, f->name);
        if (!gql_type_is_input(f->type))
            return fail_at(b, type_node_of(n), "The type of %s.%s must be Input Type but got: %s.",
                           t->name, f->name, type_str(b, f->type));
        if (is_required(f) && f->deprecated)
            return fail_at(b, deprecated_node(n),
                           "Required input field %s.%s cannot be deprecated.", t->name, f->name);
    }
    return 0;
}

/* The input object a field leads to through a non-null type, or NULL. */
static const gql_type_t *non_null_input_object(const gql_input_value_t *f)
{
    const gql_type_t *t = f->type;
    return t->kind == GQL_TYPE_NON_NULL && t->of_type->kind == GQL_TYPE_INPUT_OBJECT ? t->of_type
                                                                                     : NULL;
}

typedef struct cycle_frame {
    const gql_type_t *t;
    size_t next; /* the field being followed is next - 1 */
} cycle_frame_t;

static int report_cycle(build_t *b, const cycle_frame_t *path, size_t from, size_t depth,
                        const gql_type_t *to)
{
    buf_t p = {0};
    for (size_t i = from; i < depth; i++)
        buf_printf(&p, "%s%s", i > from ? "." : "", path[i].t->input_fields[path[i].next - 1].name);
    const gql_node_t *at = member_node(b, path[from].t, L_FIELDS, path[from].next - 1);
    int r = p.failed ? oom(b)
                     : fail_at(b, at,
                               "Cannot reference Input Object \"%s\" within itself through a "
                               "series of non-null fields: \"%s\".",
                               to->name, p.data);
    buf_free(&p);
    return r;
}

/* graphql-js's input object cycle search from start, depth first with an explicit stack:
 * a chain of input types may be as long as the SDL is. */
static int validate_input_cycles(build_t *b, const gql_type_t *start)
{
    btype_t *sb = btype_of(b, start);
    if (sb->cycle_seen)
        return 0;
    if (!b->cycle_path &&
        !(b->cycle_path = arena_calloc(b->a, b->s->ntypes + 1, sizeof *b->cycle_path)))
        return oom(b);
    cycle_frame_t *path = b->cycle_path;
    size_t depth = 1;
    path[0] = (cycle_frame_t){start, 0};
    sb->cycle_seen = true;
    sb->cycle_at = 0;
    while (depth) {
        cycle_frame_t *top = &path[depth - 1];
        if (top->next == top->t->ninput_fields) {
            btype_of(b, top->t)->cycle_at = -1;
            depth--;
            continue;
        }
        const gql_type_t *to = non_null_input_object(&top->t->input_fields[top->next++]);
        btype_t *tb = to ? btype_of(b, to) : NULL;
        if (!tb)
            continue;
        if (tb->cycle_at >= 0)
            return report_cycle(b, path, (size_t)tb->cycle_at, depth, to);
        if (tb->cycle_seen)
            continue;
        tb->cycle_seen = true;
        tb->cycle_at = (long)depth;
        path[depth++] = (cycle_frame_t){to, 0};
    }
    return 0;
}

static int validate_type(build_t *b, const gql_type_t *t)
{
    const btype_t *bt = btype_of(b, t);
    int r = 0;
    if (reserved(t->name))
        return fail_at(b, &bt->def->base, reserved_name_fmt, t->name);
    switch (t->kind) {
    case GQL_TYPE_OBJECT:
    case GQL_TYPE_INTERFACE:
        if (!(r = validate_fields(b, t, bt)))
            r = validate_interfaces(b, t);
        return r;
    case GQL_TYPE_UNION:
        return validate_union(b, t, bt);
    case GQL_TYPE_ENUM:
        return validate_enum(b, t, bt);
    case GQL_TYPE_INPUT_OBJECT:
        if (!(r = validate_input_fields(b, t, bt)))
            r = validate_input_cycles(b, t);
        return r;
    default:
        return 0;
    }
}

/* Built-ins are valid by construction and skipped. */
static int validate_schema(build_t *b)
{
    const gql_schema_t *s = b->s;
    int r = validate_roots(b);
    for (size_t i = 0; !r && i < s->ndirectives; i++)
        if (!bdir(b, s->directives[i].name, strlen(s->directives[i].name))->builtin)
            r = validate_directive(b, &s->directives[i]);
    for (size_t i = 0; !r && i < s->ntype_map; i++)
        if (!btype_of(b, s->type_map[i])->builtin)
            r = validate_type(b, s->type_map[i]);
    return r;
}

/* ---- building, lookups (public) ---- */

static int parse_sdl(build_t *b, const char *src, size_t len, gql_document_t **doc)
{
    /* The parser's default limits (1 MiB, 100,000 tokens) hold thousands of fields. */
    gql_parse_options_t opt = {.allow_type_system = true};
    return gql_parse(src, len, &opt, b->a, doc, b->err);
}

static int prepare(build_t *b, const char *sdl, size_t len)
{
    int r;
    if ((r = parse_sdl(b, introspection_sdl, sizeof introspection_sdl - 1, &b->builtin_doc)) ||
        (r = parse_sdl(b, sdl, len, &b->doc)))
        return r;
    size_t ntypes = 0, ndirs = 0;
    count_definitions(b->builtin_doc, &ntypes, &ndirs);
    count_definitions(b->doc, &ntypes, &ndirs);
    if (hmap_init(&b->types, b->a, ntypes) < 0 || hmap_init(&b->dirs, b->a, ndirs) < 0)
        return oom(b);
    if ((r = collect(b, b->builtin_doc, true)) || (r = collect(b, b->doc, false)))
        return r;
    return 0;
}

static int build(build_t *b, const char *sdl, size_t len)
{
    int r;
    if ((r = prepare(b, sdl, len)) || (r = check_sdl_rules(b)) || (r = build_types(b)) ||
        (r = build_directives(b)) || (r = build_roots(b)) || (r = build_implementations(b)) ||
        (r = build_type_map(b)) || (r = build_index(b)) || (r = check_directive_values(b)) ||
        (r = validate_schema(b)) || (r = check_default_values(b)))
        return r;
    return 0;
}

int gql_schema_build(const char *sdl, size_t len, arena_t *err_arena, gql_schema_t **out,
                     gql_error_t *err)
{
    *out = NULL;
    gql_schema_t *s = calloc(1, sizeof *s);
    if (!s) {
        *err = (gql_error_t){GQL_ENOMEM, 0, 0, 0, "Out of memory."};
        return GQL_ENOMEM;
    }
    arena_init(&s->arena, 64 * 1024, 0);
    gql_error_t e = {0};
    build_t b = {.s = s, .a = &s->arena, .err = &e};
    int r = build(&b, sdl, len);
    if (r == 0) {
        *err = (gql_error_t){0};
        *out = s;
        return 0;
    }
    /* The message lives in the schema's arena, which goes now. */
    *err = e;
    err->code = r;
    err->message = NULL;
    if (err_arena && e.message)
        err->message = arena_strndup(err_arena, e.message, strlen(e.message));
    if (!err->message)
        err->message = r == GQL_ENOMEM ? "Out of memory." : "Invalid schema.";
    gql_schema_free(s);
    return r;
}

void gql_schema_free(gql_schema_t *s)
{
    if (!s)
        return;
    arena_free(&s->arena);
    free(s);
}

gql_type_t *gql_schema_type(const gql_schema_t *s, const char *name, size_t len)
{
    const schema_index_t *x = s ? s->index : NULL;
    return x && name ? hmap_get(&x->types, name, len) : NULL;
}

const gql_directive_def_t *gql_schema_directive(const gql_schema_t *s, const char *name, size_t len)
{
    const schema_index_t *x = s ? s->index : NULL;
    return x && name ? hmap_get(&x->directives, name, len) : NULL;
}

static bool str_is(const char *s, const char *name, size_t len)
{
    return strlen(s) == len && memcmp(s, name, len) == 0;
}

const gql_field_def_t *gql_type_field(const gql_type_t *t, const char *name, size_t len)
{
    if (!t || !name || (t->kind != GQL_TYPE_OBJECT && t->kind != GQL_TYPE_INTERFACE))
        return NULL;
    if (t->field_index)
        return hmap_get(t->field_index, name, len);
    for (size_t i = 0; i < t->nfields; i++)
        if (str_is(t->fields[i].name, name, len))
            return &t->fields[i];
    return NULL;
}

const gql_field_def_t *gql_schema_meta_field(const gql_schema_t *s, const gql_type_t *parent,
                                             const char *name, size_t len)
{
    const schema_index_t *x = s ? s->index : NULL;
    if (!x || !name || !gql_type_is_composite(parent))
        return NULL;
    if (str_is("__typename", name, len))
        return &x->typename_field;
    if (parent != s->query)
        return NULL;
    if (str_is("__schema", name, len))
        return &x->schema_field;
    if (str_is("__type", name, len))
        return &x->type_field;
    return NULL;
}

const gql_input_value_t *gql_field_arg(const gql_field_def_t *f, const char *name, size_t len)
{
    for (size_t i = 0; f && name && i < f->nargs; i++)
        if (str_is(f->args[i].name, name, len))
            return &f->args[i];
    return NULL;
}

const gql_input_value_t *gql_input_field(const gql_type_t *t, const char *name, size_t len)
{
    if (!t || !name || t->kind != GQL_TYPE_INPUT_OBJECT)
        return NULL;
    if (t->field_index)
        return hmap_get(t->field_index, name, len);
    for (size_t i = 0; i < t->ninput_fields; i++)
        if (str_is(t->input_fields[i].name, name, len))
            return &t->input_fields[i];
    return NULL;
}

gql_type_t *gql_schema_type_from_ast(const gql_schema_t *s, const gql_node_t *type, arena_t *arena)
{
    if (!type || !arena)
        return NULL;
    if (type->kind == GQL_KIND_NAMED_TYPE) {
        const gql_name_t *n = &((const gql_named_type_t *)type)->name;
        return gql_schema_type(s, n->value, n->len);
    }
    if (type->kind != GQL_KIND_LIST_TYPE && type->kind != GQL_KIND_NON_NULL_TYPE)
        return NULL;
    gql_type_t *inner =
        gql_schema_type_from_ast(s, ((const gql_wrapping_type_t *)type)->type, arena);
    if (!inner)
        return NULL;
    bool list = type->kind == GQL_KIND_LIST_TYPE;
    gql_type_t *w = list ? inner->list_of : inner->non_null_of;
    if (w)
        return w;
    /* The schema is shared and read-only: a new wrapper goes to the caller's arena. */
    if (!(w = arena_calloc(arena, 1, sizeof *w)))
        return NULL;
    w->kind = list ? GQL_TYPE_LIST : GQL_TYPE_NON_NULL;
    w->of_type = inner;
    return w;
}
