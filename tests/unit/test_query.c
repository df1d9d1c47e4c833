/* test_query.c - unit tests of rest/query.c: path ids, and query strings over a real server. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "query.h"

static const article_limits_t lim = {200, 100, 1048576};

/* What the handler saw for the last request; strings are copied out of the
 * request, which is gone by the time the test looks. */
typedef struct seen {
    int calls;
    int rc;
    store_query_t q;
    char author[512], text[512];
    problem_t err;
} seen_t;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static seen_t seen;
static int64_t max_limit = 1000;
static http_server_t *server;

static void copy_opt(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static void handler(void *ud, http_request_t *req, http_response_t *res)
{
    (void)ud;
    pthread_mutex_lock(&mu);
    seen.calls++;
    memset(&seen.err, 0, sizeof seen.err);
    seen.rc = query_parse_list(req, max_limit, &lim, &seen.q, &seen.err);
    copy_opt(seen.author, sizeof seen.author, seen.q.author);
    copy_opt(seen.text, sizeof seen.text, seen.q.q);
    pthread_mutex_unlock(&mu);
    res->status = 200;
    res->content_type = "text/plain";
    buf_puts(&res->body, "ok");
}

static int start_server(void **state)
{
    (void)state;
    char err[256];
    http_server_config_t cfg = {
        .host = "127.0.0.1",
        .port = 0,
        .threads = 1,
        .max_connections = 16,
        .connection_timeout = 5,
        .max_body_bytes = 1024,
        .handler = handler,
    };
    if (http_server_start(&cfg, &server, err, sizeof err) != 0) {
        fprintf(stderr, "cannot start the server: %s\n", err);
        return -1;
    }
    return 0;
}

static int stop_server(void **state)
{
    (void)state;
    http_server_stop(server);
    return 0;
}

/* Sends GET target and returns the response's status code, or -1. */
static int http_get(const char *target)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)http_server_port(server))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char req[2048];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                     target);
    assert_true(n > 0 && (size_t)n < sizeof req);
    assert_int_equal(write(fd, req, (size_t)n), n);
    char resp[4096];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof resp - 1 && (r = read(fd, resp + got, sizeof resp - 1 - got)) > 0)
        got += (size_t)r;
    resp[got] = '\0';
    close(fd);
    int status = -1;
    if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
        return -1;
    return status;
}

/* Requests /articles?query and returns what query_parse_list made of it. */
static seen_t list(const char *query)
{
    char target[1800];
    snprintf(target, sizeof target, "/articles%s%s", *query ? "?" : "", query);
    pthread_mutex_lock(&mu);
    int before = seen.calls;
    pthread_mutex_unlock(&mu);
    int status = http_get(target);
    if (status != 200)
        fail_msg("GET %s answered %d", target, status);
    pthread_mutex_lock(&mu);
    seen_t s = seen;
    pthread_mutex_unlock(&mu);
    assert_int_equal(s.calls, before + 1);
    return s;
}

static seen_t list_ok(const char *query)
{
    seen_t s = list(query);
    if (s.rc != 0)
        fail_msg("'%s' refused: %s (%s)", query, s.err.detail, s.err.parameter);
    return s;
}

static void list_refused(const char *query, const char *parameter)
{
    seen_t s = list(query);
    if (s.rc != -1)
        fail_msg("'%s' accepted", query);
    if (s.err.status != 400 || strcmp(s.err.parameter, parameter) != 0)
        fail_msg("'%s': status %d parameter '%s' (%s); want 400 '%s'", query, s.err.status,
                 s.err.parameter, s.err.detail, parameter);
    assert_true(s.err.detail[0] != '\0');
    assert_string_equal(s.err.field, "");
}

static int reset(void **state)
{
    (void)state;
    pthread_mutex_lock(&mu);
    max_limit = 1000;
    pthread_mutex_unlock(&mu);
    return 0;
}

/* ---- query_parse_id ---------------------------------------------------- */

static void assert_id(const char *s, int64_t want)
{
    int64_t id = -7;
    problem_t p;
    if (query_parse_id(s, strlen(s), &id, &p) != 0)
        fail_msg("id '%s' refused: %s", s, p.detail);
    assert_int_equal(id, want);
}

static void assert_bad_id(const char *s, size_t len)
{
    int64_t id = -7;
    problem_t p;
    memset(&p, 0, sizeof p);
    if (query_parse_id(s, len, &id, &p) != -1)
        fail_msg("id '%.*s' accepted", (int)len, s);
    assert_int_equal(p.status, 400);
    assert_true(p.detail[0] != '\0');
    assert_int_equal(id, -7);
}

static void test_id_valid(void **state)
{
    (void)state;
    assert_id("1", 1);
    assert_id("42", 42);
    assert_id("9007199254740993", INT64_C(9007199254740993));
    assert_id("9223372036854775807", INT64_MAX);
    /* Only len bytes: "12" of "12/x". */
    int64_t id = 0;
    problem_t p;
    assert_int_equal(query_parse_id("12/x", 2, &id, &p), 0);
    assert_int_equal(id, 12);
}

static void test_id_invalid(void **state)
{
    (void)state;
    const char *bad[] = {"0",
                         "-1",
                         "+1",
                         " 1",
                         "1 ",
                         "1a",
                         "a1",
                         "1.0",
                         "0x1",
                         "1e3",
                         "9223372036854775808",
                         "99999999999999999999",
                         "-",
                         "%31"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_bad_id(bad[i], strlen(bad[i]));
    assert_bad_id("", 0);
    assert_bad_id("1\0", 2);
}

/* ---- query_parse_list -------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    seen_t s = list_ok("");
    assert_int_equal(s.q.limit, QUERY_DEFAULT_LIMIT);
    assert_int_equal(s.q.offset, 0);
    assert_int_equal(s.q.after_id, 0);
    assert_null(s.q.author);
    assert_null(s.q.q);
    assert_int_equal(s.q.sort, STORE_SORT_ID);
}

static void test_default_limit_capped_by_max(void **state)
{
    (void)state;
    pthread_mutex_lock(&mu);
    max_limit = 20;
    pthread_mutex_unlock(&mu);
    assert_int_equal(list_ok("").q.limit, 20);
    assert_int_equal(list_ok("limit=20").q.limit, 20);
    list_refused("limit=21", "limit");
}

static void test_limit(void **state)
{
    (void)state;
    assert_int_equal(list_ok("limit=1").q.limit, 1);
    assert_int_equal(list_ok("limit=5").q.limit, 5);
    assert_int_equal(list_ok("limit=1000").q.limit, 1000);
    const char *bad[] = {"limit=0",    "limit=1001", "limit=-1",  "limit=abc",
                         "limit=",     "limit",      "limit=1.0", "limit=%205",
                         "limit=5%20", "limit=%2B5", "limit=1e2", "limit=99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        list_refused(bad[i], "limit");
}

static void test_offset(void **state)
{
    (void)state;
    assert_int_equal(list_ok("offset=0").q.offset, 0);
    assert_int_equal(list_ok("offset=250").q.offset, 250);
    assert_int_equal(list_ok("offset=9223372036854775807").q.offset, INT64_MAX);
    const char *bad[] = {"offset=-1", "offset=9223372036854775808", "offset=x", "offset="};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        list_refused(bad[i], "offset");
}

static void test_after_id(void **state)
{
    (void)state;
    assert_int_equal(list_ok("after_id=10").q.after_id, 10);
    seen_t s = list_ok("after_id=10&sort=-id");
    assert_int_equal(s.q.after_id, 10);
    assert_int_equal(s.q.sort, STORE_SORT_ID_DESC);
    assert_int_equal(list_ok("sort=id&after_id=9223372036854775807").q.after_id, INT64_MAX);
    const char *bad[] = {"after_id=0", "after_id=-5", "after_id=", "after_id=1x",
                         "after_id=9223372036854775808"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        list_refused(bad[i], "after_id");
}

static void test_after_id_with_updated_sort(void **state)
{
    (void)state;
    list_refused("after_id=3&sort=updated_at", "after_id");
    list_refused("sort=-updated_at&after_id=3", "after_id");
}

static void test_sort(void **state)
{
    (void)state;
    assert_int_equal(list_ok("sort=id").q.sort, STORE_SORT_ID);
    assert_int_equal(list_ok("sort=-id").q.sort, STORE_SORT_ID_DESC);
    assert_int_equal(list_ok("sort=updated_at").q.sort, STORE_SORT_UPDATED);
    assert_int_equal(list_ok("sort=-updated_at").q.sort, STORE_SORT_UPDATED_DESC);
    assert_int_equal(list_ok("sort=%2Did").q.sort, STORE_SORT_ID_DESC);
    const char *bad[] = {"sort=",    "sort",       "sort=ID",        "sort=title",
                         "sort=+id", "sort=id%20", "sort=created_at"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        list_refused(bad[i], "sort");
}

static void test_author(void **state)
{
    (void)state;
    seen_t s = list_ok("author=Ada");
    assert_non_null(s.q.author);
    assert_string_equal(s.author, "Ada");
    s = list_ok("author=Ada%20Lovelace%2C%20%C3%A9%26%3D");
    assert_string_equal(s.author, "Ada Lovelace, \xC3\xA9&=");
    char query[1200] = "author=";
    for (int i = 0; i < 100; i++)
        strcat(query, "%E6%97%A5"); /* 100 characters, 300 bytes */
    s = list_ok(query);
    assert_int_equal(strlen(s.author), 300);
    strcat(query, "x");
    list_refused(query, "author");
}

static void test_q(void **state)
{
    (void)state;
    seen_t s = list_ok("q=hello");
    assert_non_null(s.q.q);
    assert_string_equal(s.text, "hello");
    s = list_ok("q=50%25%20off_%C3%A9");
    assert_string_equal(s.text, "50% off_\xC3\xA9");
    char query[400] = "q=";
    for (int i = 0; i < 200; i++)
        strcat(query, "a");
    assert_int_equal(strlen(list_ok(query).text), 200);
    strcat(query, "a");
    list_refused(query, "q");
}

static void test_empty_q_means_no_filter(void **state)
{
    (void)state;
    assert_null(list_ok("q=").q.q);
    assert_null(list_ok("q").q.q);
    assert_null(list_ok("limit=3&q=&sort=-id").q.q);
}

static void test_invalid_utf8_refused(void **state)
{
    (void)state;
    list_refused("q=%C3%28", "q");
    list_refused("q=%FF", "q");
    list_refused("q=%ED%A0%80", "q");
    list_refused("author=%C0%AF", "author");
    list_refused("author=ab%C3", "author");
}

/* A NUL in a value must not silently cut it short (author=a%00b would
 * otherwise filter on author "a"). */
static void test_nul_in_value_refused(void **state)
{
    (void)state;
    list_refused("author=a%00b", "author");
    list_refused("q=a%00b", "q");
    list_refused("limit=5%001", "limit");
}

static void test_unknown_parameter(void **state)
{
    (void)state;
    list_refused("foo=1", "foo");
    list_refused("limit=5&page=2", "page");
    list_refused("Limit=5", "Limit");
    list_refused("tag", "tag");
    list_refused("%FF=1", "?");
}

static void test_repeated_parameter(void **state)
{
    (void)state;
    list_refused("limit=1&limit=2", "limit");
    list_refused("limit=1&limit=1", "limit");
    list_refused("q=a&sort=id&q=b", "q");
    list_refused("author=&author=", "author");
    list_refused("offset=0&offset=0", "offset");
    list_refused("sort=id&sort=id", "sort");
    list_refused("after_id=1&after_id=1", "after_id");
}

static void test_everything_at_once(void **state)
{
    (void)state;
    seen_t s = list_ok("sort=-id&q=news&author=Bob&after_id=77&offset=3&limit=9");
    assert_int_equal(s.q.limit, 9);
    assert_int_equal(s.q.offset, 3);
    assert_int_equal(s.q.after_id, 77);
    assert_string_equal(s.author, "Bob");
    assert_string_equal(s.text, "news");
    assert_int_equal(s.q.sort, STORE_SORT_ID_DESC);
}

#define T(f) cmocka_unit_test_setup(f, reset)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_id_valid),
        T(test_id_invalid),
        T(test_defaults),
        T(test_default_limit_capped_by_max),
        T(test_limit),
        T(test_offset),
        T(test_after_id),
        T(test_after_id_with_updated_sort),
        T(test_sort),
        T(test_author),
        T(test_q),
        T(test_empty_q_means_no_filter),
        T(test_invalid_utf8_refused),
        T(test_nul_in_value_refused),
        T(test_unknown_parameter),
        T(test_repeated_parameter),
        T(test_everything_at_once),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
