/* test_gql_schema.c - unit tests of the GraphQL schema model (graphql/schema.c): the project's
 * schema (schema/articles.graphql) field by field, the built-in scalars, directives and
 * introspection types, meta-fields, extensions, deprecation, lookups, type references from
 * ASTs, subtyping, graphql-js's type map order, and every SDL error with the message and
 * location graphql-js 16 gives (checked against graphql-js 16.8, first location of each). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* needs the four headers above included first */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "parser.h"
#include "printer.h"
#include "schema.h"

static arena_t arena; /* the test's own allocations: printed types and values, messages */

static int setup(void **state)
{
    (void)state;
    arena_init(&arena, 0, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(&arena);
    return 0;
}

/* ---- helpers ---- */

static gql_schema_t *build_n(const char *sdl, size_t len)
{
    gql_schema_t *s = (gql_schema_t *)&s;
    gql_error_t err = {.code = 1};
    if (gql_schema_build(sdl, len, &arena, &s, &err) != 0)
        fail_msg("schema: %s (%u:%u)", err.message, err.line, err.column);
    assert_int_equal(err.code, 0);
    assert_non_null(s);
    return s;
}

static gql_schema_t *build(const char *sdl)
{
    return build_n(sdl, strlen(sdl));
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    buf_t b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    *len = b.len;
    return buf_detach(&b);
}

/* The project's schema, read from the repository (the tests run from its root). */
static gql_schema_t *build_articles(void)
{
    size_t len = 0;
    char *sdl = read_file("schema/articles.graphql", &len);
    if (!sdl)
        fail_msg("cannot read schema/articles.graphql: run from the repository root");
    gql_schema_t *s = build_n(sdl, len);
    free(sdl);
    return s;
}

static void check_error_code(const char *sdl, int code, const char *message, uint32_t line,
                             uint32_t column)
{
    gql_schema_t *s = (gql_schema_t *)&s;
    gql_error_t err;
    int rc = gql_schema_build(sdl, strlen(sdl), &arena, &s, &err);
    if (rc == 0)
        fail_msg("no error building \"%s\"", sdl);
    assert_null(s);
    assert_int_equal(rc, code);
    assert_int_equal(err.code, code);
    assert_non_null(err.message);
    if (strcmp(err.message, message) != 0)
        fail_msg("building \"%s\":\n got  %s\n want %s", sdl, err.message, message);
    if (err.line != line || err.column != column)
        fail_msg("%s at %u:%u, expected %u:%u", message, err.line, err.column, line, column);
}

static void check_error(const char *sdl, const char *message, uint32_t line, uint32_t column)
{
    check_error_code(sdl, GQL_ESCHEMA, message, line, column);
}

/* A type as SDL writes it, in the test arena. */
static const char *tstr(const gql_type_t *t)
{
    size_t n = gql_type_print(t, NULL, 0);
    char *s = arena_alloc(&arena, n + 1);
    assert_non_null(s);
    assert_int_equal(gql_type_print(t, s, n + 1), n);
    return s;
}

static const char *print_value(const gql_node_t *v)
{
    buf_t b = {0};
    assert_int_equal(gql_print(v, &b), 0);
    char *s = arena_strndup(&arena, b.data ? b.data : "", b.len);
    buf_free(&b);
    return s;
}

/* "name(arg: Type = default, ...): Type", the way the expectations below are written. */
static const char *field_sig(const gql_field_def_t *f)
{
    buf_t b = {0};
    buf_puts(&b, f->name);
    for (size_t i = 0; i < f->nargs; i++) {
        const gql_input_value_t *a = &f->args[i];
        buf_printf(&b, "%s%s: %s", i ? ", " : "(", a->name, tstr(a->type));
        if (a->default_value)
            buf_printf(&b, " = %s", print_value(a->default_value));
    }
    buf_printf(&b, "%s: %s", f->nargs ? ")" : "", tstr(f->type));
    assert_false(b.failed);
    char *s = arena_strndup(&arena, b.data, b.len);
    buf_free(&b);
    return s;
}

static gql_type_t *type_of(const gql_schema_t *s, const char *name)
{
    gql_type_t *t = gql_schema_type(s, name, strlen(name));
    if (!t)
        fail_msg("no type %s", name);
    assert_string_equal(t->name, name);
    return t;
}

static const gql_field_def_t *field_of(const gql_type_t *t, const char *name)
{
    const gql_field_def_t *f = gql_type_field(t, name, strlen(name));
    if (!f)
        fail_msg("no field %s.%s", t->name, name);
    assert_string_equal(f->name, name);
    return f;
}

/* The fields of t are exactly sigs, in order. */
static void check_fields(const gql_type_t *t, const char *const *sigs, size_t n)
{
    if (t->nfields != n)
        fail_msg("%s has %zu fields, expected %zu", t->name, t->nfields, n);
    for (size_t i = 0; i < n; i++) {
        const char *got = field_sig(&t->fields[i]);
        if (strcmp(got, sigs[i]) != 0)
            fail_msg("%s field %zu: %s, expected %s", t->name, i, got, sigs[i]);
        assert_ptr_equal(field_of(t, t->fields[i].name), &t->fields[i]);
    }
}
#define CHECK_FIELDS(t, ...)                                                                       \
    do {                                                                                           \
        static const char *const sigs_[] = {__VA_ARGS__};                                          \
        check_fields(t, sigs_, sizeof sigs_ / sizeof sigs_[0]);                                    \
    } while (0)

static void check_input_field(const gql_type_t *t, size_t i, const char *name, const char *type,
                              const char *def)
{
    assert_true(i < t->ninput_fields);
    const gql_input_value_t *v = &t->input_fields[i];
    assert_string_equal(v->name, name);
    assert_string_equal(tstr(v->type), type);
    if (def)
        assert_string_equal(print_value(v->default_value), def);
    else
        assert_null(v->default_value);
    assert_ptr_equal(gql_input_field(t, name, strlen(name)), v);
}

static void check_enum_values(const gql_type_t *t, const char *const *names, size_t n)
{
    assert_int_equal(t->kind, GQL_TYPE_ENUM);
    assert_int_equal(t->nenum_values, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(t->enum_values[i].name, names[i]);
}
#define CHECK_ENUM(t, ...)                                                                         \
    do {                                                                                           \
        static const char *const names_[] = {__VA_ARGS__};                                         \
        check_enum_values(t, names_, sizeof names_ / sizeof names_[0]);                            \
    } while (0)

/* The names of a list of types, space-separated. */
static const char *type_names(gql_type_t *const *types, size_t n)
{
    buf_t b = {0};
    for (size_t i = 0; i < n; i++)
        buf_printf(&b, "%s%s", i ? " " : "", types[i]->name);
    char *s = arena_strndup(&arena, b.data ? b.data : "", b.len);
    buf_free(&b);
    return s;
}

static gql_node_t *parse_type(const char *src)
{
    gql_node_t *n = NULL;
    gql_error_t err;
    if (gql_parse_type(src, strlen(src), NULL, &arena, &n, &err) != 0)
        fail_msg("parse type %s: %s", src, err.message);
    return n;
}

/* ---- the project's schema ---- */

static void test_articles_roots_and_types(void **state)
{
    (void)state;
    gql_schema_t *s = build_articles();
    assert_string_equal(s->query->name, "Query");
    assert_string_equal(s->mutation->name, "Mutation");
    assert_null(s->subscription);
    assert_null(s->description);
    assert_ptr_equal(s->query, type_of(s, "Query"));
    /* The SDL's types in SDL order, then every built-in. */
    assert_string_equal(type_names(s->types, s->ntypes),
                        "Article CreateArticleInput UpdateArticleInput Query Mutation "
                        "String Int Float Boolean ID __Schema __Type __TypeKind __Field "
                        "__InputValue __EnumValue __Directive __DirectiveLocation");
    /* graphql-js's getTypeMap() of the same SDL: no Float, built-ins where first used. */
    assert_string_equal(type_names(s->type_map, s->ntype_map),
                        "Article ID String CreateArticleInput UpdateArticleInput Query Int "
                        "Mutation Boolean __Schema __Type __TypeKind __Field __InputValue "
                        "__EnumValue __Directive __DirectiveLocation");
    assert_false(type_of(s, "Float")->referenced);
    assert_true(type_of(s, "Int")->referenced);
    assert_true(type_of(s, "Article")->referenced);
    gql_schema_free(s);
}

static void test_articles_fields(void **state)
{
    (void)state;
    gql_schema_t *s = build_articles();
    gql_type_t *article = type_of(s, "Article");
    assert_int_equal(article->kind, GQL_TYPE_OBJECT);
    assert_string_equal(article->description,
                        "An article of the platform, as the REST core stores it.");
    assert_int_equal(article->ninterfaces, 0);
    CHECK_FIELDS(article, "id: ID!", "title: String!", "content: String!", "author: String",
                 "createdAt: String!", "updatedAt: String!");
    assert_null(field_of(article, "id")->description);
    assert_string_equal(field_of(article, "createdAt")->description,
                        "RFC 3339 UTC time of creation, set by the server.");
    assert_string_equal(field_of(article, "updatedAt")->description,
                        "RFC 3339 UTC time of the last change, set by the server.");

    gql_type_t *query = s->query;
    assert_null(query->description);
    CHECK_FIELDS(query,
                 "getArticles(limit: Int = 20, offset: Int = 0, author: String, search: String): "
                 "[Article!]!",
                 "getArticle(id: ID!): Article");
    assert_string_equal(field_of(query, "getArticles")->description,
                        "A page of articles, newest ids last; `author` filters exactly, `search` "
                        "is a case-insensitive substring of the title.");
    assert_string_equal(field_of(query, "getArticle")->description,
                        "The article with this id, or null when there is none.");
    const gql_field_def_t *list = field_of(query, "getArticles");
    const gql_input_value_t *limit = gql_field_arg(list, "limit", 5);
    assert_ptr_equal(limit, &list->args[0]);
    assert_int_equal(limit->default_value->kind, GQL_KIND_INT_VALUE);
    assert_null(limit->description);
    assert_false(limit->deprecated);
    assert_null(gql_field_arg(list, "limits", 6));

    CHECK_FIELDS(s->mutation, "createArticle(input: CreateArticleInput!): Article!",
                 "updateArticle(id: ID!, input: UpdateArticleInput!): Article",
                 "deleteArticle(id: ID!): Boolean!");
    assert_null(field_of(s->mutation, "createArticle")->description);
    assert_string_equal(field_of(s->mutation, "updateArticle")->description,
                        "Changes only the fields given; null when no article has this id.");
    assert_string_equal(field_of(s->mutation, "deleteArticle")->description,
                        "False when no article has this id.");
    gql_schema_free(s);
}

static void test_articles_inputs(void **state)
{
    (void)state;
    gql_schema_t *s = build_articles();
    gql_type_t *create = type_of(s, "CreateArticleInput");
    assert_int_equal(create->kind, GQL_TYPE_INPUT_OBJECT);
    assert_int_equal(create->ninput_fields, 3);
    assert_int_equal(create->nfields, 0);
    check_input_field(create, 0, "title", "String!", NULL);
    check_input_field(create, 1, "content", "String", NULL);
    check_input_field(create, 2, "author", "String", NULL);
    gql_type_t *update = type_of(s, "UpdateArticleInput");
    assert_int_equal(update->ninput_fields, 3);
    check_input_field(update, 0, "title", "String", NULL);
    check_input_field(update, 1, "content", "String", NULL);
    check_input_field(update, 2, "author", "String", NULL);
    assert_null(gql_input_field(update, "id", 2));
    assert_null(gql_type_field(update, "title", 5)); /* input fields are not fields */
    gql_schema_free(s);
}

/* Wrappers the SDL uses are made once and shared. */
static void test_articles_wrappers_interned(void **state)
{
    (void)state;
    gql_schema_t *s = build_articles();
    gql_type_t *string = type_of(s, "String"), *article = type_of(s, "Article");
    gql_type_t *nn = string->non_null_of;
    assert_non_null(nn);
    assert_int_equal(nn->kind, GQL_TYPE_NON_NULL);
    assert_ptr_equal(nn->of_type, string);
    assert_ptr_equal(field_of(article, "title")->type, nn);
    assert_ptr_equal(field_of(article, "content")->type, nn);
    const gql_type_t *list = field_of(s->query, "getArticles")->type; /* [Article!]! */
    assert_ptr_equal(list, article->non_null_of->list_of->non_null_of);
    assert_null(list->name);
    assert_null(article->list_of); /* [Article] is not used */
    gql_schema_free(s);
}

/* ---- built-ins ---- */

static void test_builtin_scalars(void **state)
{
    (void)state;
    gql_schema_t *s = build("type Query { a: Int }");
    static const char *const scalars[] = {"String", "Int", "Float", "Boolean", "ID"};
    for (size_t i = 0; i < 5; i++) {
        gql_type_t *t = type_of(s, scalars[i]);
        assert_int_equal(t->kind, GQL_TYPE_SCALAR);
        assert_non_null(t->description);
        assert_null(t->specified_by_url);
        assert_ptr_equal(s->types[1 + i], t); /* right after the SDL's one type */
    }
    assert_string_equal(type_of(s, "Boolean")->description,
                        "The `Boolean` scalar type represents `true` or `false`.");
    assert_string_equal(type_of(s, "Int")->description,
                        "The `Int` scalar type represents non-fractional signed whole numeric "
                        "values. Int can represent values between -(2^31) and 2^31 - 1.");
    assert_false(type_of(s, "Float")->referenced);
    assert_false(type_of(s, "ID")->referenced);
    assert_true(type_of(s, "String")->referenced); /* introspection uses String and Boolean */
    assert_true(type_of(s, "Boolean")->referenced);
    gql_schema_free(s);
}

static void test_builtin_directives(void **state)
{
    (void)state;
    gql_schema_t *s = build("type Query { a: Int }\n"
                            "\"\"\"mine\"\"\" directive @mine(x: [Int] = [1]) repeatable on "
                            "QUERY | INPUT_FIELD_DEFINITION");
    assert_int_equal(s->ndirectives, 5);
    static const char *const names[] = {"mine", "include", "skip", "deprecated", "specifiedBy"};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(s->directives[i].name, names[i]);
        assert_ptr_equal(gql_schema_directive(s, names[i], strlen(names[i])), &s->directives[i]);
        assert_int_equal(s->directives[i].repeatable, i == 0);
    }
    const gql_directive_def_t *mine = &s->directives[0];
    assert_string_equal(mine->description, "mine");
    assert_int_equal(mine->locations, GQL_DL_QUERY | GQL_DL_INPUT_FIELD_DEFINITION);
    assert_int_equal(mine->nargs, 1);
    assert_string_equal(tstr(mine->args[0].type), "[Int]");
    assert_string_equal(print_value(mine->args[0].default_value), "[1]");

    const gql_directive_def_t *inc = gql_schema_directive(s, "include", 7);
    assert_int_equal(inc->locations,
                     GQL_DL_FIELD | GQL_DL_FRAGMENT_SPREAD | GQL_DL_INLINE_FRAGMENT);
    assert_string_equal(inc->description, "Directs the executor to include this field or fragment "
                                          "only when the `if` argument is true.");
    assert_int_equal(inc->nargs, 1);
    assert_string_equal(inc->args[0].name, "if");
    assert_string_equal(tstr(inc->args[0].type), "Boolean!");
    assert_string_equal(inc->args[0].description, "Included when true.");
    const gql_directive_def_t *skip = gql_schema_directive(s, "skip", 4);
    assert_int_equal(skip->locations, inc->locations);
    assert_string_equal(tstr(skip->args[0].type), "Boolean!");
    assert_string_equal(skip->args[0].description, "Skipped when true.");

    const gql_directive_def_t *dep = gql_schema_directive(s, "deprecated", 10);
    assert_int_equal(dep->locations, GQL_DL_FIELD_DEFINITION | GQL_DL_ARGUMENT_DEFINITION |
                                         GQL_DL_INPUT_FIELD_DEFINITION | GQL_DL_ENUM_VALUE);
    assert_string_equal(dep->description,
                        "Marks an element of a GraphQL schema as no longer supported.");
    assert_int_equal(dep->nargs, 1);
    assert_string_equal(dep->args[0].name, "reason");
    assert_string_equal(tstr(dep->args[0].type), "String");
    assert_string_equal(print_value(dep->args[0].default_value), "\"No longer supported\"");
    assert_non_null(strstr(dep->args[0].description, "[CommonMark](https://commonmark.org/)."));

    const gql_directive_def_t *by = gql_schema_directive(s, "specifiedBy", 11);
    assert_int_equal(by->locations, GQL_DL_SCALAR);
    assert_string_equal(tstr(by->args[0].type), "String!");
    assert_null(gql_schema_directive(s, "oneOf", 5)); /* October 2021 has no @oneOf */
    assert_null(gql_schema_directive(s, "includ", 6));
    assert_null(gql_schema_directive(s, "@skip", 5));
    gql_schema_free(s);
}

static void test_introspection_types(void **state)
{
    (void)state;
    gql_schema_t *s = build("type Query { a: Int }");
    gql_type_t *schema = type_of(s, "__Schema");
    assert_non_null(strstr(schema->description, "A GraphQL Schema defines the capabilities"));
    CHECK_FIELDS(schema, "description: String", "types: [__Type!]!", "queryType: __Type!",
                 "mutationType: __Type", "subscriptionType: __Type", "directives: [__Directive!]!");
    assert_string_equal(field_of(schema, "types")->description,
                        "A list of all types supported by this server.");
    CHECK_FIELDS(type_of(s, "__Type"), "kind: __TypeKind!", "name: String", "description: String",
                 "specifiedByURL: String", "fields(includeDeprecated: Boolean = false): [__Field!]",
                 "interfaces: [__Type!]", "possibleTypes: [__Type!]",
                 "enumValues(includeDeprecated: Boolean = false): [__EnumValue!]",
                 "inputFields(includeDeprecated: Boolean = false): [__InputValue!]",
                 "ofType: __Type");
    CHECK_FIELDS(type_of(s, "__Field"), "name: String!", "description: String",
                 "args(includeDeprecated: Boolean = false): [__InputValue!]!", "type: __Type!",
                 "isDeprecated: Boolean!", "deprecationReason: String");
    CHECK_FIELDS(type_of(s, "__InputValue"), "name: String!", "description: String",
                 "type: __Type!", "defaultValue: String", "isDeprecated: Boolean!",
                 "deprecationReason: String");
    CHECK_FIELDS(type_of(s, "__EnumValue"), "name: String!", "description: String",
                 "isDeprecated: Boolean!", "deprecationReason: String");
    CHECK_FIELDS(type_of(s, "__Directive"), "name: String!", "description: String",
                 "isRepeatable: Boolean!", "locations: [__DirectiveLocation!]!",
                 "args(includeDeprecated: Boolean = false): [__InputValue!]!");
    CHECK_ENUM(type_of(s, "__TypeKind"), "SCALAR", "OBJECT", "INTERFACE", "UNION", "ENUM",
               "INPUT_OBJECT", "LIST", "NON_NULL");
    assert_string_equal(type_of(s, "__TypeKind")->enum_values[0].description,
                        "Indicates this type is a scalar.");
    gql_type_t *loc = type_of(s, "__DirectiveLocation");
    CHECK_ENUM(loc, "QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION",
               "FRAGMENT_SPREAD", "INLINE_FRAGMENT", "VARIABLE_DEFINITION", "SCHEMA", "SCALAR",
               "OBJECT", "FIELD_DEFINITION", "ARGUMENT_DEFINITION", "INTERFACE", "UNION", "ENUM",
               "ENUM_VALUE", "INPUT_OBJECT", "INPUT_FIELD_DEFINITION");
    /* Every type of the list comes after the SDL's and is in graphql-js's type map. */
    assert_string_equal(type_names(s->type_map, s->ntype_map),
                        "Query Int Boolean String __Schema __Type __TypeKind __Field "
                        "__InputValue __EnumValue __Directive __DirectiveLocation");
    assert_null(gql_type_field(type_of(s, "__Type"), "isOneOf", 7));
    gql_schema_free(s);
}

static void test_meta_fields(void **state)
{
    (void)state;
    gql_schema_t *s = build("type Query { a: I u: U }\n"
                            "type Mutation { a: Int }\n"
                            "interface I { a: Int }\n"
                            "type O implements I { a: Int }\n"
                            "union U = O\n"
                            "enum E { A }");
    const gql_type_t *query = s->query;
    const gql_field_def_t *tn = gql_schema_meta_field(s, query, "__typename", 10);
    assert_non_null(tn);
    assert_string_equal(tn->name, "__typename");
    assert_string_equal(tstr(tn->type), "String!");
    assert_ptr_equal(tn->type, type_of(s, "String")->non_null_of);
    assert_int_equal(tn->nargs, 0);
    assert_string_equal(tn->description, "The name of the current Object type at runtime.");
    static const char *const composite[] = {"Mutation", "I", "O", "U"};
    for (size_t i = 0; i < 4; i++) {
        const gql_type_t *t = type_of(s, composite[i]);
        assert_ptr_equal(gql_schema_meta_field(s, t, "__typename", 10), tn);
        assert_null(gql_schema_meta_field(s, t, "__schema", 8));
        assert_null(gql_schema_meta_field(s, t, "__type", 6));
    }
    assert_null(gql_schema_meta_field(s, type_of(s, "E"), "__typename", 10));
    assert_null(gql_schema_meta_field(s, type_of(s, "Int"), "__typename", 10));

    const gql_field_def_t *sf = gql_schema_meta_field(s, query, "__schema", 8);
    assert_non_null(sf);
    assert_string_equal(field_sig(sf), "__schema: __Schema!");
    assert_ptr_equal(sf->type->of_type, type_of(s, "__Schema"));
    assert_string_equal(sf->description, "Access the current type schema of this server.");
    const gql_field_def_t *tf = gql_schema_meta_field(s, query, "__type", 6);
    assert_non_null(tf);
    assert_string_equal(field_sig(tf), "__type(name: String!): __Type");
    assert_ptr_equal(tf->type, type_of(s, "__Type"));
    assert_ptr_equal(gql_field_arg(tf, "name", 4), &tf->args[0]);
    assert_string_equal(tf->description, "Request the type information of a single type.");

    assert_null(gql_schema_meta_field(s, query, "__typenam", 9));
    assert_null(gql_schema_meta_field(s, query, "__typename_", 11));
    assert_null(gql_schema_meta_field(s, query, "a", 1));
    /* not fields of any type */
    assert_null(gql_type_field(query, "__typename", 10));
    assert_null(gql_type_field(query, "__schema", 8));
    gql_schema_free(s);
}

/* ---- extensions, deprecation, descriptions, roots ---- */

static void test_extensions(void **state)
{
    (void)state;
    gql_schema_t *s = build("extend type Query implements Node { b(x: Int = 1): String }\n"
                            "type Query { a: Int }\n"
                            "interface Node { id: ID }\n"
                            "extend type Query { id: ID }\n"
                            "interface Named { name: String }\n"
                            "type A implements Node { id: ID }\n"
                            "type B { id: ID name: String }\n"
                            "extend type B implements Node & Named\n"
                            "union U = A\n"
                            "extend union U = B | Query\n"
                            "enum E { X }\n"
                            "extend enum E { Y Z }\n"
                            "input In { a: Int }\n"
                            "extend input In { b: E = Y }\n"
                            "scalar S\n"
                            "extend scalar S @specifiedBy(url: \"https://example.com\")\n"
                            "type Mutation { m: Int }\n"
                            "extend schema @deprecated_free { mutation: Mutation }\n"
                            "directive @deprecated_free on SCHEMA\n");
    gql_type_t *q = s->query;
    CHECK_FIELDS(q, "a: Int", "b(x: Int = 1): String", "id: ID");
    assert_string_equal(type_names(q->interfaces, q->ninterfaces), "Node");
    gql_type_t *b = type_of(s, "B");
    assert_string_equal(type_names(b->interfaces, b->ninterfaces), "Node Named");
    gql_type_t *node = type_of(s, "Node");
    assert_string_equal(type_names(node->possible_types, node->npossible_types), "Query A B");
    gql_type_t *named = type_of(s, "Named");
    assert_string_equal(type_names(named->possible_types, named->npossible_types), "B");
    gql_type_t *u = type_of(s, "U");
    assert_string_equal(type_names(u->possible_types, u->npossible_types), "A B Query");
    CHECK_ENUM(type_of(s, "E"), "X", "Y", "Z");
    gql_type_t *in = type_of(s, "In");
    assert_int_equal(in->ninput_fields, 2);
    check_input_field(in, 1, "b", "E", "Y");
    /* graphql-js reads @specifiedBy on the definition only */
    assert_null(type_of(s, "S")->specified_by_url);
    /* without a schema definition the default names win, extensions add nothing */
    assert_ptr_equal(s->mutation, type_of(s, "Mutation"));
    /* SDL order of definitions, extensions do not count */
    assert_string_equal(type_names(s->types, 9), "Query Node Named A B U E In S");
    gql_schema_free(s);
}

static void test_schema_definition_and_extension(void **state)
{
    (void)state;
    gql_schema_t *s = build("\"The articles API.\"\n"
                            "schema { query: Root }\n"
                            "extend schema { mutation: Change subscription: Feed }\n"
                            "type Root { a: Int }\n"
                            "type Change { a: Int }\n"
                            "type Feed { a: Int }\n"
                            "type Query { notTheRoot: Int }");
    assert_string_equal(s->description, "The articles API.");
    assert_ptr_equal(s->query, type_of(s, "Root"));
    assert_ptr_equal(s->mutation, type_of(s, "Change"));
    assert_ptr_equal(s->subscription, type_of(s, "Feed"));
    assert_non_null(gql_schema_meta_field(s, s->query, "__schema", 8));
    assert_null(gql_schema_meta_field(s, type_of(s, "Query"), "__schema", 8));
    gql_schema_free(s);

    s = build("type Query { a: Int } type Subscription { b: Int }");
    assert_null(s->mutation);
    assert_ptr_equal(s->subscription, type_of(s, "Subscription"));
    gql_schema_free(s);
}

static void test_deprecation(void **state)
{
    (void)state;
    gql_schema_t *s = build("type Query {\n"
                            "  a: Int @deprecated\n"
                            "  b: Int @deprecated(reason: \"use a\")\n"
                            "  c(x: Int @deprecated(reason: \"\"\"gone\"\"\"), y: Int): Int\n"
                            "  d: Int @deprecated(reason: null)\n"
                            "  e: Int\n"
                            "}\n"
                            "enum E { OLD @deprecated NEW }\n"
                            "input In { old: Int @deprecated(reason: \"r\") new: Int! }\n"
                            "scalar Url @specifiedBy(url: \"https://url.spec.whatwg.org/\")\n");
    const gql_type_t *q = s->query;
    assert_true(field_of(q, "a")->deprecated);
    assert_string_equal(field_of(q, "a")->deprecation_reason, "No longer supported");
    assert_true(field_of(q, "b")->deprecated);
    assert_string_equal(field_of(q, "b")->deprecation_reason, "use a");
    const gql_field_def_t *c = field_of(q, "c");
    assert_false(c->deprecated);
    assert_null(c->deprecation_reason);
    assert_true(c->args[0].deprecated);
    assert_string_equal(c->args[0].deprecation_reason, "gone");
    assert_false(c->args[1].deprecated);
    assert_null(c->args[1].deprecation_reason);
    /* graphql-js: an explicit null reason is no deprecation */
    assert_false(field_of(q, "d")->deprecated);
    assert_null(field_of(q, "d")->deprecation_reason);
    assert_false(field_of(q, "e")->deprecated);
    const gql_type_t *e = type_of(s, "E");
    assert_true(e->enum_values[0].deprecated);
    assert_string_equal(e->enum_values[0].deprecation_reason, "No longer supported");
    assert_false(e->enum_values[1].deprecated);
    assert_null(e->enum_values[1].deprecation_reason);
    const gql_type_t *in = type_of(s, "In");
    assert_true(in->input_fields[0].deprecated);
    assert_string_equal(in->input_fields[0].deprecation_reason, "r");
    assert_false(in->input_fields[1].deprecated);
    assert_string_equal(type_of(s, "Url")->specified_by_url, "https://url.spec.whatwg.org/");
    assert_true(type_of(s, "Url")->referenced);
    gql_schema_free(s);
}

static void test_descriptions(void **state)
{
    (void)state;
    gql_schema_t *s = build("\"\"\"\n"
                            "  Block\n"
                            "    indented\n"
                            "\"\"\"\n"
                            "type Query {\n"
                            "  \"plain \\u00e9\\n\" a(\"arg\" x: Int): Int\n"
                            "  \"\" b: Int\n"
                            "}\n"
                            "\"enum\" enum E { \"value\" V }\n"
                            "\"input\" input In { \"field\" f: Int }\n"
                            "\"scalar\" scalar S\n"
                            "\"union\" union U = Query\n"
                            "\"iface\" interface I { a: Int }");
    assert_string_equal(s->query->description, "Block\n  indented");
    assert_string_equal(field_of(s->query, "a")->description, "plain \xc3\xa9\n");
    assert_string_equal(field_of(s->query, "a")->args[0].description, "arg");
    assert_string_equal(field_of(s->query, "b")->description, ""); /* empty, not none */
    assert_string_equal(type_of(s, "E")->description, "enum");
    assert_string_equal(type_of(s, "E")->enum_values[0].description, "value");
    assert_string_equal(type_of(s, "In")->description, "input");
    assert_string_equal(type_of(s, "In")->input_fields[0].description, "field");
    assert_string_equal(type_of(s, "S")->description, "scalar");
    assert_string_equal(type_of(s, "U")->description, "union");
    assert_string_equal(type_of(s, "I")->description, "iface");
    assert_null(s->description);
    gql_schema_free(s);
}

/* Kinds, and the members each kind has. */
static void test_type_kinds(void **state)
{
    (void)state;
    gql_schema_t *s = build("type Query { a: I }\n"
                            "interface I implements J { a: Int b: Int }\n"
                            "interface J { a: Int }\n"
                            "type O implements I & J { a: Int b: Int c: [[O!]] }\n"
                            "union U = O\n"
                            "enum E { A }\n"
                            "input In { a: [In] }\n"
                            "scalar S");
    assert_int_equal(type_of(s, "I")->kind, GQL_TYPE_INTERFACE);
    assert_string_equal(type_names(type_of(s, "I")->interfaces, 1), "J");
    /* possible types of an interface are object types, not interfaces implementing it */
    gql_type_t *j = type_of(s, "J");
    assert_string_equal(type_names(j->possible_types, j->npossible_types), "O");
    assert_string_equal(tstr(field_of(type_of(s, "O"), "c")->type), "[[O!]]");
    assert_int_equal(type_of(s, "U")->kind, GQL_TYPE_UNION);
    assert_int_equal(type_of(s, "E")->kind, GQL_TYPE_ENUM);
    assert_int_equal(type_of(s, "In")->kind, GQL_TYPE_INPUT_OBJECT);
    assert_int_equal(type_of(s, "S")->kind, GQL_TYPE_SCALAR);
    assert_null(gql_type_field(type_of(s, "U"), "a", 1));
    assert_null(gql_input_field(type_of(s, "O"), "a", 1));
    gql_schema_free(s);
}

/* ---- lookups ---- */

static void test_lookups(void **state)
{
    (void)state;
    gql_schema_t *s = build_articles();
    /* names carry a length: no NUL needed, and prefixes are not matches */
    const char *text = "ArticleX";
    assert_ptr_equal(gql_schema_type(s, text, 7), type_of(s, "Article"));
    assert_null(gql_schema_type(s, text, 8));
    assert_null(gql_schema_type(s, text, 6));
    assert_null(gql_schema_type(s, "", 0));
    assert_null(gql_schema_type(s, "article", 7));
    assert_ptr_equal(gql_schema_type(s, "__Type", 6), type_of(s, "__Type"));
    assert_ptr_equal(gql_schema_type(s, "Float", 5)->kind, GQL_TYPE_SCALAR); /* unreferenced */
    assert_ptr_equal(gql_schema_directive(s, "skipX", 4), &s->directives[1]);
    assert_null(gql_schema_directive(s, "Skip", 4));
    const gql_type_t *a = type_of(s, "Article");
    assert_ptr_equal(gql_type_field(a, "titleX", 5), &a->fields[1]);
    assert_null(gql_type_field(a, "titl", 4));
    assert_null(gql_type_field(NULL, "a", 1));
    assert_null(gql_type_field(a->non_null_of, "title", 5)); /* wrappers have no fields */
    assert_null(gql_field_arg(NULL, "a", 1));
    assert_null(gql_input_field(NULL, "a", 1));
    /* every named type is found under its name */
    for (size_t i = 0; i < s->ntypes; i++)
        assert_ptr_equal(gql_schema_type(s, s->types[i]->name, strlen(s->types[i]->name)),
                         s->types[i]);
    gql_schema_free(s);
}

/* Types with many fields are looked up through a hash index; every field must be found. */
static void test_lookups_many_fields(void **state)
{
    (void)state;
    buf_t sdl = {0};
    buf_puts(&sdl, "type Query {");
    for (int i = 0; i < 300; i++)
        buf_printf(&sdl, " f%d(a%d: Int, b: String): Int", i, i);
    buf_puts(&sdl, " }\ninput Big {");
    for (int i = 0; i < 100; i++)
        buf_printf(&sdl, " i%d: Int = %d", i, i);
    buf_puts(&sdl, " }\nenum Many {");
    for (int i = 0; i < 100; i++)
        buf_printf(&sdl, " V%d", i);
    buf_puts(&sdl, " }\ntype Small { x: Int y: Int }\n");
    assert_false(sdl.failed);
    gql_schema_t *s = build_n(sdl.data, sdl.len);
    buf_free(&sdl);
    char name[32];
    for (int i = 0; i < 300; i++) {
        int n = snprintf(name, sizeof name, "f%d", i);
        const gql_field_def_t *f = gql_type_field(s->query, name, (size_t)n);
        assert_ptr_equal(f, &s->query->fields[i]);
        n = snprintf(name, sizeof name, "a%d", i);
        assert_ptr_equal(gql_field_arg(f, name, (size_t)n), &f->args[0]);
        assert_ptr_equal(gql_field_arg(f, "b", 1), &f->args[1]);
    }
    assert_null(gql_type_field(s->query, "f300", 4));
    assert_null(gql_type_field(s->query, "f", 1));
    const gql_type_t *big = type_of(s, "Big");
    for (int i = 0; i < 100; i++) {
        int n = snprintf(name, sizeof name, "i%d", i);
        assert_ptr_equal(gql_input_field(big, name, (size_t)n), &big->input_fields[i]);
    }
    assert_null(gql_input_field(big, "i100", 4));
    assert_int_equal(type_of(s, "Many")->nenum_values, 100);
    const gql_type_t *small = type_of(s, "Small");
    assert_ptr_equal(gql_type_field(small, "y", 1), &small->fields[1]);
    assert_null(gql_type_field(small, "z", 1));
    gql_schema_free(s);
}

/* ---- types from ASTs, relations, printing ---- */

static void test_type_from_ast(void **state)
{
    (void)state;
    gql_schema_t *s = build_articles();
    arena_t req = {0};
    gql_type_t *article = type_of(s, "Article");
    assert_ptr_equal(gql_schema_type_from_ast(s, parse_type("Article"), &req), article);
    size_t before = req.allocated;
    /* [Article!]! is in the schema: the same objects, nothing allocated */
    gql_type_t *t = gql_schema_type_from_ast(s, parse_type("[Article!]!"), &req);
    assert_ptr_equal(t, field_of(s->query, "getArticles")->type);
    assert_ptr_equal(gql_schema_type_from_ast(s, parse_type("String!"), &req),
                     type_of(s, "String")->non_null_of);
    assert_int_equal(req.allocated, before);
    /* [Article] is not: made in the request's arena, around the schema's Article */
    gql_type_t *list = gql_schema_type_from_ast(s, parse_type("[Article]"), &req);
    assert_non_null(list);
    assert_true(req.allocated > before);
    assert_int_equal(list->kind, GQL_TYPE_LIST);
    assert_ptr_equal(list->of_type, article);
    assert_null(article->list_of); /* the schema is not written */
    assert_string_equal(tstr(list), "[Article]");
    gql_type_t *again = gql_schema_type_from_ast(s, parse_type("[Article]"), &req);
    assert_ptr_not_equal(again, list);
    assert_true(gql_type_equal(again, list));
    /* new outside, interned inside */
    gql_type_t *deep = gql_schema_type_from_ast(s, parse_type("[[Article!]!]"), &req);
    assert_string_equal(tstr(deep), "[[Article!]!]");
    assert_ptr_equal(deep->of_type, t);
    assert_true(gql_type_equal(deep->of_type, field_of(s->query, "getArticles")->type));
    /* unknown names anywhere inside */
    assert_null(gql_schema_type_from_ast(s, parse_type("Nope"), &req));
    assert_null(gql_schema_type_from_ast(s, parse_type("[[Nope]!]"), &req));
    assert_null(gql_schema_type_from_ast(s, NULL, &req));
    arena_free(&req);
    gql_schema_free(s);
}

static void test_type_equal_and_print(void **state)
{
    (void)state;
    gql_schema_t *s = build("type Query { a: [[Int!]]! b: [[Int!]]! c: [Int] d: String }");
    const gql_type_t *a = field_of(s->query, "a")->type, *b = field_of(s->query, "b")->type;
    const gql_type_t *c = field_of(s->query, "c")->type, *d = field_of(s->query, "d")->type;
    assert_true(gql_type_equal(a, b));
    assert_true(gql_type_equal(a, a));
    assert_false(gql_type_equal(a, c));
    assert_false(gql_type_equal(c, d));
    assert_false(gql_type_equal(c, c->of_type));
    assert_false(gql_type_equal(a, a->of_type));
    assert_false(gql_type_equal(a, NULL));
    assert_true(gql_type_equal(NULL, NULL));
    /* a copy made elsewhere is equal without being the same object */
    gql_type_t copy_in = {.kind = GQL_TYPE_NON_NULL, .of_type = type_of(s, "Int")};
    gql_type_t copy = {.kind = GQL_TYPE_LIST, .of_type = &copy_in};
    assert_true(gql_type_equal(&copy, a->of_type->of_type));
    assert_false(gql_type_equal(&copy, c));

    /* like snprintf: the length it wanted, truncated and terminated */
    char out[8];
    assert_int_equal(gql_type_print(a, out, sizeof out), 9); /* [[Int!]]! */
    assert_string_equal(out, "[[Int!]");
    assert_int_equal(gql_type_print(a, out, 3), 9);
    assert_string_equal(out, "[[");
    assert_int_equal(gql_type_print(a, out, 1), 9);
    assert_string_equal(out, "");
    assert_int_equal(gql_type_print(a, NULL, 0), 9);
    assert_int_equal(gql_type_print(d, out, sizeof out), 6);
    assert_string_equal(out, "String");
    gql_schema_free(s);
}

static const char relations_sdl[] = "type Query { a: Int }\n"
                                    "interface Node { id: ID }\n"
                                    "interface Named implements Node { id: ID name: String }\n"
                                    "type Person implements Named & Node { id: ID name: String }\n"
                                    "type Robot implements Node { id: ID }\n"
                                    "type Rock { id: ID }\n"
                                    "union Thing = Person | Rock\n"
                                    "enum E { A }\n"
                                    "input In { a: Int }\n";

static void test_subtype(void **state)
{
    (void)state;
    gql_schema_t *s = build(relations_sdl);
    gql_type_t *node = type_of(s, "Node"), *named = type_of(s, "Named");
    gql_type_t *person = type_of(s, "Person"), *robot = type_of(s, "Robot");
    gql_type_t *rock = type_of(s, "Rock"), *thing = type_of(s, "Thing");
    arena_t req = {0};
#define T(src) gql_schema_type_from_ast(s, parse_type(src), &req)
    assert_true(gql_type_is_subtype(person, person));
    assert_true(gql_type_is_subtype(T("Int!"), T("Int")));      /* non-null into nullable */
    assert_false(gql_type_is_subtype(T("Int"), T("Int!")));     /* not the other way */
    assert_true(gql_type_is_subtype(T("[Int!]!"), T("[Int]"))); /* lists item-wise */
    assert_false(gql_type_is_subtype(T("[Int]"), T("[Int!]")));
    assert_false(gql_type_is_subtype(T("[Int]"), T("Int")));
    assert_false(gql_type_is_subtype(T("Int"), T("[Int]")));
    assert_false(gql_type_is_subtype(T("[[Int]]"), T("[Int]")));
    assert_false(gql_type_is_subtype(T("Int"), T("Float")));
    assert_true(gql_type_is_subtype(person, node)); /* object into interface */
    assert_true(gql_type_is_subtype(person, named));
    assert_true(gql_type_is_subtype(robot, node));
    assert_false(gql_type_is_subtype(robot, named));
    assert_false(gql_type_is_subtype(rock, node));
    assert_true(gql_type_is_subtype(named, node)); /* interface into interface */
    assert_false(gql_type_is_subtype(node, named));
    assert_true(gql_type_is_subtype(person, thing)); /* object into union */
    assert_true(gql_type_is_subtype(rock, thing));
    assert_false(gql_type_is_subtype(robot, thing));
    assert_false(gql_type_is_subtype(thing, person));
    assert_false(gql_type_is_subtype(node, person));
    assert_true(gql_type_is_subtype(T("[Person!]!"), T("[Node]")));
    assert_true(gql_type_is_subtype(T("Person!"), T("Thing")));
    assert_false(gql_type_is_subtype(T("Person"), T("Thing!")));
    assert_false(gql_type_is_subtype(NULL, node));

    assert_true(gql_type_is_possible(node, person));
    assert_true(gql_type_is_possible(node, robot));
    assert_true(gql_type_is_possible(node, named)); /* graphql-js's schema.isSubType */
    assert_true(gql_type_is_possible(node, node));
    assert_false(gql_type_is_possible(node, rock));
    assert_true(gql_type_is_possible(thing, rock));
    assert_false(gql_type_is_possible(thing, robot));
    assert_false(gql_type_is_possible(person, robot));
    assert_string_equal(type_names(node->possible_types, node->npossible_types), "Person Robot");
    assert_string_equal(type_names(thing->possible_types, thing->npossible_types), "Person Rock");
#undef T
    arena_free(&req);
    gql_schema_free(s);
}

static void test_classification(void **state)
{
    (void)state;
    gql_schema_t *s = build(relations_sdl);
    arena_t req = {0};
    static const struct {
        const char *type;
        bool input, output, leaf, composite, abstract;
    } cases[] = {
        {"Int", 1, 1, 1, 0, 0},    {"[Int!]!", 1, 1, 1, 0, 0},   {"E", 1, 1, 1, 0, 0},
        {"[E]", 1, 1, 1, 0, 0},    {"In", 1, 0, 0, 0, 0},        {"[In!]", 1, 0, 0, 0, 0},
        {"Person", 0, 1, 0, 1, 0}, {"[Person]!", 0, 1, 0, 1, 0}, {"Node", 0, 1, 0, 1, 1},
        {"Thing!", 0, 1, 0, 1, 1}, {"__Type", 0, 1, 0, 1, 0},    {"__TypeKind", 1, 1, 1, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gql_type_t *t = gql_schema_type_from_ast(s, parse_type(cases[i].type), &req);
        assert_non_null(t);
        if (gql_type_is_input(t) != cases[i].input || gql_type_is_output(t) != cases[i].output ||
            gql_type_is_leaf(t) != cases[i].leaf ||
            gql_type_is_composite(t) != cases[i].composite ||
            gql_type_is_abstract(t) != cases[i].abstract)
            fail_msg("classification of %s", cases[i].type);
        char name[16];
        size_t n = 0;
        for (const char *p = cases[i].type; *p; p++)
            if (*p != '[' && *p != ']' && *p != '!')
                name[n++] = *p;
        name[n] = '\0';
        assert_string_equal(gql_type_named(t)->name, name);
    }
    assert_null(gql_type_named(NULL));
    assert_false(gql_type_is_input(NULL));
    assert_false(gql_type_is_composite(NULL));
    arena_free(&req);
    gql_schema_free(s);
}

static bool has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(list, word); p; p = strstr(p + 1, word))
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

/* graphql-js's getTypeMap() order for a few shapes (checked against graphql-js 16.8). */
static void test_type_map_order(void **state)
{
    (void)state;
    static const struct {
        const char *sdl, *order;
    } cases[] = {
        {"type Query{a:Float} interface I {x:ID} type O implements I {x:ID} union U = O",
         "Query Float I ID O U Boolean String __Schema __Type __TypeKind __Field __InputValue "
         "__EnumValue __Directive __DirectiveLocation"},
        {"directive @d(x: Int) on FIELD type Query{a:Float}",
         "Query Float Int Boolean String __Schema __Type __TypeKind __Field __InputValue "
         "__EnumValue __Directive __DirectiveLocation"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gql_schema_t *s = build(cases[i].sdl);
        assert_string_equal(type_names(s->type_map, s->ntype_map), cases[i].order);
        for (size_t k = 0; k < s->ntypes; k++)
            assert_int_equal(s->types[k]->referenced, has_word(cases[i].order, s->types[k]->name));
        gql_schema_free(s);
    }
    /* Introspection types used by the SDL move up to where it uses them. */
    gql_schema_t *s = build("type Query { t: __Type s: ID }");
    assert_string_equal(type_names(s->type_map, s->ntype_map),
                        "Query __Type __TypeKind String __Field __InputValue Boolean "
                        "__EnumValue ID __Schema __Directive __DirectiveLocation");
    gql_schema_free(s);
}

/* ---- SDL errors ---- */

typedef struct sdl_error {
    const char *sdl;
    const char *message;
    uint32_t line, column;
} sdl_error_t;

/* graphql-js 16's buildSchema (assertValidSDL, then getDirectiveValues) and validateSchema,
 * each row checked against graphql-js 16.8 with its first error and first location. */
static const sdl_error_t graphql_js_errors[] = {
    {"type Query { a: Int }\nschema { query: Query }\nschema { query: Query }",
     "Must provide only one schema definition.", 3, 1},
    {"type Query { a: Int }\nschema { query: Query query: Query }",
     "There can be only one query type in schema.", 2, 10},
    {"type Query { a: Int }\ntype Query { b: Int }", "There can be only one type named \"Query\".",
     1, 6},
    {"type Query { a: E }\nenum E { A B A }", "Enum value \"E.A\" can only be defined once.", 2,
     10},
    {"type Query { a: E }\nenum E { A B }\nextend enum E { B }",
     "Enum value \"E.B\" can only be defined once.", 2, 12},
    {"type Query { a: Int a: String }", "Field \"Query.a\" can only be defined once.", 1, 14},
    {"type Query { a: Int }\ninput I { x: Int }\nextend input I { x: Int }",
     "Field \"I.x\" can only be defined once.", 2, 11},
    {"type Query { a(x: Int, y: Int, x: String): Int }",
     "Argument \"Query.a(x:)\" can only be defined once.", 1, 16},
    {"type Query { a: Int }\ndirective @d(x: Int, x: Int) on FIELD",
     "Argument \"@d(x:)\" can only be defined once.", 2, 14},
    {"type Query { a: Int }\ndirective @d on FIELD\ndirective @d on QUERY",
     "There can be only one directive named \"@d\".", 2, 12},
    {"type Query { a: Strin }", "Unknown type \"Strin\". Did you mean \"String\"?", 1, 17},
    {"type Query { a: Foo }", "Unknown type \"Foo\".", 1, 17},
    {"type Query { a: Int @unknown }", "Unknown directive \"@unknown\".", 1, 21},
    {"type Query @deprecated { a: Int }", "Directive \"@deprecated\" may not be used on OBJECT.", 1,
     12},
    {"type Query { a(x: Int @specifiedBy(url: \"x\")): Int }",
     "Directive \"@specifiedBy\" may not be used on ARGUMENT_DEFINITION.", 1, 23},
    {"type Query { a: Int @deprecated @deprecated }",
     "The directive \"@deprecated\" can only be used once at this location.", 1, 21},
    {"type Query @d { a: Int }\nextend type Query @d\ndirective @d on OBJECT",
     "The directive \"@d\" can only be used once at this location.", 1, 12},
    {"type Query { a: Int }\nextend type Foo { b: Int }",
     "Cannot extend type \"Foo\" because it is not defined.", 2, 13},
    {"type Query { a: Int }\nextend type Quer { b: Int }",
     "Cannot extend type \"Quer\" because it is not defined. Did you mean \"Query\"?", 2, 13},
    {"type Query { a: Int }\nextend input Query { b: Int }",
     "Cannot extend non-input object type \"Query\".", 1, 1},
    {"type Query { a: Int @deprecated(reson: \"x\") }",
     "Unknown argument \"reson\" on directive \"@deprecated\". Did you mean \"reason\"?", 1, 33},
    {"type Query { a: Int @deprecated(reason: \"x\", reason: \"y\") }",
     "There can be only one argument named \"reason\".", 1, 33},
    {"type Query { a: Int }\ndirective @d(x: In) on FIELD_DEFINITION",
     "Unknown type \"In\". Did you mean \"ID\" or \"Int\"?", 2, 17},
    {"type Query { a: Int @d }\ndirective @d(x: Int!) on FIELD_DEFINITION",
     "Directive \"@d\" argument \"x\" of type \"Int!\" is required, but it was not provided.", 1,
     21},
    {"type Query { a: Int @d(x: {a: 1, a: 2}) }\ndirective @d(x: In) on FIELD_DEFINITION\ninput In "
     "{ a: Int }",
     "There can be only one input field named \"a\".", 1, 28},
    {"type Query { a: Int @deprecated(reason: 5) }", "Argument \"reason\" has invalid value 5.", 1,
     41},
    {"scalar S @specifiedBy(url: null)\ntype Query { a: S }",
     "Argument \"url\" of non-null type \"String!\" must not be null.", 1, 28},
    {"type Mutation { a: Int }", "Query root type must be provided.", 0, 0},
    {"schema { query: I }\ninput I { a: Int }",
     "Query root type must be Object type, it cannot be I.", 1, 17},
    {"type Query { a: Int }\nschema { query: Query mutation: I }\ninput I { a: Int }",
     "Mutation root type must be Object type if provided, it cannot be I.", 2, 33},
    {"type Query { a: Int }\nschema { query: Query subscription: S }\nscalar S",
     "Subscription root type must be Object type if provided, it cannot be S.", 2, 37},
    {"type Query { a: Int }\ndirective @__d on FIELD",
     "Name \"__d\" must not begin with \"__\", which is reserved by GraphQL introspection.", 2, 1},
    {"type Query { a: Int }\ndirective @d(__x: Int) on FIELD",
     "Name \"__x\" must not begin with \"__\", which is reserved by GraphQL introspection.", 2, 14},
    {"type Query { a: Int }\ndirective @d(x: Query) on FIELD",
     "The type of @d(x:) must be Input Type but got: Query.", 2, 14},
    {"type Query { a: Int }\ndirective @d(x: Int! @deprecated) on FIELD",
     "Required argument @d(x:) cannot be deprecated.", 2, 22},
    {"type Query { a: Int }\ntype __T { a: Int }",
     "Name \"__T\" must not begin with \"__\", which is reserved by GraphQL introspection.", 2, 1},
    {"type Query", "Type Query must define one or more fields.", 1, 1},
    {"type Query { __a: Int }",
     "Name \"__a\" must not begin with \"__\", which is reserved by GraphQL introspection.", 1, 14},
    {"type Query { a: I }\ninput I { x: Int }",
     "The type of Query.a must be Output Type but got: I.", 1, 17},
    {"type Query { a(__x: Int): Int }",
     "Name \"__x\" must not begin with \"__\", which is reserved by GraphQL introspection.", 1, 16},
    {"type Query { a(x: Query): Int }",
     "The type of Query.a(x:) must be Input Type but got: Query.", 1, 19},
    {"type Query { a(x: Int! @deprecated): Int }",
     "Required argument Query.a(x:) cannot be deprecated.", 1, 24},
    {"type Query implements Int { a: Int }",
     "Type Query must only implement Interface types, it cannot implement Int.", 1, 23},
    {"interface I implements I { a: Int }\ntype Query implements I { a: Int }",
     "Type I cannot implement itself because it would create a circular reference.", 1, 24},
    {"interface I { a: Int }\ntype Query implements I & I { a: Int }",
     "Type Query can only implement I once.", 2, 23},
    {"interface I { a: Int }\ntype Query implements I { b: Int }",
     "Interface field I.a expected but Query does not provide it.", 1, 15},
    {"interface I { a: Int }\ntype Query implements I { a: String }",
     "Interface field I.a expects type Int but Query.a is type String.", 1, 18},
    {"interface I { a(x: Int): Int }\ntype Query implements I { a: Int }",
     "Interface field argument I.a(x:) expected but Query.a does not provide it.", 1, 17},
    {"interface I { a(x: Int): Int }\ntype Query implements I { a(x: Int!): Int }",
     "Interface field argument I.a(x:) expects type Int but Query.a(x:) is type Int!.", 1, 20},
    {"interface I { a: Int }\ntype Query implements I { a(y: Int!): Int }",
     "Object field Query.a includes required argument y that is missing from the Interface field "
     "I.a.",
     2, 29},
    {"interface J { a: Int }\ninterface I implements J { a: Int }\ntype Query implements I { a: "
     "Int }",
     "Type Query must implement J because it is implemented by I.", 2, 24},
    {"interface J implements I { a: Int }\ninterface I implements J { a: Int }\ntype Query "
     "implements I & J { a: Int }",
     "Type J cannot implement I because it would create a circular reference.", 2, 24},
    {"type Query { a: U }\nunion U", "Union type U must define one or more member types.", 2, 1},
    {"type Query { a: U }\nunion U = Query | Query",
     "Union type U can only include type Query once.", 2, 11},
    {"type Query { a: U }\nunion U = Query | I\ninterface I { a: Int }",
     "Union type U can only include Object types, it cannot include I.", 2, 19},
    {"type Query { a: E }\nenum E", "Enum type E must define one or more values.", 2, 1},
    {"type Query { a: E }\nenum E { __A }",
     "Name \"__A\" must not begin with \"__\", which is reserved by GraphQL introspection.", 2, 10},
    {"type Query { a(x: I): Int }\ninput I", "Input Object type I must define one or more fields.",
     2, 1},
    {"type Query { a(x: I): Int }\ninput I { __x: Int }",
     "Name \"__x\" must not begin with \"__\", which is reserved by GraphQL introspection.", 2, 11},
    {"type Query { a(x: I): Int }\ninput I { x: Query }",
     "The type of I.x must be Input Type but got: Query.", 2, 14},
    {"type Query { a(x: I): Int }\ninput I { x: Int! @deprecated }",
     "Required input field I.x cannot be deprecated.", 2, 19},
    {"type Query { a(x: A): Int }\ninput A { b: B! }\ninput B { c: C! d: Int }\ninput C { a: A! }",
     "Cannot reference Input Object \"A\" within itself through a series of non-null fields: "
     "\"b.c.a\".",
     2, 11},
    {"type Query { a(x: A): Int }\ninput A { self: A! }",
     "Cannot reference Input Object \"A\" within itself through a series of non-null fields: "
     "\"self\".",
     2, 11},
    {"type Query { a: Int }\nextend scalar String @specifiedBy(url: \"x\")",
     "Cannot extend type \"String\" because it is not defined.", 2, 15},
    {"type Query { a: Int }\nextend type Query { a: Int }",
     "Field \"Query.a\" can only be defined once.", 1, 14},
    {"type Query { a: Int }\nextend type Query implements I\ninterface I { b: Int }",
     "Interface field I.b expected but Query does not provide it.", 3, 15},
    {"type Query { a: Int }\nenum E { A }\nextend type E { B: Int }",
     "Cannot extend non-object type \"E\".", 2, 1},
    {"type Query { a: Int @include(if: true) }",
     "Directive \"@include\" may not be used on FIELD_DEFINITION.", 1, 21},
    {"type Query { a(x: In = {}): Int }\ninput In { b: Int }\ndirective @x(a: Int) on "
     "SCHEMA\nschema @x(a: 1) @x(a: 2) { query: Query }",
     "The directive \"@x\" can only be used once at this location.", 4, 8},
    {"type Query { a: Int }\nextend type Query @deprecated",
     "Directive \"@deprecated\" may not be used on OBJECT.", 2, 19},
};

/* Beyond graphql-js 16: redefined built-ins, default values (ValuesOfCorrectType's messages),
 * and arguments of any applied directive. */
static const sdl_error_t own_errors[] = {
    {"type Query { a: Int }\nscalar String",
     "Type \"String\" already exists in the schema. It cannot also be defined in this type "
     "definition.",
     2, 8},
    {"type Query { a: Int }\ntype __Schema { a: Int }",
     "Type \"__Schema\" already exists in the schema. It cannot also be defined in this type "
     "definition.",
     2, 6},
    {"type Query { a: Int }\ndirective @skip on FIELD",
     "Directive \"@skip\" already exists in the schema. It cannot be redefined.", 2, 12},
    {"type Query { a(x: Int = \"s\"): Int }", "Int cannot represent non-integer value: \"s\"", 1,
     25},
    {"type Query { a(x: Int = 2147483648): Int }",
     "Int cannot represent non 32-bit signed integer value: 2147483648", 1, 25},
    {"type Query { a(x: Float = \"1.5\"): Int }",
     "Float cannot represent non numeric value: \"1.5\"", 1, 27},
    {"type Query { a(x: String = 1): Int }", "String cannot represent a non string value: 1", 1,
     28},
    {"type Query { a(x: Boolean = \"true\"): Int }",
     "Boolean cannot represent a non boolean value: \"true\"", 1, 29},
    {"type Query { a(x: ID = 1.5): Int }",
     "ID cannot represent a non-string and non-integer value: 1.5", 1, 24},
    {"type Query { a(x: E = C): Int }\nenum E { A B }",
     "Value \"C\" does not exist in \"E\" enum. Did you mean the enum value \"A\" or \"B\"?", 1,
     23},
    {"type Query { a(x: E = \"A\"): Int }\nenum E { A B }",
     "Enum \"E\" cannot represent non-enum value: \"A\". Did you mean the enum value \"A\"?", 1,
     23},
    {"type Query { a(x: E = AA): Int }\nenum E { A B AAA }",
     "Value \"AA\" does not exist in \"E\" enum. Did you mean the enum value \"A\" or \"AAA\"?", 1,
     23},
    {"type Query { a(x: In = {}): Int }\ninput In { r: Int! o: Int }",
     "Field \"In.r\" of required type \"Int!\" was not provided.", 1, 24},
    {"type Query { a(x: In = {r: 1, q: 2}): Int }\ninput In { r: Int! o: Int }",
     "Field \"q\" is not defined by type \"In\". Did you mean \"o\" or \"r\"?", 1, 31},
    {"type Query { a(x: In = {r: null}): Int }\ninput In { r: Int! o: Int }",
     "Expected value of type \"Int!\", found null.", 1, 28},
    {"type Query { a(x: In = 5): Int }\ninput In { r: Int! o: Int }",
     "Expected value of type \"In\", found 5.", 1, 24},
    {"type Query { a(x: [Int!] = [1, null]): Int }", "Expected value of type \"Int!\", found null.",
     1, 32},
    {"type Query { a(x: Int! = null): Int }", "Expected value of type \"Int!\", found null.", 1,
     26},
    {"type Query { a(x: Int = [1]): Int }", "Int cannot represent non-integer value: [1]", 1, 25},
    {"type Query { a(x: In = {r: 1, d: {r: \"x\"}}): Int }\ninput In { r: Int! d: In }",
     "Int cannot represent non-integer value: \"x\"", 1, 38},
    {"type Query { a: Int }\ndirective @d(x: Int = \"a\") on FIELD",
     "Int cannot represent non-integer value: \"a\"", 2, 23},
    {"type Query { a: Int }\ninput In { a: Int = 1.5 }",
     "Int cannot represent non-integer value: 1.5", 2, 21},
    {"type Query { a: Int @d(x: {b: 2}) }\ndirective @d(x: In) on FIELD_DEFINITION\ninput In { a: "
     "Int! }",
     "Argument \"x\" has invalid value {b: 2}.", 1,
     27}, /* graphql-js calls the fields of an input object extension arguments */
    {"type Query { a: Int }\ninput In { a: Int }\nextend input In { b: Int @d }\n"
     "directive @d on ARGUMENT_DEFINITION",
     "Directive \"@d\" may not be used on INPUT_FIELD_DEFINITION.", 3, 26},
    {"type Query { a: Int }\nextend scalar Int @specifiedBy(url: \"x\")",
     "Cannot extend type \"Int\" because it is not defined.", 2, 15},
    {"type Query { a: Int }\ninput __In { a: Int }",
     "Name \"__In\" must not begin with \"__\", which is reserved by GraphQL introspection.", 2, 1},
    {"type Query { a: Int }\nextend type Query { b: Boolean! @deprecated(reason: 1) }",
     "Argument \"reason\" has invalid value 1.", 2, 53},
};

static void check_error_table(const sdl_error_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check_error(t[i].sdl, t[i].message, t[i].line, t[i].column);
}

static void test_sdl_errors_graphql_js(void **state)
{
    (void)state;
    check_error_table(graphql_js_errors, sizeof graphql_js_errors / sizeof graphql_js_errors[0]);
}

static void test_sdl_errors_own(void **state)
{
    (void)state;
    check_error_table(own_errors, sizeof own_errors / sizeof own_errors[0]);
}

/* What graphql-js accepts is accepted (and the same values are valid defaults). */
static void test_sdl_valid(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "type Query @d { a: Int }\nextend type Query @d\ndirective @d repeatable on OBJECT",
        "interface I { a: [Int] }\ntype Query implements I { a: [Int!]! }",
        "interface I { a: Int }\ntype Query implements I { a(y: Int): Int }",
        "type Query { a(x: A): Int }\ninput A { b: [A!]! c: A }",
        "type Query { a: Int }\nextend schema { query: Query }",
        "extend schema { query: Q }\ntype Q { a: Int }",
        "type Query { a: Int }\nquery { a }",
        "type Query { a(x: Int = -2147483648, y: Float = 1, z: ID = 5, w: ID = \"x\", "
        "v: Boolean = false, u: [Int] = 1, t: [[Int]] = [[1], 2], n: Int = null, "
        "f: Float = -1.5e3): Int }",
        "type Query { a(x: S = {a: [1, \"b\", {c: null}]}): Int }\nscalar S",
        "type Query { a(x: In = {r: 1, l: [{r: 2}], e: B}): Int }\n"
        "input In { r: Int! d: Int! = 3 l: [In!] e: E }\nenum E { A B }",
        "type Query { a: Int @d(x: {a: 1}) }\ndirective @d(x: In) on FIELD_DEFINITION\n"
        "input In { a: Int }",
        "type Query { a: Int }\ndirective @d(x: String = \"\"\"block\"\"\") on QUERY",
        "\"\"\"only a description\"\"\" type Query { a: Int }",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        gql_schema_t *s = NULL;
        gql_error_t err;
        if (gql_schema_build(ok[i], strlen(ok[i]), &arena, &s, &err) != 0)
            fail_msg("\"%s\": %s (%u:%u)", ok[i], err.message, err.line, err.column);
        gql_schema_free(s);
    }
}

/* Errors of the parser come through with its code, message and place. */
static void test_syntax_errors(void **state)
{
    (void)state;
    check_error_code("type Query { a: Int", GQL_ESYNTAX,
                     "Syntax Error: Expected Name, found <EOF>.", 1, 20);
    check_error_code("", GQL_ESYNTAX, "Syntax Error: Unexpected <EOF>.", 1, 1);
    check_error_code(
        "type Query { a: Int }\nenum E { true }", GQL_ESYNTAX,
        "Syntax Error: Name \"true\" is reserved and cannot be used for an enum value.", 2, 10);
    gql_schema_t *s = (gql_schema_t *)&s;
    gql_error_t err;
    assert_int_equal(gql_schema_build(NULL, 0, &arena, &s, &err), GQL_ESYNTAX);
    assert_null(s);
}

/* Without an arena for it, the message is a static text. */
static void test_error_without_arena(void **state)
{
    (void)state;
    gql_schema_t *s = (gql_schema_t *)&s;
    gql_error_t err;
    assert_int_equal(gql_schema_build("type Query { a: Nope }", 22, NULL, &s, &err), GQL_ESCHEMA);
    assert_null(s);
    assert_int_equal(err.code, GQL_ESCHEMA);
    assert_string_equal(err.message, "Invalid schema.");
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 17);
    gql_schema_free(NULL);
}

/* Many schemas built and freed: ASan's leak check at exit covers the failure paths too. */
static void test_build_free_cycles(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++) {
        gql_schema_free(build_articles());
        check_error(own_errors[i % 10].sdl, own_errors[i % 10].message, own_errors[i % 10].line,
                    own_errors[i % 10].column);
    }
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_articles_roots_and_types),
        T(test_articles_fields),
        T(test_articles_inputs),
        T(test_articles_wrappers_interned),
        T(test_builtin_scalars),
        T(test_builtin_directives),
        T(test_introspection_types),
        T(test_meta_fields),
        T(test_extensions),
        T(test_schema_definition_and_extension),
        T(test_deprecation),
        T(test_descriptions),
        T(test_type_kinds),
        T(test_lookups),
        T(test_lookups_many_fields),
        T(test_type_from_ast),
        T(test_type_equal_and_print),
        T(test_subtype),
        T(test_classification),
        T(test_type_map_order),
        T(test_sdl_errors_graphql_js),
        T(test_sdl_errors_own),
        T(test_sdl_valid),
        T(test_syntax_errors),
        T(test_error_without_arena),
        T(test_build_free_cycles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
