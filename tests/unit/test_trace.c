/* test_trace.c - unit tests of the W3C traceparent helpers in lib/trace.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "trace.h"

static void test_new_parents_are_valid_and_distinct(void **state)
{
    (void)state;
    char a[TRACE_PARENT_SIZE], b[TRACE_PARENT_SIZE];
    memset(a, 'x', sizeof a);
    trace_parent_new(a);
    trace_parent_new(b);
    assert_int_equal(strlen(a), TRACE_PARENT_SIZE - 1);
    assert_true(trace_parent_valid(a));
    assert_true(trace_parent_valid(b));
    assert_memory_equal(a, "00-", 3);
    assert_string_equal(a + 52, "-01"); /* sampled */
    assert_memory_not_equal(a + 3, b + 3, 32); /* new trace ids */
    assert_memory_not_equal(a + 36, b + 36, 16);
}

static void test_validity(void **state)
{
    (void)state;
    const char *ok = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    assert_true(trace_parent_valid(ok));
    assert_false(trace_parent_valid(NULL));
    assert_false(trace_parent_valid("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"));
    assert_false(trace_parent_valid("00-00000000000000000000000000000000-b7ad6b7169203331-01"));
    assert_false(trace_parent_valid("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"));
    assert_false(trace_parent_valid("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x"));
    char id[TRACE_ID_SIZE];
    assert_true(trace_id_of(ok, id));
    assert_string_equal(id, "0af7651916cd43dd8448eb211c80319c");
    assert_false(trace_id_of("nope", id));
    assert_string_equal(id, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_parents_are_valid_and_distinct),
        cmocka_unit_test(test_validity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
