/* test_gql_execute.c - unit tests of GraphQL execution (graphql/execute.c, values.c,
 * introspection.c): operation selection, variable and argument coercion, @skip/@include,
 * fragments, aliases, result coercion, null propagation with paths, resolver errors, mutation
 * order, the prepare hook, limits and introspection, each with the exact JSON response that
 * graphql-js 16.8 gives. Resolvers here run over an in-memory array of articles with
 * schema/articles.graphql, and over fixtures with a richer SDL. */
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
#include "execute.h"
#include "introspection.h"
#include "parser.h"
#include "schema.h"
#include "validate.h"
#include "values.h"

static const char rich_sdl[] =
    "interface Node { id: ID! }\n"
    "type User implements Node { id: ID! name: String! friends: [User!] nick: String }\n"
    "type Post implements Node { id: ID! title: String }\n"
    "union SearchResult = User | Post\n"
    "enum Role { ADMIN EDITOR OLD @deprecated(reason: \"gone\") }\n"
    "input Inner { flag: Boolean! text: String = \"x\" }\n"
    "input Filter { role: Role ids: [ID!] limit: Int = 10 nested: Inner }\n"
    "scalar JSON\n"
    "type Item { b: String! c: String }\n"
    "type Query {\n"
    "  echo(i: Int, f: Float, s: String, b: Boolean, id: ID, r: Role, l: [Int], filter: Filter,\n"
    "       j: JSON, req: Int! = 3, nn: [Int!]): JSON\n"
    "  need(x: Int!): JSON\n"
    "  int(v: JSON): Int\n"
    "  float(v: JSON): Float\n"
    "  str(v: JSON): String\n"
    "  bool(v: JSON): Boolean\n"
    "  id(v: JSON): ID\n"
    "  role(v: JSON): Role\n"
    "  ints(v: JSON): [Int]\n"
    "  user: User\n"
    "  search: [SearchResult]\n"
    "  node: Node\n"
    "  a: [Item]\n"
    "  an: [Item!]\n"
    "  ann: [Item!]!\n"
    "  fail(code: String): String\n"
    "  failNN: String!\n"
    "  many: [Int]\n"
    "}\n"
    "type Mutation { step(n: Int!): Int stepNN(n: Int!): Int! }\n";

static const char fixture_json[] =
    "{\"user\":{\"id\":7,\"name\":\"Ada\",\"nick\":null,\"friends\":[{\"id\":\"8\",\"name\":\"Bob\"}]},"
    "\"search\":[{\"__typename\":\"User\",\"id\":1,\"name\":\"U\"},"
    "{\"__typename\":\"Post\",\"id\":2,\"title\":\"P\"},{\"id\":3}],"
    "\"node\":{\"__typename\":\"Post\",\"id\":\"p1\",\"title\":\"T\"},"
    "\"a\":[{\"b\":null,\"c\":\"c0\"},{\"b\":\"b1\",\"c\":\"c1\"}],"
    "\"an\":[{\"b\":\"b0\"},{\"b\":null}],"
    "\"ann\":[{\"b\":null}],"
    "\"many\":[1,2,3,4,5]}";

static gql_schema_t *articles;
static gql_schema_t *rich;
static cJSON *fixture;
static cJSON *store;       /* the articles */
static buf_t calls;        /* what resolvers and prepare were called with, in order */
static int prepare_calls;
static arena_t arena;

/* ---- setup ---- */

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
    size_t len = 0;
    char *sdl = read_file("schema/articles.graphql", &len);
    if (!sdl)
        sdl = read_file("../schema/articles.graphql", &len);
    if (!sdl)
        return -1;
    articles = build(sdl, len);
    free(sdl);
    rich = build(rich_sdl, strlen(rich_sdl));
    fixture = cJSON_Parse(fixture_json);
    return fixture ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gql_schema_free(articles);
    gql_schema_free(rich);
    cJSON_Delete(fixture);
    return 0;
}

static cJSON *article(int id, const char *title, const char *author)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "id", id);
    cJSON_AddStringToObject(a, "title", title);
    cJSON_AddStringToObject(a, "content", "");
    if (author)
        cJSON_AddStringToObject(a, "author", author);
    else
        cJSON_AddNullToObject(a, "author");
    cJSON_AddStringToObject(a, "createdAt", "2024-01-01T00:00:00.000Z");
    cJSON_AddStringToObject(a, "updatedAt", "2024-01-02T00:00:00.000Z");
    return a;
}

static int each_setup(void **state)
{
    (void)state;
    arena_init(&arena, 0, 0);
    store = cJSON_CreateArray();
    cJSON_AddItemToArray(store, article(1, "Hello", "ada"));
    cJSON_AddItemToArray(store, article(2, "World \"quoted\"", NULL));
    cJSON_AddItemToArray(store, article(3, "Third", "ada"));
    buf_reset(&calls);
    prepare_calls = 0;
    return 0;
}

static int each_teardown(void **state)
{
    (void)state;
    arena_free(&arena);
    cJSON_Delete(store);
    buf_free(&calls);
    return 0;
}

/* ---- resolvers over the articles ---- */

static const char *arg_str(const gql_field_info_t *info, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(info->args, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int arg_int(const gql_field_info_t *info, const char *name, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(info->args, name);
    return cJSON_IsNumber(v) ? v->valueint : dflt;
}

static cJSON *find_article(const char *id)
{
    cJSON *a;
    cJSON_ArrayForEach(a, store)
    {
        if (cJSON_GetObjectItem(a, "id")->valueint == atoi(id))
            return a;
    }
    return NULL;
}

static int get_articles(gql_exec_t *ex, const gql_field_info_t *info, void *ud, cJSON **out)
{
    (void)ex, (void)ud;
    int limit = arg_int(info, "limit", 20), offset = arg_int(info, "offset", 0), i = 0;
    const char *author = arg_str(info, "author"), *search = arg_str(info, "search");
    buf_printf(&calls, "getArticles(%d,%d);", limit, offset);
    cJSON *list = cJSON_CreateArray(), *a;
    cJSON_ArrayForEach(a, store)
    {
        const cJSON *au = cJSON_GetObjectItem(a, "author");
        if (author && !(cJSON_IsString(au) && strcmp(au->valuestring, author) == 0))
            continue;
        if (search && !strstr(cJSON_GetObjectItem(a, "title")->valuestring, search))
            continue;
        if (i++ >= offset && cJSON_GetArraySize(list) < limit)
            cJSON_AddItemToArray(list, cJSON_Duplicate(a, true));
    }
    *out = list;
    return 0;
}

static int get_article(gql_exec_t *ex, const gql_field_info_t *info, void *ud, cJSON **out)
{
    (void)ud;
    const char *id = arg_str(info, "id");
    buf_printf(&calls, "getArticle(%s);", id);
    if (strcmp(id, "500") == 0)
        return gql_exec_error(ex, "BAD_GATEWAY", "The REST core answered %d.", 502);
    cJSON *a = find_article(id);
    *out = a ? cJSON_Duplicate(a, true) : NULL;
    return 0;
}

static int create_article(gql_exec_t *ex, const gql_field_info_t *info, void *ud, cJSON **out)
{
    (void)ex, (void)ud;
    const cJSON *in = cJSON_GetObjectItem(info->args, "input");
    const cJSON *au = cJSON_GetObjectItem(in, "author");
    buf_printf(&calls, "create(%s);", cJSON_GetObjectItem(in, "title")->valuestring);
    cJSON *a = article(cJSON_GetArraySize(store) + 1, cJSON_GetObjectItem(in, "title")->valuestring,
                       cJSON_IsString(au) ? au->valuestring : NULL);
    cJSON_AddItemToArray(store, a);
    *out = cJSON_Duplicate(a, true);
    return 0;
}

static int update_article(gql_exec_t *ex, const gql_field_info_t *info, void *ud, cJSON **out)
{
    (void)ex, (void)ud;
    const char *id = arg_str(info, "id");
    buf_printf(&calls, "update(%s);", id);
    cJSON *a = find_article(id);
    const cJSON *in = cJSON_GetObjectItem(info->args, "input"), *m;
    if (a)
        cJSON_ArrayForEach(m, in) cJSON_ReplaceItemInObject(a, m->string, cJSON_Duplicate(m, 1));
    *out = a ? cJSON_Duplicate(a, true) : NULL;
    return 0;
}

static int delete_article(gql_exec_t *ex, const gql_field_info_t *info, void *ud, cJSON **out)
{
    (void)ex, (void)ud;
    const char *id = arg_str(info, "id");
    buf_printf(&calls, "delete(%s);", id);
    cJSON *a = find_article(id);
    if (a)
        cJSON_Delete(cJSON_DetachItemViaPointer(store, a));
    *out = cJSON_CreateBool(a != NULL);
    return 0;
}

static bool suspend_next; /* the next prepare asks to stop the execution */

static int prepare(gql_exec_t *ex, const gql_field_info_t *roots, size_t n, void *ud)
{
    (void)ex, (void)ud;
    prepare_calls++;
    buf_puts(&calls, "prepare(");
    for (size_t i = 0; i < n; i++)
        buf_printf(&calls, "%s%s:%s", i ? "," : "", roots[i].response_key, roots[i].field->name);
    buf_puts(&calls, ");");
    bool suspend = suspend_next;
    suspend_next = false;
    return suspend ? GQL_EXEC_SUSPENDED : 0;
}

static const gql_resolver_t article_resolvers[] = {
    {"Query", "getArticles", get_articles},    {"Query", "getArticle", get_article},
    {"Mutation", "createArticle", create_article}, {"Mutation", "updateArticle", update_article},
    {"Mutation", "deleteArticle", delete_article},
};

/* ---- resolvers of the rich schema ---- */

static int from_fixture(gql_exec_t *ex, const gql_field_info_t *info, void *ud, cJSON **out)
{
    (void)ex, (void)ud;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(fixture, info->field->name);
    *out = v ? cJSON_Duplicate(v, true) : NULL;
    return 0;
}

static int echo_args(gql_exec_t *ex, const gql_field_info_t *info, void *ud, cJSON **out)
{
    (void)ex, (void)ud;
    *out = cJSON_Duplicate(info->args, true);
    return 0;
}

static int arg_v(gql_exec_t *ex, const gql_field_info_t *info, void *ud, cJSON **out)
{
    (void)ex, (void)ud;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(info->args, "v");
    *out = v ? cJSON_Duplicate(v, true) : NULL;
    return 0;
}

static int failing(gql_exec_t *ex, const gql_field_info_t *info, void *ud, cJSON **out)
{
    (void)ud, (void)out;
    return gql_exec_error(ex, arg_str(info, "code"), "Boom on %s.", info->response_key);
}

static int step(gql_exec_t *ex, const gql_field_info_t *info, void *ud, cJSON **out)
{
    (void)ud;
    int n = arg_int(info, "n", 0);
    buf_printf(&calls, "step(%d);", n);
    if (n < 0)
        return gql_exec_error(ex, NULL, "negative");
    *out = cJSON_CreateNumber(n);
    return 0;
}

static const gql_resolver_t rich_resolvers[] = {
    {"Query", "echo", echo_args},  {"Query", "need", echo_args},
    {"Query", "int", arg_v},       {"Query", "float", arg_v},
    {"Query", "str", arg_v},       {"Query", "bool", arg_v},
    {"Query", "id", arg_v},        {"Query", "role", arg_v},
    {"Query", "ints", arg_v},      {"Query", "user", from_fixture},
    {"Query", "search", from_fixture}, {"Query", "node", from_fixture},
    {"Query", "a", from_fixture},  {"Query", "an", from_fixture},
    {"Query", "ann", from_fixture}, {"Query", "many", from_fixture},
    {"Query", "fail", failing},    {"Query", "failNN", failing},
    {"Mutation", "step", step},    {"Mutation", "stepNN", step},
};

/* ---- helpers ---- */

typedef struct run_opts {
    const char *vars;
    const char *op;
    size_t max_list;
    bool no_introspection;
    bool no_prepare;
    bool no_validate; /* for documents graphql-js's validation would refuse */
    bool mask;        /* internal errors masked, their details into `calls` */
} run_opts_t;

static gql_exec_result_t last;

static void note_internal(void *ud, const char *detail)
{
    (void)ud;
    buf_printf(&calls, "internal(%s);", detail);
}

static char *run_doc(const gql_schema_t *s, const char *src, const run_opts_t *ro)
{
    gql_document_t *doc = NULL;
    gql_error_t err = {0};
    if (gql_parse(src, strlen(src), NULL, &arena, &doc, &err) != 0)
        fail_msg("parse: %s (%u:%u)", err.message, err.line, err.column);
    gql_validation_result_t vr;
    if (!(ro && ro->no_validate) && gql_validate(s, doc, NULL, &arena, &vr) != 0)
        fail_msg("invalid: %s", vr.errors[0].message);
    cJSON *vars = ro && ro->vars ? cJSON_Parse(ro->vars) : NULL;
    bool art = s == articles;
    gql_exec_options_t opt = {
        .resolvers = art ? article_resolvers : rich_resolvers,
        .nresolvers = art ? sizeof article_resolvers / sizeof *article_resolvers
                          : sizeof rich_resolvers / sizeof *rich_resolvers,
        .prepare = ro && ro->no_prepare ? NULL : prepare,
        .max_list_items = ro ? ro->max_list : 0,
        .allow_introspection = !(ro && ro->no_introspection),
        .internal_error = ro && ro->mask ? note_internal : NULL,
    };
    buf_t out = {0};
    assert_int_equal(gql_execute(s, doc, ro ? ro->op : NULL, vars, &opt, &arena, &out, &last), 0);
    cJSON_Delete(vars);
    buf_putc(&out, 0);
    return buf_detach(&out);
}

static void expect(const gql_schema_t *s, const char *src, const run_opts_t *ro, const char *want)
{
    char *got = run_doc(s, src, ro);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "document: %s\nwant: %s\ngot:  %s\n", src, want, got);
        free(got);
        fail();
    }
    free(got);
}

#define ART(src, want) expect(articles, (src), NULL, (want))
#define RICH(src, want) expect(rich, (src), NULL, (want))
#define RICHV(src, v, want) expect(rich, (src), &(run_opts_t){.vars = (v)}, (want))

/* ---- operations ---- */

static void operation_selection(void **state)
{
    (void)state;
    const char *two = "query A { getArticle(id: 1) { id } } query B { getArticle(id: 2) { id } }";
    expect(articles, two, NULL,
           "{\"errors\":[{\"message\":\"Must provide operation name if query contains multiple "
           "operations.\"}]}");
    assert_true(last.request_error);
    expect(articles, two, &(run_opts_t){.op = "C"},
           "{\"errors\":[{\"message\":\"Unknown operation named \\\"C\\\".\"}]}");
    expect(articles, two, &(run_opts_t){.op = "B"}, "{\"data\":{\"getArticle\":{\"id\":\"2\"}}}");
    assert_false(last.request_error);
    assert_string_equal(last.operation_type, "query");
    assert_string_equal(last.operation_name, "B");
    expect(articles, "fragment F on Query { __typename }", &(run_opts_t){.no_validate = true},
           "{\"errors\":[{\"message\":\"Must provide an operation.\"}]}");

    const char *why = NULL;
    gql_document_t *doc = NULL;
    gql_error_t err;
    assert_int_equal(gql_parse(two, strlen(two), NULL, &arena, &doc, &err), 0);
    assert_null(gql_select_operation(doc, NULL, &why));
    assert_string_equal(why, "Must provide operation name if query contains multiple operations.");
    const gql_operation_definition_t *op = gql_select_operation(doc, "A", &why);
    assert_non_null(op);
    assert_string_equal(op->name.value, "A");
}

static void articles_queries(void **state)
{
    (void)state;
    ART("{ getArticles(limit: 2) { id title author } }",
        "{\"data\":{\"getArticles\":[{\"id\":\"1\",\"title\":\"Hello\",\"author\":\"ada\"},"
        "{\"id\":\"2\",\"title\":\"World \\\"quoted\\\"\",\"author\":null}]}}");
    ART("{ x: getArticle(id: \"3\") { ...A } y: getArticle(id: 99) { id } }\n"
        "fragment A on Article { id t: title createdAt }",
        "{\"data\":{\"x\":{\"id\":\"3\",\"t\":\"Third\",\"createdAt\":\"2024-01-01T00:00:00.000Z\"},"
        "\"y\":null}}");
    buf_reset(&calls);
    ART("{ getArticles(author: \"ada\", offset: 1) { title } __typename }",
        "{\"data\":{\"getArticles\":[{\"title\":\"Third\"}],\"__typename\":\"Query\"}}");
    assert_string_equal((char *)calls.data, "prepare(getArticles:getArticles);getArticles(20,1);");
}

/* A prepare hook that suspends stops the execution before any resolver
 * runs and writes nothing; running it again from the start answers. */
static void prepare_suspends(void **state)
{
    (void)state;
    const char *src = "{ a: getArticle(id: 1) { id } b: getArticle(id: 3) { title } }";
    gql_document_t *doc = NULL;
    gql_error_t err = {0};
    assert_int_equal(gql_parse(src, strlen(src), NULL, &arena, &doc, &err), 0);
    gql_exec_options_t opt = {.resolvers = article_resolvers,
                              .nresolvers = sizeof article_resolvers / sizeof *article_resolvers,
                              .prepare = prepare};
    buf_t out = {0};
    buf_reset(&calls);
    suspend_next = true;
    assert_int_equal(gql_execute(articles, doc, NULL, NULL, &opt, &arena, &out, &last),
                     GQL_EXEC_SUSPENDED);
    assert_int_equal(out.len, 0);
    assert_string_equal((char *)calls.data, "prepare(a:getArticle,b:getArticle);");
    assert_int_equal(gql_execute(articles, doc, NULL, NULL, &opt, &arena, &out, &last), 0);
    buf_putc(&out, 0);
    assert_string_equal((char *)out.data,
                        "{\"data\":{\"a\":{\"id\":\"1\"},\"b\":{\"title\":\"Third\"}}}");
    assert_string_equal((char *)calls.data, "prepare(a:getArticle,b:getArticle);"
                                            "prepare(a:getArticle,b:getArticle);"
                                            "getArticle(1);getArticle(3);");
    buf_free(&out);
}

static int suspends(gql_exec_t *ex, const gql_field_info_t *info, void *ud, cJSON **out)
{
    (void)ex, (void)ud;
    buf_printf(&calls, "suspends(%s);", info->response_key);
    *out = NULL;
    return GQL_EXEC_SUSPENDED;
}

/* A root resolver that suspends stops the execution with nothing written;
 * one below the root cannot (half the answer is out): that is an internal
 * error, and the field is null. */
static void resolver_suspends(void **state)
{
    (void)state;
    const gql_resolver_t rs[] = {{"Query", "user", from_fixture},
                                 {"Query", "fail", suspends},
                                 {"User", "nick", suspends}};
    gql_exec_options_t opt = {.resolvers = rs, .nresolvers = sizeof rs / sizeof *rs,
                              .internal_error = note_internal};
    const char *src = "{ user { name } fail }";
    gql_document_t *doc = NULL;
    gql_error_t err = {0};
    assert_int_equal(gql_parse(src, strlen(src), NULL, &arena, &doc, &err), 0);
    buf_t out = {0};
    buf_reset(&calls);
    assert_int_equal(gql_execute(rich, doc, NULL, NULL, &opt, &arena, &out, &last),
                     GQL_EXEC_SUSPENDED);
    assert_int_equal(out.len, 0);
    src = "{ user { name nick } }";
    assert_int_equal(gql_parse(src, strlen(src), NULL, &arena, &doc, &err), 0);
    assert_int_equal(gql_execute(rich, doc, NULL, NULL, &opt, &arena, &out, &last), 0);
    buf_putc(&out, 0);
    assert_string_equal(out.data,
                        "{\"errors\":[{\"message\":\"Internal server error.\",\"locations\":"
                        "[{\"line\":1,\"column\":15}],\"path\":[\"user\",\"nick\"],"
                        "\"extensions\":{\"code\":\"INTERNAL_SERVER_ERROR\"}}],"
                        "\"data\":{\"user\":{\"name\":\"Ada\",\"nick\":null}}}");
    buf_putc(&calls, 0);
    assert_string_equal(calls.data, "suspends(fail);suspends(nick);"
                                    "internal(Resolver of User.nick suspended below the root.);");
    buf_free(&out);
}

static void resolver_errors(void **state)
{
    (void)state;
    ART("{ a: getArticle(id: 500) { id } b: getArticle(id: 1) { id } }",
        "{\"errors\":[{\"message\":\"The REST core answered 502.\",\"locations\":[{\"line\":1,"
        "\"column\":3}],\"path\":[\"a\"],\"extensions\":{\"code\":\"BAD_GATEWAY\"}}],"
        "\"data\":{\"a\":null,\"b\":{\"id\":\"1\"}}}");
    assert_int_equal(last.nerrors, 1);
    assert_string_equal(last.first_error_code, "BAD_GATEWAY");
    assert_false(last.data_null);
    RICH("{ fail(code: \"X\") f2: fail }",
         "{\"errors\":[{\"message\":\"Boom on fail.\",\"locations\":[{\"line\":1,\"column\":3}],"
         "\"path\":[\"fail\"],\"extensions\":{\"code\":\"X\"}},{\"message\":\"Boom on f2.\","
         "\"locations\":[{\"line\":1,\"column\":19}],\"path\":[\"f2\"]}],"
         "\"data\":{\"fail\":null,\"f2\":null}}");
    RICH("{ failNN many }",
         "{\"errors\":[{\"message\":\"Boom on failNN.\",\"locations\":[{\"line\":1,\"column\":3}],"
         "\"path\":[\"failNN\"]}],\"data\":null}");
    assert_true(last.data_null);
}

/* ---- mutations and prepare ---- */

static void mutations_serial(void **state)
{
    (void)state;
    ART("mutation { a: createArticle(input: {title: \"New\"}) { id title author content }\n"
        "b: updateArticle(id: 1, input: {author: null}) { id author }\n"
        "c: deleteArticle(id: 2) d: deleteArticle(id: 2) }",
        "{\"data\":{\"a\":{\"id\":\"4\",\"title\":\"New\",\"author\":null,\"content\":\"\"},"
        "\"b\":{\"id\":\"1\",\"author\":null},\"c\":true,\"d\":false}}");
    assert_string_equal((char *)calls.data, "create(New);update(1);delete(2);delete(2);");
    assert_int_equal(prepare_calls, 0);
    assert_string_equal(last.operation_type, "mutation");
    /* a failed non-null root field stops the ones after it */
    buf_reset(&calls);
    RICH("mutation { a: step(n: 1) b: stepNN(n: -1) c: step(n: 2) }",
         "{\"errors\":[{\"message\":\"negative\",\"locations\":[{\"line\":1,\"column\":26}],"
         "\"path\":[\"b\"]}],\"data\":null}");
    assert_string_equal((char *)calls.data, "step(1);step(-1);");
}

static void prepare_hook(void **state)
{
    (void)state;
    ART("{ a: getArticle(id: 1) { id } __typename b: getArticles { id } a: getArticle(id: 1) { "
        "title } }",
        "{\"data\":{\"a\":{\"id\":\"1\",\"title\":\"Hello\"},\"__typename\":\"Query\","
        "\"b\":[{\"id\":\"1\"},{\"id\":\"2\"},{\"id\":\"3\"}]}}");
    assert_int_equal(prepare_calls, 1);
    assert_string_equal((char *)calls.data,
                        "prepare(a:getArticle,b:getArticles);getArticle(1);getArticles(20,0);");
}

/* ---- variables ---- */

static void variables(void **state)
{
    (void)state;
    const char *q = "query Q($id: ID!) { getArticle(id: $id) { id } }";
    expect(articles, q, NULL,
           "{\"errors\":[{\"message\":\"Variable \\\"$id\\\" of required type \\\"ID!\\\" was not "
           "provided.\",\"locations\":[{\"line\":1,\"column\":9}]}]}");
    assert_true(last.request_error);
    expect(articles, q, &(run_opts_t){.vars = "{\"id\":null}"},
           "{\"errors\":[{\"message\":\"Variable \\\"$id\\\" of non-null type \\\"ID!\\\" must not "
           "be null.\",\"locations\":[{\"line\":1,\"column\":9}]}]}");
    expect(articles, q, &(run_opts_t){.vars = "{\"id\":1.5}"},
           "{\"errors\":[{\"message\":\"Variable \\\"$id\\\" got invalid value 1.5; ID cannot "
           "represent value: 1.5\",\"locations\":[{\"line\":1,\"column\":9}]}]}");
    expect(articles, q, &(run_opts_t){.vars = "{\"id\":3}"},
           "{\"data\":{\"getArticle\":{\"id\":\"3\"}}}");
    RICHV("query ($x: Int) { echo(i: $x) }", "{\"x\":\"abc\"}",
          "{\"errors\":[{\"message\":\"Variable \\\"$x\\\" got invalid value \\\"abc\\\"; Int "
          "cannot represent non-integer value: \\\"abc\\\"\",\"locations\":[{\"line\":1,"
          "\"column\":8}]}]}");
    RICHV("query ($x: Int) { echo(i: $x) }", "{\"x\":3000000000}",
          "{\"errors\":[{\"message\":\"Variable \\\"$x\\\" got invalid value 3000000000; Int "
          "cannot represent non 32-bit signed integer value: 3000000000\",\"locations\":[{"
          "\"line\":1,\"column\":8}]}]}");
    /* absent, null and defaults */
    RICHV("query ($x: Int, $y: Int = 5, $z: Int = 6) { echo(i: $x, l: [$y, $z]) }",
          "{\"z\":null}", "{\"data\":{\"echo\":{\"l\":[5,null],\"req\":3}}}");
    RICHV("query ($x: Int) { echo(i: $x) }", "{\"x\":null}",
          "{\"data\":{\"echo\":{\"i\":null,\"req\":3}}}");
    /* input objects: nested, defaults, required fields, unknown fields, list promotion */
    const char *fq = "query ($f: Filter) { echo(filter: $f) }";
    RICHV(fq, "{\"f\":{\"role\":\"ADMIN\",\"ids\":5,\"nested\":{\"flag\":true}}}",
          "{\"data\":{\"echo\":{\"filter\":{\"role\":\"ADMIN\",\"ids\":[\"5\"],\"limit\":10,"
          "\"nested\":{\"flag\":true,\"text\":\"x\"}},\"req\":3}}}");
    RICHV(fq, "{\"f\":{\"role\":\"BOSS\",\"ids\":[1,null],\"nested\":{},\"zz\":1}}",
          "{\"errors\":[{\"message\":\"Variable \\\"$f\\\" got invalid value \\\"BOSS\\\" at "
          "\\\"f.role\\\"; Value \\\"BOSS\\\" does not exist in \\\"Role\\\" enum.\","
          "\"locations\":[{\"line\":1,\"column\":8}]},"
          "{\"message\":\"Variable \\\"$f\\\" got invalid value null at \\\"f.ids[1]\\\"; "
          "Expected non-nullable type \\\"ID!\\\" not to be null.\",\"locations\":[{\"line\":1,"
          "\"column\":8}]},"
          "{\"message\":\"Variable \\\"$f\\\" got invalid value {} at \\\"f.nested\\\"; Field "
          "\\\"flag\\\" of required type \\\"Boolean!\\\" was not provided.\",\"locations\":[{"
          "\"line\":1,\"column\":8}]},"
          "{\"message\":\"Variable \\\"$f\\\" got invalid value { role: \\\"BOSS\\\", ids: [1, "
          "null], nested: {}, zz: 1 }; Field \\\"zz\\\" is not defined by type \\\"Filter\\\".\","
          "\"locations\":[{\"line\":1,\"column\":8}]}]}");
    RICHV(fq, "{\"f\":[1]}",
          "{\"errors\":[{\"message\":\"Variable \\\"$f\\\" got invalid value [1]; Expected type "
          "\\\"Filter\\\" to be an object.\",\"locations\":[{\"line\":1,\"column\":8}]}]}");
    RICHV("query ($l: [Int], $s: String, $b: Boolean, $fl: Float, $j: JSON) "
          "{ echo(l: $l, s: $s, b: $b, f: $fl, j: $j) }",
          "{\"l\":7,\"s\":\"t\",\"b\":false,\"fl\":2,\"j\":{\"k\":[1,\"2\"]}}",
          "{\"data\":{\"echo\":{\"f\":2,\"s\":\"t\",\"b\":false,\"l\":[7],\"j\":{\"k\":[1,\"2\"]},"
          "\"req\":3}}}");
    RICHV("query ($s: String, $b: Boolean) { echo(s: $s, b: $b) }", "{\"s\":1,\"b\":\"true\"}",
          "{\"errors\":[{\"message\":\"Variable \\\"$s\\\" got invalid value 1; String cannot "
          "represent a non string value: 1\",\"locations\":[{\"line\":1,\"column\":8}]},"
          "{\"message\":\"Variable \\\"$b\\\" got invalid value \\\"true\\\"; Boolean cannot "
          "represent a non boolean value: \\\"true\\\"\",\"locations\":[{\"line\":1,\"column\":"
          "20}]}]}");
}

static void arguments(void **state)
{
    (void)state;
    RICH("{ echo(i: -5, f: 1e3, s: \"\\u00e9\", b: true, id: 12, r: EDITOR, l: 4, "
         "filter: {nested: {flag: false, text: null}}, j: {a: [1, B]}, nn: [1]) }",
         "{\"data\":{\"echo\":{\"i\":-5,\"f\":1000,\"s\":\"\xc3\xa9\",\"b\":true,\"id\":\"12\","
         "\"r\":\"EDITOR\",\"l\":[4],\"filter\":{\"limit\":10,\"nested\":{\"flag\":false,"
         "\"text\":null}},\"j\":{\"a\":[1,\"B\"]},\"req\":3,\"nn\":[1]}}}");
    /* a variable not provided: the argument's default, or left out */
    RICH("query ($v: Int) { echo(req: $v, i: $v) }", "{\"data\":{\"echo\":{\"req\":3}}}");
    RICHV("query ($v: Int = 1) { need(x: $v) }", "{\"v\":null}",
          "{\"errors\":[{\"message\":\"Argument \\\"x\\\" of non-null type \\\"Int!\\\" must not "
          "be null.\",\"locations\":[{\"line\":1,\"column\":31}],\"path\":[\"need\"]}],"
          "\"data\":{\"need\":null}}");
    expect(rich, "query ($v: Int) { need(x: $v) }", &(run_opts_t){.no_validate = true},
         "{\"errors\":[{\"message\":\"Argument \\\"x\\\" of required type \\\"Int!\\\" was "
         "provided the variable \\\"$v\\\" which was not provided a runtime value.\","
         "\"locations\":[{\"line\":1,\"column\":27}],\"path\":[\"need\"]}],"
         "\"data\":{\"need\":null}}");
    RICHV("query ($v: Int = 1) { echo(nn: [1, $v]) }", "{\"v\":null}",
          "{\"errors\":[{\"message\":\"Argument \\\"nn\\\" has invalid value [1, $v].\","
          "\"locations\":[{\"line\":1,\"column\":32}],\"path\":[\"echo\"]}],"
          "\"data\":{\"echo\":null}}");
}

/* ---- collection ---- */

static void skip_include_fragments(void **state)
{
    (void)state;
    RICHV("query ($t: Boolean!, $f: Boolean = false) { user { id @skip(if: $t) "
          "name @include(if: $f) ... @include(if: $t) { nick } ...U @skip(if: $f) ...U "
          "... on Node { id } } }\n"
          "fragment U on User { friends { name } id @include(if: true) @skip(if: true) }",
          "{\"t\":true}",
          "{\"data\":{\"user\":{\"nick\":null,\"friends\":[{\"name\":\"Bob\"}],\"id\":\"7\"}}}");
    RICH("{ user { a: name, a: name b: __typename } u2: user { ... on User { name } } }",
         "{\"data\":{\"user\":{\"a\":\"Ada\",\"b\":\"User\"},\"u2\":{\"name\":\"Ada\"}}}");
}

static void abstract_types(void **state)
{
    (void)state;
    RICH("{ node { __typename id ... on Post { title } } search { __typename "
         "... on User { name } ... on Post { title } } }",
         "{\"errors\":[{\"message\":\"Abstract type \\\"SearchResult\\\" must resolve to an "
         "Object type at runtime for field \\\"Query.search\\\". Either the \\\"SearchResult\\\" "
         "type should provide a \\\"resolveType\\\" function or each possible type should "
         "provide an \\\"isTypeOf\\\" function.\",\"locations\":[{\"line\":1,\"column\":48}],"
         "\"path\":[\"search\",2]}],"
         "\"data\":{\"node\":{\"__typename\":\"Post\",\"id\":\"p1\",\"title\":\"T\"},"
         "\"search\":[{\"__typename\":\"User\",\"name\":\"U\"},{\"__typename\":\"Post\","
         "\"title\":\"P\"},null]}}");
}

/* ---- result coercion and null propagation ---- */

static void result_coercion(void **state)
{
    (void)state;
    RICH("{ a: int(v: 1.0) b: int(v: \"12\") c: int(v: true) d: float(v: 0.1) e: float(v: 1e21) "
         "f: float(v: \"2.5\") g: str(v: 1.5) h: str(v: false) i: bool(v: 0) j: id(v: 42) "
         "k: id(v: \"x\") l: role(v: \"ADMIN\") m: ints(v: [1, null]) n: float(v: 1e-7) "
         "o: float(v: 123456.789) }",
         "{\"data\":{\"a\":1,\"b\":12,\"c\":1,\"d\":0.1,\"e\":1e+21,\"f\":2.5,\"g\":\"1.5\","
         "\"h\":\"false\",\"i\":false,\"j\":\"42\",\"k\":\"x\",\"l\":\"ADMIN\",\"m\":[1,null],"
         "\"n\":1e-7,\"o\":123456.789}}");
    RICH("{ a: int(v: 1.5) b: int(v: 2147483648) c: role(v: \"NOPE\") d: id(v: 1.5) "
         "e: ints(v: 3) f: bool(v: \"x\") }",
         "{\"errors\":["
         "{\"message\":\"Int cannot represent non-integer value: 1.5\",\"locations\":[{\"line\":"
         "1,\"column\":3}],\"path\":[\"a\"]},"
         "{\"message\":\"Int cannot represent non 32-bit signed integer value: 2147483648\","
         "\"locations\":[{\"line\":1,\"column\":18}],\"path\":[\"b\"]},"
         "{\"message\":\"Enum \\\"Role\\\" cannot represent value: \\\"NOPE\\\"\",\"locations\":"
         "[{\"line\":1,\"column\":40}],\"path\":[\"c\"]},"
         "{\"message\":\"ID cannot represent value: 1.5\",\"locations\":[{\"line\":1,\"column\":"
         "59}],\"path\":[\"d\"]},"
         "{\"message\":\"Expected Iterable, but did not find one for field \\\"Query.ints\\\".\","
         "\"locations\":[{\"line\":1,\"column\":73}],\"path\":[\"e\"]},"
         "{\"message\":\"Boolean cannot represent a non boolean value: \\\"x\\\"\",\"locations\":"
         "[{\"line\":1,\"column\":87}],\"path\":[\"f\"]}],"
         "\"data\":{\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":null,\"f\":null}}");
}

static void null_propagation(void **state)
{
    (void)state;
    RICH("{ a { b c } }",
         "{\"errors\":[{\"message\":\"Cannot return null for non-nullable field Item.b.\","
         "\"locations\":[{\"line\":1,\"column\":7}],\"path\":[\"a\",0,\"b\"]}],"
         "\"data\":{\"a\":[null,{\"b\":\"b1\",\"c\":\"c1\"}]}}");
    RICH("{ an { b } many }",
         "{\"errors\":[{\"message\":\"Cannot return null for non-nullable field Item.b.\","
         "\"locations\":[{\"line\":1,\"column\":8}],\"path\":[\"an\",1,\"b\"]}],"
         "\"data\":{\"an\":null,\"many\":[1,2,3,4,5]}}");
    RICH("{ many ann { b } }",
         "{\"errors\":[{\"message\":\"Cannot return null for non-nullable field Item.b.\","
         "\"locations\":[{\"line\":1,\"column\":14}],\"path\":[\"ann\",0,\"b\"]}],"
         "\"data\":null}");
    assert_true(last.data_null);
    RICH("{ user { friends { id name } } }",
         "{\"data\":{\"user\":{\"friends\":[{\"id\":\"8\",\"name\":\"Bob\"}]}}}");
}

static void list_limit(void **state)
{
    (void)state;
    expect(rich, "{ many a { c } }", &(run_opts_t){.max_list = 3},
           "{\"errors\":[{\"message\":\"The list of field \\\"Query.many\\\" has more than 3 "
           "items.\",\"locations\":[{\"line\":1,\"column\":3}],\"path\":[\"many\"]}],"
           "\"data\":{\"many\":null,\"a\":[{\"c\":\"c0\"},{\"c\":\"c1\"}]}}");
}

/* ---- introspection ---- */

static const char introspection_query[] =
    "query IntrospectionQuery {\n"
    "  __schema {\n"
    "    description\n"
    "    queryType { name }\n"
    "    mutationType { name }\n"
    "    subscriptionType { name }\n"
    "    types { ...FullType }\n"
    "    directives {\n"
    "      name\n"
    "      description\n"
    "      isRepeatable\n"
    "      locations\n"
    "      args(includeDeprecated: true) { ...InputValue }\n"
    "    }\n"
    "  }\n"
    "}\n"
    "fragment FullType on __Type {\n"
    "  kind\n"
    "  name\n"
    "  description\n"
    "  specifiedByURL\n"
    "  fields(includeDeprecated: true) {\n"
    "    name\n"
    "    description\n"
    "    args(includeDeprecated: true) { ...InputValue }\n"
    "    type { ...TypeRef }\n"
    "    isDeprecated\n"
    "    deprecationReason\n"
    "  }\n"
    "  inputFields(includeDeprecated: true) { ...InputValue }\n"
    "  interfaces { ...TypeRef }\n"
    "  enumValues(includeDeprecated: true) {\n"
    "    name\n"
    "    description\n"
    "    isDeprecated\n"
    "    deprecationReason\n"
    "  }\n"
    "  possibleTypes { ...TypeRef }\n"
    "}\n"
    "fragment InputValue on __InputValue {\n"
    "  name\n"
    "  description\n"
    "  type { ...TypeRef }\n"
    "  defaultValue\n"
    "  isDeprecated\n"
    "  deprecationReason\n"
    "}\n"
    "fragment TypeRef on __Type {\n"
    "  kind\n"
    "  name\n"
    "  ofType {\n"
    "    kind\n"
    "    name\n"
    "    ofType {\n"
    "      kind\n"
    "      name\n"
    "      ofType {\n"
    "        kind\n"
    "        name\n"
    "        ofType {\n"
    "          kind\n"
    "          name\n"
    "          ofType {\n"
    "            kind\n"
    "            name\n"
    "            ofType {\n"
    "              kind\n"
    "              name\n"
    "              ofType {\n"
    "                kind\n"
    "                name\n"
    "                ofType { kind name }\n"
    "              }\n"
    "            }\n"
    "          }\n"
    "        }\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n";

static void has(const char *text, const char *part)
{
    if (!strstr(text, part)) {
        print_error("missing: %s\n", part);
        fail();
    }
}

#define NN(inner) "{\"kind\":\"NON_NULL\",\"name\":null,\"ofType\":" inner "}"
#define LIST(inner) "{\"kind\":\"LIST\",\"name\":null,\"ofType\":" inner "}"
#define NAMED(kind, name) "{\"kind\":\"" kind "\",\"name\":\"" name "\",\"ofType\":null}"
#define FIELD(name, desc, args, type)                                                              \
    "{\"name\":\"" name "\",\"description\":" desc ",\"args\":" args ",\"type\":" type             \
    ",\"isDeprecated\":false,\"deprecationReason\":null}"
#define INPUT(name, type, dflt)                                                                    \
    "{\"name\":\"" name "\",\"description\":null,\"type\":" type ",\"defaultValue\":" dflt         \
    ",\"isDeprecated\":false,\"deprecationReason\":null}"

static void introspection_full(void **state)
{
    (void)state;
    char *out = run_doc(articles, introspection_query, NULL);
    has(out, "{\"data\":{\"__schema\":{\"description\":null,\"queryType\":{\"name\":\"Query\"},"
             "\"mutationType\":{\"name\":\"Mutation\"},\"subscriptionType\":null,\"types\":[{"
             "\"kind\":\"OBJECT\",\"name\":\"Article\",");
    has(out,
        "{\"kind\":\"OBJECT\",\"name\":\"Article\",\"description\":\"An article of the platform, "
        "as the REST core stores it.\",\"specifiedByURL\":null,\"fields\":["
        FIELD("id", "null", "[]", NN(NAMED("SCALAR", "ID"))) ","
        FIELD("title", "null", "[]", NN(NAMED("SCALAR", "String"))) ","
        FIELD("content", "null", "[]", NN(NAMED("SCALAR", "String"))) ","
        FIELD("author", "null", "[]", NAMED("SCALAR", "String")) ","
        FIELD("createdAt", "\"RFC 3339 UTC time of creation, set by the server.\"", "[]",
              NN(NAMED("SCALAR", "String"))) ","
        FIELD("updatedAt", "\"RFC 3339 UTC time of the last change, set by the server.\"", "[]",
              NN(NAMED("SCALAR", "String")))
        "],\"inputFields\":null,\"interfaces\":[],\"enumValues\":null,\"possibleTypes\":null}");
    has(out, "\"name\":\"getArticles\",\"description\":\"A page of articles, newest ids last; "
             "`author` filters exactly, `search` is a case-insensitive substring of the "
             "title.\",\"args\":[" INPUT("limit", NAMED("SCALAR", "Int"), "\"20\"") ","
             INPUT("offset", NAMED("SCALAR", "Int"), "\"0\"") ","
             INPUT("author", NAMED("SCALAR", "String"), "null") ","
             INPUT("search", NAMED("SCALAR", "String"), "null") "],\"type\":"
             NN(LIST(NN(NAMED("OBJECT", "Article")))));
    has(out, "{\"kind\":\"INPUT_OBJECT\",\"name\":\"CreateArticleInput\",\"description\":null,"
             "\"specifiedByURL\":null,\"fields\":null,\"inputFields\":["
             INPUT("title", NN(NAMED("SCALAR", "String")), "null") ","
             INPUT("content", NAMED("SCALAR", "String"), "null") ","
             INPUT("author", NAMED("SCALAR", "String"), "null")
             "],\"interfaces\":null,\"enumValues\":null,\"possibleTypes\":null}");
    has(out, "{\"name\":\"include\",\"description\":\"Directs the executor to include this field "
             "or fragment only when the `if` argument is true.\",\"isRepeatable\":false,"
             "\"locations\":[\"FIELD\",\"FRAGMENT_SPREAD\",\"INLINE_FRAGMENT\"],\"args\":[{"
             "\"name\":\"if\",\"description\":\"Included when true.\",\"type\":"
             NN(NAMED("SCALAR", "Boolean")) ",\"defaultValue\":null,\"isDeprecated\":false,"
             "\"deprecationReason\":null}]}");
    has(out, "{\"name\":\"skip\",\"description\":\"Directs the executor to skip this field or "
             "fragment when the `if` argument is true.\",\"isRepeatable\":false,");
    has(out, "{\"name\":\"deprecated\",\"description\":\"Marks an element of a GraphQL schema "
             "as no longer supported.\",\"isRepeatable\":false,\"locations\":["
             "\"FIELD_DEFINITION\",\"ARGUMENT_DEFINITION\",\"INPUT_FIELD_DEFINITION\","
             "\"ENUM_VALUE\"],\"args\":[{\"name\":\"reason\",");
    has(out, "\"defaultValue\":\"\\\"No longer supported\\\"\"");
    has(out, "{\"name\":\"specifiedBy\",\"description\":\"Exposes a URL that specifies the "
             "behavior of this scalar.\",\"isRepeatable\":false,\"locations\":[\"SCALAR\"],");
    has(out, "{\"kind\":\"ENUM\",\"name\":\"__TypeKind\",");
    assert_null(strstr(out, "\"errors\""));
    assert_null(strstr(out, "\"name\":\"Float\""));
    free(out);
}

static void introspection_parts(void **state)
{
    (void)state;
    RICH("{ __type(name: \"Role\") { kind enumValues { name } all: enumValues(includeDeprecated: "
         "true) { name isDeprecated deprecationReason } } t2: __type(name: \"Nope\") { name } "
         "n: __type(name: \"Node\") { possibleTypes { name } interfaces { name } } }",
         "{\"data\":{\"__type\":{\"kind\":\"ENUM\",\"enumValues\":[{\"name\":\"ADMIN\"},{\"name\":"
         "\"EDITOR\"}],\"all\":[{\"name\":\"ADMIN\",\"isDeprecated\":false,\"deprecationReason\":"
         "null},{\"name\":\"EDITOR\",\"isDeprecated\":false,\"deprecationReason\":null},{\"name\":"
         "\"OLD\",\"isDeprecated\":true,\"deprecationReason\":\"gone\"}]},\"t2\":null,\"n\":{"
         "\"possibleTypes\":[{\"name\":\"User\"},{\"name\":\"Post\"}],\"interfaces\":[]}}}");
    RICH("{ __type(name: \"Filter\") { inputFields { name defaultValue } } "
         "q: __type(name: \"Query\") { fields { name args { name defaultValue } } } }",
         "{\"data\":{\"__type\":{\"inputFields\":[{\"name\":\"role\",\"defaultValue\":null},{"
         "\"name\":\"ids\",\"defaultValue\":null},{\"name\":\"limit\",\"defaultValue\":\"10\"},{"
         "\"name\":\"nested\",\"defaultValue\":null}]},\"q\":{\"fields\":[{\"name\":\"echo\","
         "\"args\":[{\"name\":\"i\",\"defaultValue\":null},{\"name\":\"f\",\"defaultValue\":null},"
         "{\"name\":\"s\",\"defaultValue\":null},{\"name\":\"b\",\"defaultValue\":null},{\"name\":"
         "\"id\",\"defaultValue\":null},{\"name\":\"r\",\"defaultValue\":null},{\"name\":\"l\","
         "\"defaultValue\":null},{\"name\":\"filter\",\"defaultValue\":null},{\"name\":\"j\","
         "\"defaultValue\":null},{\"name\":\"req\",\"defaultValue\":\"3\"},{\"name\":\"nn\","
         "\"defaultValue\":null}]},{\"name\":\"need\",\"args\":[{\"name\":\"x\",\"defaultValue\":"
         "null}]},{\"name\":\"int\",\"args\":[{\"name\":\"v\",\"defaultValue\":null}]},{\"name\":"
         "\"float\",\"args\":[{\"name\":\"v\",\"defaultValue\":null}]},{\"name\":\"str\",\"args\":"
         "[{\"name\":\"v\",\"defaultValue\":null}]},{\"name\":\"bool\",\"args\":[{\"name\":\"v\","
         "\"defaultValue\":null}]},{\"name\":\"id\",\"args\":[{\"name\":\"v\",\"defaultValue\":"
         "null}]},{\"name\":\"role\",\"args\":[{\"name\":\"v\",\"defaultValue\":null}]},{\"name\":"
         "\"ints\",\"args\":[{\"name\":\"v\",\"defaultValue\":null}]},{\"name\":\"user\",\"args\":"
         "[]},{\"name\":\"search\",\"args\":[]},{\"name\":\"node\",\"args\":[]},{\"name\":\"a\","
         "\"args\":[]},{\"name\":\"an\",\"args\":[]},{\"name\":\"ann\",\"args\":[]},{\"name\":"
         "\"fail\",\"args\":[{\"name\":\"code\",\"defaultValue\":null}]},{\"name\":\"failNN\","
         "\"args\":[]},{\"name\":\"many\",\"args\":[]}]}}}");
}

static void default_values(void **state)
{
    (void)state;
    static const char sdl[] =
        "enum E { A B }\n"
        "input I { a: Int b: String = \"d\" c: [E] }\n"
        "type Query { f(a: [Int] = 1, b: I = {a: 1, c: B}, c: ID = \"12\", d: ID = \"x\", "
        "e: Float = 1.5, g: String = \"q\\\"\\n\", h: [I] = [{a: 2}], k: Boolean = false, "
        "l: E = A, m: Int = null): Int }\n";
    gql_schema_t *s = build(sdl, strlen(sdl));
    const gql_field_def_t *f = gql_type_field(s->query, "f", 1);
    static const char *const want[] = {"[1]", "{a: 1, b: \"d\", c: [B]}", "12", "\"x\"", "1.5",
                                       "\"q\\\"\\n\"", "[{a: 2, b: \"d\"}]", "false", "A",
                                       "null"};
    for (size_t i = 0; i < f->nargs; i++) {
        const char *got = gql_introspection_default_value(s, &arena, f->args[i].default_value,
                                                          f->args[i].type);
        assert_non_null(got);
        assert_string_equal(got, want[i]);
    }
    gql_schema_free(s);
}

static void introspection_disabled(void **state)
{
    (void)state;
    run_opts_t ro = {.no_introspection = true};
    expect(articles, "{ __typename __type(name: \"Article\") { name } }", &ro,
           "{\"errors\":[{\"message\":\"GraphQL introspection has been disabled, but the "
           "requested query contained the field \\\"__type\\\".\",\"locations\":[{\"line\":1,"
           "\"column\":14}],\"path\":[\"__type\"]}],\"data\":{\"__typename\":\"Query\","
           "\"__type\":null}}");
    expect(articles, "{ __schema { queryType { name } } }", &ro,
           "{\"errors\":[{\"message\":\"GraphQL introspection has been disabled, but the "
           "requested query contained the field \\\"__schema\\\".\",\"locations\":[{\"line\":1,"
           "\"column\":3}],\"path\":[\"__schema\"]}],\"data\":null}");
}

static void numbers(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *s;
    } cases[] = {{0, "0"},         {-0.0, "0"},          {1, "1"},
                 {-42, "-42"},     {0.1, "0.1"},         {1e21, "1e+21"},
                 {1e20, "100000000000000000000"},        {1.5e-7, "1.5e-7"},
                 {0.000001, "0.000001"}, {123.456, "123.456"}, {1.7976931348623157e308,
                                                                 "1.7976931348623157e+308"},
                 {5e-324, "5e-324"}, {9007199254740993.0, "9007199254740992"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        buf_t b = {0};
        gql_put_number(&b, cases[i].v);
        buf_putc(&b, 0);
        assert_string_equal(b.data, cases[i].s);
        buf_free(&b);
    }
}

/* With internal_error set, values that do not fit the schema and resolvers
 * failing without a word reach the client as a stable message and code;
 * the detail goes to the callback (the gateway's log). Errors the client
 * caused keep their message. */
static void internal_errors_masked(void **state)
{
    (void)state;
    buf_reset(&calls);
    expect(rich, "{ a: int(v: 1.5) b: fail(code: \"NOPE\") c: search { __typename } }",
           &(run_opts_t){.mask = true, .no_prepare = true},
           "{\"errors\":["
           "{\"message\":\"Internal server error.\",\"locations\":[{\"line\":1,\"column\":3}],"
           "\"path\":[\"a\"],\"extensions\":{\"code\":\"INTERNAL_SERVER_ERROR\"}},"
           "{\"message\":\"Boom on b.\",\"locations\":[{\"line\":1,\"column\":18}],"
           "\"path\":[\"b\"],\"extensions\":{\"code\":\"NOPE\"}},"
           "{\"message\":\"Internal server error.\",\"locations\":[{\"line\":1,\"column\":"
           "40}],\"path\":[\"c\",2],\"extensions\":{\"code\":\"INTERNAL_SERVER_ERROR\"}}],"
           "\"data\":{\"a\":null,\"b\":null,\"c\":[{\"__typename\":\"User\"},"
           "{\"__typename\":\"Post\"},null]}}");
    buf_putc(&calls, 0);
    assert_string_equal(calls.data,
                        "internal(Int cannot represent non-integer value: 1.5);"
                        "internal(Abstract type \"SearchResult\" must resolve to an Object type "
                        "at runtime for field \"Query.search\". Either the \"SearchResult\" "
                        "type should provide a \"resolveType\" function or each possible type "
                        "should provide an \"isTypeOf\" function.);");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, each_setup, each_teardown)
        T(internal_errors_masked),
        T(operation_selection), T(articles_queries), T(prepare_suspends), T(resolver_suspends), T(resolver_errors), T(mutations_serial),
        T(prepare_hook),        T(variables),        T(arguments),       T(skip_include_fragments),
        T(abstract_types),      T(result_coercion),  T(null_propagation), T(list_limit),
        T(introspection_full),  T(introspection_parts), T(default_values),
        T(introspection_disabled), T(numbers),
#undef T
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
