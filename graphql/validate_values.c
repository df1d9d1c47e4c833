/* validate_values.c - the rules on literal values: ValuesOfCorrectType (with the built-in
 * scalars' parseLiteral messages of graphql-js 16) and UniqueInputFieldNames. */
#include <stdlib.h>
#include <string.h>

#include "validate_rules.h"

static bool is_named(const gql_type_t *t, const char *name)
{
    return t->name && strcmp(t->name, name) == 0;
}

/* parseInt's range check of GraphQLInt: more than ten digits is out of range anyway. */
static bool int_fits_32(const gql_text_value_t *v)
{
    const char *s = v->value;
    size_t n = v->len;
    bool neg = n && s[0] == '-';
    if (neg) {
        s++;
        n--;
    }
    if (n > 10)
        return false;
    long long x = 0;
    for (size_t i = 0; i < n; i++)
        x = x * 10 + (s[i] - '0');
    return neg ? x <= 2147483648LL : x <= 2147483647LL;
}

/* The enum's "Did you mean the enum value" suffix for the value as printed. */
static const char *enum_suggestion(vctx_t *c, const gql_type_t *e, const char *printed)
{
    const char **names = malloc((e->nenum_values + 1) * sizeof *names);
    if (!names) {
        vnomem(c);
        return "";
    }
    for (size_t i = 0; i < e->nenum_values; i++)
        names[i] = e->enum_values[i].name;
    const char *s = vsuggest(c, "the enum value", printed, names, e->nenum_values);
    free(names);
    return s;
}

static bool enum_has(const gql_type_t *e, const gql_text_value_t *v)
{
    for (size_t i = 0; i < e->nenum_values; i++)
        if (strlen(e->enum_values[i].name) == v->len &&
            memcmp(e->enum_values[i].name, v->value, v->len) == 0)
            return true;
    return false;
}

/* The leaf's parseLiteral: reports and returns false when it would throw. */
static void check_leaf(vctx_t *c, const gql_type_t *t, const gql_node_t *v)
{
    gql_kind_t k = v->kind;
    if (t->kind == GQL_TYPE_ENUM) {
        const char *p = vprint(c, v);
        if (k != GQL_KIND_ENUM_VALUE)
            VERR1(c, v, "Enum \"%s\" cannot represent non-enum value: %s.%s", t->name, p,
                  enum_suggestion(c, t, p));
        else if (!enum_has(t, (const gql_text_value_t *)v))
            VERR1(c, v, "Value \"%s\" does not exist in \"%s\" enum.%s", p, t->name,
                  enum_suggestion(c, t, p));
        return;
    }
    if (is_named(t, "Int")) {
        if (k != GQL_KIND_INT_VALUE)
            VERR1(c, v, "Int cannot represent non-integer value: %s", vprint(c, v));
        else if (!int_fits_32((const gql_text_value_t *)v))
            VERR1(c, v, "Int cannot represent non 32-bit signed integer value: %s",
                  ((const gql_text_value_t *)v)->value);
    } else if (is_named(t, "Float")) {
        if (k != GQL_KIND_INT_VALUE && k != GQL_KIND_FLOAT_VALUE)
            VERR1(c, v, "Float cannot represent non numeric value: %s", vprint(c, v));
    } else if (is_named(t, "String")) {
        if (k != GQL_KIND_STRING_VALUE)
            VERR1(c, v, "String cannot represent a non string value: %s", vprint(c, v));
    } else if (is_named(t, "Boolean")) {
        if (k != GQL_KIND_BOOLEAN_VALUE)
            VERR1(c, v, "Boolean cannot represent a non boolean value: %s", vprint(c, v));
    } else if (is_named(t, "ID")) {
        if (k != GQL_KIND_STRING_VALUE && k != GQL_KIND_INT_VALUE)
            VERR1(c, v, "ID cannot represent a non-string and non-integer value: %s", vprint(c, v));
    }
    /* custom scalars accept any literal, as graphql-js's default parseLiteral */
}

/* graphql-js's isValidValueNode. */
static void check_value_node(walk_t *w, const gql_node_t *v)
{
    gql_type_t *loc = w->ti.input_type;
    if (!loc)
        return;
    gql_type_t *t = gql_type_named(loc);
    if (!gql_type_is_leaf(t)) {
        VERR1(w->c, v, "Expected value of type \"%s\", found %s.", vtype_str(w->c, loc),
              vprint(w->c, v));
        return;
    }
    check_leaf(w->c, t, v);
}

void rule_values_list(walk_t *w, gql_list_value_t *v)
{
    gql_type_t *t = w->ti.parent_input_type;
    if (t && t->kind == GQL_TYPE_NON_NULL)
        t = t->of_type;
    if (!t || t->kind != GQL_TYPE_LIST) {
        check_value_node(w, &v->base);
        w->values_skip = &v->base;
    }
}

void rule_values_object(walk_t *w, gql_object_value_t *v)
{
    gql_type_t *t = w->ti.input_type ? gql_type_named(w->ti.input_type) : NULL;
    if (!t || t->kind != GQL_TYPE_INPUT_OBJECT) {
        check_value_node(w, &v->base);
        w->values_skip = &v->base;
        return;
    }
    for (size_t i = 0; i < t->ninput_fields; i++) {
        const gql_input_value_t *f = &t->input_fields[i];
        if (f->type->kind != GQL_TYPE_NON_NULL || f->default_value)
            continue;
        bool found = false;
        size_t len = strlen(f->name);
        for (uint32_t j = 0; j < v->fields.count && !found; j++) {
            const gql_object_field_t *of = (const gql_object_field_t *)v->fields.items[j];
            found = of->name.len == len && memcmp(of->name.value, f->name, len) == 0;
        }
        if (!found)
            VERR1(w->c, v, "Field \"%s.%s\" of required type \"%s\" was not provided.", t->name,
                  f->name, vtype_str(w->c, f->type));
    }
}

void rule_values_object_field(walk_t *w, gql_object_field_t *f)
{
    gql_type_t *pt = w->ti.parent_input_type ? gql_type_named(w->ti.parent_input_type) : NULL;
    if (w->ti.input_type || !pt || pt->kind != GQL_TYPE_INPUT_OBJECT)
        return;
    const char **names = malloc((pt->ninput_fields + 1) * sizeof *names);
    if (!names) {
        vnomem(w->c);
        return;
    }
    for (size_t i = 0; i < pt->ninput_fields; i++)
        names[i] = pt->input_fields[i].name;
    const char *s = vsuggest(w->c, NULL, f->name.value, names, pt->ninput_fields);
    free(names);
    VERR1(w->c, f, "Field \"%s\" is not defined by type \"%s\".%s", f->name.value, pt->name, s);
}

void rule_values_scalar(walk_t *w, gql_node_t *v)
{
    if (v->kind == GQL_KIND_NULL_VALUE) {
        gql_type_t *t = w->ti.input_type;
        if (t && t->kind == GQL_TYPE_NON_NULL)
            VERR1(w->c, v, "Expected value of type \"%s\", found null.", vtype_str(w->c, t));
        return;
    }
    check_value_node(w, v);
}

void rule_unique_input_field(walk_t *w, gql_object_field_t *f, vmap_t *seen)
{
    vmap_entry_t *e = vmap_get(seen, f->name.value, f->name.len);
    if (e) {
        VERR2(w->c, e->value, &f->name, "There can be only one input field named \"%s\".",
              f->name.value);
        return;
    }
    e = vmap_put(seen, w->c->arena, f->name.value, f->name.len);
    if (!e) {
        vnomem(w->c);
        return;
    }
    e->value = &f->name;
}
