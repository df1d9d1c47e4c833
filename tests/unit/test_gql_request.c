/* test_gql_request.c - unit tests of graphql/request.c: Accept negotiation
 * and the GraphQL-over-HTTP request of POST bodies and GET parameters. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include <string.h>

#include "request.h"

static void assert_media(const char *accept, gql_media_t want)
{
    gql_media_t got = (gql_media_t)-1;
    gql_request_error_t err = {0};
    if (gql_request_negotiate(accept, &got, &err) != 0)
        fail_msg("Accept '%s' refused: %s", accept ? accept : "(none)", err.message);
    if (got != want)
        fail_msg("Accept '%s': media %d, want %d", accept ? accept : "(none)", got, want);
}

static void assert_406(const char *accept)
{
    gql_media_t got;
    gql_request_error_t err = {0};
    assert_int_equal(gql_request_negotiate(accept, &got, &err), -1);
    assert_int_equal(err.status, 406);
    assert_non_null(strstr(err.message, "Accept"));
}

static void test_negotiate(void **state)
{
    (void)state;
    assert_media(NULL, GQL_MEDIA_JSON);
    assert_media("", GQL_MEDIA_JSON);
    assert_media("application/json", GQL_MEDIA_JSON);
    assert_media("application/graphql-response+json", GQL_MEDIA_GRAPHQL_RESPONSE);
    assert_media("APPLICATION/GraphQL-Response+JSON", GQL_MEDIA_GRAPHQL_RESPONSE);
    assert_media("*/*", GQL_MEDIA_JSON);
    assert_media("application/*", GQL_MEDIA_JSON);
    assert_media("application/graphql-response+json, application/json", GQL_MEDIA_GRAPHQL_RESPONSE);
    assert_media("application/json, application/graphql-response+json", GQL_MEDIA_GRAPHQL_RESPONSE);
    assert_media("application/graphql-response+json;q=0.5, application/json", GQL_MEDIA_JSON);
    assert_media("application/json;q=0.5 , application/graphql-response+json;q=0.9",
                 GQL_MEDIA_GRAPHQL_RESPONSE);
    assert_media("application/graphql-response+json; charset=utf-8", GQL_MEDIA_GRAPHQL_RESPONSE);
    assert_media("text/html, */*;q=0.1", GQL_MEDIA_JSON);
    assert_media("application/graphql-response+json;q=0, application/json", GQL_MEDIA_JSON);
    assert_406("text/html");
    assert_406("application/xml, text/plain;q=0.5");
    assert_406("application/json;q=0");
    assert_406("application/json;q=abc");
    assert_406("application/jsonx");
}

static void assert_post_refused(const char *ct, const char *body, int status, const char *needle)
{
    gql_http_request_t r;
    gql_request_error_t err = {0};
    assert_int_equal(gql_request_from_post(ct, body, strlen(body), 0, &r, &err), -1);
    if (err.status != status)
        fail_msg("'%s' with %s: status %d (%s), want %d", body, ct ? ct : "(none)", err.status,
                 err.message, status);
    if (needle && !strstr(err.message, needle))
        fail_msg("'%s': message '%s' lacks '%s'", body, err.message, needle);
    assert_null(r.json);
}

static void test_post_content_type(void **state)
{
    (void)state;
    const char *ok = "{\"query\":\"{a}\"}";
    assert_post_refused(NULL, ok, 415, "application/json");
    assert_post_refused("text/plain", ok, 415, "application/json");
    assert_post_refused("application/graphql", ok, 415, NULL);
    assert_post_refused("application/json; charset=latin1", ok, 415, "UTF-8");
    const char *good[] = {"application/json", "application/json; charset=utf-8",
                          "Application/JSON ; charset=\"UTF-8\"", "application/json;charset=utf8"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        gql_http_request_t r;
        gql_request_error_t err = {0};
        if (gql_request_from_post(good[i], ok, strlen(ok), 0, &r, &err) != 0)
            fail_msg("%s refused: %s", good[i], err.message);
        assert_string_equal(r.query, "{a}");
        gql_request_free(&r);
    }
}

static void test_post_bodies(void **state)
{
    (void)state;
    const char *ct = "application/json";
    assert_post_refused(ct, "", 400, "empty");
    assert_post_refused(ct, "{\"query\":", 400, "malformed");
    assert_post_refused(ct, "[{\"query\":\"{a}\"}]", 400, "--max-batch 0"); /* a batch, but off */
    assert_post_refused(ct, "{}", 400, "no query");
    assert_post_refused(ct, "{\"query\":null}", 400, "string");
    assert_post_refused(ct, "{\"query\":1}", 400, "string");
    assert_post_refused(ct, "{\"query\":{}}", 400, "string");
    assert_post_refused(ct, "{\"query\":[\"{a}\"]}", 400, "string");
    assert_post_refused(ct, "{\"query\":\"{a}\",\"operationName\":1}", 400, "operationName");
    assert_post_refused(ct, "{\"query\":\"{a}\",\"variables\":\"{}\"}", 400, "variables");
    assert_post_refused(ct, "{\"query\":\"{a}\",\"variables\":[]}", 400, "variables");
    assert_post_refused(ct, "{\"query\":\"{a}\",\"extensions\":1}", 400, "extensions");
    assert_post_refused(ct, "{\"query\":\"{a\\u0000}\"}", 400, "\\u0000");

    const char *body = "{\"query\":\"query Q($x: Int) { a(x: $x) }\",\"operationName\":\"Q\","
                       "\"variables\":{\"x\":3},\"extensions\":{\"k\":true}}";
    gql_http_request_t r;
    gql_request_error_t err = {0};
    assert_int_equal(gql_request_from_post(ct, body, strlen(body), 0, &r, &err), 0);
    assert_string_equal(r.query, "query Q($x: Int) { a(x: $x) }");
    assert_int_equal(r.query_len, strlen(r.query));
    assert_string_equal(r.operation_name, "Q");
    assert_int_equal(cJSON_GetObjectItem(r.variables, "x")->valueint, 3);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r.extensions, "k")));
    gql_request_free(&r);
    assert_null(r.json);

    const char *nulls = "{\"query\":\"{a}\",\"operationName\":null,\"variables\":null,"
                        "\"extensions\":null}";
    assert_int_equal(gql_request_from_post(ct, nulls, strlen(nulls), 0, &r, &err), 0);
    assert_null(r.operation_name);
    assert_null(r.variables);
    assert_null(r.extensions);
    gql_request_free(&r);
}

static void test_get(void **state)
{
    (void)state;
    gql_http_request_t r;
    gql_request_error_t err = {0};
    assert_int_equal(gql_request_from_get(NULL, NULL, NULL, NULL, &r, &err), -1);
    assert_int_equal(err.status, 400);
    assert_int_equal(gql_request_from_get("{a}", NULL, "{", NULL, &r, &err), -1);
    assert_int_equal(err.status, 400);
    assert_non_null(strstr(err.message, "variables"));
    assert_int_equal(gql_request_from_get("{a}", NULL, "[1]", NULL, &r, &err), -1);
    assert_non_null(strstr(err.message, "variables"));
    assert_int_equal(gql_request_from_get("{a}", NULL, NULL, "x", &r, &err), -1);
    assert_non_null(strstr(err.message, "extensions"));

    assert_int_equal(gql_request_from_get("query Q { a }", "Q", "{\"id\":\"7\"}", "{}", &r, &err), 0);
    assert_string_equal(r.query, "query Q { a }");
    assert_string_equal(r.operation_name, "Q");
    assert_string_equal(cJSON_GetObjectItem(r.variables, "id")->valuestring, "7");
    assert_non_null(r.extensions);
    gql_request_free(&r);
}

/* A JSON array is a batch: refused when batching is off, when empty or
 * longer than the limit; else each item reads as a request of its own. */
static void test_batches(void **state)
{
    (void)state;
    const char *ct = "application/json";
    const char *two = "[{\"query\":\"{ a }\"},{\"query\":\"{ b }\",\"variables\":{\"x\":1}},7]";
    gql_http_request_t r, item;
    gql_request_error_t err = {0};
    assert_int_equal(gql_request_from_post(ct, two, strlen(two), 0, &r, &err), -1);
    assert_int_equal(err.status, 400);
    assert_non_null(strstr(err.message, "--max-batch 0"));
    assert_null(r.json);
    assert_int_equal(gql_request_from_post(ct, two, strlen(two), 2, &r, &err), -1);
    assert_non_null(strstr(err.message, "1 to 2 operations"));
    assert_int_equal(gql_request_from_post(ct, "[]", 2, 5, &r, &err), -1);
    assert_int_equal(err.status, 400);
    assert_int_equal(gql_request_from_post(ct, two, strlen(two), 3, &r, &err), GQL_REQUEST_BATCH);
    assert_null(r.query);
    assert_int_equal(gql_request_batch_item(&r, 0, &item, &err), 0);
    assert_string_equal(item.query, "{ a }");
    assert_null(item.variables);
    assert_int_equal(gql_request_batch_item(&r, 1, &item, &err), 0);
    assert_string_equal(item.query, "{ b }");
    assert_non_null(item.variables);
    assert_int_equal(gql_request_batch_item(&r, 2, &item, &err), -1);
    assert_int_equal(err.status, 400);
    gql_request_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_post_content_type),
        cmocka_unit_test(test_post_bodies),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
