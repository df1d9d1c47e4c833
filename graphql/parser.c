/* parser.c - recursive-descent GraphQL parser, one function per grammar production, following
 * graphql-js's parser so that messages and locations agree with it; see parser.h.
 *
 * Every parse function returns the node (NULL after an error, err already filled) or 0 / a
 * negative code. Lists are collected on one scratch stack shared by all nesting levels (an
 * inner list is complete before the outer one continues) and then copied into the arena at
 * their exact size, so the AST has arrays without a realloc per item. */
#include "parser.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    gql_lexer_t lx;
    gql_token_t tok;   /* the current token */
    gql_token_t ahead; /* the one after it, when has_ahead */
    bool has_ahead;
    uint32_t prev_end; /* end of the last consumed token: where a node being built ends */
    size_t tokens;
    size_t max_tokens;
    unsigned depth;
    unsigned max_depth;
    bool allow_type_system;
    arena_t *arena;
    gql_error_t *err;
    gql_node_t **stack; /* items of the lists being built, innermost last */
    size_t top;
    size_t cap;
    gql_node_t *inline_stack[64]; /* enough for most documents: no malloc at all */
} parser_t;

/* Item parsers share one signature so that the list helpers can take any of them; flag is
 * "constant" for values and directives, unused elsewhere. */
typedef gql_node_t *(*item_fn)(parser_t *p, bool flag);

/* ---- errors ---- */

static int fail_at(parser_t *p, const gql_token_t *t, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(parser_t *p, const gql_token_t *t, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *msg = arena_vprintf(p->arena, fmt, ap);
    va_end(ap);
    if (!msg)
        return gql_error_set(p->err, p->arena, GQL_ENOMEM, 0, 0, t->start, "Out of memory.");
    return gql_error_set(p->err, p->arena, code, t->line, t->column, t->start, "%s", msg);
}

static void *oom(parser_t *p)
{
    gql_error_set(p->err, p->arena, GQL_ENOMEM, 0, 0, p->tok.start, "Out of memory.");
    return NULL;
}

static bool has_text(gql_token_kind_t kind)
{
    return kind >= GQL_TOKEN_NAME;
}

/* graphql-js's getTokenDesc: the kind, and the value in quotes when the token has one. */
#define TOKEN_DESC_FMT "%s%s%.*s%s"
#define TOKEN_DESC_ARGS(t)                                                                         \
    gql_token_kind_desc((t)->kind), has_text((t)->kind) ? " \"" : "",                              \
        has_text((t)->kind) ? (int)(t)->len : 0, has_text((t)->kind) ? (t)->value : "",            \
        has_text((t)->kind) ? "\"" : ""

static void *unexpected(parser_t *p, const gql_token_t *t)
{
    fail_at(p, t, GQL_ESYNTAX, "Syntax Error: Unexpected " TOKEN_DESC_FMT ".", TOKEN_DESC_ARGS(t));
    return NULL;
}

static int expected(parser_t *p, const char *what)
{
    return fail_at(p, &p->tok, GQL_ESYNTAX, "Syntax Error: Expected %s, found " TOKEN_DESC_FMT ".",
                   what, TOKEN_DESC_ARGS(&p->tok));
}

/* ---- tokens ---- */

static int count_token(parser_t *p)
{
    if (p->tok.kind == GQL_TOKEN_EOF || ++p->tokens <= p->max_tokens)
        return 0;
    return fail_at(p, &p->tok, GQL_ELIMIT,
                   "Syntax Error: Document contains more than %zu tokens. Parsing aborted.",
                   p->max_tokens);
}

static int advance(parser_t *p)
{
    p->prev_end = p->tok.end;
    if (p->tok.kind == GQL_TOKEN_EOF)
        return 0;
    if (p->has_ahead) {
        p->tok = p->ahead;
        p->has_ahead = false;
    } else if (gql_lexer_next(&p->lx, &p->tok, p->err) < 0) {
        return p->err->code;
    }
    return count_token(p);
}

/* The token after the current one, or NULL after a lexical error. */
static const gql_token_t *lookahead(parser_t *p)
{
    if (p->tok.kind == GQL_TOKEN_EOF)
        return &p->tok;
    if (!p->has_ahead) {
        if (gql_lexer_next(&p->lx, &p->ahead, p->err) < 0)
            return NULL;
        p->has_ahead = true;
    }
    return &p->ahead;
}

static bool peek(const parser_t *p, gql_token_kind_t kind)
{
    return p->tok.kind == kind;
}

static bool text_is(const gql_token_t *t, const char *s)
{
    size_t n = strlen(s);
    return has_text(t->kind) && t->len == n && memcmp(t->value, s, n) == 0;
}

static bool is_keyword(const gql_token_t *t, const char *kw)
{
    return t->kind == GQL_TOKEN_NAME && text_is(t, kw);
}

static int expect(parser_t *p, gql_token_kind_t kind)
{
    if (!peek(p, kind))
        return expected(p, gql_token_kind_desc(kind));
    return advance(p);
}

/* 1 when the current token was of that kind and is consumed, 0 when not, or an error. */
static int optional(parser_t *p, gql_token_kind_t kind)
{
    if (!peek(p, kind))
        return 0;
    int r = advance(p);
    return r < 0 ? r : 1;
}

static int expect_keyword(parser_t *p, const char *kw)
{
    if (is_keyword(&p->tok, kw))
        return advance(p);
    return fail_at(p, &p->tok, GQL_ESYNTAX,
                   "Syntax Error: Expected \"%s\", found " TOKEN_DESC_FMT ".", kw,
                   TOKEN_DESC_ARGS(&p->tok));
}

static int optional_keyword(parser_t *p, const char *kw)
{
    if (!is_keyword(&p->tok, kw))
        return 0;
    int r = advance(p);
    return r < 0 ? r : 1;
}

/* One more level of nesting, refused past max_depth; the caller's token opens it. */
static int deeper(parser_t *p)
{
    if (++p->depth <= p->max_depth)
        return 0;
    return fail_at(p, &p->tok, GQL_ELIMIT,
                   "Syntax Error: Document is nested more than %u levels deep. Parsing aborted.",
                   p->max_depth);
}

/* ---- nodes and lists ---- */

static gql_loc_t loc_here(const parser_t *p)
{
    return (gql_loc_t){p->tok.line, p->tok.column, p->tok.start, p->tok.end};
}

static void *node_new(parser_t *p, gql_kind_t kind, size_t size, const gql_loc_t *start)
{
    gql_node_t *n = arena_calloc(p->arena, 1, size);
    if (!n)
        return oom(p);
    n->kind = kind;
    n->loc = *start;
    return n;
}

/* Closes a node: it ends where the last consumed token ends. */
static void *done(parser_t *p, void *node)
{
    ((gql_node_t *)node)->loc.end = p->prev_end;
    return node;
}

static int push(parser_t *p, gql_node_t *n)
{
    if (p->top == p->cap) {
        size_t cap = p->cap * 2;
        gql_node_t **s = p->stack == p->inline_stack ? malloc(cap * sizeof *s)
                                                     : realloc(p->stack, cap * sizeof *s);
        if (!s)
            return oom(p), GQL_ENOMEM;
        if (p->stack == p->inline_stack)
            memcpy(s, p->inline_stack, sizeof p->inline_stack);
        p->stack = s;
        p->cap = cap;
    }
    p->stack[p->top++] = n;
    return 0;
}

/* Moves the items pushed since mark into out. */
static int collect(parser_t *p, size_t mark, gql_node_list_t *out)
{
    size_t n = p->top - mark;
    out->count = (uint32_t)n;
    out->items = NULL;
    if (n) {
        out->items = arena_alloc(p->arena, n * sizeof *out->items);
        if (!out->items)
            return oom(p), GQL_ENOMEM;
        memcpy(out->items, p->stack + mark, n * sizeof *out->items);
    }
    p->top = mark;
    return 0;
}

/* Items up to the close token, which is consumed: at least one (graphql-js's many after the
 * opening token) or any number (its any). */
static int items_until(parser_t *p, item_fn fn, bool flag, gql_token_kind_t close, bool none_ok,
                       gql_node_list_t *out)
{
    size_t mark = p->top;
    for (bool first = true;; first = false) {
        if (none_ok || !first) {
            int r = optional(p, close);
            if (r < 0)
                return r;
            if (r)
                break;
        }
        gql_node_t *n = fn(p, flag);
        if (!n)
            return p->err->code;
        if (push(p, n) < 0)
            return GQL_ENOMEM;
    }
    return collect(p, mark, out);
}

/* open item+ close */
static int many(parser_t *p, gql_token_kind_t open, item_fn fn, bool flag, gql_token_kind_t close,
                gql_node_list_t *out)
{
    if (expect(p, open) < 0)
        return p->err->code;
    return items_until(p, fn, flag, close, false, out);
}

/* (open item+ close)? */
static int optional_many(parser_t *p, gql_token_kind_t open, item_fn fn, bool flag,
                         gql_token_kind_t close, gql_node_list_t *out)
{
    int r = optional(p, open);
    if (r <= 0)
        return r;
    return items_until(p, fn, flag, close, false, out);
}

/* delim? item (delim item)* */
static int delimited_many(parser_t *p, gql_token_kind_t delim, item_fn fn, gql_node_list_t *out)
{
    size_t mark = p->top;
    int r = optional(p, delim);
    do {
        if (r < 0)
            return r;
        gql_node_t *n = fn(p, false);
        if (!n)
            return p->err->code;
        if (push(p, n) < 0)
            return GQL_ENOMEM;
        r = optional(p, delim);
    } while (r != 0);
    return collect(p, mark, out);
}

/* ---- names, values, types ---- */

static int parse_name(parser_t *p, gql_name_t *out)
{
    if (!peek(p, GQL_TOKEN_NAME))
        return expected(p, "Name");
    out->base.kind = GQL_KIND_NAME;
    out->base.loc = loc_here(p);
    out->value = arena_strndup(p->arena, p->tok.value, p->tok.len);
    out->len = p->tok.len;
    if (!out->value)
        return oom(p), GQL_ENOMEM;
    return advance(p);
}

static gql_node_t *parse_named_type(parser_t *p, bool unused)
{
    (void)unused;
    gql_loc_t start = loc_here(p);
    gql_named_type_t *t = node_new(p, GQL_KIND_NAMED_TYPE, sizeof *t, &start);
    if (!t || parse_name(p, &t->name) < 0)
        return NULL;
    return done(p, t);
}

static gql_node_t *parse_variable(parser_t *p)
{
    gql_loc_t start = loc_here(p);
    gql_variable_t *v = node_new(p, GQL_KIND_VARIABLE, sizeof *v, &start);
    if (!v || expect(p, GQL_TOKEN_DOLLAR) < 0 || parse_name(p, &v->name) < 0)
        return NULL;
    return done(p, v);
}

/* Int, Float, String and Enum values: the token's text. String values are decoded already
 * and in the arena; names and numbers point into the source and are copied. */
static gql_node_t *parse_text_value(parser_t *p, gql_kind_t kind)
{
    gql_loc_t start = loc_here(p);
    gql_text_value_t *v = node_new(p, kind, sizeof *v, &start);
    if (!v)
        return NULL;
    bool is_string = peek(p, GQL_TOKEN_STRING) || peek(p, GQL_TOKEN_BLOCK_STRING);
    v->block = peek(p, GQL_TOKEN_BLOCK_STRING);
    v->len = p->tok.len;
    v->value = is_string ? p->tok.value : arena_strndup(p->arena, p->tok.value, p->tok.len);
    if (!v->value)
        return oom(p);
    if (advance(p) < 0)
        return NULL;
    return done(p, v);
}

static gql_node_t *parse_value(parser_t *p, bool is_const);

_Static_assert(offsetof(gql_list_value_t, values) == offsetof(gql_object_value_t, fields),
               "list and object values share their layout");

/* "[ values ]" and "{ fields }": a node holding one list, one level deeper. The two
 * node structs have the same layout, so one builder serves both. */
static gql_node_t *parse_compound_value(parser_t *p, gql_kind_t kind, bool is_const,
                                        gql_node_t *(*item)(parser_t *, bool),
                                        gql_token_kind_t close)
{
    gql_loc_t start = loc_here(p);
    gql_list_value_t *v = node_new(p, kind, sizeof *v, &start);
    if (!v || deeper(p) < 0 || advance(p) < 0 ||
        items_until(p, item, is_const, close, true, &v->values) < 0)
        return NULL;
    p->depth--;
    return done(p, v);
}

static gql_node_t *parse_list_value(parser_t *p, bool is_const)
{
    return parse_compound_value(p, GQL_KIND_LIST_VALUE, is_const, parse_value,
                                GQL_TOKEN_BRACKET_R);
}

/* "name: value", the shape of an argument and of an object field. */
static gql_node_t *parse_pair(parser_t *p, gql_kind_t kind, bool is_const)
{
    gql_loc_t start = loc_here(p);
    gql_argument_t *a = node_new(p, kind, sizeof *a, &start);
    if (!a || parse_name(p, &a->name) < 0 || expect(p, GQL_TOKEN_COLON) < 0 ||
        !(a->value = parse_value(p, is_const)))
        return NULL;
    return done(p, a);
}

static gql_node_t *parse_object_field(parser_t *p, bool is_const)
{
    return parse_pair(p, GQL_KIND_OBJECT_FIELD, is_const);
}

static gql_node_t *parse_object_value(parser_t *p, bool is_const)
{
    return parse_compound_value(p, GQL_KIND_OBJECT_VALUE, is_const, parse_object_field,
                                GQL_TOKEN_BRACE_R);
}

static gql_node_t *parse_name_value(parser_t *p)
{
    gql_loc_t start = loc_here(p);
    bool is_true = is_keyword(&p->tok, "true");
    if (is_true || is_keyword(&p->tok, "false")) {
        gql_boolean_value_t *b = node_new(p, GQL_KIND_BOOLEAN_VALUE, sizeof *b, &start);
        if (!b || advance(p) < 0)
            return NULL;
        b->value = is_true;
        return done(p, b);
    }
    if (is_keyword(&p->tok, "null")) {
        gql_null_value_t *n = node_new(p, GQL_KIND_NULL_VALUE, sizeof *n, &start);
        if (!n || advance(p) < 0)
            return NULL;
        return done(p, n);
    }
    return parse_text_value(p, GQL_KIND_ENUM_VALUE);
}

/* A variable where only constants may stand: graphql-js names it when it can. */
static gql_node_t *refuse_variable(parser_t *p)
{
    gql_token_t dollar = p->tok;
    if (advance(p) < 0)
        return NULL;
    if (!peek(p, GQL_TOKEN_NAME))
        return unexpected(p, &dollar);
    fail_at(p, &dollar, GQL_ESYNTAX,
            "Syntax Error: Unexpected variable \"$%.*s\" in constant value.", (int)p->tok.len,
            p->tok.value);
    return NULL;
}

static gql_node_t *parse_value(parser_t *p, bool is_const)
{
    switch (p->tok.kind) {
    case GQL_TOKEN_BRACKET_L:
        return parse_list_value(p, is_const);
    case GQL_TOKEN_BRACE_L:
        return parse_object_value(p, is_const);
    case GQL_TOKEN_INT:
        return parse_text_value(p, GQL_KIND_INT_VALUE);
    case GQL_TOKEN_FLOAT:
        return parse_text_value(p, GQL_KIND_FLOAT_VALUE);
    case GQL_TOKEN_STRING:
    case GQL_TOKEN_BLOCK_STRING:
        return parse_text_value(p, GQL_KIND_STRING_VALUE);
    case GQL_TOKEN_NAME:
        return parse_name_value(p);
    case GQL_TOKEN_DOLLAR:
        return is_const ? refuse_variable(p) : parse_variable(p);
    default:
        return unexpected(p, &p->tok);
    }
}

static gql_node_t *parse_type_ref(parser_t *p, bool unused)
{
    (void)unused;
    gql_loc_t start = loc_here(p);
    gql_node_t *type;
    if (peek(p, GQL_TOKEN_BRACKET_L)) {
        gql_list_type_t *l = node_new(p, GQL_KIND_LIST_TYPE, sizeof *l, &start);
        if (!l || deeper(p) < 0 || advance(p) < 0 || !(l->type = parse_type_ref(p, false)) ||
            expect(p, GQL_TOKEN_BRACKET_R) < 0)
            return NULL;
        p->depth--;
        type = done(p, l);
    } else if (!(type = parse_named_type(p, false))) {
        return NULL;
    }
    int r = optional(p, GQL_TOKEN_BANG);
    if (r <= 0)
        return r < 0 ? NULL : type;
    gql_non_null_type_t *nn = node_new(p, GQL_KIND_NON_NULL_TYPE, sizeof *nn, &start);
    if (!nn)
        return NULL;
    nn->type = type;
    return done(p, nn);
}

/* ---- directives and arguments ---- */

static gql_node_t *parse_argument(parser_t *p, bool is_const)
{
    return parse_pair(p, GQL_KIND_ARGUMENT, is_const);
}

static int parse_arguments(parser_t *p, bool is_const, gql_node_list_t *out)
{
    return optional_many(p, GQL_TOKEN_PAREN_L, parse_argument, is_const, GQL_TOKEN_PAREN_R, out);
}

static gql_node_t *parse_directive(parser_t *p, bool is_const)
{
    gql_loc_t start = loc_here(p);
    gql_directive_t *d = node_new(p, GQL_KIND_DIRECTIVE, sizeof *d, &start);
    if (!d || expect(p, GQL_TOKEN_AT) < 0 || parse_name(p, &d->name) < 0 ||
        parse_arguments(p, is_const, &d->arguments) < 0)
        return NULL;
    return done(p, d);
}

static int parse_directives(parser_t *p, bool is_const, gql_node_list_t *out)
{
    size_t mark = p->top;
    while (peek(p, GQL_TOKEN_AT)) {
        gql_node_t *d = parse_directive(p, is_const);
        if (!d)
            return p->err->code;
        if (push(p, d) < 0)
            return GQL_ENOMEM;
    }
    return collect(p, mark, out);
}

/* ---- executable definitions ---- */

static gql_selection_set_t *parse_selection_set(parser_t *p);

static int parse_operation_type(parser_t *p, gql_operation_type_t *op)
{
    static const char *const names[] = {"query", "mutation", "subscription"};
    if (!peek(p, GQL_TOKEN_NAME))
        return expected(p, "Name");
    for (int i = 0; i < 3; i++) {
        if (is_keyword(&p->tok, names[i])) {
            *op = (gql_operation_type_t)i;
            return advance(p);
        }
    }
    unexpected(p, &p->tok);
    return p->err->code;
}

static gql_node_t *parse_variable_definition(parser_t *p, bool unused)
{
    (void)unused;
    gql_loc_t start = loc_here(p);
    gql_variable_definition_t *d = node_new(p, GQL_KIND_VARIABLE_DEFINITION, sizeof *d, &start);
    if (!d || !(d->variable = (gql_variable_t *)parse_variable(p)) ||
        expect(p, GQL_TOKEN_COLON) < 0 || !(d->type = parse_type_ref(p, false)))
        return NULL;
    int r = optional(p, GQL_TOKEN_EQUALS);
    if (r < 0 || (r && !(d->default_value = parse_value(p, true))) ||
        parse_directives(p, true, &d->directives) < 0)
        return NULL;
    return done(p, d);
}

static gql_node_t *parse_operation_definition(parser_t *p)
{
    gql_loc_t start = loc_here(p);
    gql_operation_definition_t *o = node_new(p, GQL_KIND_OPERATION_DEFINITION, sizeof *o, &start);
    if (!o)
        return NULL;
    if (!peek(p, GQL_TOKEN_BRACE_L)) {
        if (parse_operation_type(p, &o->operation) < 0 ||
            (peek(p, GQL_TOKEN_NAME) && parse_name(p, &o->name) < 0) ||
            optional_many(p, GQL_TOKEN_PAREN_L, parse_variable_definition, false, GQL_TOKEN_PAREN_R,
                          &o->variable_definitions) < 0 ||
            parse_directives(p, false, &o->directives) < 0)
            return NULL;
    }
    if (!(o->selection_set = parse_selection_set(p)))
        return NULL;
    return done(p, o);
}

static gql_node_t *parse_field(parser_t *p)
{
    gql_loc_t start = loc_here(p);
    gql_field_t *f = node_new(p, GQL_KIND_FIELD, sizeof *f, &start);
    if (!f || parse_name(p, &f->name) < 0)
        return NULL;
    int r = optional(p, GQL_TOKEN_COLON);
    if (r < 0)
        return NULL;
    if (r) {
        f->alias = f->name;
        if (parse_name(p, &f->name) < 0)
            return NULL;
    }
    if (parse_arguments(p, false, &f->arguments) < 0 ||
        parse_directives(p, false, &f->directives) < 0)
        return NULL;
    if (peek(p, GQL_TOKEN_BRACE_L) && !(f->selection_set = parse_selection_set(p)))
        return NULL;
    return done(p, f);
}

static int parse_fragment_name(parser_t *p, gql_name_t *out)
{
    if (text_is(&p->tok, "on")) {
        unexpected(p, &p->tok);
        return p->err->code;
    }
    return parse_name(p, out);
}

static gql_node_t *parse_fragment(parser_t *p)
{
    gql_loc_t start = loc_here(p);
    if (expect(p, GQL_TOKEN_SPREAD) < 0)
        return NULL;
    int on = optional_keyword(p, "on");
    if (on < 0)
        return NULL;
    if (!on && peek(p, GQL_TOKEN_NAME)) {
        gql_fragment_spread_t *s = node_new(p, GQL_KIND_FRAGMENT_SPREAD, sizeof *s, &start);
        if (!s || parse_fragment_name(p, &s->name) < 0 ||
            parse_directives(p, false, &s->directives) < 0)
            return NULL;
        return done(p, s);
    }
    gql_inline_fragment_t *f = node_new(p, GQL_KIND_INLINE_FRAGMENT, sizeof *f, &start);
    if (!f || (on && !(f->type_condition = (gql_named_type_t *)parse_named_type(p, false))) ||
        parse_directives(p, false, &f->directives) < 0 ||
        !(f->selection_set = parse_selection_set(p)))
        return NULL;
    return done(p, f);
}

static gql_node_t *parse_selection(parser_t *p, bool unused)
{
    (void)unused;
    return peek(p, GQL_TOKEN_SPREAD) ? parse_fragment(p) : parse_field(p);
}

static gql_selection_set_t *parse_selection_set(parser_t *p)
{
    gql_loc_t start = loc_here(p);
    if (!peek(p, GQL_TOKEN_BRACE_L)) {
        expected(p, "\"{\"");
        return NULL;
    }
    gql_selection_set_t *s = node_new(p, GQL_KIND_SELECTION_SET, sizeof *s, &start);
    if (!s || deeper(p) < 0 ||
        many(p, GQL_TOKEN_BRACE_L, parse_selection, false, GQL_TOKEN_BRACE_R, &s->selections) < 0)
        return NULL;
    p->depth--;
    return done(p, s);
}

static gql_node_t *parse_fragment_definition(parser_t *p)
{
    gql_loc_t start = loc_here(p);
    gql_fragment_definition_t *f = node_new(p, GQL_KIND_FRAGMENT_DEFINITION, sizeof *f, &start);
    if (!f || expect_keyword(p, "fragment") < 0 || parse_fragment_name(p, &f->name) < 0 ||
        expect_keyword(p, "on") < 0 ||
        !(f->type_condition = (gql_named_type_t *)parse_named_type(p, false)) ||
        parse_directives(p, false, &f->directives) < 0 ||
        !(f->selection_set = parse_selection_set(p)))
        return NULL;
    return done(p, f);
}

/* ---- type system ---- */

static int parse_description(parser_t *p, gql_string_value_t **out)
{
    *out = NULL;
    if (!peek(p, GQL_TOKEN_STRING) && !peek(p, GQL_TOKEN_BLOCK_STRING))
        return 0;
    *out = (gql_string_value_t *)parse_text_value(p, GQL_KIND_STRING_VALUE);
    return *out ? 0 : p->err->code;
}

/* The description of a definition, or the "extend" keyword of an extension. */
static int parse_lead(parser_t *p, bool ext, gql_string_value_t **description)
{
    return ext ? expect_keyword(p, "extend") : parse_description(p, description);
}

static gql_node_t *parse_operation_type_definition(parser_t *p, bool unused)
{
    (void)unused;
    gql_loc_t start = loc_here(p);
    gql_operation_type_definition_t *d =
        node_new(p, GQL_KIND_OPERATION_TYPE_DEFINITION, sizeof *d, &start);
    if (!d || parse_operation_type(p, &d->operation) < 0 || expect(p, GQL_TOKEN_COLON) < 0 ||
        !(d->type = (gql_named_type_t *)parse_named_type(p, false)))
        return NULL;
    return done(p, d);
}

static gql_node_t *parse_schema_definition(parser_t *p, bool ext)
{
    gql_loc_t start = loc_here(p);
    gql_kind_t kind = ext ? GQL_KIND_SCHEMA_EXTENSION : GQL_KIND_SCHEMA_DEFINITION;
    gql_schema_definition_t *s = node_new(p, kind, sizeof *s, &start);
    if (!s || parse_lead(p, ext, &s->description) < 0 || expect_keyword(p, "schema") < 0 ||
        parse_directives(p, true, &s->directives) < 0)
        return NULL;
    int r = ext ? optional_many(p, GQL_TOKEN_BRACE_L, parse_operation_type_definition, false,
                                GQL_TOKEN_BRACE_R, &s->operation_types)
                : many(p, GQL_TOKEN_BRACE_L, parse_operation_type_definition, false,
                       GQL_TOKEN_BRACE_R, &s->operation_types);
    if (r < 0)
        return NULL;
    if (ext && !s->directives.count && !s->operation_types.count)
        return unexpected(p, &p->tok);
    return done(p, s);
}

static gql_node_t *parse_input_value_definition(parser_t *p, bool unused)
{
    (void)unused;
    gql_loc_t start = loc_here(p);
    gql_input_value_definition_t *d =
        node_new(p, GQL_KIND_INPUT_VALUE_DEFINITION, sizeof *d, &start);
    if (!d || parse_description(p, &d->description) < 0 || parse_name(p, &d->name) < 0 ||
        expect(p, GQL_TOKEN_COLON) < 0 || !(d->type = parse_type_ref(p, false)))
        return NULL;
    int r = optional(p, GQL_TOKEN_EQUALS);
    if (r < 0 || (r && !(d->default_value = parse_value(p, true))) ||
        parse_directives(p, true, &d->directives) < 0)
        return NULL;
    return done(p, d);
}

static int parse_argument_definitions(parser_t *p, gql_node_list_t *out)
{
    return optional_many(p, GQL_TOKEN_PAREN_L, parse_input_value_definition, false,
                         GQL_TOKEN_PAREN_R, out);
}

static gql_node_t *parse_field_definition(parser_t *p, bool unused)
{
    (void)unused;
    gql_loc_t start = loc_here(p);
    gql_field_definition_t *f = node_new(p, GQL_KIND_FIELD_DEFINITION, sizeof *f, &start);
    if (!f || parse_description(p, &f->description) < 0 || parse_name(p, &f->name) < 0 ||
        parse_argument_definitions(p, &f->arguments) < 0 || expect(p, GQL_TOKEN_COLON) < 0 ||
        !(f->type = parse_type_ref(p, false)) || parse_directives(p, true, &f->directives) < 0)
        return NULL;
    return done(p, f);
}

static gql_node_t *parse_enum_value_definition(parser_t *p, bool unused)
{
    (void)unused;
    gql_loc_t start = loc_here(p);
    gql_enum_value_definition_t *d = node_new(p, GQL_KIND_ENUM_VALUE_DEFINITION, sizeof *d, &start);
    if (!d || parse_description(p, &d->description) < 0)
        return NULL;
    if (text_is(&p->tok, "true") || text_is(&p->tok, "false") || text_is(&p->tok, "null")) {
        fail_at(p, &p->tok, GQL_ESYNTAX,
                "Syntax Error: " TOKEN_DESC_FMT
                " is reserved and cannot be used for an enum value.",
                TOKEN_DESC_ARGS(&p->tok));
        return NULL;
    }
    if (parse_name(p, &d->name) < 0 || parse_directives(p, true, &d->directives) < 0)
        return NULL;
    return done(p, d);
}

/* The part after the directives, which depends on the kind of type. */
static int parse_type_body(parser_t *p, gql_type_definition_t *t, gql_kind_t def_kind)
{
    switch (def_kind) {
    case GQL_KIND_OBJECT_TYPE_DEFINITION:
    case GQL_KIND_INTERFACE_TYPE_DEFINITION:
        return optional_many(p, GQL_TOKEN_BRACE_L, parse_field_definition, false, GQL_TOKEN_BRACE_R,
                             &t->fields);
    case GQL_KIND_UNION_TYPE_DEFINITION: {
        int r = optional(p, GQL_TOKEN_EQUALS);
        return r <= 0 ? r : delimited_many(p, GQL_TOKEN_PIPE, parse_named_type, &t->types);
    }
    case GQL_KIND_ENUM_TYPE_DEFINITION:
        return optional_many(p, GQL_TOKEN_BRACE_L, parse_enum_value_definition, false,
                             GQL_TOKEN_BRACE_R, &t->values);
    case GQL_KIND_INPUT_OBJECT_TYPE_DEFINITION:
        return optional_many(p, GQL_TOKEN_BRACE_L, parse_input_value_definition, false,
                             GQL_TOKEN_BRACE_R, &t->fields);
    default:
        return 0;
    }
}

static const struct {
    const char *keyword;
    gql_kind_t definition;
    gql_kind_t extension;
} type_kinds[] = {
    {"scalar", GQL_KIND_SCALAR_TYPE_DEFINITION, GQL_KIND_SCALAR_TYPE_EXTENSION},
    {"type", GQL_KIND_OBJECT_TYPE_DEFINITION, GQL_KIND_OBJECT_TYPE_EXTENSION},
    {"interface", GQL_KIND_INTERFACE_TYPE_DEFINITION, GQL_KIND_INTERFACE_TYPE_EXTENSION},
    {"union", GQL_KIND_UNION_TYPE_DEFINITION, GQL_KIND_UNION_TYPE_EXTENSION},
    {"enum", GQL_KIND_ENUM_TYPE_DEFINITION, GQL_KIND_ENUM_TYPE_EXTENSION},
    {"input", GQL_KIND_INPUT_OBJECT_TYPE_DEFINITION, GQL_KIND_INPUT_OBJECT_TYPE_EXTENSION},
};
#define TYPE_KIND_COUNT (sizeof type_kinds / sizeof type_kinds[0])

/* Index in type_kinds of the keyword token t, or -1. */
static int type_kind_of(const gql_token_t *t)
{
    for (size_t i = 0; i < TYPE_KIND_COUNT; i++)
        if (is_keyword(t, type_kinds[i].keyword))
            return (int)i;
    return -1;
}

/* Any of the six type definitions (ext false) or their extensions: they differ only in the
 * keyword and the body, and an extension must extend something. */
static gql_node_t *parse_type_definition(parser_t *p, int which, bool ext)
{
    gql_loc_t start = loc_here(p);
    gql_kind_t def_kind = type_kinds[which].definition;
    gql_type_definition_t *t =
        node_new(p, ext ? type_kinds[which].extension : def_kind, sizeof *t, &start);
    if (!t || parse_lead(p, ext, &t->description) < 0 ||
        expect_keyword(p, type_kinds[which].keyword) < 0 || parse_name(p, &t->name) < 0)
        return NULL;
    if (def_kind == GQL_KIND_OBJECT_TYPE_DEFINITION ||
        def_kind == GQL_KIND_INTERFACE_TYPE_DEFINITION) {
        int r = optional_keyword(p, "implements");
        if (r < 0 || (r && delimited_many(p, GQL_TOKEN_AMP, parse_named_type, &t->interfaces) < 0))
            return NULL;
    }
    if (parse_directives(p, true, &t->directives) < 0 || parse_type_body(p, t, def_kind) < 0)
        return NULL;
    if (ext && !t->interfaces.count && !t->directives.count && !t->fields.count &&
        !t->types.count && !t->values.count)
        return unexpected(p, &p->tok);
    return done(p, t);
}

static bool is_directive_location(const gql_token_t *t)
{
    for (size_t i = 0; i < GQL_DIRECTIVE_LOCATION_COUNT; i++)
        if (is_keyword(t, gql_directive_location_names[i]))
            return true;
    return false;
}

static gql_node_t *parse_directive_location(parser_t *p, bool unused)
{
    (void)unused;
    gql_token_t t = p->tok;
    gql_name_t *name = arena_calloc(p->arena, 1, sizeof *name);
    if (!name)
        return oom(p);
    if (parse_name(p, name) < 0)
        return NULL;
    return is_directive_location(&t) ? &name->base : unexpected(p, &t);
}

static gql_node_t *parse_directive_definition(parser_t *p)
{
    gql_loc_t start = loc_here(p);
    gql_directive_definition_t *d = node_new(p, GQL_KIND_DIRECTIVE_DEFINITION, sizeof *d, &start);
    if (!d || parse_description(p, &d->description) < 0 || expect_keyword(p, "directive") < 0 ||
        expect(p, GQL_TOKEN_AT) < 0 || parse_name(p, &d->name) < 0 ||
        parse_argument_definitions(p, &d->arguments) < 0)
        return NULL;
    int r = optional_keyword(p, "repeatable");
    if (r < 0 || expect_keyword(p, "on") < 0 ||
        delimited_many(p, GQL_TOKEN_PIPE, parse_directive_location, &d->locations) < 0)
        return NULL;
    d->repeatable = r;
    return done(p, d);
}

static gql_node_t *parse_extension(parser_t *p)
{
    const gql_token_t *kw = lookahead(p);
    if (!kw)
        return NULL;
    if (is_keyword(kw, "schema"))
        return parse_schema_definition(p, true);
    int which = type_kind_of(kw);
    if (which >= 0)
        return parse_type_definition(p, which, true);
    return unexpected(p, kw);
}

/* Type-system definitions parse fully before they are refused, so that a broken one gets its
 * syntax error first, as graphql-js (which refuses them in validation) would report. */
static gql_node_t *executable_only(parser_t *p, gql_node_t *def)
{
    if (!def || p->allow_type_system)
        return def;
    const gql_name_t *name = NULL;
    if (def->kind == GQL_KIND_DIRECTIVE_DEFINITION)
        name = &((gql_directive_definition_t *)def)->name;
    else if (def->kind != GQL_KIND_SCHEMA_DEFINITION && def->kind != GQL_KIND_SCHEMA_EXTENSION)
        name = &((gql_type_definition_t *)def)->name;
    gql_error_set(p->err, p->arena, GQL_ENOTEXECUTABLE, def->loc.line, def->loc.column,
                  def->loc.start, "The %s%.*s%s definition is not executable.",
                  name ? "\"" : "schema", name ? (int)name->len : 0, name ? name->value : "",
                  name ? "\"" : "");
    return NULL;
}

static gql_node_t *parse_definition(parser_t *p, bool unused)
{
    (void)unused;
    if (peek(p, GQL_TOKEN_BRACE_L))
        return parse_operation_definition(p);
    bool has_description = peek(p, GQL_TOKEN_STRING) || peek(p, GQL_TOKEN_BLOCK_STRING);
    const gql_token_t *kw = has_description ? lookahead(p) : &p->tok;
    if (!kw)
        return NULL;
    if (kw->kind == GQL_TOKEN_NAME) {
        int which = type_kind_of(kw);
        if (which >= 0)
            return executable_only(p, parse_type_definition(p, which, false));
        if (is_keyword(kw, "schema"))
            return executable_only(p, parse_schema_definition(p, false));
        if (is_keyword(kw, "directive"))
            return executable_only(p, parse_directive_definition(p));
        if (has_description) {
            fail_at(p, &p->tok, GQL_ESYNTAX,
                    "Syntax Error: Unexpected description, descriptions are supported only on "
                    "type definitions.");
            return NULL;
        }
        if (is_keyword(kw, "query") || is_keyword(kw, "mutation") || is_keyword(kw, "subscription"))
            return parse_operation_definition(p);
        if (is_keyword(kw, "fragment"))
            return parse_fragment_definition(p);
        if (is_keyword(kw, "extend"))
            return executable_only(p, parse_extension(p));
    }
    return unexpected(p, kw);
}

/* ---- entry points ---- */

static size_t or_default(size_t v, size_t def)
{
    return v ? v : def;
}

/* Applies the options, checks the size and reads the first token. */
static int parser_start(parser_t *p, const char *src, size_t len, const gql_parse_options_t *opt,
                        arena_t *arena, gql_error_t *err)
{
    static const gql_parse_options_t defaults = {0};
    if (!opt)
        opt = &defaults;
    memset(p, 0, offsetof(parser_t, inline_stack));
    p->arena = arena;
    p->err = err;
    p->stack = p->inline_stack;
    p->cap = sizeof p->inline_stack / sizeof p->inline_stack[0];
    p->max_tokens = or_default(opt->max_tokens, GQL_DEFAULT_MAX_TOKENS);
    p->max_depth = (unsigned)or_default(opt->max_depth, GQL_DEFAULT_MAX_DEPTH);
    if (p->max_depth > GQL_MAX_DEPTH_CEILING)
        p->max_depth = GQL_MAX_DEPTH_CEILING;
    p->allow_type_system = opt->allow_type_system;
    *err = (gql_error_t){0};
    size_t max_bytes = or_default(opt->max_source_bytes, GQL_DEFAULT_MAX_SOURCE_BYTES);
    if (len > max_bytes)
        return gql_error_set(err, arena, GQL_ELIMIT, 0, 0, 0,
                             "Syntax Error: Document is larger than %zu bytes. Parsing aborted.",
                             max_bytes);
    if (gql_lexer_init(&p->lx, src, len, arena, err) < 0 ||
        gql_lexer_next(&p->lx, &p->tok, err) < 0)
        return err->code;
    return count_token(p);
}

static void parser_end(parser_t *p)
{
    if (p->stack != p->inline_stack)
        free(p->stack);
}

int gql_parse(const char *src, size_t len, const gql_parse_options_t *opt, arena_t *arena,
              gql_document_t **out, gql_error_t *err)
{
    gql_error_t local;
    parser_t p;
    *out = NULL;
    if (!err)
        err = &local;
    if (parser_start(&p, src, len, opt, arena, err) < 0)
        return err->code;
    gql_loc_t start = {1, 1, 0, 0};
    gql_document_t *doc = node_new(&p, GQL_KIND_DOCUMENT, sizeof *doc, &start);
    if (doc &&
        items_until(&p, parse_definition, false, GQL_TOKEN_EOF, false, &doc->definitions) == 0)
        *out = done(&p, doc);
    parser_end(&p);
    return *out ? 0 : err->code;
}

/* A single value or type followed by the end of the source. */
static int parse_alone(const char *src, size_t len, const gql_parse_options_t *opt, item_fn fn,
                       bool flag, arena_t *arena, gql_node_t **out, gql_error_t *err)
{
    gql_error_t local;
    parser_t p;
    *out = NULL;
    if (!err)
        err = &local;
    if (parser_start(&p, src, len, opt, arena, err) < 0)
        return err->code;
    gql_node_t *n = fn(&p, flag);
    if (n && expect(&p, GQL_TOKEN_EOF) == 0)
        *out = n;
    parser_end(&p);
    return *out ? 0 : err->code;
}

int gql_parse_value(const char *src, size_t len, const gql_parse_options_t *opt, bool is_const,
                    arena_t *arena, gql_node_t **out, gql_error_t *err)
{
    return parse_alone(src, len, opt, parse_value, is_const, arena, out, err);
}

int gql_parse_type(const char *src, size_t len, const gql_parse_options_t *opt, arena_t *arena,
                   gql_node_t **out, gql_error_t *err)
{
    return parse_alone(src, len, opt, parse_type_ref, false, arena, out, err);
}
