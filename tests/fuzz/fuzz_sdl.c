/* fuzz_sdl.c - libFuzzer target: the SDL reader gql_schema_build
 * (graphql/schema.c) on any bytes, as the gateway reads
 * schema/articles.graphql at start-up.
 *
 * Invariants:
 *   - a refusal has a GQL_E* code (syntax, limit, memory or schema) equal
 *     to err.code, a message, and a place inside the SDL when it has one;
 *   - a built schema is well formed: an object query root (mutation and
 *     subscription objects when present); every named type is found by its
 *     name, and so is every field, argument, input field and directive;
 *     fields have output types, arguments and input fields input types;
 *     objects, interfaces, input objects, unions and enums are not empty;
 *     union members are objects; an interface's possible types are the
 *     objects that list it, and gql_type_is_possible agrees; wrappers are
 *     never NON_NULL of NON_NULL; the type map lists referenced named types;
 *   - printing the parsed SDL (graphql/printer.c) and building the text
 *     again gives the same outcome: the same types, kinds, field counts,
 *     descriptions and directives for a schema, the same message for an
 *     invalid one (not for SDL mixed with executable definitions, see
 *     round_trip);
 *   - the standard introspection query validates and executes against the
 *     schema without errors, and its JSON answer lists the type map. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "execute.h"
#include "json.h"
#include "parser.h"
#include "printer.h"
#include "schema.h"
#include "validate.h"

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (!(cond))                                                                          \
            __builtin_trap();                                                                 \
    } while (0)

/* graphql-js's getIntrospectionQuery(), with descriptions and deprecations. */
static const char introspection_query[] =
    "query IntrospectionQuery { __schema { queryType { name } mutationType { name } "
    "subscriptionType { name } types { ...FullType } directives { name description "
    "isRepeatable locations args(includeDeprecated: true) { ...InputValue } } description } }\n"
    "fragment FullType on __Type { kind name description specifiedByURL "
    "fields(includeDeprecated: true) { name description args(includeDeprecated: true) "
    "{ ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } "
    "inputFields(includeDeprecated: true) { ...InputValue } interfaces { ...TypeRef } "
    "enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } "
    "possibleTypes { ...TypeRef } }\n"
    "fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue "
    "isDeprecated deprecationReason }\n"
    "fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { "
    "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name "
    "} } } } } } } }";

static void check_wrapped(const gql_type_t *t)
{
    CHECK(t);
    while (t->kind == GQL_TYPE_LIST || t->kind == GQL_TYPE_NON_NULL) {
        CHECK(t->of_type && !t->name);
        CHECK(t->kind != GQL_TYPE_NON_NULL || t->of_type->kind != GQL_TYPE_NON_NULL);
        t = t->of_type;
    }
    CHECK(t->name);
}

static void check_inputs(const gql_input_value_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        CHECK(v[i].name && v[i].name[0]);
        check_wrapped(v[i].type);
        CHECK(gql_type_is_input(v[i].type));
        CHECK(!v[i].deprecation_reason || v[i].deprecated);
    }
}

static bool lists(const gql_type_t *const *list, size_t n, const gql_type_t *t)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == t)
            return true;
    return false;
}

static void check_type(const gql_schema_t *s, const gql_type_t *t)
{
    CHECK(t->name && gql_schema_type(s, t->name, strlen(t->name)) == t);
    CHECK(!t->list_of || (t->list_of->kind == GQL_TYPE_LIST && t->list_of->of_type == t));
    CHECK(!t->non_null_of ||
          (t->non_null_of->kind == GQL_TYPE_NON_NULL && t->non_null_of->of_type == t));
    switch (t->kind) {
    case GQL_TYPE_OBJECT:
    case GQL_TYPE_INTERFACE:
        CHECK(t->nfields > 0);
        for (size_t i = 0; i < t->nfields; i++) {
            const gql_field_def_t *f = &t->fields[i];
            CHECK(f->name && gql_type_field(t, f->name, strlen(f->name)) == f);
            check_wrapped(f->type);
            CHECK(gql_type_is_output(f->type));
            check_inputs(f->args, f->nargs);
            for (size_t j = 0; j < f->nargs; j++)
                CHECK(gql_field_arg(f, f->args[j].name, strlen(f->args[j].name)) == &f->args[j]);
        }
        for (size_t i = 0; i < t->ninterfaces; i++) {
            const gql_type_t *in = t->interfaces[i];
            CHECK(in->kind == GQL_TYPE_INTERFACE && in != t);
            CHECK(gql_type_is_possible(in, t));
            if (t->kind == GQL_TYPE_OBJECT)
                CHECK(lists((const gql_type_t *const *)in->possible_types, in->npossible_types,
                            t));
        }
        if (t->kind == GQL_TYPE_INTERFACE)
            for (size_t i = 0; i < t->npossible_types; i++) {
                const gql_type_t *o = t->possible_types[i];
                CHECK(o->kind == GQL_TYPE_OBJECT);
                CHECK(lists((const gql_type_t *const *)o->interfaces, o->ninterfaces, t));
            }
        break;
    case GQL_TYPE_UNION:
        CHECK(t->npossible_types > 0);
        for (size_t i = 0; i < t->npossible_types; i++) {
            CHECK(t->possible_types[i]->kind == GQL_TYPE_OBJECT);
            CHECK(gql_type_is_possible(t, t->possible_types[i]));
        }
        break;
    case GQL_TYPE_ENUM:
        CHECK(t->nenum_values > 0);
        for (size_t i = 0; i < t->nenum_values; i++)
            CHECK(t->enum_values[i].name && t->enum_values[i].name[0]);
        break;
    case GQL_TYPE_INPUT_OBJECT:
        CHECK(t->ninput_fields > 0);
        check_inputs(t->input_fields, t->ninput_fields);
        for (size_t i = 0; i < t->ninput_fields; i++) {
            const char *name = t->input_fields[i].name;
            CHECK(gql_input_field(t, name, strlen(name)) == &t->input_fields[i]);
        }
        break;
    case GQL_TYPE_SCALAR: break;
    default: CHECK(0); /* wrappers are not named types */
    }
}

static void check_schema(const gql_schema_t *s)
{
    CHECK(s->query && s->query->kind == GQL_TYPE_OBJECT);
    CHECK(!s->mutation || s->mutation->kind == GQL_TYPE_OBJECT);
    CHECK(!s->subscription || s->subscription->kind == GQL_TYPE_OBJECT);
    for (size_t i = 0; i < s->ntypes; i++)
        check_type(s, s->types[i]);
    CHECK(s->ntype_map <= s->ntypes);
    for (size_t i = 0; i < s->ntype_map; i++) {
        const gql_type_t *t = s->type_map[i];
        CHECK(t->referenced && gql_schema_type(s, t->name, strlen(t->name)) == t);
    }
    for (size_t i = 0; i < s->ndirectives; i++) {
        const gql_directive_def_t *d = &s->directives[i];
        CHECK(d->name && gql_schema_directive(s, d->name, strlen(d->name)) == d);
        CHECK(d->locations != 0);
        check_inputs(d->args, d->nargs);
    }
}

/* Both built schemas have the same shape. */
static void check_same(const gql_schema_t *a, const gql_schema_t *b)
{
    CHECK(a->ntypes == b->ntypes && a->ntype_map == b->ntype_map &&
          a->ndirectives == b->ndirectives);
    for (size_t i = 0; i < a->ntypes; i++) {
        const gql_type_t *x = a->types[i], *y = b->types[i];
        CHECK(x->kind == y->kind && strcmp(x->name, y->name) == 0);
        CHECK(x->nfields == y->nfields && x->ninput_fields == y->ninput_fields &&
              x->nenum_values == y->nenum_values && x->ninterfaces == y->ninterfaces &&
              x->npossible_types == y->npossible_types);
        CHECK(!x->description == !y->description &&
              (!x->description || strcmp(x->description, y->description) == 0));
    }
    for (size_t i = 0; i < a->ndirectives; i++)
        CHECK(strcmp(a->directives[i].name, b->directives[i].name) == 0 &&
              a->directives[i].locations == b->directives[i].locations);
    CHECK(strcmp(a->query->name, b->query->name) == 0);
}

/* Prints the SDL's AST and builds the text again: the outcome must not change. */
static void round_trip(const uint8_t *data, size_t size, int rc, const gql_schema_t *s,
                       const gql_error_t *err)
{
    arena_t a = {0};
    gql_parse_options_t opt = {.allow_type_system = true};
    gql_document_t *doc;
    gql_error_t perr;
    if (gql_parse((const char *)data, size, &opt, &a, &doc, &perr) != 0) {
        CHECK(rc != 0); /* what does not parse does not build */
        arena_free(&a);
        return;
    }
    /* Not with executable definitions: the printed text of "type Query" followed by the
     * shorthand "{ a }" parses as a field list (so does graphql-js's print), and the SDL reader
     * still checks their directives, so they cannot be left out either. */
    for (uint32_t i = 0; i < doc->definitions.count; i++) {
        gql_kind_t k = doc->definitions.items[i]->kind;
        if (k == GQL_KIND_OPERATION_DEFINITION || k == GQL_KIND_FRAGMENT_DEFINITION) {
            arena_free(&a);
            return;
        }
    }
    buf_t text = {0};
    CHECK(gql_print(&doc->base, &text) == 0);
    gql_schema_t *again = NULL;
    gql_error_t err2;
    int rc2 = gql_schema_build(text.data, text.len, &a, &again, &err2);
    if (rc == 0) {
        CHECK(rc2 == 0);
        check_same(s, again);
    } else if (rc == GQL_ESCHEMA) {
        CHECK(rc2 == GQL_ESCHEMA && strcmp(err->message, err2.message) == 0);
    }
    gql_schema_free(again);
    buf_free(&text);
    arena_free(&a);
}

static void introspect(const gql_schema_t *s)
{
    arena_t a = {0};
    gql_document_t *doc;
    gql_error_t err;
    CHECK(gql_parse(introspection_query, sizeof introspection_query - 1, NULL, &a, &doc, &err) ==
          0);
    gql_validate_options_t vopt = {0};
    gql_validation_result_t vres;
    CHECK(gql_validate(s, doc, &vopt, &a, &vres) == 0 && vres.nerrors == 0);
    gql_exec_options_t eopt = {.allow_introspection = true};
    gql_exec_result_t res;
    buf_t out = {0};
    CHECK(gql_execute(s, doc, NULL, NULL, &eopt, &a, &out, &res) == 0);
    CHECK(res.nerrors == 0 && !res.data_null && !res.request_error && !out.failed);
    json_error_t jerr;
    cJSON *json = json_parse(out.data, out.len, &jerr);
    CHECK(json);
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(json, "data"),
                                         "__schema"),
        "types");
    CHECK(cJSON_IsArray(types) && (size_t)cJSON_GetArraySize(types) == s->ntype_map);
    cJSON_Delete(json);
    buf_free(&out);
    arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t err_arena = {0};
    gql_schema_t *s = NULL;
    gql_error_t err;
    int rc = gql_schema_build((const char *)data, size, &err_arena, &s, &err);
    if (rc == 0) {
        CHECK(s && err.code == 0);
        check_schema(s);
        introspect(s);
    } else {
        CHECK(!s && err.code == rc && err.message && err.message[0]);
        CHECK(rc == GQL_ESYNTAX || rc == GQL_ELIMIT || rc == GQL_ENOMEM || rc == GQL_ESCHEMA);
        CHECK(err.line == 0 || (err.column > 0 && err.offset <= size));
    }
    round_trip(data, size, rc, s, &err);
    gql_schema_free(s);
    arena_free(&err_arena);
    return 0;
}
