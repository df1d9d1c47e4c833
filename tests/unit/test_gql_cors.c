/* test_gql_cors.c - the --cors-origins list: parsing, refusals, matching. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h> /* needs the four headers above included first */

#include <stdio.h>
#include <string.h>

#include "cors.h"

static void parses_and_matches(void **state)
{
    (void)state;
    cors_t c;
    char err[200];
    assert_int_equal(cors_parse(" https://app.example.com , http://localhost:3000", &c, err,
                                sizeof err),
                     0);
    assert_int_equal(c.n, 2);
    assert_false(c.any);
    assert_true(cors_allowed(&c, "https://app.example.com"));
    assert_true(cors_allowed(&c, "http://localhost:3000"));
    assert_false(cors_allowed(&c, "http://localhost:3001"));
    assert_false(cors_allowed(&c, "https://app.example.com.evil.org"));
    assert_false(cors_allowed(&c, "HTTPS://APP.EXAMPLE.COM"));
    assert_false(cors_allowed(&c, NULL));
    assert_false(cors_allowed(&c, ""));
}

static void empty_and_any(void **state)
{
    (void)state;
    cors_t c;
    char err[200];
    assert_int_equal(cors_parse("", &c, err, sizeof err), 0);
    assert_false(cors_allowed(&c, "https://a.example"));
    assert_int_equal(cors_parse(NULL, &c, err, sizeof err), 0);
    assert_int_equal(cors_parse("*", &c, err, sizeof err), 0);
    assert_true(cors_allowed(&c, "https://anything.example"));
    assert_false(cors_allowed(&c, NULL));
}

static void refusals(void **state)
{
    (void)state;
    cors_t c;
    char err[200];
    const char *bad[] = {"example.com", "https://", "https://a.example/path", "https://a.example,",
                         "https://u@a.example", "HTTPS://a.example", "https://a b",
                         "://a.example"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal(cors_parse(bad[i], &c, err, sizeof err), -1);
        assert_non_null(strstr(err, "--cors-origins"));
    }
    char many[CORS_MAX_ORIGINS * 24 + 64] = "";
    for (int i = 0; i <= CORS_MAX_ORIGINS; i++) {
        char one[32];
        snprintf(one, sizeof one, "%shttp://h%d.example", i ? "," : "", i);
        strcat(many, one);
    }
    assert_int_equal(cors_parse(many, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than"));
    char longo[CORS_MAX_ORIGIN_BYTES + 20] = "https://";
    memset(longo + 8, 'a', CORS_MAX_ORIGIN_BYTES);
    longo[8 + CORS_MAX_ORIGIN_BYTES] = '\0';
    assert_int_equal(cors_parse(longo, &c, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_and_matches),
        cmocka_unit_test(empty_and_any),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests_name("cors", tests, NULL, NULL);
}
