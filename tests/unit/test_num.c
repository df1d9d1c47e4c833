/* test_num.c - unit tests of the strict int64 parser in lib/num.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "num.h"

#define SENTINEL INT64_C(-424242)

/* Parses a C string; *out keeps SENTINEL when parsing fails. */
static int parse(const char *s, int64_t min, int64_t max, int64_t *out)
{
    *out = SENTINEL;
    return num_parse_i64(s, strlen(s), min, max, out);
}

static void assert_ok(const char *s, int64_t min, int64_t max, int64_t want)
{
    int64_t v;
    if (parse(s, min, max, &v) != 0)
        fail_msg("'%s' in [%lld, %lld] was refused", s, (long long)min, (long long)max);
    assert_int_equal(v, want);
}

static void assert_refused(const char *s, int64_t min, int64_t max)
{
    int64_t v;
    if (parse(s, min, max, &v) != -1)
        fail_msg("'%s' in [%lld, %lld] was accepted", s, (long long)min, (long long)max);
    assert_int_equal(v, SENTINEL); /* *out untouched on failure */
}

static void test_plain_values(void **state)
{
    (void)state;
    assert_ok("0", 0, 10, 0);
    assert_ok("7", 0, 10, 7);
    assert_ok("10", 0, 10, 10);
    assert_ok("123456789", 0, INT64_MAX, 123456789);
    assert_ok("007", 0, 10, 7);
}

static void test_empty_refused(void **state)
{
    (void)state;
    int64_t v = SENTINEL;
    assert_int_equal(num_parse_i64("", 0, INT64_MIN, INT64_MAX, &v), -1);
    assert_int_equal(num_parse_i64("123", 0, INT64_MIN, INT64_MAX, &v), -1);
    assert_int_equal(v, SENTINEL);
    assert_refused("-", INT64_MIN, INT64_MAX);
}

static void test_length_bounds_the_input(void **state)
{
    (void)state;
    int64_t v = SENTINEL;
    /* Only the first len bytes count: "12" of "12x". */
    assert_int_equal(num_parse_i64("12x", 2, 0, 100, &v), 0);
    assert_int_equal(v, 12);
    assert_int_equal(num_parse_i64("12x", 3, 0, 100, &v), -1);
}

static void test_sign_only_when_min_negative(void **state)
{
    (void)state;
    assert_refused("-1", 0, 10);
    assert_refused("-0", 0, 10);
    assert_refused("-5", 1, 10);
    assert_ok("-5", -10, 10, -5);
    assert_ok("-0", -10, 10, 0);
    assert_refused("+1", 0, 10);
    assert_refused("+1", -10, 10);
    assert_refused("--1", -10, 10);
    assert_refused("-+1", -10, 10);
}

static void test_spaces_and_junk_refused(void **state)
{
    (void)state;
    const char *bad[] = {" 1",   "1 ",  "\t1", "1\n",   "1a",    "a1",
                         "0x10", "1.0", "1e3", "1_000", "1,000", "- 1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_refused(bad[i], -100000, 100000);
}

static void test_embedded_nul_refused(void **state)
{
    (void)state;
    int64_t v = SENTINEL;
    assert_int_equal(num_parse_i64("1\0002", 3, 0, 1000, &v), -1);
    assert_int_equal(v, SENTINEL);
}

static void test_bounds(void **state)
{
    (void)state;
    assert_ok("1", 1, 1000, 1);
    assert_ok("1000", 1, 1000, 1000);
    assert_refused("0", 1, 1000);
    assert_refused("1001", 1, 1000);
    assert_ok("-10", -10, -1, -10);
    assert_refused("-11", -10, -1);
    assert_refused("0", -10, -1);
}

static void test_int64_max_edge(void **state)
{
    (void)state;
    assert_ok("9223372036854775807", 0, INT64_MAX, INT64_MAX);
    assert_refused("9223372036854775808", 0, INT64_MAX);
    assert_refused("9223372036854775809", 0, INT64_MAX);
    assert_refused("9999999999999999999", 0, INT64_MAX);
    assert_refused("9223372036854775807", 0, INT64_MAX - 1);
}

static void test_int64_min_edge(void **state)
{
    (void)state;
    assert_ok("-9223372036854775808", INT64_MIN, INT64_MAX, INT64_MIN);
    assert_ok("-9223372036854775807", INT64_MIN, 0, INT64_MIN + 1);
    assert_refused("-9223372036854775809", INT64_MIN, INT64_MAX);
    assert_refused("-9999999999999999999", INT64_MIN, INT64_MAX);
    assert_refused("-9223372036854775808", INT64_MIN + 1, INT64_MAX);
}

static void test_long_inputs(void **state)
{
    (void)state;
    /* 19 digits that fit, 20 digits that do not (even when the value would). */
    assert_ok("1000000000000000000", 0, INT64_MAX, INT64_C(1000000000000000000));
    assert_refused("10000000000000000000", 0, INT64_MAX);
    assert_refused("18446744073709551616", 0, INT64_MAX); /* 2^64: no wrap-around */
    assert_refused("18446744073709551617", 0, INT64_MAX); /* 2^64+1 would wrap to 1 */
    assert_refused("99999999999999999999", INT64_MIN, INT64_MAX);
    assert_refused("-10000000000000000000", INT64_MIN, INT64_MAX);
    assert_refused("123456789012345678901234567890", INT64_MIN, INT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_values),
        cmocka_unit_test(test_empty_refused),
        cmocka_unit_test(test_length_bounds_the_input),
        cmocka_unit_test(test_sign_only_when_min_negative),
        cmocka_unit_test(test_spaces_and_junk_refused),
        cmocka_unit_test(test_embedded_nul_refused),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_int64_max_edge),
        cmocka_unit_test(test_int64_min_edge),
        cmocka_unit_test(test_long_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
