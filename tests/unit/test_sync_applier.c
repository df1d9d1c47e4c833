/* test_sync_applier.c - the sync daemon's bulk applier (sync/applier.h)
 * against a real REST core: its own modules (routes, validation, an
 * in-memory SQLite store) serve HTTP on a loopback port inside the test.
 * The client's observer counts the requests, so the tests see how items
 * are cut into POST /articles/bulk requests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inproc_rest.h"
#include "applier.h"
#include "http_client.h"
#include "log.h"

typedef struct world {
    inproc_rest_t rest;
    http_client_t *client;
    atomic_int posts;
} world_t;

static void count_posts(void *ud, const char *method, int status, double seconds, int err)
{
    (void)status, (void)seconds, (void)err;
    world_t *w = ud;
    if (strcmp(method, "POST") == 0)
        atomic_fetch_add(&w->posts, 1);
}

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    char err[256];
    log_init("test_sync_applier", "text", "error");
    inproc_rest_start(&w->rest);
    http_client_config_t cc = {.base_url = w->rest.base_url, .connect_timeout_ms = 500,
                               .timeout_ms = 2000, .max_attempts = 1, .observer = count_posts, .observer_data = w};
    assert_int_equal(http_client_new(&cc, &w->client, err, sizeof err), 0);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    http_client_free(w->client);
    inproc_rest_free(&w->rest);
    free(w);
    return 0;
}

/* Upserts of (id, title) pairs, each joined to the one before when
 * joined[i]; applied max per request. Returns the requests it took. */
static int apply(world_t *w, const int *ids, const char *const *titles, const bool *joined,
                 size_t n, size_t max)
{
    char json[16][160];
    applier_item_t items[16] = {0};
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++) {
        snprintf(json[i], sizeof json[i],
                 "{\"op\":\"upsert\",\"article\":{\"id\":%d,\"title\":\"%s\",\"content\":\"c\","
                 "\"author\":null}}",
                 ids[i], titles[i]);
        items[i] = (applier_item_t){.json = json[i], .len = strlen(json[i]), .joined = joined[i]};
    }
    applier_config_t cfg = {.client = w->client, .max_batch = max};
    char err[256];
    atomic_store(&w->posts, 0);
    assert_int_equal(applier_apply(&cfg, items, n, err, sizeof err), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(items[i].outcome, APPLIER_APPLIED);
    return atomic_load(&w->posts);
}

static void assert_title(world_t *w, int id, const char *title)
{
    char path[64];
    snprintf(path, sizeof path, "/articles/%d", id);
    http_call_t call = {.method = "GET", .path = path};
    assert_int_equal(http_client_run(w->client, &call, 1), 0);
    assert_int_equal(call.status, 200);
    char want[96];
    snprintf(want, sizeof want, "\"title\":\"%s\"", title);
    assert_non_null(strstr(call.response.data, want));
    http_call_free(&call);
}

/* Without runs, requests are filled to max: 5 items, 3 per request. */
static void test_fills_requests(void **state)
{
    world_t *w = *state;
    const int ids[] = {1, 2, 3, 4, 5};
    const char *const titles[] = {"a", "b", "c", "d", "e"};
    const bool joined[5] = {false};
    assert_int_equal(apply(w, ids, titles, joined, 5, 3), 2);
    assert_title(w, 5, "e");
}

/* An article's run is not split where the request fills up: it starts the
 * next request instead, in order. */
static void test_keeps_a_run_in_one_request(void **state)
{
    world_t *w = *state;
    const int ids[] = {1, 2, 2, 2, 3};
    const char *const titles[] = {"a", "b1", "b2", "b3", "c"};
    const bool joined[] = {false, false, true, true, false};
    assert_int_equal(apply(w, ids, titles, joined, 5, 3), 3);
    assert_title(w, 2, "b3");
    assert_title(w, 3, "c");
}

/* A run longer than a request is split, still in order. */
static void test_splits_a_run_longer_than_a_request(void **state)
{
    world_t *w = *state;
    const int ids[] = {7, 7, 7, 7};
    const char *const titles[] = {"v1", "v2", "v3", "v4"};
    const bool joined[] = {false, true, true, true};
    assert_int_equal(apply(w, ids, titles, joined, 4, 3), 2);
    assert_title(w, 7, "v4");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fills_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keeps_a_run_in_one_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_splits_a_run_longer_than_a_request, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
