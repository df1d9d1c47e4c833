/* test_gql_validate.c - unit tests of the GraphQL validator (graphql/validate*.c): for every
 * rule of the specification's section 5 a document it accepts and one it rejects, with
 * graphql-js 16's messages and locations, the gateway's limits, the error limit, and
 * adversarial documents that must stay fast. The schema is graphql-js's test harness schema
 * (Dog, Cat, Pet, ComplicatedArgs...), written here in SDL, and schema/articles.graphql. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* needs the four headers above included first */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "buf.h"
#include "parser.h"
#include "schema.h"
#include "validate.h"

static const char harness_sdl[] =
    "interface Mammal { mother: Mammal father: Mammal }\n"
    "interface Pet { name(surname: Boolean): String }\n"
    "interface Canine implements Mammal { name(surname: Boolean): String mother: Canine father: "
    "Canine }\n"
    "enum DogCommand { SIT HEEL DOWN }\n"
    "type Dog implements Pet & Mammal & Canine {\n"
    "  name(surname: Boolean): String\n"
    "  nickname: String\n"
    "  barkVolume: Int\n"
    "  barks: Boolean\n"
    "  doesKnowCommand(dogCommand: DogCommand): Boolean\n"
    "  isHouseTrained(atOtherHomes: Boolean = true): Boolean\n"
    "  isAtLocation(x: Int, y: Int): Boolean\n"
    "  mother: Dog\n"
    "  father: Dog\n"
    "}\n"
    "enum FurColor { BROWN BLACK TAN SPOTTED NO_FUR UNKNOWN }\n"
    "type Cat implements Pet { name(surname: Boolean): String nickname: String meows: Boolean "
    "meowsVolume: Int furColor: FurColor }\n"
    "union CatOrDog = Cat | Dog\n"
    "type Human { name(surname: Boolean): String pets: [Pet] relatives: [Human]! }\n"
    "input ComplexInput { requiredField: Boolean! nonNullField: Boolean! = false intField: Int "
    "stringField: String booleanField: Boolean stringListField: [String] }\n"
    "type ComplicatedArgs {\n"
    "  intArgField(intArg: Int): String\n"
    "  nonNullIntArgField(nonNullIntArg: Int!): String\n"
    "  stringArgField(stringArg: String): String\n"
    "  booleanArgField(booleanArg: Boolean): String\n"
    "  enumArgField(enumArg: FurColor): String\n"
    "  floatArgField(floatArg: Float): String\n"
    "  idArgField(idArg: ID): String\n"
    "  stringListArgField(stringListArg: [String]): String\n"
    "  complexArgField(complexArg: ComplexInput): String\n"
    "  multipleReqs(req1: Int!, req2: Int!): String\n"
    "  nonNullFieldWithDefault(arg: Int! = 0): String\n"
    "}\n"
    "type QueryRoot { human(id: ID): Human dog: Dog cat: Cat pet: Pet catOrDog: CatOrDog "
    "complicatedArgs: ComplicatedArgs }\n"
    "type SubscriptionRoot { importantEmails: [String] notImportantEmails: [String] }\n"
    "schema { query: QueryRoot subscription: SubscriptionRoot }\n"
    "directive @rep repeatable on FIELD | FRAGMENT_SPREAD\n"
    "directive @onField on FIELD\n";

static gql_schema_t *harness;
static gql_schema_t *articles;
static arena_t arena;

static gql_schema_t *build(const char *sdl, size_t len)
{
    arena_t ea = {0};
    gql_schema_t *s = NULL;
    gql_error_t err = {0};
    if (gql_schema_build(sdl, len, &ea, &s, &err) != 0)
        fail_msg("schema: %s (%u:%u)", err.message, err.line, err.column);
    arena_free(&ea);
    return s;
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

static int setup(void **state)
{
    (void)state;
    harness = build(harness_sdl, strlen(harness_sdl));
    size_t len = 0;
    char *sdl = read_file("schema/articles.graphql", &len);
    if (!sdl)
        sdl = read_file("../schema/articles.graphql", &len);
    if (!sdl)
        return -1;
    articles = build(sdl, len);
    free(sdl);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gql_schema_free(harness);
    gql_schema_free(articles);
    return 0;
}

static int each_setup(void **state)
{
    (void)state;
    arena_init(&arena, 0, 0);
    return 0;
}

static int each_teardown(void **state)
{
    (void)state;
    arena_free(&arena);
    return 0;
}

/* ---- helpers ---- */

static gql_document_t *parse(const char *src, bool sdl)
{
    gql_parse_options_t po = {.allow_type_system = sdl, .max_tokens = 1000000};
    gql_document_t *doc = NULL;
    gql_error_t err = {0};
    if (gql_parse(src, strlen(src), &po, &arena, &doc, &err) != 0)
        fail_msg("parse: %s (%u:%u)", err.message, err.line, err.column);
    return doc;
}

/* Every error as "message (line:col, line:col)\n". */
static char *render(const gql_validation_result_t *r)
{
    buf_t b = {0};
    for (size_t i = 0; i < r->nerrors; i++) {
        const gql_validation_error_t *e = &r->errors[i];
        buf_printf(&b, "%s (", e->message);
        for (size_t j = 0; j < e->nlocations; j++)
            buf_printf(&b, "%s%u:%u", j ? ", " : "", e->locations[j].line, e->locations[j].column);
        buf_puts(&b, ")\n");
    }
    buf_putc(&b, 0);
    return buf_detach(&b);
}

static int run(const gql_schema_t *s, const char *src, const gql_validate_options_t *opt, bool sdl,
               char **text)
{
    gql_validation_result_t r;
    int rc = gql_validate(s, parse(src, sdl), opt, &arena, &r);
    *text = render(&r);
    assert_int_equal(rc, r.nerrors ? GQL_EINVALID : 0);
    return rc;
}

static void check_opt(const gql_schema_t *s, const char *src, const char *want,
                      const gql_validate_options_t *opt, bool sdl)
{
    char *got;
    run(s, src, opt, sdl, &got);
    if (strcmp(got, want) != 0) {
        print_error("document: %s\nwant:\n%sgot:\n%s", src, want, got);
        free(got);
        fail();
    }
    free(got);
}

#define EXPECT(src, want) check_opt(harness, (src), (want), NULL, false)
#define VALID(src) check_opt(harness, (src), "", NULL, false)

/* ---- one test per rule: accepted and rejected documents ---- */

static void executable_definitions(void **state)
{
    (void)state;
    check_opt(harness, "query Foo { dog { ...F } }\nfragment F on Dog { name }", "", NULL, true);
    check_opt(harness,
              "query Foo { dog { name } }\ntype Cow { name: String }\n"
              "extend type Dog { color: String }\nschema { query: QueryRoot }",
              "The \"Cow\" definition is not executable. (2:1)\n"
              "The \"Dog\" definition is not executable. (3:1)\n"
              "The schema definition is not executable. (4:1)\n",
              NULL, true);
}

static void unique_operation_names(void **state)
{
    (void)state;
    VALID("query Foo { dog { name } }\nquery Bar { dog { name } }");
    EXPECT("query Foo { dog { name } }\nquery Foo { cat { name } }",
           "There can be only one operation named \"Foo\". (1:7, 2:7)\n");
}

static void lone_anonymous_operation(void **state)
{
    (void)state;
    VALID("{ dog { name } }");
    EXPECT("{ dog { name } }\nquery Foo { dog { name } }",
           "This anonymous operation must be the only defined operation. (1:1)\n");
}

static void single_field_subscriptions(void **state)
{
    (void)state;
    VALID("subscription S { importantEmails }");
    VALID("subscription S { importantEmails @skip(if: true) notImportantEmails }");
    EXPECT("subscription S {\n  importantEmails\n  notImportantEmails\n}",
           "Subscription \"S\" must select only one top level field. (3:3)\n");
    EXPECT("subscription { __typename }",
           "Anonymous Subscription must not select an introspection top level field. (1:16)\n");
    EXPECT("subscription { ...F }\nfragment F on SubscriptionRoot { importantEmails a: "
           "notImportantEmails }",
           "Anonymous Subscription must select only one top level field. (2:50)\n");
}

static void known_type_names(void **state)
{
    (void)state;
    VALID("query ($a: ID) { dog { name @include(if: true) } human(id: $a) { name } }");
    EXPECT("query ($a: Strin) { human(id: $a) { name } }",
           "Unknown type \"Strin\". Did you mean \"String\"? (1:12)\n");
    EXPECT("{ dog { ...F } }\nfragment F on Dgo { name }",
           "Unknown type \"Dgo\". Did you mean \"Dog\"? (2:15)\n");
}

static void fragments_on_composite_types(void **state)
{
    (void)state;
    VALID("{ dog { ... on Pet { name } ...F } }\nfragment F on CatOrDog { __typename }");
    EXPECT("{ dog { ...F } }\nfragment F on Boolean { name }",
           "Fragment \"F\" cannot condition on non composite type \"Boolean\". (2:15)\n");
    EXPECT("{ dog { ... on Boolean { name } } }",
           "Fragment cannot condition on non composite type \"Boolean\". (1:16)\n");
}

static void variables_are_input_types(void **state)
{
    (void)state;
    VALID("query ($a: ComplexInput, $b: FurColor) { dog { name } human { name } "
          "complicatedArgs { enumArgField(enumArg: $b) stringListArgField(stringListArg: []) "
          "complexArgField(complexArg: {requiredField: true}) } "
          "cat { name @skip(if: false) } pet { name } catOrDog { __typename } "
          "x: complicatedArgs { complexArgField(complexArg: $a) } }"
          "");
    EXPECT("query ($a: Dog) { dog { name } }",
           "Variable \"$a\" cannot be non-input type \"Dog\". (1:12)\n"
           "Variable \"$a\" is never used. (1:8)\n");
}

static void scalar_leafs(void **state)
{
    (void)state;
    VALID("{ dog { name } human { relatives { name } } }");
    EXPECT("{ dog { name { x } } }",
           "Field \"name\" must not have a selection since type \"String\" has no subfields. "
           "(1:14)\n");
    EXPECT("{ dog }", "Field \"dog\" of type \"Dog\" must have a selection of subfields. Did you "
                      "mean \"dog { ... }\"? (1:3)\n");
    EXPECT("{ human { relatives } }",
           "Field \"relatives\" of type \"[Human]!\" must have a selection of subfields. Did you "
           "mean \"relatives { ... }\"? (1:11)\n");
}

static void fields_on_correct_type(void **state)
{
    (void)state;
    VALID("{ dog { __typename name } catOrDog { __typename ... on Cat { meows } } __typename }");
    EXPECT("{ dog { meowVolume } }",
           "Cannot query field \"meowVolume\" on type \"Dog\". Did you mean \"barkVolume\"? "
           "(1:9)\n");
    EXPECT("{ catOrDog { name } }",
           "Cannot query field \"name\" on type \"CatOrDog\". Did you mean to use an inline "
           "fragment on \"Pet\", \"Canine\", \"Cat\", or \"Dog\"? (1:14)\n");
    EXPECT("{ dog { zzz } }", "Cannot query field \"zzz\" on type \"Dog\". (1:9)\n");
}

static void unique_fragment_names(void **state)
{
    (void)state;
    VALID("{ dog { ...A ...B } }\nfragment A on Dog { name }\nfragment B on Dog { nickname }");
    EXPECT("{ dog { ...F } }\nfragment F on Dog { name }\nfragment F on Dog { name }",
           "There can be only one fragment named \"F\". (2:10, 3:10)\n");
}

static void known_fragment_names(void **state)
{
    (void)state;
    VALID("{ dog { ...F } }\nfragment F on Dog { name }");
    EXPECT("{ dog { ...Nope } }", "Unknown fragment \"Nope\". (1:12)\n");
}

static void no_unused_fragments(void **state)
{
    (void)state;
    VALID("{ dog { ...A } }\nfragment A on Dog { ...B }\nfragment B on Dog { name }");
    EXPECT("{ dog { name } }\nfragment Unused on Dog { name }",
           "Fragment \"Unused\" is never used. (2:1)\n");
}

static void possible_fragment_spreads(void **state)
{
    (void)state;
    VALID("{ pet { ... on Dog { barks } ...C } catOrDog { ... on Pet { name } } }\n"
          "fragment C on Cat { meows }");
    EXPECT("{ dog { ... on Cat { meows } } }",
           "Fragment cannot be spread here as objects of type \"Dog\" can never be of type "
           "\"Cat\". (1:9)\n");
    EXPECT("{ dog { ...C } }\nfragment C on Cat { meows }",
           "Fragment \"C\" cannot be spread here as objects of type \"Dog\" can never be of type "
           "\"Cat\". (1:9)\n");
}

static void no_fragment_cycles(void **state)
{
    (void)state;
    VALID("{ dog { ...A ...B } }\nfragment A on Dog { ...B }\nfragment B on Dog { name }");
    EXPECT("{ dog { ...A } }\nfragment A on Dog { ...B }\nfragment B on Dog { ...A }",
           "Cannot spread fragment \"A\" within itself via \"B\". (2:21, 3:21)\n");
    EXPECT("{ dog { ...A } }\nfragment A on Dog { name ...A }",
           "Cannot spread fragment \"A\" within itself. (2:26)\n");
}

static void unique_variable_names(void **state)
{
    (void)state;
    VALID("query ($a: Int, $b: Int) { dog { isAtLocation(x: $a, y: $b) } }");
    EXPECT("query ($a: Int, $a: Int) { dog { isAtLocation(x: $a) } }",
           "There can be only one variable named \"$a\". (1:9, 1:18)\n");
}

static void no_undefined_variables(void **state)
{
    (void)state;
    VALID("query Q($x: Int) { dog { isAtLocation(x: $x) } }");
    EXPECT("query Q { dog { isAtLocation(x: $x) } }",
           "Variable \"$x\" is not defined by operation \"Q\". (1:33, 1:1)\n");
    EXPECT("{ dog { ...F } }\nfragment F on Dog { isAtLocation(y: $y) }",
           "Variable \"$y\" is not defined. (2:37, 1:1)\n");
}

static void no_unused_variables(void **state)
{
    (void)state;
    VALID("query Q($x: Int) { dog { ...F } }\nfragment F on Dog { isAtLocation(x: $x) }");
    EXPECT("query Q($a: Int) { dog { name } }",
           "Variable \"$a\" is never used in operation \"Q\". (1:9)\n");
}

static void known_directives(void **state)
{
    (void)state;
    VALID("query Q($a: Boolean = true) { dog @include(if: $a) { name @onField } }");
    EXPECT("{ dog @unknown { name } }", "Unknown directive \"@unknown\". (1:7)\n");
    EXPECT("query @include(if: true) { dog { name } }",
           "Directive \"@include\" may not be used on QUERY. (1:7)\n");
}

static void unique_directives_per_location(void **state)
{
    (void)state;
    VALID("{ dog { name @rep @rep @skip(if: false) } }");
    EXPECT("{ dog { name @skip(if: true) @skip(if: false) } }",
           "The directive \"@skip\" can only be used once at this location. (1:14, 1:30)\n");
}

static void known_argument_names(void **state)
{
    (void)state;
    VALID("{ dog { isHouseTrained(atOtherHomes: true) name @skip(if: false) } }");
    EXPECT("{ dog { isHouseTrained(atOtherHomes: true, unknown: 1) } }",
           "Unknown argument \"unknown\" on field \"Dog.isHouseTrained\". (1:44)\n");
    EXPECT("{ dog { name @skip(iff: true) } }",
           "Unknown argument \"iff\" on directive \"@skip\". Did you mean \"if\"? (1:20)\n"
           "Directive \"@skip\" argument \"if\" of type \"Boolean!\" is required, but it was not "
           "provided. (1:14)\n");
}

static void unique_argument_names(void **state)
{
    (void)state;
    VALID("{ dog { isAtLocation(x: 1, y: 2) } }");
    EXPECT("{ dog { isHouseTrained(atOtherHomes: true, atOtherHomes: false) } }",
           "There can be only one argument named \"atOtherHomes\". (1:24, 1:44)\n");
}

static void values_of_correct_type(void **state)
{
    (void)state;
    VALID("{ complicatedArgs { intArgField(intArg: -2147483648) floatArgField(floatArg: 1) "
          "idArgField(idArg: 1) stringListArgField(stringListArg: \"one\") "
          "enumArgField(enumArg: BROWN) booleanArgField(booleanArg: false) "
          "complexArgField(complexArg: {requiredField: true, stringListField: [\"a\", null]}) } "
          "dog { doesKnowCommand(dogCommand: SIT) } }");
    EXPECT("{ complicatedArgs { intArgField(intArg: \"3\") } }",
           "Int cannot represent non-integer value: \"3\" (1:41)\n");
    EXPECT("{ complicatedArgs { intArgField(intArg: 2147483648) } }",
           "Int cannot represent non 32-bit signed integer value: 2147483648 (1:41)\n");
    EXPECT("{ complicatedArgs { floatArgField(floatArg: true) } }",
           "Float cannot represent non numeric value: true (1:45)\n");
    EXPECT("{ complicatedArgs { stringArgField(stringArg: 1) } }",
           "String cannot represent a non string value: 1 (1:47)\n");
    EXPECT("{ complicatedArgs { booleanArgField(booleanArg: \"true\") } }",
           "Boolean cannot represent a non boolean value: \"true\" (1:49)\n");
    EXPECT("{ complicatedArgs { idArgField(idArg: 1.5) } }",
           "ID cannot represent a non-string and non-integer value: 1.5 (1:39)\n");
    EXPECT("{ complicatedArgs { enumArgField(enumArg: brown) } }",
           "Value \"brown\" does not exist in \"FurColor\" enum. Did you mean the enum value "
           "\"BROWN\"? (1:43)\n");
    EXPECT("{ complicatedArgs { enumArgField(enumArg: \"BROWN\") } }",
           "Enum \"FurColor\" cannot represent non-enum value: \"BROWN\". Did you mean the enum "
           "value \"BROWN\"? (1:43)\n");
    EXPECT("{ complicatedArgs { nonNullIntArgField(nonNullIntArg: null) } }",
           "Expected value of type \"Int!\", found null. (1:55)\n");
    EXPECT("{ complicatedArgs { stringListArgField(stringListArg: [\"one\", 2]) } }",
           "String cannot represent a non string value: 2 (1:63)\n");
    EXPECT("{ complicatedArgs { complexArgField(complexArg: { intField: 4 }) } }",
           "Field \"ComplexInput.requiredField\" of required type \"Boolean!\" was not provided. "
           "(1:49)\n");
    EXPECT("{ complicatedArgs { complexArgField(complexArg: { requiredField: true, intFeld: 4 }) "
           "} }",
           "Field \"intFeld\" is not defined by type \"ComplexInput\". Did you mean \"intField\"? "
           "(1:72)\n");
    EXPECT("{ complicatedArgs { complexArgField(complexArg: \"x\") } }",
           "Expected value of type \"ComplexInput\", found \"x\". (1:49)\n");
    EXPECT("query ($a: Int = \"one\") { complicatedArgs { intArgField(intArg: $a) } }",
           "Int cannot represent non-integer value: \"one\" (1:18)\n");
}

static void provided_required_arguments(void **state)
{
    (void)state;
    VALID("{ complicatedArgs { multipleReqs(req1: 1, req2: 2) nonNullFieldWithDefault } }");
    EXPECT("{ complicatedArgs { multipleReqs(req1: 1) } }",
           "Field \"multipleReqs\" argument \"req2\" of type \"Int!\" is required, but it was not "
           "provided. (1:21)\n");
    EXPECT("{ dog { name @include } }",
           "Directive \"@include\" argument \"if\" of type \"Boolean!\" is required, but it was "
           "not provided. (1:14)\n");
}

static void variables_in_allowed_position(void **state)
{
    (void)state;
    VALID("query Q($a: Int = 1, $b: Int!) { complicatedArgs { nonNullIntArgField(nonNullIntArg: "
          "$a) intArgField(intArg: $b) nonNullFieldWithDefault(arg: $a) } }");
    VALID("query Q($a: Boolean) { dog { isHouseTrained(atOtherHomes: $a) } }");
    EXPECT("query Q($a: Int) { complicatedArgs { nonNullIntArgField(nonNullIntArg: $a) } }",
           "Variable \"$a\" of type \"Int\" used in position expecting type \"Int!\". "
           "(1:9, 1:72)\n");
    EXPECT("query Q($a: String) { complicatedArgs { stringListArgField(stringListArg: [$a]) "
           "intArgField(intArg: $a) } }",
           "Variable \"$a\" of type \"String\" used in position expecting type \"Int\". "
           "(1:9, 1:101)\n");
}

static void overlapping_fields(void **state)
{
    (void)state;
    VALID("{ dog { name name nickname a: name ... on Dog { name } } "
          "catOrDog { ... on Dog { x: barks } ... on Cat { x: meows } } }");
    VALID("{ dog { ...A ...B } }\nfragment A on Dog { name }\nfragment B on Dog { name }");
    EXPECT("{ dog { name: nickname name } }",
           "Fields \"name\" conflict because \"nickname\" and \"name\" are different fields. Use "
           "different aliases on the fields to fetch both if this was intentional. (1:9, 1:24)\n");
    EXPECT("{ dog { doesKnowCommand(dogCommand: SIT) doesKnowCommand(dogCommand: HEEL) } }",
           "Fields \"doesKnowCommand\" conflict because they have differing arguments. Use "
           "different aliases on the fields to fetch both if this was intentional. (1:9, 1:42)\n");
    EXPECT("{ dog { mother { name } mother { name: nickname } } }",
           "Fields \"mother\" conflict because subfields \"name\" conflict because \"name\" and "
           "\"nickname\" are different fields. Use different aliases on the fields to fetch both "
           "if this was intentional. (1:9, 1:18, 1:25, 1:34)\n");
    EXPECT("{ catOrDog { ... on Dog { x: barkVolume } ... on Cat { x: name } } }",
           "Fields \"x\" conflict because they return conflicting types \"Int\" and \"String\". "
           "Use different aliases on the fields to fetch both if this was intentional. "
           "(1:27, 1:56)\n");
    EXPECT("{ dog { ...A ...B } }\nfragment A on Dog { x: name }\nfragment B on Dog { x: barks }",
           "Fields \"x\" conflict because \"name\" and \"barks\" are different fields. Use "
           "different aliases on the fields to fetch both if this was intentional. "
           "(2:21, 3:21)\n");
}

static void unique_input_field_names(void **state)
{
    (void)state;
    VALID("{ complicatedArgs { complexArgField(complexArg: { requiredField: true, intField: 1 "
          "}) } }");
    EXPECT("{ complicatedArgs { complexArgField(complexArg: { requiredField: true, "
           "requiredField: false }) } }",
           "There can be only one input field named \"requiredField\". (1:51, 1:72)\n");
}

/* ---- the project's schema ---- */

static void articles_schema(void **state)
{
    (void)state;
    check_opt(articles,
              "query ($n: Int) { getArticles(limit: $n) { id title author } "
              "getArticle(id: \"1\") { createdAt } }",
              "", NULL, false);
    check_opt(articles, "mutation { createArticle { id } deleteArticle(id: 1) { id } }",
              "Field \"createArticle\" argument \"input\" of type \"CreateArticleInput!\" is "
              "required, but it was not provided. (1:12)\n"
              "Field \"deleteArticle\" must not have a selection since type \"Boolean!\" has no "
              "subfields. (1:54)\n",
              NULL, false);
}

/* ---- order of errors across rules ---- */

static void error_order(void **state)
{
    (void)state;
    EXPECT("query Q($v: Int) { dog { unknown(a: 1) name(surname: 3) } }",
           "Cannot query field \"unknown\" on type \"Dog\". (1:26)\n"
           "Boolean cannot represent a non boolean value: 3 (1:54)\n"
           "Variable \"$v\" is never used in operation \"Q\". (1:9)\n");
}

/* ---- gateway limits and the error limit ---- */

static void gateway_limits(void **state)
{
    (void)state;
    gql_validate_options_t o = {
        .max_aliases = 1, .max_root_fields = 2, .max_depth = 2, .max_directives = 1};
    check_opt(harness, "{ a: dog { name } cat { name @skip(if: false) } }", "", &o, false);
    check_opt(harness,
              "query Q { a: dog { b: name } cat { name @skip(if: false) @include(if: true) } "
              "pet { ...F } }\nfragment F on Pet { ... on Dog { mother { name } } }",
              "Too many aliases: the limit is 1 in a document. (1:20)\n"
              "Too many directives at this location: the limit is 1. (1:58)\n"
              "Operation \"Q\" selects 3 root fields, more than the limit of 2. (1:1)\n"
              "Operation \"Q\" is nested deeper than the limit of 2 levels. (1:1)\n",
              &o, false);
}

static void error_limit(void **state)
{
    (void)state;
    buf_t b = {0};
    buf_puts(&b, "{ dog {");
    for (int i = 0; i < 200; i++)
        buf_printf(&b, " f%d: zzz", i);
    buf_puts(&b, " } }");
    gql_validation_result_t r;
    assert_int_equal(gql_validate(harness, parse(b.data, false), NULL, &arena, &r), GQL_EINVALID);
    assert_int_equal(r.nerrors, 101);
    assert_true(r.aborted);
    assert_string_equal(r.errors[100].message,
                        "Too many validation errors, error limit reached. Validation aborted.");
    assert_int_equal(r.errors[100].nlocations, 0);
    gql_validate_options_t o = {.max_errors = 3};
    assert_int_equal(gql_validate(harness, parse(b.data, false), &o, &arena, &r), GQL_EINVALID);
    assert_int_equal(r.nerrors, 4);
    buf_free(&b);
}

/* ---- adversarial documents ---- */

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void timed(const char *src, size_t want_errors, double limit)
{
    double t0 = seconds();
    gql_validation_result_t r;
    gql_validate(harness, parse(src, false), NULL, &arena, &r);
    double dt = seconds() - t0;
    if (r.nerrors != want_errors)
        fail_msg("%zu errors, first: %s", r.nerrors, r.nerrors ? r.errors[0].message : "");
    if (dt > limit)
        fail_msg("took %.3f s", dt);
}

static void adversarial_repeated_fields(void **state)
{
    (void)state;
    buf_t b = {0};
    buf_puts(&b, "{ dog {");
    for (int i = 0; i < 20000; i++)
        buf_puts(&b, " name");
    for (int i = 0; i < 3000; i++)
        buf_puts(&b, " mother { name barks mother { name } }");
    buf_puts(&b, " } }");
    timed(b.data, 0, 2.0);
    /* the same with one conflict at the end: reported once per earlier field, capped */
    b.len -= 4;
    buf_puts(&b, " name: nickname } }");
    timed(b.data, 101, 2.0);
    buf_free(&b);
}

/* Two copies of the same subtree at every level: 2^depth fields, which graphql-js compares
 * pair by pair at every level. */
static void nest(buf_t *b, int depth)
{
    if (depth == 0) {
        buf_puts(b, "name");
        return;
    }
    for (int i = 0; i < 2; i++) {
        buf_puts(b, " mother { ");
        nest(b, depth - 1);
        buf_puts(b, " }");
    }
}

static void adversarial_nesting(void **state)
{
    (void)state;
    buf_t b = {0};
    buf_puts(&b, "{ dog {");
    nest(&b, 12);
    buf_puts(&b, " } }");
    timed(b.data, 0, 2.0);
    /* thousands of different subselections under one response name: bounded by the
     * comparison budget, reported as one error rather than compared for minutes */
    buf_reset(&b);
    buf_puts(&b, "{ dog {");
    for (int i = 0; i < 4000; i++)
        buf_printf(&b, " mother { a%d: name }", i);
    buf_puts(&b, " } }");
    timed(b.data, 1, 2.0);
    buf_free(&b);
}

static void adversarial_fragments(void **state)
{
    (void)state;
    enum { N = 300 };
    buf_t b = {0};
    buf_puts(&b, "{ dog { ...F0 } }\n");
    for (int i = 0; i < N; i++) {
        buf_printf(&b, "fragment F%d on Dog { name mother { name }", i);
        for (int j = i + 1; j < N && j < i + 40; j++)
            buf_printf(&b, " ...F%d", j);
        buf_puts(&b, " }\n");
    }
    timed(b.data, 0, 2.0);
    buf_reset(&b);
    /* a long chain of fragments: no recursion as deep as the chain */
    buf_puts(&b, "{ dog { ...F0 } }\n");
    for (int i = 0; i < 5000; i++)
        buf_printf(&b, "fragment F%d on Dog { name ...F%d }\n", i, i + 1);
    buf_puts(&b, "fragment F5000 on Dog { ...F0 }\n");
    timed(b.data, 1, 2.0);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, each_setup, each_teardown)
        T(executable_definitions),
        T(unique_operation_names),
        T(lone_anonymous_operation),
        T(single_field_subscriptions),
        T(known_type_names),
        T(fragments_on_composite_types),
        T(variables_are_input_types),
        T(scalar_leafs),
        T(fields_on_correct_type),
        T(unique_fragment_names),
        T(known_fragment_names),
        T(no_unused_fragments),
        T(possible_fragment_spreads),
        T(no_fragment_cycles),
        T(unique_variable_names),
        T(no_undefined_variables),
        T(no_unused_variables),
        T(known_directives),
        T(unique_directives_per_location),
        T(known_argument_names),
        T(unique_argument_names),
        T(values_of_correct_type),
        T(provided_required_arguments),
        T(variables_in_allowed_position),
        T(overlapping_fields),
        T(unique_input_field_names),
        T(articles_schema),
        T(error_order),
        T(gateway_limits),
        T(error_limit),
        T(adversarial_repeated_fields),
        T(adversarial_nesting),
        T(adversarial_fragments),
#undef T
    };
    if (getenv("TEST_FILTER")) /* e.g. TEST_FILTER=adversarial_* */
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
