/* test_gql_resolvers.c - the gateway's resolvers against a real REST core:
 * the REST core's own modules (routes, validation, an in-memory SQLite
 * store) serve HTTP on a loopback port inside the test, and GraphQL
 * documents are parsed, validated and executed through graphql/resolvers.c
 * with the outbound client of lib/http_client.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inproc_rest.h"
#include "http_client.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "parser.h"
#include "resolvers.h"
#include "schema.h"
#include "validate.h"

typedef struct world {
    inproc_rest_t rest;
    http_client_t *client;
    gql_schema_t *schema;
} world_t;

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char data[1 << 16];
    *len = fread(data, 1, sizeof data - 1, f);
    fclose(f);
    data[*len] = '\0';
    return data;
}

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    char err[256];
    log_init("test_gql_resolvers", "text", "error"); /* the REST core's request lines are noise here */
    inproc_rest_start(&w->rest);
    http_client_config_t cc = {.base_url = w->rest.base_url, .connect_timeout_ms = 500,
                               .timeout_ms = 2000, .max_attempts = 2, .backoff_base_ms = 10, .backoff_cap_ms = 20};
    assert_int_equal(http_client_new(&cc, &w->client, err, sizeof err), 0);
    size_t len = 0;
    const char *sdl = read_file("schema/articles.graphql", &len);
    assert_non_null(sdl);
    gql_error_t gerr;
    assert_int_equal(gql_schema_build(sdl, len, NULL, &w->schema, &gerr), 0);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    http_client_free(w->client);
    inproc_rest_free(&w->rest);
    gql_schema_free(w->schema);
    free(w);
    return 0;
}

/* The document of query, parsed and validated into a. */
static gql_document_t *valid_document(world_t *w, const char *query, arena_t *a)
{
    gql_document_t *doc;
    gql_error_t err;
    if (gql_parse(query, strlen(query), NULL, a, &doc, &err) != 0)
        fail_msg("parse: %s", err.message);
    gql_validation_result_t vr;
    if (gql_validate(w->schema, doc, NULL, a, &vr) != 0)
        fail_msg("invalid: %s", vr.nerrors ? vr.errors[0].message : "?");
    return doc;
}

/* The answer in out as JSON (caller frees); frees out. */
static cJSON *answer_of(buf_t *out)
{
    json_error_t jerr;
    cJSON *v = json_parse(out->data, out->len, &jerr);
    if (!v)
        fail_msg("not JSON: %s", out->data);
    buf_free(out);
    return v;
}

/* Runs a document; returns the parsed JSON response (caller frees). */
static cJSON *run(world_t *w, const char *query, const char *variables)
{
    arena_t a = {0};
    gql_document_t *doc = valid_document(w, query, &a);
    json_error_t jerr;
    cJSON *vars = variables ? json_parse(variables, strlen(variables), &jerr) : NULL;
    articles_ctx_t ctx = {.client = w->client};
    gql_exec_options_t opt = {.resolvers = articles_resolvers, .nresolvers = articles_nresolvers,
                              .prepare = articles_prepare, .user_data = &ctx,
                              .allow_introspection = true};
    buf_t out = {0};
    gql_exec_result_t res;
    assert_int_equal(gql_execute(w->schema, doc, NULL, vars, &opt, &a, &out, &res), 0);
    articles_ctx_release(&ctx);
    cJSON_Delete(vars);
    arena_free(&a);
    return answer_of(&out);
}

static const cJSON *at(const cJSON *v, const char *path)
{
    char key[64];
    while (*path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        v = (key[0] >= '0' && key[0] <= '9') ? cJSON_GetArrayItem(v, atoi(key))
                                             : cJSON_GetObjectItemCaseSensitive(v, key);
        if (!v)
            return NULL;
        path += n + (path[n] == '.');
    }
    return v;
}

static void assert_no_errors(const cJSON *r)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "errors");
    if (e) {
        char *s = cJSON_Print(e);
        fail_msg("unexpected errors: %s", s);
    }
}

static void assert_error_code(const cJSON *r, const char *code, const char *path0)
{
    const cJSON *e = at(r, "errors.0");
    assert_non_null(e);
    assert_string_equal(at(e, "extensions.code")->valuestring, code);
    assert_string_equal(at(e, "path.0")->valuestring, path0);
    assert_non_null(at(e, "locations.0.line"));
}

static char *create(world_t *w, const char *title, const char *author)
{
    char q[512];
    snprintf(q, sizeof q, "mutation { createArticle(input: {title: \"%s\", author: %s%s%s}) "
                          "{ id title author createdAt updatedAt } }",
             title, author ? "\"" : "", author ? author : "null", author ? "\"" : "");
    cJSON *r = run(w, q, NULL);
    assert_no_errors(r);
    assert_string_equal(at(r, "data.createArticle.title")->valuestring, title);
    char *id = strdup(at(r, "data.createArticle.id")->valuestring);
    cJSON_Delete(r);
    return id;
}

static void test_create_and_read(void **state)
{
    world_t *w = *state;
    char *id = create(w, "Hello", "ada");
    char q[256];
    snprintf(q, sizeof q, "{ getArticle(id: \"%s\") { id title content author createdAt } }", id);
    cJSON *r = run(w, q, NULL);
    assert_no_errors(r);
    assert_string_equal(at(r, "data.getArticle.id")->valuestring, id);
    assert_string_equal(at(r, "data.getArticle.content")->valuestring, "");
    assert_string_equal(at(r, "data.getArticle.author")->valuestring, "ada");
    assert_int_equal(strlen(at(r, "data.getArticle.createdAt")->valuestring), 24);
    cJSON_Delete(r);
    free(id);
}

static void test_missing_article_is_null(void **state)
{
    world_t *w = *state;
    cJSON *r = run(w, "{ getArticle(id: \"987654\") { id } }", NULL);
    assert_no_errors(r);
    assert_true(cJSON_IsNull(at(r, "data.getArticle")));
    cJSON_Delete(r);
    r = run(w, "mutation { updateArticle(id: \"987654\", input: {title: \"x\"}) { id } "
               "deleteArticle(id: \"987654\") }", NULL);
    assert_no_errors(r);
    assert_true(cJSON_IsNull(at(r, "data.updateArticle")));
    assert_true(cJSON_IsFalse(at(r, "data.deleteArticle")));
    cJSON_Delete(r);
}

static void test_bad_input(void **state)
{
    world_t *w = *state;
    cJSON *r = run(w, "{ getArticle(id: \"abc\") { id } }", NULL);
    assert_error_code(r, "BAD_USER_INPUT", "getArticle");
    cJSON_Delete(r);
    char q[512], title[202];
    memset(title, 'x', 201);
    title[201] = '\0';
    snprintf(q, sizeof q, "mutation { createArticle(input: {title: \"%s\"}) { id } }", title);
    r = run(w, q, NULL);
    assert_error_code(r, "BAD_USER_INPUT", "createArticle");
    assert_non_null(strstr(at(r, "errors.0.message")->valuestring, "200"));
    cJSON_Delete(r);
}

static void test_update_and_delete(void **state)
{
    world_t *w = *state;
    char *id = create(w, "Before", NULL);
    char q[256];
    snprintf(q, sizeof q, "mutation { updateArticle(id: \"%s\", input: {author: \"bo\"}) "
                          "{ title author } }", id);
    cJSON *r = run(w, q, NULL);
    assert_no_errors(r);
    assert_string_equal(at(r, "data.updateArticle.title")->valuestring, "Before");
    assert_string_equal(at(r, "data.updateArticle.author")->valuestring, "bo");
    cJSON_Delete(r);
    snprintf(q, sizeof q, "mutation { a: deleteArticle(id: \"%s\") b: deleteArticle(id: \"%s\") }",
             id, id);
    r = run(w, q, NULL);
    assert_no_errors(r);
    assert_true(cJSON_IsTrue(at(r, "data.a")));
    assert_true(cJSON_IsFalse(at(r, "data.b")));
    cJSON_Delete(r);
    free(id);
}

static void test_list_filters(void **state)
{
    world_t *w = *state;
    free(create(w, "Alpha one", "x1"));
    free(create(w, "Beta two", "x1"));
    free(create(w, "Gamma & three", "y2"));
    cJSON *r = run(w, "{ a: getArticles(author: \"x1\") { title } b: getArticles(search: \"& THR\") "
                      "{ title } c: getArticles(limit: 1, offset: 1, author: \"x1\") { title } }",
                   NULL);
    assert_no_errors(r);
    assert_int_equal(cJSON_GetArraySize(at(r, "data.a")), 2);
    assert_string_equal(at(r, "data.b.0.title")->valuestring, "Gamma & three");
    assert_string_equal(at(r, "data.c.0.title")->valuestring, "Beta two");
    cJSON_Delete(r);
    r = run(w, "{ getArticles(limit: -1) { id } }", NULL);
    assert_error_code(r, "BAD_USER_INPUT", "getArticles");
    cJSON_Delete(r);
}

/* The REST core's own count of served GETs by id. */
static double rest_gets(world_t *w)
{
    buf_t b = {0};
    metrics_render(w->rest.reg, &b);
    const char *key = "http_requests_total{method=\"GET\",route=\"/articles/{id}\",status=\"200\"} ";
    const char *p = strstr(b.data, key);
    double n = p ? atof(p + strlen(key)) : 0;
    buf_free(&b);
    return n;
}

static void test_identical_gets_are_made_once(void **state)
{
    world_t *w = *state;
    char *id = create(w, "Shared", NULL);
    char q[1024];
    int n = snprintf(q, sizeof q, "{");
    for (int i = 0; i < 10; i++)
        n += snprintf(q + n, sizeof q - (size_t)n, " a%d: getArticle(id: \"%s\") { id }", i, id);
    snprintf(q + n, sizeof q - (size_t)n, " }");
    double before = rest_gets(w);
    cJSON *r = run(w, q, NULL);
    assert_no_errors(r);
    assert_string_equal(at(r, "data.a9.id")->valuestring, id);
    assert_true(rest_gets(w) - before == 1);
    cJSON_Delete(r);
    free(id);
}

/* The REST core's count of answers to one method and route, any status. */
static double rest_served(world_t *w, const char *method, const char *route)
{
    buf_t b = {0};
    metrics_render(w->rest.reg, &b);
    char key[128];
    snprintf(key, sizeof key, "http_requests_total{method=\"%s\",route=\"%s\",", method, route);
    double n = 0;
    for (const char *p = b.data; (p = strstr(p, key)); p++)
        n += atof(strchr(p, '}') + 2);
    buf_free(&b);
    return n;
}

/* Runs a document as the server does: each suspension's calls are made,
 * then the execution runs again from the start. *rounds counts them. */
static cJSON *run_suspending(world_t *w, const char *query, int *rounds)
{
    arena_t a = {0};
    gql_document_t *doc = valid_document(w, query, &a);
    articles_ctx_t ctx = {.client = w->client, .suspend = true};
    gql_exec_options_t opt = {.resolvers = articles_resolvers, .nresolvers = articles_nresolvers,
                              .prepare = articles_prepare, .user_data = &ctx};
    buf_t out = {0};
    gql_exec_result_t res;
    int rc;
    *rounds = 0;
    for (;;) {
        articles_begin(&ctx);
        rc = gql_execute(w->schema, doc, NULL, NULL, &opt, &a, &out, &res);
        if (rc != GQL_EXEC_SUSPENDED)
            break;
        assert_int_equal(out.len, 0); /* nothing written by a suspended run */
        assert_true(ctx.batch_n >= 1);
        http_client_run(ctx.client, ctx.batch, ctx.batch_n);
        articles_collect(&ctx);
        (*rounds)++;
        assert_true(*rounds < 10);
    }
    assert_int_equal(rc, 0);
    articles_ctx_release(&ctx);
    arena_free(&a);
    return answer_of(&out);
}

/* Suspending, a mutation stops once per write, in order, and each write
 * reaches the REST core once however often the operation runs again. */
static void test_mutation_suspends_per_write(void **state)
{
    world_t *w = *state;
    double posts = rest_served(w, "POST", "/articles");
    double patches = rest_served(w, "PATCH", "/articles/{id}");
    int rounds;
    cJSON *r = run_suspending(w,
        "mutation { a: createArticle(input: {title: \"one\"}) { id title } "
        "b: createArticle(input: {title: \"two\"}) { id title } "
        "c: updateArticle(id: \"0\", input: {title: \"x\"}) { id } "
        "d: createArticle(input: {title: \"three\"}) { title } }", &rounds);
    /* c fails before any call (a bad id), is null, and d still runs. */
    assert_int_equal(rounds, 3);
    assert_string_equal(at(r, "data.a.title")->valuestring, "one");
    assert_string_equal(at(r, "data.b.title")->valuestring, "two");
    assert_true(strcmp(at(r, "data.a.id")->valuestring, at(r, "data.b.id")->valuestring) != 0);
    assert_true(cJSON_IsNull(at(r, "data.c")));
    assert_error_code(r, "BAD_USER_INPUT", "c");
    assert_string_equal(at(r, "data.d.title")->valuestring, "three");
    assert_true(rest_served(w, "POST", "/articles") - posts == 3);
    assert_true(rest_served(w, "PATCH", "/articles/{id}") - patches == 0);
    char q[256];
    snprintf(q, sizeof q, "mutation { u: updateArticle(id: \"%s\", input: {title: \"1b\"}) "
             "{ title } d: deleteArticle(id: \"%s\") gone: deleteArticle(id: \"%s\") }",
             at(r, "data.a.id")->valuestring, at(r, "data.b.id")->valuestring,
             at(r, "data.b.id")->valuestring);
    cJSON_Delete(r);
    r = run_suspending(w, q, &rounds);
    assert_no_errors(r);
    assert_int_equal(rounds, 3);
    assert_string_equal(at(r, "data.u.title")->valuestring, "1b");
    assert_true(cJSON_IsTrue(at(r, "data.d")));
    assert_true(cJSON_IsFalse(at(r, "data.gone"))); /* the second delete met a 404 */
    cJSON_Delete(r);
}

/* A query suspends once for all its root GETs. */
static void test_query_suspends_once(void **state)
{
    world_t *w = *state;
    char *id = create(w, "Once", NULL);
    char q[256];
    snprintf(q, sizeof q, "{ a: getArticle(id: \"%s\") { title } b: getArticles { id } "
             "c: getArticle(id: \"987654\") { id } }", id);
    int rounds;
    cJSON *r = run_suspending(w, q, &rounds);
    assert_no_errors(r);
    assert_int_equal(rounds, 1);
    assert_string_equal(at(r, "data.a.title")->valuestring, "Once");
    assert_true(cJSON_IsNull(at(r, "data.c")));
    cJSON_Delete(r);
    free(id);
}

static void test_rest_core_down(void **state)
{
    world_t *w = *state;
    inproc_rest_stop(&w->rest);
    cJSON *r = run(w, "{ getArticle(id: \"1\") { id } getArticles { id } }", NULL);
    assert_error_code(r, "UPSTREAM_UNAVAILABLE", "getArticle");
    /* getArticles is non-null: its failure nulls the whole data. */
    assert_true(cJSON_IsNull(at(r, "data")));
    assert_int_equal(cJSON_GetArraySize(at(r, "errors")), 2);
    cJSON_Delete(r);
    r = run(w, "mutation { deleteArticle(id: \"1\") }", NULL);
    assert_error_code(r, "UPSTREAM_UNAVAILABLE", "deleteArticle");
    cJSON_Delete(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_article_is_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identical_gets_are_made_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutation_suspends_per_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_suspends_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rest_core_down, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
