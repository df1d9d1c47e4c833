/* values.c - input coercion of variables (JSON) and literals (AST) to cJSON values, with
 * graphql-js 16's rules and messages, and the JavaScript-style number and value printing that
 * its messages and the executor's output need. */
#include "values.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexer.h"
#include "printer.h"

#define INT32_MAX_D 2147483647.0
#define INT32_MIN_D (-2147483648.0)

/* ---- JavaScript numbers ---- */

/* Shortest digits that read back as v (v finite, positive): digits and the exponent n of
 * ECMAScript's Number::toString (v = 0.d1d2... x 10^n). */
static int shortest_digits(double v, char *digits, int *n)
{
    char tmp[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
        if (strtod(tmp, NULL) == v || p == 17)
            break;
    }
    int k = 0;
    const char *c = tmp;
    for (; *c && *c != 'e'; c++)
        if (*c >= '0' && *c <= '9')
            digits[k++] = *c;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    digits[k] = 0;
    *n = atoi(c + 1) + 1;
    return k;
}

int gql_put_number(buf_t *b, double v)
{
    if (isnan(v))
        return buf_puts(b, "NaN");
    if (isinf(v))
        return buf_puts(b, v < 0 ? "-Infinity" : "Infinity");
    if (v == 0)
        return buf_putc(b, '0'); /* -0 too, as JavaScript */
    if (v == trunc(v) && fabs(v) < 9007199254740992.0)
        return buf_put_i64(b, (int64_t)v);
    if (v < 0)
        buf_putc(b, '-');
    char d[24];
    int n, k = shortest_digits(fabs(v), d, &n);
    if (k <= n && n <= 21) {
        buf_append(b, d, (size_t)k);
        for (int i = k; i < n; i++)
            buf_putc(b, '0');
    } else if (0 < n && n <= 21) {
        buf_append(b, d, (size_t)n);
        buf_putc(b, '.');
        buf_append(b, d + n, (size_t)(k - n));
    } else if (-6 < n && n <= 0) {
        buf_puts(b, "0.");
        for (int i = 0; i < -n; i++)
            buf_putc(b, '0');
        buf_append(b, d, (size_t)k);
    } else {
        buf_putc(b, d[0]);
        if (k > 1) {
            buf_putc(b, '.');
            buf_append(b, d + 1, (size_t)(k - 1));
        }
        buf_printf(b, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
    return b->failed ? -1 : 0;
}

static bool js_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool all_digits(const char *s, size_t n, int base)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : 99;
        if (d >= base)
            return false;
    }
    return true;
}

/* StrDecimalLiteral without the sign: digits, a dot, digits, an exponent. */
static bool decimal_literal(const char *s, size_t n)
{
    size_t i = 0, intd = 0, fracd = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, intd++;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            fracd++;
    if (intd + fracd == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t expd = 0;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            expd++;
        if (!expd)
            return false;
    }
    return i == n;
}

int gql_js_number(const char *s, double *out)
{
    size_t n = strlen(s);
    while (n && js_space(s[n - 1]))
        n--;
    while (n && js_space(*s))
        s++, n--;
    if (n == 0) {
        *out = 0;
        return 0;
    }
    if (n > 2 && s[0] == '0' && strchr("xXoObB", s[1])) {
        int base = s[1] == 'x' || s[1] == 'X' ? 16 : s[1] == 'o' || s[1] == 'O' ? 8 : 2;
        if (!all_digits(s + 2, n - 2, base))
            return -1;
        double v = 0;
        for (size_t i = 2; i < n; i++)
            v = v * base + (double)strtol((char[]){s[i], 0}, NULL, 16);
        *out = v;
        return 0;
    }
    size_t i = (s[0] == '+' || s[0] == '-');
    if (n - i == 8 && memcmp(s + i, "Infinity", 8) == 0) {
        *out = s[0] == '-' ? -INFINITY : INFINITY;
        return 0;
    }
    if (!decimal_literal(s + i, n - i))
        return -1;
    char *copy = strndup(s, n);
    if (!copy)
        return -1;
    *out = strtod(copy, NULL);
    free(copy);
    return 0;
}

/* ---- inspect ---- */

static void inspect_rec(buf_t *b, const cJSON *v, int depth)
{
    if (cJSON_IsString(v)) {
        buf_put_json_string(b, v->valuestring, strlen(v->valuestring));
    } else if (cJSON_IsNumber(v)) {
        gql_put_number(b, v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsArray(v)) {
        if (!v->child) {
            buf_puts(b, "[]");
            return;
        }
        if (depth > 2) {
            buf_puts(b, "[Array]");
            return;
        }
        int n = cJSON_GetArraySize(v), i = 0;
        buf_putc(b, '[');
        for (const cJSON *c = v->child; c && i < 10; c = c->next, i++) {
            if (i)
                buf_puts(b, ", ");
            inspect_rec(b, c, depth + 1);
        }
        if (n > 10)
            buf_printf(b, ", ... %d more item%s", n - 10, n - 10 == 1 ? "" : "s");
        buf_putc(b, ']');
    } else if (cJSON_IsObject(v)) {
        if (!v->child) {
            buf_puts(b, "{}");
            return;
        }
        if (depth > 2) {
            buf_puts(b, "[Object]");
            return;
        }
        buf_puts(b, "{ ");
        for (const cJSON *c = v->child; c; c = c->next) {
            buf_printf(b, "%s%s: ", c == v->child ? "" : ", ", c->string);
            inspect_rec(b, c, depth + 1);
        }
        buf_puts(b, " }");
    } else {
        buf_puts(b, "null");
    }
}

int gql_inspect(buf_t *b, const cJSON *v)
{
    inspect_rec(b, v, 1);
    return b->failed ? -1 : 0;
}

/* ---- helpers ---- */

static const char *type_str(arena_t *a, const gql_type_t *t)
{
    char small[128];
    size_t n = gql_type_print(t, small, sizeof small);
    if (n < sizeof small)
        return arena_strndup(a, small, n);
    char *big = arena_alloc(a, n + 1);
    if (big)
        gql_type_print(t, big, n + 1);
    return big;
}

static const gql_type_t *find_enum_value(const gql_type_t *t, const char *name)
{
    for (size_t i = 0; i < t->nenum_values; i++)
        if (strcmp(t->enum_values[i].name, name) == 0)
            return t;
    return NULL;
}

static bool is_builtin(const gql_type_t *t, const char *name)
{
    return t->kind == GQL_TYPE_SCALAR && strcmp(t->name, name) == 0;
}

/* ---- literals (valueFromAST) ---- */

#define INVALID 1

static const cJSON *var_value(const cJSON *vars, const gql_node_t *node)
{
    const gql_variable_t *v = (const gql_variable_t *)node;
    return vars ? cJSON_GetObjectItemCaseSensitive(vars, v->name.value) : NULL;
}

static bool missing_var(const gql_node_t *node, const cJSON *vars)
{
    return node->kind == GQL_KIND_VARIABLE && !var_value(vars, node);
}

static int mk(cJSON *v, cJSON **out)
{
    *out = v;
    return v ? 0 : GQL_ENOMEM;
}

static bool int_literal(const gql_text_value_t *t, double *out)
{
    char *end;
    double d = strtod(t->value, &end);
    *out = d;
    return d >= INT32_MIN_D && d <= INT32_MAX_D;
}

/* A value of a custom scalar: graphql-js's valueFromASTUntyped. */
static int untyped(const gql_node_t *n, const cJSON *vars, cJSON **out)
{
    const gql_text_value_t *t = (const gql_text_value_t *)n;
    switch (n->kind) {
    case GQL_KIND_NULL_VALUE: return mk(cJSON_CreateNull(), out);
    case GQL_KIND_INT_VALUE:
    case GQL_KIND_FLOAT_VALUE: return mk(cJSON_CreateNumber(strtod(t->value, NULL)), out);
    case GQL_KIND_STRING_VALUE:
    case GQL_KIND_ENUM_VALUE: return mk(cJSON_CreateString(t->value), out);
    case GQL_KIND_BOOLEAN_VALUE:
        return mk(cJSON_CreateBool(((const gql_boolean_value_t *)n)->value), out);
    case GQL_KIND_VARIABLE: {
        const cJSON *v = var_value(vars, n);
        if (!v)
            return INVALID;
        return mk(cJSON_Duplicate(v, true), out);
    }
    case GQL_KIND_LIST_VALUE:
    case GQL_KIND_OBJECT_VALUE: {
        bool list = n->kind == GQL_KIND_LIST_VALUE;
        const gql_node_list_t *l = list ? &((const gql_list_value_t *)n)->values
                                        : &((const gql_object_value_t *)n)->fields;
        cJSON *c = list ? cJSON_CreateArray() : cJSON_CreateObject();
        if (!c)
            return GQL_ENOMEM;
        for (uint32_t i = 0; i < l->count; i++) {
            const gql_object_field_t *f = (const gql_object_field_t *)l->items[i];
            cJSON *item = NULL;
            int rc = untyped(list ? l->items[i] : f->value, vars, &item);
            if (rc == INVALID)
                rc = mk(cJSON_CreateNull(), &item);
            if (rc < 0 || !(list ? cJSON_AddItemToArray(c, item)
                                 : cJSON_AddItemToObject(c, f->name.value, item))) {
                cJSON_Delete(item);
                cJSON_Delete(c);
                return GQL_ENOMEM;
            }
        }
        *out = c;
        return 0;
    }
    default: return INVALID;
    }
}

static int leaf_literal(const gql_type_t *t, const gql_node_t *n, const cJSON *vars, cJSON **out)
{
    const gql_text_value_t *tv = (const gql_text_value_t *)n;
    gql_kind_t k = n->kind;
    double d;
    /* A \u0000 in a string literal: graphql-js takes it, but it would cut
     * the value short in every C string and JSON text downstream, as a NUL
     * in the variables' JSON is refused. */
    if (k == GQL_KIND_STRING_VALUE && strlen(tv->value) != tv->len)
        return INVALID;
    if (t->kind == GQL_TYPE_ENUM)
        return k == GQL_KIND_ENUM_VALUE && find_enum_value(t, tv->value)
                   ? mk(cJSON_CreateString(tv->value), out)
                   : INVALID;
    if (is_builtin(t, "Int"))
        return k == GQL_KIND_INT_VALUE && int_literal(tv, &d) ? mk(cJSON_CreateNumber(d), out)
                                                              : INVALID;
    if (is_builtin(t, "Float")) {
        if (k != GQL_KIND_INT_VALUE && k != GQL_KIND_FLOAT_VALUE)
            return INVALID;
        d = strtod(tv->value, NULL);
        return isfinite(d) ? mk(cJSON_CreateNumber(d), out) : INVALID;
    }
    if (is_builtin(t, "String"))
        return k == GQL_KIND_STRING_VALUE ? mk(cJSON_CreateString(tv->value), out) : INVALID;
    if (is_builtin(t, "Boolean"))
        return k == GQL_KIND_BOOLEAN_VALUE
                   ? mk(cJSON_CreateBool(((const gql_boolean_value_t *)n)->value), out)
                   : INVALID;
    if (is_builtin(t, "ID"))
        return k == GQL_KIND_STRING_VALUE || k == GQL_KIND_INT_VALUE
                   ? mk(cJSON_CreateString(tv->value), out)
                   : INVALID;
    return untyped(n, vars, out);
}

static int list_literal(const gql_schema_t *s, const gql_node_t *n, const gql_type_t *item,
                        const cJSON *vars, cJSON **out)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return GQL_ENOMEM;
    int rc = 0;
    if (n->kind != GQL_KIND_LIST_VALUE) {
        cJSON *v = NULL;
        rc = gql_value_from_ast(s, n, item, vars, &v);
        if (rc == 0 && !cJSON_AddItemToArray(arr, v))
            cJSON_Delete(v), rc = GQL_ENOMEM;
    } else {
        const gql_node_list_t *l = &((const gql_list_value_t *)n)->values;
        for (uint32_t i = 0; rc == 0 && i < l->count; i++) {
            cJSON *v = NULL;
            if (missing_var(l->items[i], vars))
                rc = item->kind == GQL_TYPE_NON_NULL ? INVALID : mk(cJSON_CreateNull(), &v);
            else
                rc = gql_value_from_ast(s, l->items[i], item, vars, &v);
            if (rc == 0 && !cJSON_AddItemToArray(arr, v))
                cJSON_Delete(v), rc = GQL_ENOMEM;
        }
    }
    if (rc != 0)
        cJSON_Delete(arr);
    else
        *out = arr;
    return rc;
}

static const gql_node_t *object_field_node(const gql_object_value_t *o, const char *name)
{
    const gql_node_t *found = NULL; /* the last one wins, as graphql-js's keyMap */
    for (uint32_t i = 0; i < o->fields.count; i++) {
        const gql_object_field_t *f = (const gql_object_field_t *)o->fields.items[i];
        if (strcmp(f->name.value, name) == 0)
            found = f->value;
    }
    return found;
}

static int add_default(const gql_schema_t *s, cJSON *obj, const gql_input_value_t *f)
{
    cJSON *v = NULL;
    int rc = gql_value_from_ast(s, f->default_value, f->type, NULL, &v);
    if (rc == INVALID)
        return 0; /* schema.c checked defaults; an invalid one counts as absent */
    if (rc == 0 && !cJSON_AddItemToObject(obj, f->name, v))
        cJSON_Delete(v), rc = GQL_ENOMEM;
    return rc;
}

static int object_literal(const gql_schema_t *s, const gql_node_t *n, const gql_type_t *t,
                          const cJSON *vars, cJSON **out)
{
    if (n->kind != GQL_KIND_OBJECT_VALUE)
        return INVALID;
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return GQL_ENOMEM;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < t->ninput_fields; i++) {
        const gql_input_value_t *f = &t->input_fields[i];
        const gql_node_t *fn = object_field_node((const gql_object_value_t *)n, f->name);
        if (!fn || missing_var(fn, vars)) {
            if (f->default_value)
                rc = add_default(s, obj, f);
            else if (f->type->kind == GQL_TYPE_NON_NULL)
                rc = INVALID;
            continue;
        }
        cJSON *v = NULL;
        rc = gql_value_from_ast(s, fn, f->type, vars, &v);
        if (rc == 0 && !cJSON_AddItemToObject(obj, f->name, v))
            cJSON_Delete(v), rc = GQL_ENOMEM;
    }
    if (rc != 0)
        cJSON_Delete(obj);
    else
        *out = obj;
    return rc;
}

int gql_value_from_ast(const gql_schema_t *s, const gql_node_t *n, const gql_type_t *t,
                       const cJSON *vars, cJSON **out)
{
    if (!n)
        return INVALID;
    if (n->kind == GQL_KIND_VARIABLE) {
        const cJSON *v = var_value(vars, n);
        if (!v || (cJSON_IsNull(v) && t->kind == GQL_TYPE_NON_NULL))
            return INVALID;
        return mk(cJSON_Duplicate(v, true), out);
    }
    if (t->kind == GQL_TYPE_NON_NULL) {
        if (n->kind == GQL_KIND_NULL_VALUE)
            return INVALID;
        t = t->of_type;
    }
    if (n->kind == GQL_KIND_NULL_VALUE)
        return mk(cJSON_CreateNull(), out);
    switch (t->kind) {
    case GQL_TYPE_LIST: return list_literal(s, n, t->of_type, vars, out);
    case GQL_TYPE_INPUT_OBJECT: return object_literal(s, n, t, vars, out);
    case GQL_TYPE_SCALAR:
    case GQL_TYPE_ENUM: return leaf_literal(t, n, vars, out);
    default: return INVALID;
    }
}

/* ---- arguments (getArgumentValues) ---- */

static const gql_argument_t *find_arg(const gql_node_list_t *args, const char *name)
{
    for (uint32_t i = 0; args && i < args->count; i++) {
        const gql_argument_t *a = (const gql_argument_t *)args->items[i];
        if (strcmp(a->name.value, name) == 0)
            return a;
    }
    return NULL;
}

static int arg_fail(arena_t *a, const char **msg, const char *text)
{
    *msg = text ? text : "Out of memory.";
    (void)a;
    return text ? GQL_EINVALID : GQL_ENOMEM;
}

static const char *printed(arena_t *a, const gql_node_t *n)
{
    buf_t b = {0};
    gql_print(n, &b);
    const char *r = b.failed ? NULL : arena_strndup(a, b.data ? b.data : "", b.len);
    buf_free(&b);
    return r;
}

/* One argument; returns 0 (also when it is left out), GQL_EINVALID or GQL_ENOMEM. */
static int one_arg(const gql_schema_t *s, const gql_input_value_t *d, const gql_argument_t *an,
                   const cJSON *vars, arena_t *a, cJSON *obj, const char **msg)
{
    bool nn = d->type->kind == GQL_TYPE_NON_NULL;
    if (!an) {
        if (d->default_value)
            return add_default(s, obj, d);
        if (nn)
            return arg_fail(a, msg,
                            arena_printf(a, "Argument \"%s\" of required type \"%s\" was not provided.",
                                         d->name, type_str(a, d->type)));
        return 0;
    }
    bool is_null = an->value->kind == GQL_KIND_NULL_VALUE;
    if (an->value->kind == GQL_KIND_VARIABLE) {
        const cJSON *v = var_value(vars, an->value);
        if (!v) {
            if (d->default_value)
                return add_default(s, obj, d);
            if (nn)
                return arg_fail(
                    a, msg,
                    arena_printf(a,
                                 "Argument \"%s\" of required type \"%s\" was provided the "
                                 "variable \"$%s\" which was not provided a runtime value.",
                                 d->name, type_str(a, d->type),
                                 ((const gql_variable_t *)an->value)->name.value));
            return 0;
        }
        is_null = cJSON_IsNull(v);
    }
    if (is_null && nn)
        return arg_fail(a, msg,
                        arena_printf(a, "Argument \"%s\" of non-null type \"%s\" must not be null.",
                                     d->name, type_str(a, d->type)));
    cJSON *v = NULL;
    int rc = gql_value_from_ast(s, an->value, d->type, vars, &v);
    if (rc == INVALID)
        return arg_fail(a, msg,
                        arena_printf(a, "Argument \"%s\" has invalid value %s.", d->name,
                                     printed(a, an->value)));
    if (rc == 0 && !cJSON_AddItemToObject(obj, d->name, v))
        cJSON_Delete(v), rc = GQL_ENOMEM;
    return rc;
}

int gql_coerce_arguments(const gql_schema_t *s, const gql_input_value_t *defs, size_t ndefs,
                         const gql_node_list_t *args, const cJSON *vars, arena_t *a, cJSON **out,
                         const char **msg, const gql_node_t **at)
{
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return GQL_ENOMEM;
    int rc = 0;
    *at = NULL;
    for (size_t i = 0; rc == 0 && i < ndefs; i++) {
        const gql_argument_t *an = find_arg(args, defs[i].name);
        rc = one_arg(s, &defs[i], an, vars, a, obj, msg);
        if (rc != 0 && an)
            *at = an->value; /* graphql-js locates these errors at the value */
    }
    if (rc != 0) {
        cJSON_Delete(obj);
        return rc;
    }
    *out = obj;
    return 0;
}

/* ---- variables (coerceVariableValues, coerceInputValue) ---- */

typedef struct ipath {
    const struct ipath *prev;
    const char *key; /* NULL: index */
    int index;
} ipath_t;

typedef struct vctx {
    const gql_schema_t *s;
    arena_t *a;
    gql_value_errors_t *errs;
    const gql_variable_definition_t *def;
    int rc; /* GQL_ENOMEM once memory ran out */
} vctx_t;

static int push_error(arena_t *a, gql_value_errors_t *e, const char *msg, const gql_node_t *node)
{
    if (!msg)
        return GQL_ENOMEM;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        gql_value_error_t *n = arena_alloc(a, cap * sizeof *n);
        if (!n)
            return GQL_ENOMEM;
        if (e->n)
            memcpy(n, e->items, e->n * sizeof *n);
        e->items = n;
        e->cap = cap;
    }
    e->items[e->n++] = (gql_value_error_t){msg, node};
    return 0;
}

static void print_path(buf_t *b, const ipath_t *p)
{
    if (!p)
        return;
    print_path(b, p->prev);
    if (p->key)
        buf_printf(b, ".%s", p->key);
    else
        buf_printf(b, "[%d]", p->index);
}

/* graphql-js's onError of coerceVariableValues. */
static void input_error(vctx_t *c, const ipath_t *p, const cJSON *value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void input_error(vctx_t *c, const ipath_t *p, const cJSON *value, const char *fmt, ...)
{
    const char *name = c->def->variable->name.value;
    buf_t b = {0};
    buf_printf(&b, "Variable \"$%s\" got invalid value ", name);
    if (value)
        gql_inspect(&b, value);
    else
        buf_puts(&b, "null");
    if (p) {
        buf_printf(&b, " at \"%s", name);
        print_path(&b, p);
        buf_putc(&b, '"');
    }
    buf_puts(&b, "; ");
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    const char *msg = b.failed ? NULL : arena_strndup(c->a, b.data, b.len);
    buf_free(&b);
    if (push_error(c->a, c->errs, msg, &c->def->base) < 0)
        c->rc = GQL_ENOMEM;
}

static const char *inspected(vctx_t *c, const cJSON *v)
{
    buf_t b = {0};
    gql_inspect(&b, v);
    const char *r = b.failed ? "?" : arena_strndup(c->a, b.data, b.len);
    buf_free(&b);
    return r ? r : "?";
}

static cJSON *coerce_input(vctx_t *c, const cJSON *v, const gql_type_t *t, const ipath_t *p);

static cJSON *coerce_scalar(vctx_t *c, const cJSON *v, const gql_type_t *t, const ipath_t *p)
{
    double d = v->valuedouble;
    bool num = cJSON_IsNumber(v), integral = num && d == trunc(d);
    if (is_builtin(t, "Int")) {
        if (!integral)
            input_error(c, p, v, "Int cannot represent non-integer value: %s", inspected(c, v));
        else if (d > INT32_MAX_D || d < INT32_MIN_D)
            input_error(c, p, v, "Int cannot represent non 32-bit signed integer value: %s",
                        inspected(c, v));
        else
            return cJSON_CreateNumber(d);
        return NULL;
    }
    if (is_builtin(t, "Float")) {
        if (num && isfinite(d))
            return cJSON_CreateNumber(d);
        input_error(c, p, v, "Float cannot represent non numeric value: %s", inspected(c, v));
        return NULL;
    }
    if (is_builtin(t, "String") || is_builtin(t, "Boolean")) {
        bool str = t->name[0] == 'S';
        if (str && cJSON_IsString(v))
            return cJSON_CreateString(v->valuestring);
        if (!str && cJSON_IsBool(v))
            return cJSON_CreateBool(cJSON_IsTrue(v));
        input_error(c, p, v, "%s cannot represent a non %s value: %s", t->name,
                    str ? "string" : "boolean", inspected(c, v));
        return NULL;
    }
    if (is_builtin(t, "ID")) {
        if (cJSON_IsString(v))
            return cJSON_CreateString(v->valuestring);
        if (integral) {
            buf_t b = {0};
            gql_put_number(&b, d);
            cJSON *r = b.failed ? NULL : cJSON_CreateString(b.data);
            buf_free(&b);
            return r;
        }
        input_error(c, p, v, "ID cannot represent value: %s", inspected(c, v));
        return NULL;
    }
    return cJSON_Duplicate(v, true); /* custom scalars: graphql-js's identity */
}

static cJSON *coerce_enum(vctx_t *c, const cJSON *v, const gql_type_t *t, const ipath_t *p)
{
    if (!cJSON_IsString(v))
        input_error(c, p, v, "Enum \"%s\" cannot represent non-string value: %s.", t->name,
                    inspected(c, v));
    else if (!find_enum_value(t, v->valuestring))
        input_error(c, p, v, "Value \"%s\" does not exist in \"%s\" enum.", v->valuestring,
                    t->name);
    else
        return cJSON_CreateString(v->valuestring);
    return NULL;
}

static bool input_field_known(const gql_type_t *t, const char *name)
{
    return gql_input_field(t, name, strlen(name)) != NULL;
}

static cJSON *coerce_object(vctx_t *c, const cJSON *v, const gql_type_t *t, const ipath_t *p)
{
    if (!cJSON_IsObject(v)) {
        input_error(c, p, v, "Expected type \"%s\" to be an object.", t->name);
        return NULL;
    }
    cJSON *obj = cJSON_CreateObject();
    bool bad = !obj;
    for (size_t i = 0; !bad && i < t->ninput_fields; i++) {
        const gql_input_value_t *f = &t->input_fields[i];
        const cJSON *fv = cJSON_GetObjectItemCaseSensitive(v, f->name);
        if (!fv) {
            if (f->default_value) {
                bad = add_default(c->s, obj, f) < 0;
            } else if (f->type->kind == GQL_TYPE_NON_NULL) {
                input_error(c, p, v, "Field \"%s\" of required type \"%s\" was not provided.",
                            f->name, type_str(c->a, f->type));
            }
            continue;
        }
        ipath_t fp = {p, f->name, 0};
        cJSON *cv = coerce_input(c, fv, f->type, &fp);
        if (cv && !cJSON_AddItemToObject(obj, f->name, cv))
            cJSON_Delete(cv), bad = true;
    }
    for (const cJSON *m = v->child; !bad && m; m = m->next)
        if (!input_field_known(t, m->string))
            input_error(c, p, v, "Field \"%s\" is not defined by type \"%s\".", m->string,
                        t->name);
    if (bad) {
        c->rc = GQL_ENOMEM;
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

static cJSON *coerce_list(vctx_t *c, const cJSON *v, const gql_type_t *t, const ipath_t *p)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr) {
        c->rc = GQL_ENOMEM;
        return NULL;
    }
    if (!cJSON_IsArray(v)) { /* a single value stands for a list of one */
        cJSON *one = coerce_input(c, v, t->of_type, p);
        if (one)
            cJSON_AddItemToArray(arr, one);
        return arr;
    }
    int i = 0;
    for (const cJSON *item = v->child; item; item = item->next, i++) {
        ipath_t ip = {p, NULL, i};
        cJSON *one = coerce_input(c, item, t->of_type, &ip);
        if (one)
            cJSON_AddItemToArray(arr, one);
    }
    return arr;
}

/* Returns the coerced value, or NULL after reporting why (or c->rc set). */
static cJSON *coerce_input(vctx_t *c, const cJSON *v, const gql_type_t *t, const ipath_t *p)
{
    if (t->kind == GQL_TYPE_NON_NULL) {
        if (v && !cJSON_IsNull(v))
            return coerce_input(c, v, t->of_type, p);
        input_error(c, p, v, "Expected non-nullable type \"%s\" not to be null.",
                    type_str(c->a, t));
        return NULL;
    }
    if (!v || cJSON_IsNull(v))
        return cJSON_CreateNull();
    switch (t->kind) {
    case GQL_TYPE_LIST: return coerce_list(c, v, t, p);
    case GQL_TYPE_INPUT_OBJECT: return coerce_object(c, v, t, p);
    case GQL_TYPE_ENUM: return coerce_enum(c, v, t, p);
    default: return coerce_scalar(c, v, t, p);
    }
}

/* One variable into out; errors go to c->errs. */
static int coerce_variable(vctx_t *c, const cJSON *inputs, cJSON *out)
{
    const gql_variable_definition_t *d = c->def;
    const char *name = d->variable->name.value;
    const gql_type_t *t = gql_schema_type_from_ast(c->s, d->type, c->a);
    if (!t)
        return GQL_ENOMEM; /* validation guarantees known types */
    const cJSON *v = inputs ? cJSON_GetObjectItemCaseSensitive(inputs, name) : NULL;
    cJSON *cv = NULL;
    int rc = 0;
    if (!v) {
        if (d->default_value) {
            rc = gql_value_from_ast(c->s, d->default_value, t, NULL, &cv);
            if (rc == INVALID)
                return 0;
        } else if (t->kind == GQL_TYPE_NON_NULL) {
            return push_error(c->a, c->errs,
                              arena_printf(c->a,
                                           "Variable \"$%s\" of required type \"%s\" was not "
                                           "provided.",
                                           name, type_str(c->a, t)),
                              &d->base);
        }
    } else if (cJSON_IsNull(v) && t->kind == GQL_TYPE_NON_NULL) {
        return push_error(c->a, c->errs,
                          arena_printf(c->a,
                                       "Variable \"$%s\" of non-null type \"%s\" must not be null.",
                                       name, type_str(c->a, t)),
                          &d->base);
    } else {
        size_t before = c->errs->n;
        cv = coerce_input(c, v, t, NULL);
        if (c->errs->n > before || c->rc < 0) {
            cJSON_Delete(cv);
            return c->rc;
        }
        if (!cv)
            return GQL_ENOMEM;
    }
    if (rc < 0)
        return rc;
    if (cv && !cJSON_AddItemToObject(out, name, cv)) {
        cJSON_Delete(cv);
        return GQL_ENOMEM;
    }
    return 0;
}

int gql_coerce_variables(const gql_schema_t *s, const gql_operation_definition_t *op,
                         const cJSON *inputs, arena_t *a, cJSON **out, gql_value_errors_t *errs)
{
    *out = NULL;
    cJSON *vars = cJSON_CreateObject();
    if (!vars)
        return GQL_ENOMEM;
    vctx_t c = {.s = s, .a = a, .errs = errs};
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < op->variable_definitions.count; i++) {
        c.def = (const gql_variable_definition_t *)op->variable_definitions.items[i];
        rc = coerce_variable(&c, inputs, vars);
        if (rc == 0 && errs->n >= GQL_MAX_VARIABLE_ERRORS) {
            rc = push_error(a, errs,
                            "Too many errors processing variables, error limit reached. "
                            "Execution aborted.",
                            NULL);
            break;
        }
    }
    if (rc == 0 && errs->n)
        rc = GQL_EINVALID;
    if (rc != 0) {
        cJSON_Delete(vars);
        return rc;
    }
    *out = vars;
    return 0;
}
