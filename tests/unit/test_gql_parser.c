/* test_gql_parser.c - unit tests of the GraphQL front end's upper layers: the arena
 * (graphql/arena.c), the parser (graphql/parser.c) with its limits and hostile inputs, the AST
 * visitor (graphql/ast.c) and the printer (graphql/printer.c), whose output is compared with
 * what graphql-js's print() gives and parsed again (round trips). Expected error messages and
 * locations are graphql-js's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* needs the four headers above included first */

#include <limits.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "ast.h"
#include "buf.h"
#include "parser.h"
#include "printer.h"

/* A literal with its length, for sources holding NUL bytes. */
#define S(lit) lit, sizeof(lit) - 1

static arena_t arena;
static const gql_parse_options_t sdl = {.allow_type_system = true};

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

static gql_document_t *parse_n(const char *src, size_t len, const gql_parse_options_t *opt)
{
    gql_document_t *doc = NULL;
    gql_error_t err;
    if (gql_parse(src, len, opt, &arena, &doc, &err) != 0)
        fail_msg("parse failed: %s (%u:%u)", err.message, err.line, err.column);
    assert_int_equal(err.code, 0);
    return doc;
}

static gql_document_t *parse_doc(const char *src)
{
    return parse_n(src, strlen(src), NULL);
}

static gql_document_t *parse_sdl(const char *src)
{
    return parse_n(src, strlen(src), &sdl);
}

static gql_error_t error_n(const char *src, size_t len, const gql_parse_options_t *opt)
{
    gql_document_t *doc = (gql_document_t *)&doc;
    gql_error_t err;
    int rc = gql_parse(src, len, opt, &arena, &doc, &err);
    if (rc == 0)
        fail_msg("no error parsing \"%.*s\"", (int)(len > 200 ? 200 : len), src);
    assert_int_equal(rc, err.code);
    assert_null(doc);
    assert_non_null(err.message);
    return err;
}

static void check_error_n(const char *src, size_t len, const gql_parse_options_t *opt, int code,
                          const char *message, uint32_t line, uint32_t column)
{
    gql_error_t err = error_n(src, len, opt);
    assert_int_equal(err.code, code);
    assert_string_equal(err.message, message);
    if (err.line != line || err.column != column)
        fail_msg("%s at %u:%u, expected %u:%u", message, err.line, err.column, line, column);
}

static void check_syntax_error(const char *src, const char *message, uint32_t line, uint32_t column)
{
    check_error_n(src, strlen(src), &sdl, GQL_ESYNTAX, message, line, column);
}

/* The printed text of a node, in the arena. */
static const char *print(const gql_node_t *n)
{
    buf_t b = {0};
    assert_int_equal(gql_print(n, &b), 0);
    char *s = arena_strndup(&arena, b.data ? b.data : "", b.len);
    buf_free(&b);
    return s;
}

/* parse, print: the expected text; and parsing that prints it again. */
static void check_round_trip(const char *src, const char *expected, const gql_parse_options_t *opt)
{
    const char *printed = print(&parse_n(src, strlen(src), opt)->base);
    assert_string_equal(printed, expected);
    const char *again = print(&parse_n(printed, strlen(printed), opt)->base);
    assert_string_equal(again, expected);
}

static void check_name(const gql_name_t *name, const char *value)
{
    assert_int_equal(name->base.kind, GQL_KIND_NAME);
    assert_non_null(name->value);
    assert_int_equal(name->len, strlen(value));
    assert_string_equal(name->value, value);
}

static void check_loc(const gql_node_t *n, uint32_t line, uint32_t column, uint32_t start,
                      uint32_t end)
{
    if (n->loc.line != line || n->loc.column != column || n->loc.start != start ||
        n->loc.end != end)
        fail_msg("%s at %u:%u [%u, %u), expected %u:%u [%u, %u)", gql_kind_name(n->kind),
                 n->loc.line, n->loc.column, n->loc.start, n->loc.end, line, column, start, end);
}

static void *item(const gql_node_list_t *list, uint32_t i, gql_kind_t kind)
{
    assert_true(i < list->count);
    gql_node_t *n = list->items[i];
    if (n->kind != kind)
        fail_msg("item %u is %s, expected %s", i, gql_kind_name(n->kind), gql_kind_name(kind));
    return n;
}

static void check_text(const gql_node_t *n, gql_kind_t kind, const char *value)
{
    assert_int_equal(n->kind, kind);
    const gql_text_value_t *v = (const gql_text_value_t *)n;
    assert_int_equal(v->len, strlen(value));
    assert_string_equal(v->value, value);
}

static gql_field_t *field_at(const gql_selection_set_t *s, uint32_t i)
{
    return item(&s->selections, i, GQL_KIND_FIELD);
}

static gql_operation_definition_t *operation_at(const gql_document_t *doc, uint32_t i)
{
    return item(&doc->definitions, i, GQL_KIND_OPERATION_DEFINITION);
}

/* A string of n copies of s followed by tail, in the arena. */
static char *repeat(const char *head, const char *s, size_t n, const char *tail)
{
    size_t hl = strlen(head), sl = strlen(s), tl = strlen(tail);
    char *out = arena_alloc(&arena, hl + sl * n + tl + 1);
    assert_non_null(out);
    memcpy(out, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(out + hl + i * sl, s, sl);
    memcpy(out + hl + n * sl, tail, tl + 1);
    return out;
}

/* ---- documents used by several tests ---- */

static const char kitchen_sink[] =
    "query queryName($foo: ComplexType, $site: Site = MOBILE) @onQuery {\n"
    "  whoever123is: node(id: [123, 456]) {\n"
    "    id ,\n"
    "    ... on User @onInlineFragment {\n"
    "      field2 {\n"
    "        id ,\n"
    "        alias: field1(first:10, after:$foo,) @include(if: $foo) {\n"
    "          id,\n"
    "          ...frag @onFragmentSpread\n"
    "        }\n"
    "      }\n"
    "    }\n"
    "    ... @skip(unless: $foo) {\n"
    "      id\n"
    "    }\n"
    "    ... {\n"
    "      id\n"
    "    }\n"
    "  }\n"
    "}\n"
    "\n"
    "mutation likeStory @onMutation {\n"
    "  like(story: 123) @onField {\n"
    "    story {\n"
    "      id @onField\n"
    "    }\n"
    "  }\n"
    "}\n"
    "\n"
    "subscription StoryLikeSubscription(\n"
    "  $input: StoryLikeSubscribeInput @onVariableDefinition\n"
    ")\n"
    "  @onSubscription {\n"
    "  storyLikeSubscribe(input: $input) {\n"
    "    story {\n"
    "      likers {\n"
    "        count\n"
    "      }\n"
    "      likeSentence {\n"
    "        text\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n"
    "\n"
    "fragment frag on Friend @onFragmentDefinition {\n"
    "  foo(\n"
    "    size: $size\n"
    "    bar: $b\n"
    "    obj: {\n"
    "      key: \"value\"\n"
    "      block: \"\"\"\n"
    "      block string uses \\\"\"\"\n"
    "      \"\"\"\n"
    "    }\n"
    "  )\n"
    "}\n"
    "\n"
    "{\n"
    "  unnamed(truthy: true, falsy: false, nullish: null),\n"
    "  query\n"
    "}\n"
    "\n"
    "query { __typename }\n";

/* graphql-js's print() of kitchen_sink (its printer test "prints kitchen sink"). */
static const char kitchen_sink_printed[] =
    "query queryName($foo: ComplexType, $site: Site = MOBILE) @onQuery {\n"
    "  whoever123is: node(id: [123, 456]) {\n"
    "    id\n"
    "    ... on User @onInlineFragment {\n"
    "      field2 {\n"
    "        id\n"
    "        alias: field1(first: 10, after: $foo) @include(if: $foo) {\n"
    "          id\n"
    "          ...frag @onFragmentSpread\n"
    "        }\n"
    "      }\n"
    "    }\n"
    "    ... @skip(unless: $foo) {\n"
    "      id\n"
    "    }\n"
    "    ... {\n"
    "      id\n"
    "    }\n"
    "  }\n"
    "}\n"
    "\n"
    "mutation likeStory @onMutation {\n"
    "  like(story: 123) @onField {\n"
    "    story {\n"
    "      id @onField\n"
    "    }\n"
    "  }\n"
    "}\n"
    "\n"
    "subscription StoryLikeSubscription($input: StoryLikeSubscribeInput @onVariableDefinition) "
    "@onSubscription {\n"
    "  storyLikeSubscribe(input: $input) {\n"
    "    story {\n"
    "      likers {\n"
    "        count\n"
    "      }\n"
    "      likeSentence {\n"
    "        text\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n"
    "\n"
    "fragment frag on Friend @onFragmentDefinition {\n"
    "  foo(\n"
    "    size: $size\n"
    "    bar: $b\n"
    "    obj: {key: \"value\", block: \"\"\"\n"
    "    block string uses \\\"\"\"\n"
    "    \"\"\"}\n"
    "  )\n"
    "}\n"
    "\n"
    "{\n"
    "  unnamed(truthy: true, falsy: false, nullish: null)\n"
    "  query\n"
    "}\n"
    "\n"
    "{\n"
    "  __typename\n"
    "}";

static const char schema_kitchen_sink[] =
    "\"\"\"This is a description of the schema as a whole.\"\"\"\n"
    "schema {\n"
    "  query: QueryType\n"
    "  mutation: MutationType\n"
    "}\n"
    "\n"
    "\"\"\"\n"
    "This is a description\n"
    "of the `Foo` type.\n"
    "\"\"\"\n"
    "type Foo implements Bar & Baz & Two {\n"
    "  \"Description of the `one` field.\"\n"
    "  one: Type\n"
    "  \"\"\"This is a description of the `two` field.\"\"\"\n"
    "  two(\n"
    "    \"\"\"This is a description of the `argument` argument.\"\"\"\n"
    "    argument: InputType!\n"
    "  ): Type\n"
    "  \"\"\"This is a description of the `three` field.\"\"\"\n"
    "  three(argument: InputType, other: String): Int\n"
    "  four(argument: String = \"string\"): String\n"
    "  five(argument: [String] = [\"string\", \"string\"]): String\n"
    "  six(argument: InputType = {key: \"value\"}): Type\n"
    "  seven(argument: Int = null): Type\n"
    "}\n"
    "\n"
    "type AnnotatedObject @onObject(arg: \"value\") {\n"
    "  annotatedField(arg: Type = \"default\" @onArgumentDefinition): Type @onField\n"
    "}\n"
    "\n"
    "type UndefinedType\n"
    "\n"
    "extend type Foo {\n"
    "  seven(argument: [String]): Type\n"
    "}\n"
    "\n"
    "extend type Foo @onType\n"
    "\n"
    "interface Bar {\n"
    "  one: Type\n"
    "  four(argument: String = \"string\"): String\n"
    "}\n"
    "\n"
    "interface AnnotatedInterface @onInterface {\n"
    "  annotatedField(arg: Type @onArgumentDefinition): Type @onField\n"
    "}\n"
    "\n"
    "interface UndefinedInterface\n"
    "\n"
    "extend interface Bar implements Two {\n"
    "  two(argument: InputType!): Type\n"
    "}\n"
    "\n"
    "extend interface Bar @onInterface\n"
    "\n"
    "interface Baz implements Bar & Two {\n"
    "  one: Type\n"
    "  two(argument: InputType!): Type\n"
    "  four(argument: String = \"string\"): String\n"
    "}\n"
    "\n"
    "union Feed =\n"
    "  | Story\n"
    "  | Article\n"
    "  | Advert\n"
    "\n"
    "union AnnotatedUnion @onUnion = A | B\n"
    "\n"
    "union AnnotatedUnionTwo @onUnion = | A | B\n"
    "\n"
    "union UndefinedUnion\n"
    "\n"
    "extend union Feed = Photo | Video\n"
    "\n"
    "extend union Feed @onUnion\n"
    "\n"
    "scalar CustomScalar\n"
    "\n"
    "scalar AnnotatedScalar @onScalar\n"
    "\n"
    "extend scalar CustomScalar @onScalar\n"
    "\n"
    "enum Site {\n"
    "  \"\"\"This is a description of the `DESKTOP` value\"\"\"\n"
    "  DESKTOP\n"
    "\n"
    "  \"\"\"This is a description of the `MOBILE` value\"\"\"\n"
    "  MOBILE\n"
    "\n"
    "  \"This is a description of the `WEB` value\"\n"
    "  WEB\n"
    "}\n"
    "\n"
    "enum AnnotatedEnum @onEnum {\n"
    "  ANNOTATED_VALUE @onEnumValue\n"
    "  OTHER_VALUE\n"
    "}\n"
    "\n"
    "enum UndefinedEnum\n"
    "\n"
    "extend enum Site {\n"
    "  VR\n"
    "}\n"
    "\n"
    "extend enum Site @onEnum\n"
    "\n"
    "input InputType {\n"
    "  key: String!\n"
    "  answer: Int = 42\n"
    "}\n"
    "\n"
    "input AnnotatedInput @onInputObject {\n"
    "  annotatedField: Type @onInputFieldDefinition\n"
    "}\n"
    "\n"
    "input UndefinedInput\n"
    "\n"
    "extend input InputType {\n"
    "  other: Float = 1.23e4 @onInputFieldDefinition\n"
    "}\n"
    "\n"
    "extend input InputType @onInputObject\n"
    "\n"
    "\"\"\"This is a description of the `@skip` directive\"\"\"\n"
    "directive @skip(\n"
    "  \"\"\"This is a description of the `if` argument\"\"\"\n"
    "  if: Boolean! @onArgumentDefinition\n"
    ") on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
    "\n"
    "directive @include(if: Boolean!)\n"
    "  on FIELD\n"
    "  | FRAGMENT_SPREAD\n"
    "  | INLINE_FRAGMENT\n"
    "\n"
    "directive @include2(if: Boolean!) on\n"
    "  | FIELD\n"
    "  | FRAGMENT_SPREAD\n"
    "  | INLINE_FRAGMENT\n"
    "\n"
    "directive @myRepeatableDir(name: String!) repeatable on\n"
    "  | OBJECT\n"
    "  | INTERFACE\n"
    "\n"
    "extend schema @onSchema\n"
    "\n"
    "extend schema @onSchema {\n"
    "  subscription: SubscriptionType\n"
    "}\n";

/* graphql-js's print() of schema_kitchen_sink (its schema printer test). */
static const char schema_kitchen_sink_printed[] =
    "\"\"\"This is a description of the schema as a whole.\"\"\"\n"
    "schema {\n"
    "  query: QueryType\n"
    "  mutation: MutationType\n"
    "}\n"
    "\n"
    "\"\"\"\n"
    "This is a description\n"
    "of the `Foo` type.\n"
    "\"\"\"\n"
    "type Foo implements Bar & Baz & Two {\n"
    "  \"Description of the `one` field.\"\n"
    "  one: Type\n"
    "  \"\"\"This is a description of the `two` field.\"\"\"\n"
    "  two(\n"
    "    \"\"\"This is a description of the `argument` argument.\"\"\"\n"
    "    argument: InputType!\n"
    "  ): Type\n"
    "  \"\"\"This is a description of the `three` field.\"\"\"\n"
    "  three(argument: InputType, other: String): Int\n"
    "  four(argument: String = \"string\"): String\n"
    "  five(argument: [String] = [\"string\", \"string\"]): String\n"
    "  six(argument: InputType = {key: \"value\"}): Type\n"
    "  seven(argument: Int = null): Type\n"
    "}\n"
    "\n"
    "type AnnotatedObject @onObject(arg: \"value\") {\n"
    "  annotatedField(arg: Type = \"default\" @onArgumentDefinition): Type @onField\n"
    "}\n"
    "\n"
    "type UndefinedType\n"
    "\n"
    "extend type Foo {\n"
    "  seven(argument: [String]): Type\n"
    "}\n"
    "\n"
    "extend type Foo @onType\n"
    "\n"
    "interface Bar {\n"
    "  one: Type\n"
    "  four(argument: String = \"string\"): String\n"
    "}\n"
    "\n"
    "interface AnnotatedInterface @onInterface {\n"
    "  annotatedField(arg: Type @onArgumentDefinition): Type @onField\n"
    "}\n"
    "\n"
    "interface UndefinedInterface\n"
    "\n"
    "extend interface Bar implements Two {\n"
    "  two(argument: InputType!): Type\n"
    "}\n"
    "\n"
    "extend interface Bar @onInterface\n"
    "\n"
    "interface Baz implements Bar & Two {\n"
    "  one: Type\n"
    "  two(argument: InputType!): Type\n"
    "  four(argument: String = \"string\"): String\n"
    "}\n"
    "\n"
    "union Feed = Story | Article | Advert\n"
    "\n"
    "union AnnotatedUnion @onUnion = A | B\n"
    "\n"
    "union AnnotatedUnionTwo @onUnion = A | B\n"
    "\n"
    "union UndefinedUnion\n"
    "\n"
    "extend union Feed = Photo | Video\n"
    "\n"
    "extend union Feed @onUnion\n"
    "\n"
    "scalar CustomScalar\n"
    "\n"
    "scalar AnnotatedScalar @onScalar\n"
    "\n"
    "extend scalar CustomScalar @onScalar\n"
    "\n"
    "enum Site {\n"
    "  \"\"\"This is a description of the `DESKTOP` value\"\"\"\n"
    "  DESKTOP\n"
    "  \"\"\"This is a description of the `MOBILE` value\"\"\"\n"
    "  MOBILE\n"
    "  \"This is a description of the `WEB` value\"\n"
    "  WEB\n"
    "}\n"
    "\n"
    "enum AnnotatedEnum @onEnum {\n"
    "  ANNOTATED_VALUE @onEnumValue\n"
    "  OTHER_VALUE\n"
    "}\n"
    "\n"
    "enum UndefinedEnum\n"
    "\n"
    "extend enum Site {\n"
    "  VR\n"
    "}\n"
    "\n"
    "extend enum Site @onEnum\n"
    "\n"
    "input InputType {\n"
    "  key: String!\n"
    "  answer: Int = 42\n"
    "}\n"
    "\n"
    "input AnnotatedInput @onInputObject {\n"
    "  annotatedField: Type @onInputFieldDefinition\n"
    "}\n"
    "\n"
    "input UndefinedInput\n"
    "\n"
    "extend input InputType {\n"
    "  other: Float = 1.23e4 @onInputFieldDefinition\n"
    "}\n"
    "\n"
    "extend input InputType @onInputObject\n"
    "\n"
    "\"\"\"This is a description of the `@skip` directive\"\"\"\n"
    "directive @skip(\n"
    "  \"\"\"This is a description of the `if` argument\"\"\"\n"
    "  if: Boolean! @onArgumentDefinition\n"
    ") on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
    "\n"
    "directive @include(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
    "\n"
    "directive @include2(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
    "\n"
    "directive @myRepeatableDir(name: String!) repeatable on OBJECT | INTERFACE\n"
    "\n"
    "extend schema @onSchema\n"
    "\n"
    "extend schema @onSchema {\n"
    "  subscription: SubscriptionType\n"
    "}";

/* The schema of the articles gateway, as a client of the schema loader would write it. */
static const char project_sdl[] =
    "type Article { id: ID!  title: String!  content: String!  author: String  "
    "createdAt: String!  updatedAt: String! }\n"
    "input CreateArticleInput { title: String!  content: String  author: String }\n"
    "input UpdateArticleInput { title: String  content: String  author: String }\n"
    "type Query { getArticles(limit: Int = 20, offset: Int = 0, author: String, search: "
    "String): [Article!]!  getArticle(id: ID!): Article }\n"
    "type Mutation { createArticle(input: CreateArticleInput!): Article!  "
    "updateArticle(id: ID!, input: UpdateArticleInput!): Article  deleteArticle(id: ID!): "
    "Boolean! }\n";

static const char project_sdl_printed[] =
    "type Article {\n"
    "  id: ID!\n"
    "  title: String!\n"
    "  content: String!\n"
    "  author: String\n"
    "  createdAt: String!\n"
    "  updatedAt: String!\n"
    "}\n"
    "\n"
    "input CreateArticleInput {\n"
    "  title: String!\n"
    "  content: String\n"
    "  author: String\n"
    "}\n"
    "\n"
    "input UpdateArticleInput {\n"
    "  title: String\n"
    "  content: String\n"
    "  author: String\n"
    "}\n"
    "\n"
    "type Query {\n"
    "  getArticles(limit: Int = 20, offset: Int = 0, author: String, search: String): "
    "[Article!]!\n"
    "  getArticle(id: ID!): Article\n"
    "}\n"
    "\n"
    "type Mutation {\n"
    "  createArticle(input: CreateArticleInput!): Article!\n"
    "  updateArticle(id: ID!, input: UpdateArticleInput!): Article\n"
    "  deleteArticle(id: ID!): Boolean!\n"
    "}";

/* ---- arena ---- */

static void test_arena_allocations(void **state)
{
    (void)state;
    arena_t a = {0};
    for (size_t size = 1; size < 300; size += 7) {
        char *p = arena_alloc(&a, size);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
        memset(p, 0xAB, size);
    }
    unsigned char *z = arena_calloc(&a, 10, 10);
    for (int i = 0; i < 100; i++)
        assert_int_equal(z[i], 0);
    assert_null(arena_calloc(&a, SIZE_MAX / 2, 4)); /* n * size overflows */
    char *s = arena_strndup(&a, "a\0bc", 4);
    assert_memory_equal(s, "a\0bc", 5);
    assert_string_equal(arena_printf(&a, "%s-%d", "x", 42), "x-42");
    assert_non_null(arena_alloc(&a, 0));
    /* a large block gets a chunk of its own; the current chunk stays in use */
    char *before = a.next;
    char *big = arena_alloc(&a, 1 << 20);
    assert_non_null(big);
    memset(big, 1, 1 << 20);
    assert_ptr_equal(a.next, before);
    assert_true(a.allocated > (1 << 20));
    arena_free(&a);
    assert_int_equal(a.allocated, 0);
    assert_non_null(arena_alloc(&a, 8)); /* usable again */
    arena_free(&a);
}

static void test_arena_many_small(void **state)
{
    (void)state;
    arena_t a;
    arena_init(&a, 64, 0);
    for (int i = 0; i < 100000; i++) {
        int *p = arena_alloc(&a, sizeof *p);
        assert_non_null(p);
        *p = i;
    }
    /* chunks double, so 400 kB took few mallocs: at most a chunk's worth is wasted */
    assert_true(a.allocated < 2 * 100000 * alignof(max_align_t) + ARENA_MAX_CHUNK);
    arena_free(&a);
}

static void test_arena_limit(void **state)
{
    (void)state;
    arena_t a;
    arena_init(&a, 0, 10000);
    size_t got = 0;
    while (arena_alloc(&a, 100))
        got += 100;
    /* most of the limit is usable, and it is never passed */
    assert_true(got > 5000);
    assert_true(a.allocated <= 10000);
    assert_null(arena_alloc(&a, 200));
    assert_null(arena_printf(&a, "%0200d", 1));
    /* a block larger than the limit fails at once, without taking anything */
    arena_free(&a);
    assert_null(arena_alloc(&a, 10001));
    assert_int_equal(a.allocated, 0);
    assert_non_null(arena_alloc(&a, 5000));
    arena_free(&a);
}

/* A thread's next arena of the same first size reuses the chunk the last one freed,
 * without malloc; another size does not get it. The chunk stays the thread's in between,
 * so writing to it is no use after free (AddressSanitizer would report one). */
static void test_arena_spare_chunk(void **state)
{
    (void)state;
    arena_t a;
    arena_init(&a, 16 * 1024, 0);
    char *first = arena_alloc(&a, 100);
    assert_non_null(first);
    for (int i = 0; i < 1000; i++) /* a second, larger chunk too */
        assert_non_null(arena_alloc(&a, 100));
    arena_free(&a);
    memset(first, 0xCD, 100);
    arena_init(&a, 16 * 1024, 0);
    assert_ptr_equal(arena_alloc(&a, 100), first);
    assert_int_equal((unsigned char)first[99], 0xCD);
    arena_free(&a);
    arena_t other;
    arena_init(&other, 8 * 1024, 0);
    assert_ptr_not_equal(arena_alloc(&other, 100), first);
    arena_free(&other);
}

static int count_node(gql_node_t *n, gql_node_t *parent, void *ud)
{
    (void)n;
    (void)parent;
    ++*(size_t *)ud;
    return GQL_VISIT_CONTINUE;
}

static void test_arena_reset(void **state)
{
    (void)state;
    arena_t a = {0};
    for (int i = 0; i < 1000; i++)
        assert_non_null(arena_alloc(&a, 100));
    size_t kept_size = (size_t)(a.end - (char *)a.chunks);
    arena_reset(&a);
    assert_int_equal(a.allocated, kept_size);
    assert_non_null(a.chunks);
    /* what fits in the kept chunk needs no malloc */
    for (int i = 0; i < 10; i++)
        assert_non_null(arena_alloc(&a, 100));
    assert_int_equal(a.allocated, kept_size);
    arena_free(&a);
    arena_reset(&a); /* on an empty arena: nothing to do */
}

/* ---- executable definitions ---- */

static void test_operation_shorthand(void **state)
{
    (void)state;
    gql_document_t *doc = parse_doc("{ a }");
    assert_int_equal(doc->base.kind, GQL_KIND_DOCUMENT);
    assert_int_equal(doc->definitions.count, 1);
    gql_operation_definition_t *op = operation_at(doc, 0);
    assert_int_equal(op->operation, GQL_OPERATION_QUERY);
    assert_null(op->name.value);
    assert_int_equal(op->variable_definitions.count, 0);
    assert_int_equal(op->directives.count, 0);
    assert_int_equal(op->selection_set->selections.count, 1);
    check_name(&field_at(op->selection_set, 0)->name, "a");
    check_loc(&doc->base, 1, 1, 0, 5);
    check_loc(&op->base, 1, 1, 0, 5);
    check_loc(&op->selection_set->base, 1, 1, 0, 5);
    check_loc(&field_at(op->selection_set, 0)->base, 1, 3, 2, 3);
}

static void test_operation_types(void **state)
{
    (void)state;
    gql_document_t *doc =
        parse_doc("query { a } query Q { a } mutation M { a } subscription S { a } mutation { b }");
    assert_int_equal(doc->definitions.count, 5);
    static const gql_operation_type_t types[] = {GQL_OPERATION_QUERY, GQL_OPERATION_QUERY,
                                                 GQL_OPERATION_MUTATION, GQL_OPERATION_SUBSCRIPTION,
                                                 GQL_OPERATION_MUTATION};
    static const char *const names[] = {NULL, "Q", "M", "S", NULL};
    for (uint32_t i = 0; i < 5; i++) {
        gql_operation_definition_t *op = operation_at(doc, i);
        assert_int_equal(op->operation, types[i]);
        if (names[i])
            check_name(&op->name, names[i]);
        else
            assert_null(op->name.value);
    }
}

static void test_variable_definitions(void **state)
{
    (void)state;
    gql_document_t *doc = parse_doc("query Q($a: Int = 1, $b: [String!]! @dir(x: 1) @e, "
                                    "$c: In = {x: [1, ENUM]}, $ d: Boolean) @op { a }");
    gql_operation_definition_t *op = operation_at(doc, 0);
    check_name(&op->name, "Q");
    assert_int_equal(op->variable_definitions.count, 4);
    assert_int_equal(op->directives.count, 1);
    check_name(&((gql_directive_t *)op->directives.items[0])->name, "op");

    gql_variable_definition_t *a = item(&op->variable_definitions, 0, GQL_KIND_VARIABLE_DEFINITION);
    check_name(&a->variable->name, "a");
    assert_int_equal(a->variable->base.kind, GQL_KIND_VARIABLE);
    check_name(&((gql_named_type_t *)a->type)->name, "Int");
    check_text(a->default_value, GQL_KIND_INT_VALUE, "1");
    assert_int_equal(a->directives.count, 0);

    gql_variable_definition_t *b = item(&op->variable_definitions, 1, GQL_KIND_VARIABLE_DEFINITION);
    assert_int_equal(b->type->kind, GQL_KIND_NON_NULL_TYPE);
    gql_list_type_t *list = (gql_list_type_t *)((gql_non_null_type_t *)b->type)->type;
    assert_int_equal(list->base.kind, GQL_KIND_LIST_TYPE);
    assert_int_equal(list->type->kind, GQL_KIND_NON_NULL_TYPE);
    gql_named_type_t *named = (gql_named_type_t *)((gql_non_null_type_t *)list->type)->type;
    check_name(&named->name, "String");
    assert_null(b->default_value);
    assert_int_equal(b->directives.count, 2);
    gql_directive_t *dir = item(&b->directives, 0, GQL_KIND_DIRECTIVE);
    check_name(&dir->name, "dir");
    gql_argument_t *x = item(&dir->arguments, 0, GQL_KIND_ARGUMENT);
    check_name(&x->name, "x");
    check_text(x->value, GQL_KIND_INT_VALUE, "1");

    gql_variable_definition_t *c = item(&op->variable_definitions, 2, GQL_KIND_VARIABLE_DEFINITION);
    gql_object_value_t *o = (gql_object_value_t *)c->default_value;
    assert_int_equal(o->base.kind, GQL_KIND_OBJECT_VALUE);
    gql_object_field_t *f = item(&o->fields, 0, GQL_KIND_OBJECT_FIELD);
    gql_list_value_t *l = (gql_list_value_t *)f->value;
    assert_int_equal(l->base.kind, GQL_KIND_LIST_VALUE);
    check_text(l->values.items[1], GQL_KIND_ENUM_VALUE, "ENUM");

    /* '$' and the name are two tokens: white space may come between */
    gql_variable_definition_t *d = item(&op->variable_definitions, 3, GQL_KIND_VARIABLE_DEFINITION);
    check_name(&d->variable->name, "d");
}

static void test_fields(void **state)
{
    (void)state;
    gql_document_t *doc =
        parse_doc("{ alias: field(a: 1, b: $v) @skip(if: true) @include(if: false) { sub } leaf }");
    gql_selection_set_t *s = operation_at(doc, 0)->selection_set;
    assert_int_equal(s->selections.count, 2);
    gql_field_t *f = field_at(s, 0);
    check_name(&f->alias, "alias");
    check_name(&f->name, "field");
    check_loc(&f->alias.base, 1, 3, 2, 7);
    check_loc(&f->name.base, 1, 10, 9, 14);
    assert_int_equal(f->arguments.count, 2);
    gql_argument_t *b = item(&f->arguments, 1, GQL_KIND_ARGUMENT);
    check_name(&b->name, "b");
    assert_int_equal(b->value->kind, GQL_KIND_VARIABLE);
    check_name(&((gql_variable_t *)b->value)->name, "v");
    assert_int_equal(f->directives.count, 2);
    check_name(&((gql_directive_t *)f->directives.items[1])->name, "include");
    check_name(&field_at(f->selection_set, 0)->name, "sub");
    gql_field_t *leaf = field_at(s, 1);
    assert_null(leaf->alias.value);
    assert_null(leaf->selection_set);
    assert_int_equal(leaf->arguments.count, 0);
    assert_null(leaf->arguments.items);
}

static void test_fragments(void **state)
{
    (void)state;
    gql_document_t *doc = parse_doc("query { ...Frag @d ... on T { a } ... @include(if: $x) { b } "
                                    "... { c } ...onX }\n"
                                    "fragment Frag on T @fd { a }");
    gql_selection_set_t *s = operation_at(doc, 0)->selection_set;
    assert_int_equal(s->selections.count, 5);
    gql_fragment_spread_t *spread = item(&s->selections, 0, GQL_KIND_FRAGMENT_SPREAD);
    check_name(&spread->name, "Frag");
    assert_int_equal(spread->directives.count, 1);
    gql_inline_fragment_t *typed = item(&s->selections, 1, GQL_KIND_INLINE_FRAGMENT);
    check_name(&typed->type_condition->name, "T");
    assert_int_equal(typed->directives.count, 0);
    gql_inline_fragment_t *directed = item(&s->selections, 2, GQL_KIND_INLINE_FRAGMENT);
    assert_null(directed->type_condition);
    assert_int_equal(directed->directives.count, 1);
    gql_inline_fragment_t *bare = item(&s->selections, 3, GQL_KIND_INLINE_FRAGMENT);
    assert_null(bare->type_condition);
    assert_int_equal(bare->directives.count, 0);
    check_name(&field_at(bare->selection_set, 0)->name, "c");
    check_name(&((gql_fragment_spread_t *)item(&s->selections, 4, GQL_KIND_FRAGMENT_SPREAD))->name,
               "onX");
    gql_fragment_definition_t *def = item(&doc->definitions, 1, GQL_KIND_FRAGMENT_DEFINITION);
    check_name(&def->name, "Frag");
    check_name(&def->type_condition->name, "T");
    assert_int_equal(def->directives.count, 1);
    check_loc(&def->base, 2, 1, 80, 108);
}

static void test_values(void **state)
{
    (void)state;
    gql_document_t *doc = parse_doc(
        "{ f(i: -12, fl: 1.5e3, s: \"str\\n\", b: \"\"\"\n  block\n\"\"\", t: true, fa: false, "
        "n: null, e: ENUM_V, l: [1, [2], []], o: {a: 1, b: {c: $v}}, o2: {}, v: $var, "
        "kw: on) }");
    gql_field_t *f = field_at(operation_at(doc, 0)->selection_set, 0);
    assert_int_equal(f->arguments.count, 13);
#define ARG(i) (((gql_argument_t *)f->arguments.items[i])->value)
    check_text(ARG(0), GQL_KIND_INT_VALUE, "-12");
    check_text(ARG(1), GQL_KIND_FLOAT_VALUE, "1.5e3");
    check_text(ARG(2), GQL_KIND_STRING_VALUE, "str\n");
    assert_false(((gql_string_value_t *)ARG(2))->block);
    check_text(ARG(3), GQL_KIND_STRING_VALUE, "block");
    assert_true(((gql_string_value_t *)ARG(3))->block);
    assert_int_equal(ARG(4)->kind, GQL_KIND_BOOLEAN_VALUE);
    assert_true(((gql_boolean_value_t *)ARG(4))->value);
    assert_false(((gql_boolean_value_t *)ARG(5))->value);
    assert_int_equal(ARG(6)->kind, GQL_KIND_NULL_VALUE);
    check_text(ARG(7), GQL_KIND_ENUM_VALUE, "ENUM_V");
    gql_list_value_t *l = (gql_list_value_t *)ARG(8);
    assert_int_equal(l->base.kind, GQL_KIND_LIST_VALUE);
    assert_int_equal(l->values.count, 3);
    assert_int_equal(((gql_list_value_t *)l->values.items[1])->values.count, 1);
    assert_int_equal(((gql_list_value_t *)l->values.items[2])->values.count, 0);
    gql_object_value_t *o = (gql_object_value_t *)ARG(9);
    assert_int_equal(o->fields.count, 2);
    gql_object_field_t *b = item(&o->fields, 1, GQL_KIND_OBJECT_FIELD);
    gql_object_field_t *c =
        item(&((gql_object_value_t *)b->value)->fields, 0, GQL_KIND_OBJECT_FIELD);
    check_name(&c->name, "c");
    assert_int_equal(c->value->kind, GQL_KIND_VARIABLE);
    assert_int_equal(((gql_object_value_t *)ARG(10))->fields.count, 0);
    check_name(&((gql_variable_t *)ARG(11))->name, "var");
    check_text(ARG(12), GQL_KIND_ENUM_VALUE, "on");
#undef ARG
}

static void test_string_values_keep_nuls(void **state)
{
    (void)state;
    gql_document_t *doc = parse_doc("{ f(s: \"a\\u0000b\") }");
    gql_argument_t *a =
        item(&field_at(operation_at(doc, 0)->selection_set, 0)->arguments, 0, GQL_KIND_ARGUMENT);
    gql_string_value_t *s = (gql_string_value_t *)a->value;
    assert_int_equal(s->len, 3);
    assert_memory_equal(s->value, "a\0b", 4);
}

/* ---- type system ---- */

static void test_type_system_kinds(void **state)
{
    (void)state;
    static const gql_kind_t kinds[] = {
        GQL_KIND_SCHEMA_DEFINITION,
        GQL_KIND_OBJECT_TYPE_DEFINITION,
        GQL_KIND_OBJECT_TYPE_DEFINITION,
        GQL_KIND_OBJECT_TYPE_DEFINITION,
        GQL_KIND_OBJECT_TYPE_EXTENSION,
        GQL_KIND_OBJECT_TYPE_EXTENSION,
        GQL_KIND_INTERFACE_TYPE_DEFINITION,
        GQL_KIND_INTERFACE_TYPE_DEFINITION,
        GQL_KIND_INTERFACE_TYPE_DEFINITION,
        GQL_KIND_INTERFACE_TYPE_EXTENSION,
        GQL_KIND_INTERFACE_TYPE_EXTENSION,
        GQL_KIND_INTERFACE_TYPE_DEFINITION,
        GQL_KIND_UNION_TYPE_DEFINITION,
        GQL_KIND_UNION_TYPE_DEFINITION,
        GQL_KIND_UNION_TYPE_DEFINITION,
        GQL_KIND_UNION_TYPE_DEFINITION,
        GQL_KIND_UNION_TYPE_EXTENSION,
        GQL_KIND_UNION_TYPE_EXTENSION,
        GQL_KIND_SCALAR_TYPE_DEFINITION,
        GQL_KIND_SCALAR_TYPE_DEFINITION,
        GQL_KIND_SCALAR_TYPE_EXTENSION,
        GQL_KIND_ENUM_TYPE_DEFINITION,
        GQL_KIND_ENUM_TYPE_DEFINITION,
        GQL_KIND_ENUM_TYPE_DEFINITION,
        GQL_KIND_ENUM_TYPE_EXTENSION,
        GQL_KIND_ENUM_TYPE_EXTENSION,
        GQL_KIND_INPUT_OBJECT_TYPE_DEFINITION,
        GQL_KIND_INPUT_OBJECT_TYPE_DEFINITION,
        GQL_KIND_INPUT_OBJECT_TYPE_DEFINITION,
        GQL_KIND_INPUT_OBJECT_TYPE_EXTENSION,
        GQL_KIND_INPUT_OBJECT_TYPE_EXTENSION,
        GQL_KIND_DIRECTIVE_DEFINITION,
        GQL_KIND_DIRECTIVE_DEFINITION,
        GQL_KIND_DIRECTIVE_DEFINITION,
        GQL_KIND_DIRECTIVE_DEFINITION,
        GQL_KIND_SCHEMA_EXTENSION,
        GQL_KIND_SCHEMA_EXTENSION,
    };
    gql_document_t *doc = parse_sdl(schema_kitchen_sink);
    assert_int_equal(doc->definitions.count, sizeof kinds / sizeof kinds[0]);
    for (uint32_t i = 0; i < doc->definitions.count; i++)
        if (doc->definitions.items[i]->kind != kinds[i])
            fail_msg("definition %u is %s, expected %s", i,
                     gql_kind_name(doc->definitions.items[i]->kind), gql_kind_name(kinds[i]));
}

static void test_schema_and_object_definitions(void **state)
{
    (void)state;
    gql_document_t *doc = parse_sdl(schema_kitchen_sink);
    gql_schema_definition_t *schema = item(&doc->definitions, 0, GQL_KIND_SCHEMA_DEFINITION);
    check_text(&schema->description->base, GQL_KIND_STRING_VALUE,
               "This is a description of the schema as a whole.");
    assert_true(schema->description->block);
    assert_int_equal(schema->operation_types.count, 2);
    gql_operation_type_definition_t *m =
        item(&schema->operation_types, 1, GQL_KIND_OPERATION_TYPE_DEFINITION);
    assert_int_equal(m->operation, GQL_OPERATION_MUTATION);
    check_name(&m->type->name, "MutationType");

    gql_object_type_definition_t *foo = item(&doc->definitions, 1, GQL_KIND_OBJECT_TYPE_DEFINITION);
    check_text(&foo->description->base, GQL_KIND_STRING_VALUE,
               "This is a description\nof the `Foo` type.");
    check_name(&foo->name, "Foo");
    assert_int_equal(foo->interfaces.count, 3);
    check_name(&((gql_named_type_t *)foo->interfaces.items[2])->name, "Two");
    assert_int_equal(foo->fields.count, 7);
    gql_field_definition_t *one = item(&foo->fields, 0, GQL_KIND_FIELD_DEFINITION);
    assert_false(one->description->block);
    gql_field_definition_t *two = item(&foo->fields, 1, GQL_KIND_FIELD_DEFINITION);
    gql_input_value_definition_t *arg = item(&two->arguments, 0, GQL_KIND_INPUT_VALUE_DEFINITION);
    check_text(&arg->description->base, GQL_KIND_STRING_VALUE,
               "This is a description of the `argument` argument.");
    check_name(&arg->name, "argument");
    assert_int_equal(arg->type->kind, GQL_KIND_NON_NULL_TYPE);
    assert_null(arg->default_value);
    gql_field_definition_t *six = item(&foo->fields, 5, GQL_KIND_FIELD_DEFINITION);
    arg = item(&six->arguments, 0, GQL_KIND_INPUT_VALUE_DEFINITION);
    assert_int_equal(arg->default_value->kind, GQL_KIND_OBJECT_VALUE);
    gql_field_definition_t *seven = item(&foo->fields, 6, GQL_KIND_FIELD_DEFINITION);
    arg = item(&seven->arguments, 0, GQL_KIND_INPUT_VALUE_DEFINITION);
    assert_int_equal(arg->default_value->kind, GQL_KIND_NULL_VALUE);

    gql_object_type_definition_t *annotated =
        item(&doc->definitions, 2, GQL_KIND_OBJECT_TYPE_DEFINITION);
    assert_int_equal(annotated->directives.count, 1);
    gql_field_definition_t *af = item(&annotated->fields, 0, GQL_KIND_FIELD_DEFINITION);
    assert_int_equal(af->directives.count, 1);
    arg = item(&af->arguments, 0, GQL_KIND_INPUT_VALUE_DEFINITION);
    check_text(arg->default_value, GQL_KIND_STRING_VALUE, "default");
    assert_int_equal(arg->directives.count, 1);

    gql_object_type_definition_t *undefined =
        item(&doc->definitions, 3, GQL_KIND_OBJECT_TYPE_DEFINITION);
    assert_int_equal(undefined->fields.count, 0);
    gql_type_definition_t *ext = item(&doc->definitions, 4, GQL_KIND_OBJECT_TYPE_EXTENSION);
    assert_null(ext->description);
    assert_int_equal(ext->fields.count, 1);
    gql_type_definition_t *iext = item(&doc->definitions, 9, GQL_KIND_INTERFACE_TYPE_EXTENSION);
    assert_int_equal(iext->interfaces.count, 1);
    gql_interface_type_definition_t *baz =
        item(&doc->definitions, 11, GQL_KIND_INTERFACE_TYPE_DEFINITION);
    assert_int_equal(baz->interfaces.count, 2);
    assert_int_equal(baz->fields.count, 3);
}

static void test_other_type_definitions(void **state)
{
    (void)state;
    gql_document_t *doc = parse_sdl(schema_kitchen_sink);
    gql_union_type_definition_t *feed = item(&doc->definitions, 12, GQL_KIND_UNION_TYPE_DEFINITION);
    assert_int_equal(feed->types.count, 3);
    check_name(&((gql_named_type_t *)feed->types.items[0])->name, "Story");
    gql_union_type_definition_t *two = item(&doc->definitions, 14, GQL_KIND_UNION_TYPE_DEFINITION);
    assert_int_equal(two->types.count, 2);
    assert_int_equal(two->directives.count, 1);
    assert_int_equal(((gql_type_definition_t *)doc->definitions.items[15])->types.count, 0);

    gql_scalar_type_definition_t *scalar =
        item(&doc->definitions, 19, GQL_KIND_SCALAR_TYPE_DEFINITION);
    check_name(&scalar->name, "AnnotatedScalar");
    assert_int_equal(scalar->directives.count, 1);

    gql_enum_type_definition_t *site = item(&doc->definitions, 21, GQL_KIND_ENUM_TYPE_DEFINITION);
    assert_int_equal(site->values.count, 3);
    gql_enum_value_definition_t *web = item(&site->values, 2, GQL_KIND_ENUM_VALUE_DEFINITION);
    check_name(&web->name, "WEB");
    check_text(&web->description->base, GQL_KIND_STRING_VALUE,
               "This is a description of the `WEB` value");
    gql_enum_type_definition_t *annotated =
        item(&doc->definitions, 22, GQL_KIND_ENUM_TYPE_DEFINITION);
    gql_enum_value_definition_t *av = item(&annotated->values, 0, GQL_KIND_ENUM_VALUE_DEFINITION);
    assert_int_equal(av->directives.count, 1);

    gql_input_object_type_definition_t *input =
        item(&doc->definitions, 26, GQL_KIND_INPUT_OBJECT_TYPE_DEFINITION);
    assert_int_equal(input->fields.count, 2);
    gql_input_value_definition_t *answer = item(&input->fields, 1, GQL_KIND_INPUT_VALUE_DEFINITION);
    check_text(answer->default_value, GQL_KIND_INT_VALUE, "42");
    gql_type_definition_t *iext = item(&doc->definitions, 29, GQL_KIND_INPUT_OBJECT_TYPE_EXTENSION);
    gql_input_value_definition_t *other = item(&iext->fields, 0, GQL_KIND_INPUT_VALUE_DEFINITION);
    check_text(other->default_value, GQL_KIND_FLOAT_VALUE, "1.23e4");

    gql_directive_definition_t *skip = item(&doc->definitions, 31, GQL_KIND_DIRECTIVE_DEFINITION);
    check_name(&skip->name, "skip");
    assert_non_null(skip->description);
    assert_false(skip->repeatable);
    assert_int_equal(skip->arguments.count, 1);
    assert_int_equal(skip->locations.count, 3);
    check_name(item(&skip->locations, 2, GQL_KIND_NAME), "INLINE_FRAGMENT");
    gql_directive_definition_t *rep = item(&doc->definitions, 34, GQL_KIND_DIRECTIVE_DEFINITION);
    assert_true(rep->repeatable);
    assert_int_equal(rep->locations.count, 2);

    gql_schema_definition_t *sext = item(&doc->definitions, 36, GQL_KIND_SCHEMA_EXTENSION);
    assert_null(sext->description);
    assert_int_equal(sext->directives.count, 1);
    assert_int_equal(sext->operation_types.count, 1);
    assert_int_equal(((gql_operation_type_definition_t *)sext->operation_types.items[0])->operation,
                     GQL_OPERATION_SUBSCRIPTION);
}

static void test_project_schema(void **state)
{
    (void)state;
    gql_document_t *doc = parse_sdl(project_sdl);
    assert_int_equal(doc->definitions.count, 5);
    gql_object_type_definition_t *query =
        item(&doc->definitions, 3, GQL_KIND_OBJECT_TYPE_DEFINITION);
    check_name(&query->name, "Query");
    gql_field_definition_t *list = item(&query->fields, 0, GQL_KIND_FIELD_DEFINITION);
    check_name(&list->name, "getArticles");
    assert_int_equal(list->arguments.count, 4);
    gql_input_value_definition_t *limit =
        item(&list->arguments, 0, GQL_KIND_INPUT_VALUE_DEFINITION);
    check_text(limit->default_value, GQL_KIND_INT_VALUE, "20");
    gql_input_value_definition_t *offset =
        item(&list->arguments, 1, GQL_KIND_INPUT_VALUE_DEFINITION);
    check_text(offset->default_value, GQL_KIND_INT_VALUE, "0");
    assert_string_equal(print(list->type), "[Article!]!");
    gql_input_object_type_definition_t *create =
        item(&doc->definitions, 1, GQL_KIND_INPUT_OBJECT_TYPE_DEFINITION);
    assert_int_equal(create->fields.count, 3);
    gql_object_type_definition_t *mutation =
        item(&doc->definitions, 4, GQL_KIND_OBJECT_TYPE_DEFINITION);
    assert_int_equal(mutation->fields.count, 3);
    assert_string_equal(print(mutation->fields.items[1]),
                        "updateArticle(id: ID!, input: UpdateArticleInput!): Article");
}

/* The grammar allows descriptions and definitions where graphql-js does, and executable and
 * type-system definitions side by side in one document. */
static void test_mixed_document(void **state)
{
    (void)state;
    gql_document_t *doc = parse_sdl("\"d\" scalar S { a } fragment F on T { a } "
                                    "\"\"\"d\"\"\" directive @d(\"a\" a: Int = 1 @x) on FIELD");
    assert_int_equal(doc->definitions.count, 4);
    assert_int_equal(doc->definitions.items[1]->kind, GQL_KIND_OPERATION_DEFINITION);
    gql_directive_definition_t *d = item(&doc->definitions, 3, GQL_KIND_DIRECTIVE_DEFINITION);
    check_loc(&d->base, 1, 42, 41, 89);
}

/* ---- errors ---- */

static void test_syntax_errors(void **state)
{
    (void)state;
    static const struct {
        const char *src, *message;
        uint32_t line, column;
    } cases[] = {
        {"", "Unexpected <EOF>.", 1, 1},
        {"  \n ", "Unexpected <EOF>.", 2, 2},
        {"# only a comment", "Unexpected <EOF>.", 1, 17},
        {"{", "Expected Name, found <EOF>.", 1, 2},
        {"{ ...MissingOn }\nfragment MissingOn Type", "Expected \"on\", found Name \"Type\".", 2,
         20},
        {"{ field: {} }", "Expected Name, found \"{\".", 1, 10},
        {"notAnOperation Foo { field }", "Unexpected Name \"notAnOperation\".", 1, 1},
        {"...", "Unexpected \"...\".", 1, 1},
        {"{ \"\"", "Expected Name, found String \"\".", 1, 3},
        {"{ a(x: \"\"\"b\"\"\" }", "Expected Name, found \"}\".", 1, 16},
        {"query", "Expected \"{\", found <EOF>.", 1, 6},
        {"query Foo", "Expected \"{\", found <EOF>.", 1, 10},
        {"fragment on on on { on }", "Unexpected Name \"on\".", 1, 10},
        {"fragment \"on\" on T { a }", "Unexpected String \"on\".", 1, 10},
        {"{ ...on }", "Expected Name, found \"}\".", 1, 9},
        {"{ a }}", "Unexpected \"}\".", 1, 6},
        {"}", "Unexpected \"}\".", 1, 1},
        {"{}", "Expected Name, found \"}\".", 1, 2},
        {"{{ a }}", "Expected Name, found \"{\".", 1, 2},
        {"{ a(b: 1, c: ) }", "Unexpected \")\".", 1, 14},
        {"{ a() }", "Expected Name, found \")\".", 1, 5},
        {"{ a(x: [1, 2) }", "Unexpected \")\".", 1, 13},
        {"{ a(x: {a 1}) }", "Expected \":\", found Int \"1\".", 1, 11},
        {"{ a(x: 1.5.) }", "Invalid number, expected digit but got: \".\".", 1, 11},
        {"{ a(x: 01) }", "Invalid number, unexpected digit after 0: \"1\".", 1, 9},
        {"{ a @skip(if: ) }", "Unexpected \")\".", 1, 15},
        {"{ a @ }", "Expected Name, found \"}\".", 1, 7},
        {"{ a: }", "Expected Name, found \"}\".", 1, 6},
        {"{ a: b: c }", "Expected Name, found \":\".", 1, 7},
        {"{ a(b: $) }", "Expected Name, found \")\".", 1, 9},
        {"{ a(b: |) }", "Unexpected \"|\".", 1, 8},
        {"query Foo($a) { a }", "Expected \":\", found \")\".", 1, 13},
        {"query Foo($a: ) { a }", "Expected Name, found \")\".", 1, 15},
        {"query ($a: [Int) { a }", "Expected \"]\", found \")\".", 1, 16},
        {"query ($a: Int!!) { a }", "Expected \"$\", found \"!\".", 1, 16},
        {"query ($a: Int) ($b: Int) { a }", "Expected \"{\", found \"(\".", 1, 17},
        {"query ()", "Expected \"$\", found \")\".", 1, 8},
        {"query Foo($x: Complex = { a: { b: [ $var ] } }) { field }",
         "Unexpected variable \"$var\" in constant value.", 1, 37},
        {"query Foo($x: Int = $) { f }", "Unexpected \"$\".", 1, 21},
        {"query Foo($x: Int @d(a: $y)) { f }", "Unexpected variable \"$y\" in constant value.", 1,
         25},
        {"fragment F on T { ...F @ }", "Expected Name, found \"}\".", 1, 26},
        {"fragment F { a }", "Expected \"on\", found \"{\".", 1, 12},
        {"fragment F on { a }", "Expected Name, found \"{\".", 1, 15},
        {"fragment F on T", "Expected \"{\", found <EOF>.", 1, 16},
        {"\"desc\" query { a }",
         "Unexpected description, descriptions are supported only on type definitions.", 1, 1},
        {"\"\"\"desc\"\"\" { a }", "Unexpected \"{\".", 1, 12},
        {"\"desc\"", "Unexpected <EOF>.", 1, 7},
        {"\"desc\" extend type A @d",
         "Unexpected description, descriptions are supported only "
         "on type definitions.",
         1, 1},
        {"type Hello { world(): String }", "Expected Name, found \")\".", 1, 20},
        {"type Hello { world: String", "Expected Name, found <EOF>.", 1, 27},
        {"type Hello { }", "Expected Name, found \"}\".", 1, 14},
        {"type Hello { world }", "Expected \":\", found \"}\".", 1, 20},
        {"type Hello implements { a: B }", "Expected Name, found \"{\".", 1, 23},
        {"type Hello implements A & { a: B }", "Expected Name, found \"{\".", 1, 27},
        {"type Hello { f(a: Int = $v): Int }", "Unexpected variable \"$v\" in constant value.", 1,
         25},
        {"type T @d(a: $v)", "Unexpected variable \"$v\" in constant value.", 1, 14},
        {"union Hello = || Wo | Rld", "Expected Name, found \"|\".", 1, 16},
        {"union Hello = | Wo | Rld |", "Expected Name, found <EOF>.", 1, 27},
        {"union Hello = ", "Expected Name, found <EOF>.", 1, 15},
        {"input Hello { world(foo: Int): String }", "Expected \":\", found \"(\".", 1, 20},
        {"enum E { true }", "Name \"true\" is reserved and cannot be used for an enum value.", 1,
         10},
        {"enum E { A B null }", "Name \"null\" is reserved and cannot be used for an enum value.",
         1, 14},
        {"enum E { \"d\" \"false\" }",
         "String \"false\" is reserved and cannot be used for an enum value.", 1, 14},
        {"enum E { A(x: 1) }", "Expected Name, found \"(\".", 1, 11},
        {"scalar", "Expected Name, found <EOF>.", 1, 7},
        {"schema {}", "Expected Name, found \"}\".", 1, 9},
        {"schema { foo: Bar }", "Unexpected Name \"foo\".", 1, 10},
        {"schema { query Bar }", "Expected \":\", found Name \"Bar\".", 1, 16},
        {"schema @d", "Expected \"{\", found <EOF>.", 1, 10},
        {"directive @foo on FOO", "Unexpected Name \"FOO\".", 1, 19},
        {"directive @foo on FIELD | FOO", "Unexpected Name \"FOO\".", 1, 27},
        {"directive @foo on field", "Unexpected Name \"field\".", 1, 19},
        {"directive @foo(a: Int) FIELD", "Expected \"on\", found Name \"FIELD\".", 1, 24},
        {"directive foo on FIELD", "Expected \"@\", found Name \"foo\".", 1, 11},
        {"directive @foo repeatable", "Expected \"on\", found <EOF>.", 1, 26},
        {"directive @foo on", "Expected Name, found <EOF>.", 1, 18},
        {"extend", "Unexpected <EOF>.", 1, 7},
        {"extend foo", "Unexpected Name \"foo\".", 1, 8},
        {"extend directive @d on FIELD", "Unexpected Name \"directive\".", 1, 8},
        {"extend schema", "Unexpected <EOF>.", 1, 14},
        {"extend scalar Foo", "Unexpected <EOF>.", 1, 18},
        {"extend type Hello", "Unexpected <EOF>.", 1, 18},
        {"extend type Hello { }", "Expected Name, found \"}\".", 1, 21},
        {"extend interface Hello", "Unexpected <EOF>.", 1, 23},
        {"extend union Hello", "Unexpected <EOF>.", 1, 19},
        {"extend enum Hello", "Unexpected <EOF>.", 1, 18},
        {"extend input Hello", "Unexpected <EOF>.", 1, 19},
        {"extend input Hello {}", "Expected Name, found \"}\".", 1, 21},
        {"extend type Hello { a: B } c", "Unexpected Name \"c\".", 1, 28},
        {"{ a }\n  ~", "Unexpected character: \"~\".", 2, 3},
        {"{ a(s: \"\\z\") }", "Invalid character escape sequence: \"\\z\".", 1, 9},
    };
    char expected[200];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(expected, sizeof expected, "Syntax Error: %s", cases[i].message);
        check_syntax_error(cases[i].src, expected, cases[i].line, cases[i].column);
    }
}

static void test_error_locations_utf16(void **state)
{
    (void)state;
    /* the column of a parser error counts a non-BMP character before it as two */
    check_syntax_error("{ a(s: \"\xf0\x9f\x98\x80\") } }", "Syntax Error: Unexpected \"}\".", 1,
                       16);
    check_syntax_error("{ a(s: \"\xc3\xa9\") } }", "Syntax Error: Unexpected \"}\".", 1, 15);
    check_syntax_error("{ a(s: \"\"\"\n\xf0\x9f\x98\x80\"\"\") ] }",
                       "Syntax Error: Expected Name, found \"]\".", 2, 8);
}

static void test_not_executable(void **state)
{
    (void)state;
    static const struct {
        const char *src, *message;
        uint32_t line, column;
    } cases[] = {
        {"schema { query: Q }", "The schema definition is not executable.", 1, 1},
        {"{ a }\n\"\"\"d\"\"\" schema { query: Q }", "The schema definition is not executable.", 2,
         1},
        {"extend schema @d", "The schema definition is not executable.", 1, 1},
        {"scalar Date", "The \"Date\" definition is not executable.", 1, 1},
        {"type Article { id: ID! }", "The \"Article\" definition is not executable.", 1, 1},
        {"{ a } interface Node { id: ID! }", "The \"Node\" definition is not executable.", 1, 7},
        {"union U = A | B", "The \"U\" definition is not executable.", 1, 1},
        {"enum E { A }", "The \"E\" definition is not executable.", 1, 1},
        {"input I { a: Int }", "The \"I\" definition is not executable.", 1, 1},
        {"directive @d on FIELD", "The \"d\" definition is not executable.", 1, 1},
        {"extend type Foo @d", "The \"Foo\" definition is not executable.", 1, 1},
        {"extend input Foo { a: Int }", "The \"Foo\" definition is not executable.", 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_error_n(cases[i].src, strlen(cases[i].src), NULL, GQL_ENOTEXECUTABLE,
                      cases[i].message, cases[i].line, cases[i].column);
    /* the syntax of a type-system definition is checked first, as graphql-js would */
    check_error_n(S("type Foo {"), NULL, GQL_ESYNTAX, "Syntax Error: Expected Name, found <EOF>.",
                  1, 11);
    /* and executable definitions are accepted either way */
    parse_n(S("query Q { a } fragment F on T { b }"), NULL);
    parse_n(S("query Q { a } fragment F on T { b }"), &sdl);
}

/* ---- limits ---- */

static void test_limit_source_bytes(void **state)
{
    (void)state;
    gql_parse_options_t opt = {.max_source_bytes = 5};
    parse_n(S("{ a }"), &opt);
    opt.max_source_bytes = 4;
    check_error_n(S("{ a }"), &opt, GQL_ELIMIT,
                  "Syntax Error: Document is larger than 4 bytes. Parsing aborted.", 0, 0);
    /* the default */
    char *big = repeat("{", " ", GQL_DEFAULT_MAX_SOURCE_BYTES - 3, "a}");
    parse_n(big, GQL_DEFAULT_MAX_SOURCE_BYTES, NULL);
    big = repeat("{", " ", GQL_DEFAULT_MAX_SOURCE_BYTES - 2, "a}");
    check_error_n(big, GQL_DEFAULT_MAX_SOURCE_BYTES + 1, NULL, GQL_ELIMIT,
                  "Syntax Error: Document is larger than 1048576 bytes. Parsing aborted.", 0, 0);
}

static void test_limit_tokens(void **state)
{
    (void)state;
    /* five tokens; the end of file does not count */
    gql_parse_options_t opt = {.max_tokens = 5};
    parse_n(S("{ a b c }"), &opt);
    opt.max_tokens = 4;
    check_error_n(S("{ a b c }"), &opt, GQL_ELIMIT,
                  "Syntax Error: Document contains more than 4 tokens. Parsing aborted.", 1, 9);
    /* a token only looked ahead at is counted when it is reached */
    opt.max_tokens = 3;
    parse_n(S("scalar S @d"), &(gql_parse_options_t){.max_tokens = 4, .allow_type_system = true});
    check_error_n(S("\"d\" scalar S @d"),
                  &(gql_parse_options_t){.max_tokens = 4, .allow_type_system = true}, GQL_ELIMIT,
                  "Syntax Error: Document contains more than 4 tokens. Parsing aborted.", 1, 15);
    /* the default */
    size_t n = GQL_DEFAULT_MAX_TOKENS - 2; /* plus the braces */
    gql_parse_options_t big = {.max_source_bytes = 4 * n};
    parse_n(repeat("{", " a", n, "}"), 2 * n + 2, &big);
    check_error_n(repeat("{", " a", n + 1, "}"), 2 * n + 4, &big, GQL_ELIMIT,
                  "Syntax Error: Document contains more than 100000 tokens. Parsing aborted.", 1,
                  (uint32_t)(2 * n + 4));
}

static void check_depth(const char *src, unsigned ok_depth, uint32_t column)
{
    gql_parse_options_t opt = {.max_depth = ok_depth, .allow_type_system = true};
    parse_n(src, strlen(src), &opt);
    opt.max_depth = ok_depth - 1;
    char message[100];
    snprintf(message, sizeof message,
             "Syntax Error: Document is nested more than %u levels deep. Parsing aborted.",
             ok_depth - 1);
    check_error_n(src, strlen(src), &opt, GQL_ELIMIT, message, 1, column);
}

static void test_limit_depth(void **state)
{
    (void)state;
    /* each selection set, list value, object value and list type is a level */
    check_depth("{a{b{c}}}", 3, 5);
    check_depth("{ f(a: [[1]]) }", 3, 9);
    check_depth("{ f(a: {b: {c: 1}}) }", 3, 12);
    check_depth("{ f(a: [{b: [1]}]) }", 4, 13);
    check_depth("query ($a: [[Int]]) { f }", 2, 13);
    check_depth("query ($a: Int = [[1]]) { f }", 2, 19);
    check_depth("type T { f(a: [[Int]] = [[[1]]]): [[[[X]]]] }", 4, 38);
    check_depth("{ a @d(x: [[1]]) { b } }", 3, 12);
    check_depth("fragment F on T { ... on U { ... { a } } }", 3, 34);
    check_depth("{ a } { b { c } }", 2, 11);
}

static void test_limit_depth_default_and_ceiling(void **state)
{
    (void)state;
    parse_doc(repeat("", "{a", GQL_DEFAULT_MAX_DEPTH, repeat("", "}", GQL_DEFAULT_MAX_DEPTH, "")));
    char *deep =
        repeat("", "{a", GQL_DEFAULT_MAX_DEPTH + 1, repeat("", "}", GQL_DEFAULT_MAX_DEPTH + 1, ""));
    check_error_n(deep, strlen(deep), NULL, GQL_ELIMIT,
                  "Syntax Error: Document is nested more than 64 levels deep. Parsing aborted.", 1,
                  129);
    /* no option goes past the ceiling that keeps the C stack safe */
    gql_parse_options_t opt = {.max_depth = UINT_MAX};
    size_t n = GQL_MAX_DEPTH_CEILING;
    gql_document_t *doc = parse_n(repeat("", "{a", n, repeat("", "}", n, "")), 3 * n, &opt);
    /* the visitor and the printer recurse as deep as the tree: the ceiling is safe for them */
    size_t nodes = 0;
    gql_visitor_t v = {.enter = count_node};
    assert_int_equal(gql_visit(&doc->base, &v, &nodes), 0);
    assert_int_equal(nodes, 2 + 3 * n); /* document, operation, and per level a set, a field
                                           and its name */
    const char *printed = print(&doc->base);
    gql_parse_options_t big = {.max_depth = UINT_MAX, .max_source_bytes = SIZE_MAX};
    assert_string_equal(print(&parse_n(printed, strlen(printed), &big)->base), printed);
    deep = repeat("", "{a", n + 1, repeat("", "}", n + 1, ""));
    check_error_n(deep, strlen(deep), &opt, GQL_ELIMIT,
                  "Syntax Error: Document is nested more than 1000 levels deep. Parsing aborted.",
                  1, 2001);
}

/* ---- hostile input ---- */

static void test_hostile_nesting(void **state)
{
    (void)state;
    const size_t n = 100000;
    const gql_parse_options_t unlimited = {
        .max_depth = UINT_MAX, .max_tokens = SIZE_MAX, .max_source_bytes = SIZE_MAX};
    const char *const sources[] = {
        repeat("{ f(a: ", "[", n, ""),     repeat("{ f(a: ", "[", n, repeat("", "]", n, ") }")),
        repeat("{ f(a: ", "{a:", n, ""),   repeat("", "{a", n, ""),
        repeat("query ($a: ", "[", n, ""), repeat("type T { f: ", "[", n, "Int"),
        repeat("{ f @d(a: ", "[", n, ""),
    };
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        assert_int_equal(error_n(sources[i], strlen(sources[i]), &sdl).code, GQL_ELIMIT);
        assert_int_equal(error_n(sources[i], strlen(sources[i]), &unlimited).code, GQL_ELIMIT);
    }
    /* braces alone are not even a selection */
    char *braces = repeat("", "{", n, "");
    check_error_n(braces, n, NULL, GQL_ESYNTAX, "Syntax Error: Expected Name, found \"{\".", 1, 2);
}

static void test_hostile_token_count(void **state)
{
    (void)state;
    const size_t n = 600000;
    char *src = repeat("{", " a", n, "}");
    /* larger than the default size limit */
    assert_int_equal(error_n(src, strlen(src), NULL).code, GQL_ELIMIT);
    /* then too many tokens */
    gql_parse_options_t opt = {.max_source_bytes = SIZE_MAX};
    assert_int_equal(error_n(src, strlen(src), &opt).code, GQL_ELIMIT);
    /* and, when allowed, parsed in linear time with a selection set of 600000 fields */
    opt.max_tokens = SIZE_MAX;
    gql_document_t *doc = parse_n(src, strlen(src), &opt);
    assert_int_equal(operation_at(doc, 0)->selection_set->selections.count, n);
    /* as are 600000 comments, which are not tokens */
    src = repeat("{ a", "#\n", n, "}");
    opt.max_tokens = 0;
    assert_int_equal(
        operation_at(parse_n(src, strlen(src), &opt), 0)->selection_set->selections.count, 1);
}

static void test_hostile_bytes(void **state)
{
    (void)state;
    static const struct {
        const char *src;
        size_t len;
        const char *message;
        uint32_t column;
    } cases[] = {
        {S("{ a }\0"), "Syntax Error: Unexpected character: U+0000.", 6},
        {S("\0{ a }"), "Syntax Error: Unexpected character: U+0000.", 1},
        {S("{ a\0b }"), "Syntax Error: Unexpected character: U+0000.", 4},
        {S("{ a(s: \"x\0\") }"), "Syntax Error: Invalid character within String: U+0000.", 10},
        {S("{ a(s: \"\"\"\0\"\"\") }"), "Syntax Error: Invalid character within String: U+0000.",
         11},
        {S("{ a } # \0"), "Syntax Error: Unexpected character: U+0000.", 9},
        {S("{ a(s: \"\xff\") }"), "Syntax Error: Invalid UTF-8 sequence (byte 0xFF).", 9},
        {S("{ a(s: \"\xc3\") }"), "Syntax Error: Invalid UTF-8 sequence (byte 0xC3).", 9},
        {S("{ a(s: \"\xed\xa0\x80\") }"), "Syntax Error: Invalid UTF-8 sequence (byte 0xED).", 9},
        {S("{ a } # \xc0\xaf"), "Syntax Error: Invalid UTF-8 sequence (byte 0xC0).", 9},
        {S("{ \xe9t\xe9 }"), "Syntax Error: Invalid UTF-8 sequence (byte 0xE9).", 3},
        {S("{ a }\xff"), "Syntax Error: Invalid UTF-8 sequence (byte 0xFF).", 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_error_n(cases[i].src, cases[i].len, NULL, GQL_ESYNTAX, cases[i].message, 1,
                      cases[i].column);
}

static void test_random_garbage(void **state)
{
    (void)state;
    /* whatever the bytes, the parser answers cleanly (the sanitizers watch) */
    static const char alphabet[] =
        "{}()[]:$@!=|&.\"\\ \n#aZ_09-eE,\xc3\xa9\xf0\x9f\x98\x80\x00\xff";
    unsigned seed = 12345;
    char src[64];
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(round % 63) + 1;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            src[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        gql_document_t *doc;
        gql_error_t err;
        int rc = gql_parse(src, len, &sdl, &arena, &doc, &err);
        if (rc == 0) {
            /* whatever parses prints as something that parses to the same print */
            const char *printed = print(&doc->base);
            assert_string_equal(print(&parse_n(printed, strlen(printed), &sdl)->base), printed);
        } else {
            assert_true(rc == GQL_ESYNTAX);
            assert_true(err.line >= 1 && err.column >= 1 && err.offset <= len);
        }
        if (round % 1000 == 999)
            arena_reset(&arena);
    }
}

static void test_out_of_memory(void **state)
{
    (void)state;
    for (size_t limit = 0; limit < 20000; limit += 512) {
        arena_t small;
        arena_init(&small, 256, limit + 1);
        gql_document_t *doc;
        gql_error_t err;
        int rc = gql_parse(kitchen_sink, strlen(kitchen_sink), NULL, &small, &doc, &err);
        if (rc != 0) {
            assert_int_equal(rc, GQL_ENOMEM);
            assert_string_equal(err.message, "Out of memory.");
        }
        arena_free(&small);
    }
}

/* ---- lists longer than the parser's inline stack ---- */

static void test_long_lists(void **state)
{
    (void)state;
    buf_t b = {0};
    buf_puts(&b, "{ ");
    for (int i = 0; i < 300; i++)
        buf_printf(&b, "f%d(a: [%d, [1, 2, 3], {x: [%d]}]) ", i, i, i);
    buf_puts(&b, "}");
    gql_document_t *doc = parse_n(b.data, b.len, NULL);
    gql_selection_set_t *s = operation_at(doc, 0)->selection_set;
    assert_int_equal(s->selections.count, 300);
    gql_field_t *f = field_at(s, 299);
    check_name(&f->name, "f299");
    gql_list_value_t *l = (gql_list_value_t *)((gql_argument_t *)f->arguments.items[0])->value;
    assert_int_equal(l->values.count, 3);
    check_text(l->values.items[0], GQL_KIND_INT_VALUE, "299");
    /* an error after the scratch stack moved to the heap releases it (the sanitizer checks) */
    buf_puts(&b, " }");
    error_n(b.data, b.len, NULL);
    buf_free(&b);
}

/* ---- locations ---- */

static void test_locations(void **state)
{
    (void)state;
    gql_document_t *doc = parse_doc("query Q {\n  a(b: 1) @d\n}");
    gql_operation_definition_t *op = operation_at(doc, 0);
    check_loc(&doc->base, 1, 1, 0, 24);
    check_loc(&op->base, 1, 1, 0, 24);
    check_loc(&op->name.base, 1, 7, 6, 7);
    check_loc(&op->selection_set->base, 1, 9, 8, 24);
    gql_field_t *f = field_at(op->selection_set, 0);
    check_loc(&f->base, 2, 3, 12, 22);
    check_loc(&f->name.base, 2, 3, 12, 13);
    gql_argument_t *a = item(&f->arguments, 0, GQL_KIND_ARGUMENT);
    check_loc(&a->base, 2, 5, 14, 18);
    check_loc(a->value, 2, 8, 17, 18);
    check_loc(f->directives.items[0], 2, 11, 20, 22);

    doc = parse_doc("query ($v: [Int!]! = [1]) { a }  # trailing\n");
    gql_variable_definition_t *d =
        item(&operation_at(doc, 0)->variable_definitions, 0, GQL_KIND_VARIABLE_DEFINITION);
    check_loc(&d->base, 1, 8, 7, 24);
    check_loc(d->type, 1, 12, 11, 18);
    check_loc(((gql_non_null_type_t *)d->type)->type, 1, 12, 11, 17);
    check_loc(d->default_value, 1, 22, 21, 24);
    check_loc(&doc->base, 1, 1, 0, 44); /* the document spans the whole source */

    /* a description belongs to its definition */
    doc = parse_sdl("\n\n  \"\"\"d\"\"\"\n  type T { f: Int }");
    check_loc(doc->definitions.items[0], 3, 3, 4, 31);
}

/* ---- single values and types ---- */

static void test_parse_value_and_type(void **state)
{
    (void)state;
    gql_node_t *n;
    gql_error_t err;
    assert_int_equal(gql_parse_value(S("[1, \"a\", {b: $c}]"), NULL, false, &arena, &n, &err), 0);
    assert_int_equal(n->kind, GQL_KIND_LIST_VALUE);
    assert_string_equal(print(n), "[1, \"a\", {b: $c}]");
    assert_int_equal(gql_parse_value(S("{b: $c}"), NULL, true, &arena, &n, &err), GQL_ESYNTAX);
    assert_string_equal(err.message, "Syntax Error: Unexpected variable \"$c\" in constant value.");
    assert_int_equal(err.column, 5);
    assert_int_equal(gql_parse_value(S("1 2"), NULL, false, &arena, &n, &err), GQL_ESYNTAX);
    assert_string_equal(err.message, "Syntax Error: Expected <EOF>, found Int \"2\".");
    assert_null(n);
    assert_int_equal(gql_parse_value(S("  null "), NULL, true, &arena, &n, &err), 0);
    assert_int_equal(n->kind, GQL_KIND_NULL_VALUE);

    assert_int_equal(gql_parse_type(S("[String!]!"), NULL, &arena, &n, &err), 0);
    assert_int_equal(n->kind, GQL_KIND_NON_NULL_TYPE);
    assert_string_equal(print(n), "[String!]!");
    assert_int_equal(gql_parse_type(S("[String"), NULL, &arena, &n, &err), GQL_ESYNTAX);
    assert_string_equal(err.message, "Syntax Error: Expected \"]\", found <EOF>.");
    assert_int_equal(err.column, 8);
    gql_parse_options_t opt = {.max_depth = 2};
    assert_int_equal(gql_parse_type(S("[[[Int]]]"), &opt, &arena, &n, &err), GQL_ELIMIT);
}

/* ---- visitor ---- */

typedef struct trace {
    buf_t text;
    int count[GQL_KIND_COUNT];
    gql_kind_t skip;
    gql_kind_t stop;
    int fields;
    int selection_sets_left;
    gql_kind_t parent_of_b;
} trace_t;

static int trace_enter(gql_node_t *n, gql_node_t *parent, void *ud)
{
    trace_t *t = ud;
    (void)parent;
    buf_printf(&t->text, "+%s", gql_kind_name(n->kind));
    if (n->kind == GQL_KIND_NAME)
        buf_printf(&t->text, "(%s)", ((gql_name_t *)n)->value);
    buf_putc(&t->text, ' ');
    t->count[n->kind]++;
    if (n->kind == t->stop)
        return GQL_VISIT_BREAK;
    return n->kind == t->skip ? GQL_VISIT_SKIP : GQL_VISIT_CONTINUE;
}

static int trace_leave(gql_node_t *n, gql_node_t *parent, void *ud)
{
    trace_t *t = ud;
    (void)parent;
    buf_printf(&t->text, "-%s ", gql_kind_name(n->kind));
    return GQL_VISIT_CONTINUE;
}

static void test_visitor_order(void **state)
{
    (void)state;
    gql_document_t *doc = parse_doc("{ a }");
    trace_t t = {.skip = GQL_KIND_COUNT, .stop = GQL_KIND_COUNT};
    gql_visitor_t v = {.enter = trace_enter, .leave = trace_leave};
    assert_int_equal(gql_visit(&doc->base, &v, &t), 0);
    assert_string_equal(t.text.data, "+Document +OperationDefinition +SelectionSet +Field +Name(a) "
                                     "-Name -Field -SelectionSet -OperationDefinition -Document ");
    buf_free(&t.text);

    doc = parse_doc("query Q($v: Int = 1) { x: a(x: [1, $v]) @d { b } ...F } "
                    "fragment F on T { c }");
    t = (trace_t){.skip = GQL_KIND_COUNT, .stop = GQL_KIND_COUNT};
    v = (gql_visitor_t){.enter = trace_enter};
    assert_int_equal(gql_visit(&doc->base, &v, &t), 0);
    assert_string_equal(
        t.text.data,
        "+Document +OperationDefinition +Name(Q) +VariableDefinition +Variable +Name(v) "
        "+NamedType +Name(Int) +IntValue +SelectionSet +Field +Name(x) +Name(a) +Argument "
        "+Name(x) +ListValue +IntValue +Variable +Name(v) +Directive +Name(d) +SelectionSet "
        "+Field +Name(b) +FragmentSpread +Name(F) +FragmentDefinition +Name(F) +NamedType "
        "+Name(T) +SelectionSet +Field +Name(c) ");
    buf_free(&t.text);
}

static void test_visitor_covers_every_node(void **state)
{
    (void)state;
    gql_document_t *doc = parse_sdl(schema_kitchen_sink);
    trace_t t = {.skip = GQL_KIND_COUNT, .stop = GQL_KIND_COUNT};
    gql_visitor_t v = {.enter = trace_enter, .leave = trace_leave};
    assert_int_equal(gql_visit(&doc->base, &v, &t), 0);
    assert_int_equal(t.count[GQL_KIND_DOCUMENT], 1);
    assert_int_equal(t.count[GQL_KIND_DIRECTIVE_DEFINITION], 4);
    assert_int_equal(t.count[GQL_KIND_ENUM_VALUE_DEFINITION], 6);
    assert_int_equal(t.count[GQL_KIND_OPERATION_TYPE_DEFINITION], 3);
    assert_int_equal(t.count[GQL_KIND_FIELD_DEFINITION], 16);
    /* 11 descriptions (schema, Foo, one, two, argument, three, 3 enum values, @skip, if)
     * and 8 string values in defaults and directive arguments */
    assert_int_equal(t.count[GQL_KIND_STRING_VALUE], 11 + 8);
    buf_free(&t.text);

    doc = parse_doc(kitchen_sink);
    t = (trace_t){.skip = GQL_KIND_COUNT, .stop = GQL_KIND_COUNT};
    assert_int_equal(gql_visit(&doc->base, &v, &t), 0);
    assert_int_equal(t.count[GQL_KIND_OPERATION_DEFINITION], 5);
    assert_int_equal(t.count[GQL_KIND_FRAGMENT_DEFINITION], 1);
    assert_int_equal(t.count[GQL_KIND_INLINE_FRAGMENT], 3);
    assert_int_equal(t.count[GQL_KIND_FRAGMENT_SPREAD], 1);
    assert_int_equal(t.count[GQL_KIND_OBJECT_FIELD], 2);
    assert_int_equal(t.count[GQL_KIND_BOOLEAN_VALUE], 2);
    assert_int_equal(t.count[GQL_KIND_NULL_VALUE], 1);
    assert_int_equal(t.count[GQL_KIND_VARIABLE_DEFINITION], 3);
    buf_free(&t.text);
}

static void test_visitor_skip_and_break(void **state)
{
    (void)state;
    gql_document_t *doc = parse_doc("{ a(x: 1) { b } c }");
    trace_t t = {.skip = GQL_KIND_FIELD, .stop = GQL_KIND_COUNT};
    gql_visitor_t v = {.enter = trace_enter, .leave = trace_leave};
    assert_int_equal(gql_visit(&doc->base, &v, &t), 0);
    /* skipped nodes are entered, but neither their children nor their leave are seen */
    assert_string_equal(t.text.data, "+Document +OperationDefinition +SelectionSet +Field +Field "
                                     "-SelectionSet -OperationDefinition -Document ");
    buf_free(&t.text);

    t = (trace_t){.skip = GQL_KIND_COUNT, .stop = GQL_KIND_ARGUMENT};
    assert_int_equal(gql_visit(&doc->base, &v, &t), GQL_VISIT_BREAK);
    assert_string_equal(t.text.data, "+Document +OperationDefinition +SelectionSet +Field +Name(a) "
                                     "-Name +Argument ");
    buf_free(&t.text);
}

static int on_field(gql_field_t *f, gql_node_t *parent, void *ud)
{
    trace_t *t = ud;
    assert_int_equal(parent->kind, GQL_KIND_SELECTION_SET);
    t->fields++;
    return f->name.value[0] == 'x' ? -42 : GQL_VISIT_CONTINUE;
}

static int on_selection_set_left(gql_selection_set_t *s, gql_node_t *parent, void *ud)
{
    (void)s;
    (void)parent;
    ((trace_t *)ud)->selection_sets_left++;
    return GQL_VISIT_CONTINUE;
}

static int on_name(gql_name_t *n, gql_node_t *parent, void *ud)
{
    if (strcmp(n->value, "b") == 0)
        ((trace_t *)ud)->parent_of_b = parent->kind;
    return GQL_VISIT_CONTINUE;
}

static int skip_operations(gql_node_t *n, gql_node_t *parent, void *ud)
{
    (void)parent;
    (void)ud;
    return n->kind == GQL_KIND_OPERATION_DEFINITION ? GQL_VISIT_SKIP : GQL_VISIT_CONTINUE;
}

static void test_visitor_typed_callbacks(void **state)
{
    (void)state;
    gql_document_t *doc = parse_doc("{ a { b } c } fragment F on T { d(b: 1) }");
    trace_t t = {0};
    gql_visitor_t v = {.enter_field = on_field,
                       .leave_selection_set = on_selection_set_left,
                       .enter_name = on_name};
    assert_int_equal(gql_visit(&doc->base, &v, &t), 0);
    assert_int_equal(t.fields, 4);
    assert_int_equal(t.selection_sets_left, 3);
    assert_int_equal(t.parent_of_b, GQL_KIND_ARGUMENT); /* the last "b" seen */

    /* a generic enter that skips keeps the typed callbacks away from that subtree */
    t = (trace_t){0};
    v.enter = skip_operations;
    assert_int_equal(gql_visit(&doc->base, &v, &t), 0);
    assert_int_equal(t.fields, 1);

    /* a negative answer aborts the walk and comes back */
    doc = parse_doc("{ a x b }");
    t = (trace_t){0};
    v.enter = NULL;
    assert_int_equal(gql_visit(&doc->base, &v, &t), -42);
    assert_int_equal(t.fields, 2);
    assert_int_equal(gql_visit(NULL, &v, &t), 0);
}

static void test_kind_names(void **state)
{
    (void)state;
    assert_string_equal(gql_kind_name(GQL_KIND_NAME), "Name");
    assert_string_equal(gql_kind_name(GQL_KIND_INT_VALUE), "IntValue");
    assert_string_equal(gql_kind_name(GQL_KIND_NON_NULL_TYPE), "NonNullType");
    assert_string_equal(gql_kind_name(GQL_KIND_INPUT_OBJECT_TYPE_EXTENSION),
                        "InputObjectTypeExtension");
    assert_string_equal(gql_kind_name(GQL_KIND_COUNT), "?");
    for (int k = 0; k < GQL_KIND_COUNT; k++)
        assert_true(strlen(gql_kind_name((gql_kind_t)k)) > 3);
}

/* ---- printer ---- */

static void test_print_kitchen_sink(void **state)
{
    (void)state;
    check_round_trip(kitchen_sink, kitchen_sink_printed, NULL);
}

static void test_print_schema_kitchen_sink(void **state)
{
    (void)state;
    check_round_trip(schema_kitchen_sink, schema_kitchen_sink_printed, &sdl);
}

static void test_print_project_schema(void **state)
{
    (void)state;
    check_round_trip(project_sdl, project_sdl_printed, &sdl);
}

static void test_print_queries(void **state)
{
    (void)state;
    check_round_trip("query Q { a }", "query Q {\n  a\n}", NULL);
    check_round_trip("query { a }", "{\n  a\n}", NULL);
    check_round_trip("query ($v: Int) { a }", "query ($v: Int) {\n  a\n}", NULL);
    check_round_trip("query @d { a }", "query @d {\n  a\n}", NULL);
    check_round_trip("mutation { a }", "mutation {\n  a\n}", NULL);
    check_round_trip("subscription S($a: [[Int!]!] = [[1]] @x @y) @d(a: 1) { a }",
                     "subscription S($a: [[Int!]!] = [[1]] @x @y) @d(a: 1) {\n  a\n}", NULL);
    check_round_trip("{a{b{c}}d}", "{\n  a {\n    b {\n      c\n    }\n  }\n  d\n}", NULL);
    check_round_trip("{ f(a: -1.5e-3, b: ENUM, c: [], d: {}, e: [{x: [null]}], g: \"\") }",
                     "{\n  f(a: -1.5e-3, b: ENUM, c: [], d: {}, e: [{x: [null]}], g: \"\")\n}",
                     NULL);
    check_round_trip("fragment F on T @a @b { ...G @c ... on U @d { x } }",
                     "fragment F on T @a @b {\n  ...G @c\n  ... on U @d {\n    x\n  }\n}", NULL);
    check_round_trip("# comment\n{ a, b, # more\n c }", "{\n  a\n  b\n  c\n}", NULL);
}

static void test_print_strings(void **state)
{
    (void)state;
    /* controls as \uXXXX (upper case) or their short escapes, '"' and '\', C1 controls; the
     * rest, '/' and non-ASCII included, as it is */
    check_round_trip(
        "{ f(s: \"a\\u0000\\u0001\\u001f\\\"\\\\\\/\\b\\f\\n\\r\\t\\u000b\\u007F\\u0080\\u009F"
        "\\u00A0\xc3\xa9\\uD83D\\uDE00\") }",
        "{\n  f(s: \"a\\u0000\\u0001\\u001F\\\"\\\\/\\b\\f\\n\\r\\t\\u000B\\u007F\\u0080\\u009F"
        "\xc2\xa0\xc3\xa9\xf0\x9f\x98\x80\")\n}",
        NULL);
}

static void test_print_block_strings(void **state)
{
    (void)state;
    /* the empty block string, and one line that needs no lines of its own */
    check_round_trip("{ f(s: \"\"\"\"\"\") }", "{\n  f(s: \"\"\"\"\"\")\n}", NULL);
    check_round_trip("{ f(s: \"\"\"one line\"\"\") }", "{\n  f(s: \"\"\"one line\"\"\")\n}", NULL);
    /* leading white space on a single line stays on the quotes' line */
    check_round_trip("{ f(s: \"\"\"  lead\"\"\") }", "{\n  f(s: \"\"\"  lead\"\"\")\n}", NULL);
    /* several lines: on lines of their own, indented with the block around them */
    check_round_trip("{ a { f(s: \"\"\"\n  x\n  y\n\"\"\") } }",
                     "{\n  a {\n    f(s: \"\"\"\n    x\n    y\n    \"\"\")\n  }\n}", NULL);
    /* an empty line inside gets the indentation too, as graphql-js's indent() gives it */
    check_round_trip("{ f(s: \"\"\"x\n\ny\"\"\") }", "{\n  f(s: \"\"\"\n  x\n  \n  y\n  \"\"\")\n}",
                     NULL);
    /* a trailing quote or backslash forces a final new line */
    check_round_trip("{ f(s: \"\"\"a\"\n\"\"\") }", "{\n  f(s: \"\"\"\n  a\"\n  \"\"\")\n}", NULL);
    check_round_trip("{ f(s: \"\"\"a\\\n\"\"\") }", "{\n  f(s: \"\"\"\n  a\\\n  \"\"\")\n}", NULL);
    /* triple quotes are escaped; trailing ones force lines of their own */
    check_round_trip("{ f(s: \"\"\"a \\\"\"\" b\"\"\") }", "{\n  f(s: \"\"\"a \\\"\"\" b\"\"\")\n}",
                     NULL);
    check_round_trip("{ f(s: \"\"\"a\\\"\"\"\"\"\") }",
                     "{\n  f(s: \"\"\"\n  a\\\"\"\"\n  \"\"\")\n}", NULL);
    /* the first line is never dedented */
    check_round_trip("\"\"\"first\n    second\n      third\"\"\" scalar S",
                     "\"\"\"\nfirst\nsecond\n  third\n\"\"\"\nscalar S", &sdl);
    /* longer than 70 UTF-16 units: lines of its own */
    char *src = repeat("\"\"\"", "x", 71, "\"\"\" scalar S");
    char *expected = repeat("\"\"\"\n", "x", 71, "\n\"\"\"\nscalar S");
    check_round_trip(src, expected, &sdl);
    src = repeat("\"\"\"", "\xc3\xa9", 70, "\"\"\" scalar S");
    expected = repeat("\"\"\"", "\xc3\xa9", 70, "\"\"\"\nscalar S");
    check_round_trip(src, expected, &sdl);
    /* descriptions inside blocks */
    check_round_trip(
        "type T {\n  \"\"\"\n  Doc\n  more\n  \"\"\"\n  f(\"\"\"arg\"\"\" a: Int): Int }",
        "type T {\n  \"\"\"\n  Doc\n  more\n  \"\"\"\n  f(\n    \"\"\"arg\"\"\"\n"
        "    a: Int\n  ): Int\n}",
        &sdl);
}

static void test_print_long_arguments(void **state)
{
    (void)state;
    /* a field's line of 80 characters stays on one line, 81 are broken up */
    char *src = repeat("{ f(a: \"", "x", 72, "\") }");
    char *expected = repeat("{\n  f(a: \"", "x", 72, "\")\n}");
    check_round_trip(src, expected, NULL);
    src = repeat("{ f(a: \"", "x", 73, "\", b: 1) }");
    expected = repeat("{\n  f(\n    a: \"", "x", 73, "\"\n    b: 1\n  )\n}");
    check_round_trip(src, expected, NULL);
    /* the alias counts, and the length is in UTF-16 units like JavaScript's */
    src = repeat("{ al: f(a: \"", "x", 69, "\") }");
    expected = repeat("{\n  al: f(\n    a: \"", "x", 69, "\"\n  )\n}");
    check_round_trip(src, expected, NULL);
    src = repeat("{ f(a: \"", "\xc3\xa9", 72, "\") }");
    expected = repeat("{\n  f(a: \"", "\xc3\xa9", 72, "\")\n}");
    check_round_trip(src, expected, NULL);
    src = repeat("{ f(a: \"", "\xf0\x9f\x98\x80", 37, "\") }");
    expected = repeat("{\n  f(\n    a: \"", "\xf0\x9f\x98\x80", 37, "\"\n  )\n}");
    check_round_trip(src, expected, NULL);
    /* directives' and definitions' arguments never break for length */
    src = repeat("{ f @d(a: \"", "x", 80, "\") }");
    expected = repeat("{\n  f @d(a: \"", "x", 80, "\")\n}");
    check_round_trip(src, expected, NULL);
}

static void test_print_type_system_details(void **state)
{
    (void)state;
    check_round_trip("extend schema { query: Q }", "extend schema {\n  query: Q\n}", &sdl);
    check_round_trip("schema @a { query: Q subscription: S }",
                     "schema @a {\n  query: Q\n  subscription: S\n}", &sdl);
    check_round_trip("interface I implements & A & B @d { f: Int }",
                     "interface I implements A & B @d {\n  f: Int\n}", &sdl);
    check_round_trip("extend union U @d = A", "extend union U @d = A", &sdl);
    check_round_trip("enum E { \"d\" A @x B }", "enum E {\n  \"d\"\n  A @x\n  B\n}", &sdl);
    check_round_trip("input I { \"d\" a: [Int!] = [1] @x }",
                     "input I {\n  \"d\"\n  a: [Int!] = [1] @x\n}", &sdl);
    check_round_trip("directive @d(a: Int = 1, b: [I]) repeatable on QUERY | ENUM_VALUE",
                     "directive @d(a: Int = 1, b: [I]) repeatable on QUERY | ENUM_VALUE", &sdl);
    check_round_trip(
        "type T { f(a: I = {x: \"\"\"\n  two\n  lines\"\"\"}): Int }",
        "type T {\n  f(\n    a: I = {x: \"\"\"\n    two\n    lines\n    \"\"\"}\n  ): Int\n}",
        &sdl);
}

static void test_print_sub_nodes(void **state)
{
    (void)state;
    gql_document_t *doc = parse_doc("query Q($a: [Int]! = [1]) { a(x: {y: $a}) { b } }");
    gql_operation_definition_t *op = operation_at(doc, 0);
    assert_string_equal(print(op->variable_definitions.items[0]), "$a: [Int]! = [1]");
    gql_field_t *f = field_at(op->selection_set, 0);
    assert_string_equal(print(&f->base), "a(x: {y: $a}) {\n  b\n}");
    assert_string_equal(print(f->arguments.items[0]), "x: {y: $a}");
    assert_string_equal(print(&f->selection_set->base), "{\n  b\n}");
    assert_string_equal(print(&f->name.base), "a");
}

static const char *print_block_value(const char *value)
{
    gql_string_value_t v = {.base = {.kind = GQL_KIND_STRING_VALUE},
                            .value = value,
                            .len = (uint32_t)strlen(value),
                            .block = true};
    return print(&v.base);
}

/* Values no parse gives (the printer also prints ASTs built by hand, e.g. descriptions of a
 * schema built in code): printBlockString's remaining rules. */
static void test_print_block_values(void **state)
{
    (void)state;
    /* later lines that all start indented (or are empty) force a leading new line */
    assert_string_equal(print_block_value("first\n  second"), "\"\"\"\nfirst\n  second\n\"\"\"");
    assert_string_equal(print_block_value("first\n\n\tsecond"),
                        "\"\"\"\nfirst\n\n\tsecond\n\"\"\"");
    assert_string_equal(print_block_value("  a\n  b"), "\"\"\"\n  a\n  b\n\"\"\"");
    /* a value starting with a new line, or carriage returns, split lines too */
    assert_string_equal(print_block_value("\nx"), "\"\"\"\n\nx\n\"\"\"");
    assert_string_equal(print_block_value("a\r b"), "\"\"\"\na\r b\n\"\"\"");
    /* """ is escaped; four quotes escape the first three only */
    assert_string_equal(print_block_value("a\"\"\"\"b"), "\"\"\"a\\\"\"\"\"b\"\"\"");
    assert_string_equal(print_block_value("\"\"\"\""), "\"\"\"\n\\\"\"\"\"\n\"\"\"");
    assert_string_equal(print_block_value("\""), "\"\"\"\n\"\n\"\"\"");
    assert_string_equal(print_block_value(" \""), "\"\"\" \"\n\"\"\"");
}

/* Parsing is meant for the request path: well under a millisecond for a typical query. */
static void test_parse_speed(void **state)
{
    (void)state;
    arena_t a = {0};
    for (int i = 0; i < 2000; i++) {
        gql_document_t *doc;
        gql_error_t err;
        assert_int_equal(gql_parse(kitchen_sink, sizeof kitchen_sink - 1, NULL, &a, &doc, &err), 0);
        arena_reset(&a);
    }
    arena_free(&a);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_arena_allocations),
        T(test_arena_many_small),
        T(test_arena_limit),
        T(test_arena_reset),
        T(test_arena_spare_chunk),
        T(test_operation_shorthand),
        T(test_operation_types),
        T(test_variable_definitions),
        T(test_fields),
        T(test_fragments),
        T(test_values),
        T(test_string_values_keep_nuls),
        T(test_type_system_kinds),
        T(test_schema_and_object_definitions),
        T(test_other_type_definitions),
        T(test_project_schema),
        T(test_mixed_document),
        T(test_syntax_errors),
        T(test_error_locations_utf16),
        T(test_not_executable),
        T(test_limit_source_bytes),
        T(test_limit_tokens),
        T(test_limit_depth),
        T(test_limit_depth_default_and_ceiling),
        T(test_hostile_nesting),
        T(test_hostile_token_count),
        T(test_hostile_bytes),
        T(test_random_garbage),
        T(test_out_of_memory),
        T(test_long_lists),
        T(test_locations),
        T(test_parse_value_and_type),
        T(test_visitor_order),
        T(test_visitor_covers_every_node),
        T(test_visitor_skip_and_break),
        T(test_visitor_typed_callbacks),
        T(test_kind_names),
        T(test_print_kitchen_sink),
        T(test_print_schema_kitchen_sink),
        T(test_print_project_schema),
        T(test_print_queries),
        T(test_print_strings),
        T(test_print_block_strings),
        T(test_print_block_values),
        T(test_print_long_arguments),
        T(test_print_type_system_details),
        T(test_print_sub_nodes),
        T(test_parse_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
