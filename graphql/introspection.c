/* introspection.c - answers __schema, __type and the fields of the introspection types from
 * the schema model, as graphql-js 16.8's introspection resolvers do; values are arena cJSON
 * nodes that the executor completes like any resolver's. */
#include "introspection.h"

#include <string.h>

#include "buf.h"
#include "lexer.h"
#include "printer.h"
#include "values.h"

/* Marks arena nodes that stand for a schema element; cJSON's own flags stay below 1 << 10. */
#define META_FLAG (1 << 14)

typedef enum meta_tag { TAG_SCHEMA, TAG_TYPE, TAG_FIELD, TAG_INPUT, TAG_ENUM, TAG_DIRECTIVE } meta_tag_t;

static cJSON *node(arena_t *a, int type)
{
    cJSON *n = arena_calloc(a, 1, sizeof *n);
    if (n)
        n->type = type;
    return n;
}

static cJSON *str_node(arena_t *a, const char *s)
{
    cJSON *n = node(a, s ? cJSON_String : cJSON_NULL);
    if (n && s)
        n->valuestring = (char *)s; /* never written: the executor only reads */
    return n;
}

static cJSON *bool_node(arena_t *a, bool v)
{
    return node(a, v ? cJSON_True : cJSON_False);
}

static cJSON *meta_node(arena_t *a, meta_tag_t tag, const void *p)
{
    if (!p)
        return node(a, cJSON_NULL);
    cJSON *n = node(a, cJSON_Object | META_FLAG);
    if (n) {
        n->valuestring = (char *)p;
        n->valueint = (int)tag;
    }
    return n;
}

static const void *meta_ptr(const cJSON *n)
{
    return n && (n->type & META_FLAG) ? n->valuestring : NULL;
}

/* Appends item to the array list (tail kept in list->prev, as cJSON does). */
static void append(cJSON *list, cJSON *item)
{
    if (!list->child) {
        list->child = item;
    } else {
        list->child->prev->next = item;
        item->prev = list->child->prev;
    }
    list->child->prev = item;
}

typedef cJSON *(*item_fn)(arena_t *a, const void *base, size_t i);

/* A list of n elements; keep(base, i) filters (NULL: all). */
static cJSON *list_node(arena_t *a, const void *base, size_t n, item_fn make,
                        bool (*keep)(const void *base, size_t i, bool flag), bool flag)
{
    cJSON *l = node(a, cJSON_Array);
    for (size_t i = 0; l && i < n; i++) {
        if (keep && !keep(base, i, flag))
            continue;
        cJSON *it = make(a, base, i);
        if (!it)
            return NULL;
        append(l, it);
    }
    return l;
}

static cJSON *type_item(arena_t *a, const void *base, size_t i)
{
    return meta_node(a, TAG_TYPE, ((gql_type_t *const *)base)[i]);
}

static cJSON *field_item(arena_t *a, const void *base, size_t i)
{
    return meta_node(a, TAG_FIELD, &((const gql_field_def_t *)base)[i]);
}

static cJSON *input_item(arena_t *a, const void *base, size_t i)
{
    return meta_node(a, TAG_INPUT, &((const gql_input_value_t *)base)[i]);
}

static cJSON *enum_item(arena_t *a, const void *base, size_t i)
{
    return meta_node(a, TAG_ENUM, &((const gql_enum_value_def_t *)base)[i]);
}

static cJSON *directive_item(arena_t *a, const void *base, size_t i)
{
    return meta_node(a, TAG_DIRECTIVE, &((const gql_directive_def_t *)base)[i]);
}

static bool keep_field(const void *base, size_t i, bool include_deprecated)
{
    return include_deprecated || !((const gql_field_def_t *)base)[i].deprecated;
}

static bool keep_input(const void *base, size_t i, bool include_deprecated)
{
    return include_deprecated || !((const gql_input_value_t *)base)[i].deprecated;
}

static bool keep_enum(const void *base, size_t i, bool include_deprecated)
{
    return include_deprecated || !((const gql_enum_value_def_t *)base)[i].deprecated;
}

static bool include_deprecated(const cJSON *args)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "includeDeprecated"));
}

bool gql_introspection_is_meta_type(const gql_type_t *t)
{
    return t->name && t->name[0] == '_' && t->name[1] == '_' && t->kind == GQL_TYPE_OBJECT;
}

int gql_introspection_schema(const gql_schema_t *s, arena_t *a, const cJSON **out)
{
    *out = meta_node(a, TAG_SCHEMA, s);
    return *out ? 0 : GQL_ENOMEM;
}

int gql_introspection_type(const gql_schema_t *s, arena_t *a, const char *name,
                           const cJSON **out)
{
    const gql_type_t *t = name ? gql_schema_type(s, name, strlen(name)) : NULL;
    *out = meta_node(a, TAG_TYPE, t && t->referenced ? t : NULL);
    return *out ? 0 : GQL_ENOMEM;
}

/* ---- default values: print(astFromValue(value, type)) ---- */

static bool int_text(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        return s[1] == 0;
    if (*s < '1' || *s > '9')
        return false;
    while (*s >= '0' && *s <= '9')
        s++;
    return *s == 0;
}

static void quoted(buf_t *b, const char *s)
{
    gql_string_value_t sv = {.base = {.kind = GQL_KIND_STRING_VALUE}, .value = s,
                             .len = (uint32_t)strlen(s)};
    gql_print(&sv.base, b);
}

/* Returns false when graphql-js's astFromValue gives no node (the item is left out). */
static bool ast_text(buf_t *b, const cJSON *v, const gql_type_t *t)
{
    if (t->kind == GQL_TYPE_NON_NULL) {
        if (cJSON_IsNull(v))
            return false;
        t = t->of_type;
    }
    if (cJSON_IsNull(v)) {
        buf_puts(b, "null");
        return true;
    }
    if (t->kind == GQL_TYPE_LIST) {
        if (!cJSON_IsArray(v))
            return ast_text(b, v, t->of_type);
        buf_putc(b, '[');
        bool first = true;
        for (const cJSON *c = v->child; c; c = c->next) {
            size_t mark = b->len;
            if (!first)
                buf_puts(b, ", ");
            if (ast_text(b, c, t->of_type))
                first = false;
            else
                b->len = mark;
        }
        buf_putc(b, ']');
        return true;
    }
    if (t->kind == GQL_TYPE_INPUT_OBJECT) {
        if (!cJSON_IsObject(v))
            return false;
        buf_putc(b, '{');
        bool first = true;
        for (size_t i = 0; i < t->ninput_fields; i++) {
            const gql_input_value_t *f = &t->input_fields[i];
            const cJSON *fv = cJSON_GetObjectItemCaseSensitive(v, f->name);
            if (!fv)
                continue;
            size_t mark = b->len;
            buf_printf(b, "%s%s: ", first ? "" : ", ", f->name);
            if (ast_text(b, fv, f->type))
                first = false;
            else
                b->len = mark;
        }
        buf_putc(b, '}');
        return true;
    }
    if (cJSON_IsBool(v))
        buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNumber(v))
        gql_put_number(b, v->valuedouble);
    else if (cJSON_IsString(v) && t->kind == GQL_TYPE_ENUM)
        buf_puts(b, v->valuestring);
    else if (cJSON_IsString(v) && strcmp(t->name, "ID") == 0 && int_text(v->valuestring))
        buf_puts(b, v->valuestring);
    else if (cJSON_IsString(v))
        quoted(b, v->valuestring);
    else
        return false; /* graphql-js throws for objects of custom scalars */
    return true;
}

const char *gql_introspection_default_value(const gql_schema_t *s, arena_t *a,
                                            const gql_node_t *literal, const gql_type_t *type)
{
    cJSON *v = NULL;
    if (!literal || gql_value_from_ast(s, literal, type, NULL, &v) != 0)
        return NULL;
    buf_t b = {0};
    bool ok = ast_text(&b, v, type);
    cJSON_Delete(v);
    const char *r = ok && !b.failed ? arena_strndup(a, b.data, b.len) : NULL;
    buf_free(&b);
    return r;
}

/* ---- the fields ---- */

static const char *const kind_names[] = {
    [GQL_TYPE_SCALAR] = "SCALAR", [GQL_TYPE_OBJECT] = "OBJECT",
    [GQL_TYPE_INTERFACE] = "INTERFACE", [GQL_TYPE_UNION] = "UNION",
    [GQL_TYPE_ENUM] = "ENUM", [GQL_TYPE_INPUT_OBJECT] = "INPUT_OBJECT",
    [GQL_TYPE_LIST] = "LIST", [GQL_TYPE_NON_NULL] = "NON_NULL",
};


static cJSON *location_item(arena_t *a, const void *base, size_t i)
{
    return str_node(a, gql_directive_location_names[((const unsigned char *)base)[i]]);
}

/* The model keeps locations as a bit set; graphql-js lists them as declared. For the
 * built-ins that is bit order except @deprecated, whose declaration is restored here. */
static cJSON *locations(arena_t *a, const gql_directive_def_t *d)
{
    unsigned char order[32];
    size_t n = 0;
    if (strcmp(d->name, "deprecated") == 0 && d->locations == (GQL_DL_FIELD_DEFINITION |
            GQL_DL_ARGUMENT_DEFINITION | GQL_DL_INPUT_FIELD_DEFINITION | GQL_DL_ENUM_VALUE)) {
        static const unsigned char dep[] = {11, 12, 18, 16};
        memcpy(order, dep, sizeof dep);
        n = sizeof dep;
    } else {
        for (unsigned i = 0; i < GQL_DIRECTIVE_LOCATION_COUNT; i++)
            if (d->locations & (1u << i))
                order[n++] = (unsigned char)i;
    }
    return list_node(a, order, n, location_item, NULL, false);
}

static bool is(const gql_field_def_t *f, const char *name)
{
    return strcmp(f->name, name) == 0;
}

static cJSON *schema_field(arena_t *a, const gql_schema_t *s, const gql_field_def_t *f)
{
    if (is(f, "description"))
        return str_node(a, s->description);
    if (is(f, "types"))
        return list_node(a, s->type_map, s->ntype_map, type_item, NULL, false);
    if (is(f, "queryType"))
        return meta_node(a, TAG_TYPE, s->query);
    if (is(f, "mutationType"))
        return meta_node(a, TAG_TYPE, s->mutation);
    if (is(f, "subscriptionType"))
        return meta_node(a, TAG_TYPE, s->subscription);
    if (is(f, "directives"))
        return list_node(a, s->directives, s->ndirectives, directive_item, NULL, false);
    return node(a, cJSON_NULL);
}

static cJSON *type_field(arena_t *a, const gql_type_t *t, const gql_field_def_t *f, bool dep)
{
    gql_type_kind_t k = t->kind;
    bool composite = k == GQL_TYPE_OBJECT || k == GQL_TYPE_INTERFACE;
    if (is(f, "kind"))
        return str_node(a, kind_names[k]);
    if (is(f, "name"))
        return str_node(a, t->name);
    if (is(f, "description"))
        return str_node(a, t->description);
    if (is(f, "specifiedByURL"))
        return str_node(a, t->specified_by_url);
    if (is(f, "fields") && composite)
        return list_node(a, t->fields, t->nfields, field_item, keep_field, dep);
    if (is(f, "interfaces") && composite)
        return list_node(a, t->interfaces, t->ninterfaces, type_item, NULL, false);
    if (is(f, "possibleTypes") && (k == GQL_TYPE_INTERFACE || k == GQL_TYPE_UNION))
        return list_node(a, t->possible_types, t->npossible_types, type_item, NULL, false);
    if (is(f, "enumValues") && k == GQL_TYPE_ENUM)
        return list_node(a, t->enum_values, t->nenum_values, enum_item, keep_enum, dep);
    if (is(f, "inputFields") && k == GQL_TYPE_INPUT_OBJECT)
        return list_node(a, t->input_fields, t->ninput_fields, input_item, keep_input, dep);
    if (is(f, "ofType"))
        return meta_node(a, TAG_TYPE, t->of_type);
    return node(a, cJSON_NULL);
}

/* name, description, isDeprecated, deprecationReason: shared by fields, input values and
 * enum values. */
static cJSON *common_field(arena_t *a, const gql_field_def_t *f, const char *name,
                           const char *desc, bool deprecated, const char *reason)
{
    if (is(f, "name"))
        return str_node(a, name);
    if (is(f, "description"))
        return str_node(a, desc);
    if (is(f, "isDeprecated"))
        return bool_node(a, deprecated);
    if (is(f, "deprecationReason"))
        return str_node(a, reason);
    return node(a, cJSON_NULL);
}

static cJSON *field_field(arena_t *a, const gql_field_def_t *d, const gql_field_def_t *f,
                          bool dep)
{
    if (is(f, "args"))
        return list_node(a, d->args, d->nargs, input_item, keep_input, dep);
    if (is(f, "type"))
        return meta_node(a, TAG_TYPE, d->type);
    return common_field(a, f, d->name, d->description, d->deprecated, d->deprecation_reason);
}

static cJSON *input_field(const gql_schema_t *s, arena_t *a, const gql_input_value_t *v,
                          const gql_field_def_t *f)
{
    if (is(f, "type"))
        return meta_node(a, TAG_TYPE, v->type);
    if (is(f, "defaultValue"))
        return str_node(a, gql_introspection_default_value(s, a, v->default_value, v->type));
    return common_field(a, f, v->name, v->description, v->deprecated, v->deprecation_reason);
}

static cJSON *directive_field(arena_t *a, const gql_directive_def_t *d,
                              const gql_field_def_t *f, bool dep)
{
    if (is(f, "name"))
        return str_node(a, d->name);
    if (is(f, "description"))
        return str_node(a, d->description);
    if (is(f, "isRepeatable"))
        return bool_node(a, d->repeatable);
    if (is(f, "locations"))
        return locations(a, d);
    if (is(f, "args"))
        return list_node(a, d->args, d->nargs, input_item, keep_input, dep);
    return node(a, cJSON_NULL);
}

int gql_introspection_resolve(const gql_schema_t *s, arena_t *a, const gql_type_t *parent,
                              const gql_field_def_t *field, const cJSON *source,
                              const cJSON *args, const cJSON **out)
{
    (void)parent;
    const void *p = meta_ptr(source);
    bool dep = include_deprecated(args);
    cJSON *v;
    if (!p) {
        v = node(a, cJSON_NULL);
    } else {
        switch ((meta_tag_t)source->valueint) {
        case TAG_SCHEMA: v = schema_field(a, p, field); break;
        case TAG_TYPE: v = type_field(a, p, field, dep); break;
        case TAG_FIELD: v = field_field(a, p, field, dep); break;
        case TAG_INPUT: v = input_field(s, a, p, field); break;
        case TAG_ENUM: {
            const gql_enum_value_def_t *e = p;
            v = common_field(a, field, e->name, e->description, e->deprecated,
                             e->deprecation_reason);
            break;
        }
        case TAG_DIRECTIVE: v = directive_field(a, p, field, dep); break;
        default: v = node(a, cJSON_NULL); break;
        }
    }
    *out = v;
    return v ? 0 : GQL_ENOMEM;
}
