/* test_breaker.c - unit tests of the circuit breaker in lib/breaker.c, on a
 * fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h> /* needs the four headers above included first */

#include <pthread.h>
#include <stdbool.h>

#include "breaker.h"

static double fake_clock(void *clock_data)
{
    return *(double *)clock_data;
}

/* A breaker on the clock *now: opens after 3 failures, for 10 seconds. */
static void init_fake(breaker_t *b, double *now)
{
    breaker_config_t cfg = {
        .failure_threshold = 3, .open_seconds = 10, .now = fake_clock, .clock_data = now};
    assert_int_equal(breaker_init(b, &cfg), 0);
}

static void fail_times(breaker_t *b, int n)
{
    for (int i = 0; i < n; i++) {
        assert_int_equal(breaker_allow(b), 0);
        breaker_record(b, false);
    }
}

static void test_defaults_and_bad_config(void **state)
{
    (void)state;
    breaker_t b;
    assert_int_equal(breaker_init(&b, NULL), 0);
    assert_int_equal(b.cfg.failure_threshold, BREAKER_DEFAULT_THRESHOLD);
    assert_true(b.cfg.open_seconds == BREAKER_DEFAULT_OPEN_SECONDS);
    assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
    fail_times(&b, BREAKER_DEFAULT_THRESHOLD - 1);
    assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
    fail_times(&b, 1);
    assert_int_equal(breaker_state(&b), BREAKER_OPEN);
    assert_int_equal(breaker_allow(&b), BREAKER_EOPEN);
    breaker_destroy(&b);

    breaker_config_t bad = {.failure_threshold = -1};
    assert_int_equal(breaker_init(&b, &bad), BREAKER_EINVAL);
    assert_int_equal(breaker_init(&b, &(breaker_config_t){.open_seconds = -0.5}), BREAKER_EINVAL);
    assert_string_equal(breaker_state_name(BREAKER_HALF_OPEN), "half_open");
}

static void test_success_resets_the_count(void **state)
{
    (void)state;
    double now = 100;
    breaker_t b;
    init_fake(&b, &now);
    fail_times(&b, 2);
    assert_int_equal(breaker_allow(&b), 0);
    breaker_record(&b, true);
    /* Only consecutive failures count. */
    fail_times(&b, 2);
    assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
    fail_times(&b, 1);
    assert_int_equal(breaker_state(&b), BREAKER_OPEN);
    breaker_destroy(&b);
}

static void test_open_refuses_until_the_period_ends(void **state)
{
    (void)state;
    double now = 100;
    breaker_t b;
    init_fake(&b, &now);
    fail_times(&b, 3);
    assert_int_equal(breaker_state(&b), BREAKER_OPEN);
    for (int i = 0; i < 5; i++)
        assert_int_equal(breaker_allow(&b), BREAKER_EOPEN);
    now = 109.999;
    assert_int_equal(breaker_allow(&b), BREAKER_EOPEN);
    assert_int_equal(breaker_state(&b), BREAKER_OPEN);
    now = 110;
    assert_int_equal(breaker_allow(&b), 0);
    assert_int_equal(breaker_state(&b), BREAKER_HALF_OPEN);
    breaker_record(&b, true);
    breaker_destroy(&b);
}

static void test_half_open_lets_exactly_one_probe(void **state)
{
    (void)state;
    double now = 0;
    breaker_t b;
    init_fake(&b, &now);
    fail_times(&b, 3);
    now = 50;
    assert_int_equal(breaker_allow(&b), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(breaker_allow(&b), BREAKER_EOPEN);
    assert_int_equal(breaker_state(&b), BREAKER_HALF_OPEN);
    breaker_record(&b, true);
    breaker_destroy(&b);
}

static void test_probe_success_closes(void **state)
{
    (void)state;
    double now = 0;
    breaker_t b;
    init_fake(&b, &now);
    fail_times(&b, 3);
    now = 10;
    assert_int_equal(breaker_allow(&b), 0);
    breaker_record(&b, true);
    assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
    assert_int_equal(breaker_allow(&b), 0);
    breaker_record(&b, true);
    /* Closed again from scratch: the full threshold is needed to reopen. */
    fail_times(&b, 2);
    assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
    fail_times(&b, 1);
    assert_int_equal(breaker_state(&b), BREAKER_OPEN);
    breaker_destroy(&b);
}

static void test_probe_failure_reopens_for_another_period(void **state)
{
    (void)state;
    double now = 0;
    breaker_t b;
    init_fake(&b, &now);
    fail_times(&b, 3);
    now = 15;
    assert_int_equal(breaker_allow(&b), 0);
    breaker_record(&b, false);
    assert_int_equal(breaker_state(&b), BREAKER_OPEN);
    /* The new period counts from the probe's failure, not the first opening. */
    now = 24.9;
    assert_int_equal(breaker_allow(&b), BREAKER_EOPEN);
    now = 25;
    assert_int_equal(breaker_allow(&b), 0);
    assert_int_equal(breaker_state(&b), BREAKER_HALF_OPEN);
    breaker_record(&b, true);
    assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
    breaker_destroy(&b);
}

static void test_late_results_while_open_are_ignored(void **state)
{
    (void)state;
    double now = 0;
    breaker_t b;
    init_fake(&b, &now);
    /* Five calls let through while closed; three fail and open it, then
     * the two others come back. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(breaker_allow(&b), 0);
    for (int i = 0; i < 3; i++)
        breaker_record(&b, false);
    breaker_record(&b, true);
    breaker_record(&b, false);
    assert_int_equal(breaker_state(&b), BREAKER_OPEN);
    now = 9;
    assert_int_equal(breaker_allow(&b), BREAKER_EOPEN);
    breaker_destroy(&b);
}

#define THREADS 8
#define ROUNDS 2000

typedef struct worker {
    breaker_t *b;
    bool success;
} worker_t;

/* cmocka's asserts longjmp and so must not run off the main thread: the
 * number of refusals goes back through the return value. */
static void *worker_run(void *arg)
{
    worker_t *w = arg;
    intptr_t refused = 0;
    for (int i = 0; i < ROUNDS; i++) {
        if (breaker_allow(w->b) < 0)
            refused++;
        else
            breaker_record(w->b, w->success);
    }
    return (void *)refused;
}

static intptr_t run_threads(breaker_t *b, bool success)
{
    pthread_t tid[THREADS];
    worker_t w = {b, success};
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&tid[i], NULL, worker_run, &w), 0);
    intptr_t refused = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(tid[i], &r);
        refused += (intptr_t)r;
    }
    return refused;
}

static void test_concurrent_records_are_not_lost(void **state)
{
    (void)state;
    double now = 0;
    breaker_t b;
    /* One failure short of the threshold: a lost update would leave it
     * closed one step earlier, an extra one would open it. */
    breaker_config_t cfg = {.failure_threshold = THREADS * ROUNDS + 1, .open_seconds = 1,
                            .now = fake_clock, .clock_data = &now};
    assert_int_equal(breaker_init(&b, &cfg), 0);
    assert_int_equal(run_threads(&b, false), 0);
    assert_int_equal(b.failures, THREADS * ROUNDS);
    assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
    fail_times(&b, 1);
    assert_int_equal(breaker_state(&b), BREAKER_OPEN);
    breaker_destroy(&b);

    /* Exactly at the threshold it opens with the last failure, so no call
     * was refused on the way. */
    cfg.failure_threshold = THREADS * ROUNDS;
    assert_int_equal(breaker_init(&b, &cfg), 0);
    assert_int_equal(run_threads(&b, false), 0);
    assert_int_equal(breaker_state(&b), BREAKER_OPEN);
    /* Open on a stopped clock: every call of every thread is refused. */
    assert_int_equal(run_threads(&b, true), THREADS * ROUNDS);
    /* After the period, one probe among all the threads closes it and the
     * rest pass. */
    now = 1;
    intptr_t refused = run_threads(&b, true);
    assert_true(refused < THREADS * ROUNDS);
    assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
    breaker_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_bad_config),
        cmocka_unit_test(test_success_resets_the_count),
        cmocka_unit_test(test_open_refuses_until_the_period_ends),
        cmocka_unit_test(test_half_open_lets_exactly_one_probe),
        cmocka_unit_test(test_probe_success_closes),
        cmocka_unit_test(test_probe_failure_reopens_for_another_period),
        cmocka_unit_test(test_late_results_while_open_are_ignored),
        cmocka_unit_test(test_concurrent_records_are_not_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
