/* test_store.c - cmocka tests of the storage layer (store.h): one set of test
 * functions run against SQLite (a temporary file and sqlite::memory:) and,
 * when TEST_PG_URL is set, against that PostgreSQL database too, so both
 * back ends are held to the same answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

/* The database the running group tests; set before each group. */
static const char *current_url;
static bool current_is_memory;

/* ---- helpers ------------------------------------------------------------ */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Deletes every article through the API (sqlite::memory: is reachable only
 * through this connection). */
static void clean(store_t *s)
{
    for (;;) {
        article_list_t l = {0};
        int64_t total = 0;
        store_query_t q = {.limit = 500};
        assert_int_equal(store_list(s, &q, &l, &total), STORE_OK);
        if (l.len == 0) {
            article_list_free(&l);
            break;
        }
        store_bulk_op_t *ops = calloc(l.len, sizeof *ops);
        assert_non_null(ops);
        for (size_t i = 0; i < l.len; i++)
            ops[i] = (store_bulk_op_t){.kind = STORE_BULK_DELETE, .id = l.items[i].id};
        assert_int_equal(store_bulk(s, ops, l.len), STORE_OK);
        free(ops);
        article_list_free(&l);
    }
    int64_t n = -1;
    assert_int_equal(store_count(s, &n), STORE_OK);
    assert_int_equal(n, 0);
}

static int setup(void **state)
{
    char err[256];
    store_t *s = NULL;
    int rc = store_open(current_url, &s, err, sizeof err);
    if (rc != STORE_OK) {
        fprintf(stderr, "store_open(%s): %s\n", current_url, err);
        return -1;
    }
    clean(s);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    store_close(*state);
    return 0;
}

static int64_t make(store_t *s, const char *title, const char *content, const char *author)
{
    article_t a = {.title = strdup(title), .content = strdup(content), .author = dup_or_null(author)};
    assert_int_equal(store_create(s, &a), STORE_OK);
    assert_true(a.id > 0);
    int64_t id = a.id;
    article_free(&a);
    return id;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
static void assert_time_format(const char *t)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    assert_int_equal(strlen(t), strlen(shape));
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd')
            assert_true(t[i] >= '0' && t[i] <= '9');
        else
            assert_int_equal(t[i], shape[i]);
    }
}

/* Runs q and returns the ids found (at most cap) and their number. */
static size_t list_ids(store_t *s, const store_query_t *q, int64_t *ids, size_t cap, int64_t *total)
{
    article_list_t l = {0};
    int64_t t = -1;
    assert_int_equal(store_list(s, q, &l, &t), STORE_OK);
    assert_true(l.len <= cap);
    for (size_t i = 0; i < l.len; i++)
        ids[i] = l.items[i].id;
    size_t n = l.len;
    article_list_free(&l);
    if (total)
        *total = t;
    return n;
}

static void assert_ids(const int64_t *got, size_t n, const int64_t *want, size_t wn)
{
    assert_int_equal(n, wn);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(got[i], want[i]);
}

/* ---- tests -------------------------------------------------------------- */

static void test_create_get(void **state)
{
    store_t *s = *state;
    article_t a = {.title = strdup("Hello"), .content = strdup("World"), .author = strdup("ann")};
    assert_int_equal(store_create(s, &a), STORE_OK);
    assert_true(a.id > 0);
    assert_time_format(a.created_at);
    assert_string_equal(a.created_at, a.updated_at);

    article_t g = {0};
    assert_int_equal(store_get(s, a.id, &g), STORE_OK);
    assert_int_equal(g.id, a.id);
    assert_string_equal(g.title, "Hello");
    assert_string_equal(g.content, "World");
    assert_string_equal(g.author, "ann");
    assert_string_equal(g.created_at, a.created_at);
    assert_string_equal(g.updated_at, a.updated_at);
    article_free(&g);

    /* Empty content and a null author. */
    article_t b = {.title = strdup("t"), .content = strdup("")};
    assert_int_equal(store_create(s, &b), STORE_OK);
    assert_true(b.id > a.id);
    assert_int_equal(store_get(s, b.id, &g), STORE_OK);
    assert_string_equal(g.content, "");
    assert_null(g.author);
    article_free(&g);

    assert_int_equal(store_get(s, b.id + 1000, &g), STORE_ENOTFOUND);
    assert_int_equal(store_ping(s), STORE_OK);
    int64_t n = 0;
    assert_int_equal(store_count(s, &n), STORE_OK);
    assert_int_equal(n, 2);
    article_free(&a);
    article_free(&b);
}

static void test_unicode(void **state)
{
    store_t *s = *state;
    static const char *const texts[] = {
        "Grüße aus Köln – „Zitat“",
        "日本語のタイトル",
        "emoji 🎉🚀 and ZWJ 👩‍💻",
        "combining e\xcc\x81 vs \xc3\xa9, RTL \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d",
        "quotes ' \" ` and \\ backslash, tab\tnewline\n",
        "\xf4\x8f\xbf\xbf max code point",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        article_t a = {.title = strdup(texts[i]), .content = strdup(texts[i]), .author = strdup(texts[i])};
        assert_int_equal(store_create(s, &a), STORE_OK);
        article_t g = {0};
        assert_int_equal(store_get(s, a.id, &g), STORE_OK);
        assert_memory_equal(g.title, texts[i], strlen(texts[i]) + 1);
        assert_memory_equal(g.content, texts[i], strlen(texts[i]) + 1);
        assert_memory_equal(g.author, texts[i], strlen(texts[i]) + 1);
        article_free(&g);

        store_query_t q = {.limit = 10, .author = texts[i]};
        article_list_t l = {0};
        int64_t total;
        assert_int_equal(store_list(s, &q, &l, &total), STORE_OK);
        assert_int_equal(l.len, 1);
        assert_int_equal(total, 1);
        assert_memory_equal(l.items[0].content, texts[i], strlen(texts[i]) + 1);
        article_list_free(&l);
        article_free(&a);
    }
    /* A large content goes through unchanged too. */
    size_t big = 1 << 20;
    char *content = malloc(big + 1);
    assert_non_null(content);
    static const char unit[] = "aé€😀"; /* 10 bytes of 1- to 4-byte sequences */
    memset(content, 'x', big);
    for (size_t i = 0; i + sizeof unit - 1 <= big; i += sizeof unit - 1)
        memcpy(content + i, unit, sizeof unit - 1);
    content[big] = '\0';
    article_t a = {.title = strdup("big"), .content = content};
    assert_int_equal(store_create(s, &a), STORE_OK);
    article_t g = {0};
    assert_int_equal(store_get(s, a.id, &g), STORE_OK);
    assert_int_equal(strlen(g.content), big);
    assert_memory_equal(g.content, content, big);
    article_free(&g);
    article_free(&a);
}

static void test_list_filters(void **state)
{
    store_t *s = *state;
    int64_t a1 = make(s, "one", "c", "alice");
    int64_t b1 = make(s, "two", "c", "bob");
    int64_t n1 = make(s, "three", "c", NULL);
    int64_t a2 = make(s, "four", "c", "alice");
    int64_t A1 = make(s, "five", "c", "Alice");
    int64_t ids[16], total;
    size_t n;

    store_query_t q = {.limit = 100};
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){a1, b1, n1, a2, A1}, 5);
    assert_int_equal(total, 5);

    q.author = "alice"; /* exact, case-sensitive */
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){a1, a2}, 2);
    assert_int_equal(total, 2);

    q.author = "ali"; /* no prefix match */
    n = list_ids(s, &q, ids, 16, &total);
    assert_int_equal(n, 0);
    assert_int_equal(total, 0);

    q.author = "x' OR '1'='1";
    n = list_ids(s, &q, ids, 16, &total);
    assert_int_equal(n, 0);
    assert_int_equal(total, 0);

    /* limit and offset page, total ignores them. */
    q = (store_query_t){.limit = 2, .offset = 1};
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){b1, n1}, 2);
    assert_int_equal(total, 5);
    q.offset = 4;
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){A1}, 1);
    q.offset = 10;
    n = list_ids(s, &q, ids, 16, &total);
    assert_int_equal(n, 0);
    assert_int_equal(total, 5);

    /* author together with q. */
    q = (store_query_t){.limit = 10, .author = "alice", .q = "FOUR"};
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){a2}, 1);
    assert_int_equal(total, 1);

    /* total may be NULL. */
    article_list_t l = {0};
    q = (store_query_t){.limit = 10};
    assert_int_equal(store_list(s, &q, &l, NULL), STORE_OK);
    assert_int_equal(l.len, 5);
    article_list_free(&l);
}

static void test_list_q(void **state)
{
    store_t *s = *state;
    int64_t pct = make(s, "100% pure", "c", NULL);
    int64_t percent = make(s, "100 percent", "c", NULL);
    int64_t under = make(s, "snake_case", "c", NULL);
    int64_t nounder = make(s, "snakeXcase", "c", NULL);
    int64_t quote = make(s, "O'Reilly \"quoted\"", "c", NULL);
    int64_t inject = make(s, "Robert'); DROP TABLE articles;--", "c", NULL);
    int64_t mixed = make(s, "MiXeD CaSe Title", "c", NULL);
    int64_t bslash = make(s, "back\\slash", "c", NULL);
    int64_t ids[16], total;
    size_t n;
    store_query_t q = {.limit = 100};

    q.q = "%";
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){pct}, 1);
    assert_int_equal(total, 1);

    q.q = "_";
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){under}, 1);

    q.q = "e_c";
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){under}, 1);

    q.q = "100";
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){pct, percent}, 2);
    assert_int_equal(total, 2);

    q.q = "'";
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){quote, inject}, 2);

    q.q = "\"quoted\"";
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){quote}, 1);

    q.q = "drop table";
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){inject}, 1);

    q.q = "'); DROP TABLE articles;--";
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){inject}, 1);

    q.q = "mixed case";
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){mixed}, 1);

    q.q = "\\";
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){bslash}, 1);

    q.q = "k\\s";
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){bslash}, 1);

    q.q = "SNAKE";
    n = list_ids(s, &q, ids, 16, &total);
    assert_ids(ids, n, (int64_t[]){under, nounder}, 2);

    q.q = "nothing like this";
    n = list_ids(s, &q, ids, 16, &total);
    assert_int_equal(n, 0);
    assert_int_equal(total, 0);

    /* The empty q matches everything. */
    q.q = "";
    n = list_ids(s, &q, ids, 16, &total);
    assert_int_equal(n, 8);
    assert_int_equal(total, 8);

    /* The table survived. */
    int64_t count;
    assert_int_equal(store_count(s, &count), STORE_OK);
    assert_int_equal(count, 8);
}

static void test_list_sort(void **state)
{
    store_t *s = *state;
    int64_t a = make(s, "a", "c", NULL);
    int64_t b = make(s, "b", "c", NULL);
    int64_t c = make(s, "c", "c", NULL);
    int64_t ids[8];
    size_t n;
    store_query_t q = {.limit = 10, .sort = STORE_SORT_ID_DESC};
    n = list_ids(s, &q, ids, 8, NULL);
    assert_ids(ids, n, (int64_t[]){c, b, a}, 3);

    /* Make the updated_at order b, c, a, distinct from the id order. */
    sleep_ms(3);
    article_patch_t p = {.fields = ARTICLE_F_CONTENT, .content = "x"};
    article_t out = {0};
    assert_int_equal(store_patch(s, b, &p, &out), STORE_OK);
    article_free(&out);
    sleep_ms(3);
    assert_int_equal(store_patch(s, c, &p, &out), STORE_OK);
    article_free(&out);
    sleep_ms(3);
    assert_int_equal(store_patch(s, a, &p, &out), STORE_OK);
    article_free(&out);

    q.sort = STORE_SORT_UPDATED;
    n = list_ids(s, &q, ids, 8, NULL);
    assert_ids(ids, n, (int64_t[]){b, c, a}, 3);
    q.sort = STORE_SORT_UPDATED_DESC;
    n = list_ids(s, &q, ids, 8, NULL);
    assert_ids(ids, n, (int64_t[]){a, c, b}, 3);

    /* Equal updated_at: ties go by id in the sort's direction. */
    clean(s);
    store_bulk_op_t ops[4];
    int64_t base = make(s, "base", "c", NULL) + 10;
    for (int i = 0; i < 4; i++) {
        ops[i] = (store_bulk_op_t){.kind = STORE_BULK_UPSERT, .id = base + i};
        ops[i].article = (article_t){.id = base + i, .title = strdup("t"), .content = strdup("c")};
    }
    assert_int_equal(store_bulk(s, ops, 4), STORE_OK); /* one timestamp for all */
    store_bulk_op_t del = {.kind = STORE_BULK_DELETE, .id = base - 10};
    assert_int_equal(store_bulk(s, &del, 1), STORE_OK);
    q.sort = STORE_SORT_UPDATED;
    n = list_ids(s, &q, ids, 8, NULL);
    assert_ids(ids, n, (int64_t[]){base, base + 1, base + 2, base + 3}, 4);
    q.sort = STORE_SORT_UPDATED_DESC;
    n = list_ids(s, &q, ids, 8, NULL);
    assert_ids(ids, n, (int64_t[]){base + 3, base + 2, base + 1, base}, 4);
    for (int i = 0; i < 4; i++)
        article_free(&ops[i].article);
}

static void test_keyset(void **state)
{
    store_t *s = *state;
    int64_t all[10];
    for (int i = 0; i < 10; i++)
        all[i] = make(s, "t", "c", i % 2 ? "odd" : "even");

    /* Ascending pages of 3 through after_id. */
    int64_t ids[4], seen[10], total, after = 0;
    size_t nseen = 0, n;
    do {
        store_query_t q = {.limit = 3, .after_id = after};
        n = list_ids(s, &q, ids, 4, &total);
        assert_int_equal(total, 10);
        for (size_t i = 0; i < n; i++)
            seen[nseen++] = ids[i];
        if (n)
            after = ids[n - 1];
    } while (n == 3);
    assert_ids(seen, nseen, all, 10);

    /* Descending: after_id means id < after_id. */
    nseen = 0;
    after = 0;
    do {
        store_query_t q = {.limit = 4, .after_id = after, .sort = STORE_SORT_ID_DESC};
        n = list_ids(s, &q, ids, 4, &total);
        assert_int_equal(total, 10);
        for (size_t i = 0; i < n; i++)
            seen[nseen++] = ids[i];
        if (n)
            after = ids[n - 1];
    } while (n == 4);
    assert_int_equal(nseen, 10);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(seen[i], all[9 - i]);

    /* With a filter. */
    store_query_t q = {.limit = 2, .after_id = all[2], .author = "odd"};
    n = list_ids(s, &q, ids, 4, &total);
    assert_ids(ids, n, (int64_t[]){all[3], all[5]}, 2);
    assert_int_equal(total, 5);

    /* With an updated_at sort after_id still means id > after_id. */
    q = (store_query_t){.limit = 10, .after_id = all[7], .sort = STORE_SORT_UPDATED};
    n = list_ids(s, &q, ids, 4, &total);
    assert_int_equal(n, 2);
    assert_true(ids[0] > all[7] && ids[1] > all[7]);
    assert_int_equal(total, 10);
}

static void test_put(void **state)
{
    store_t *s = *state;
    int64_t id = make(s, "seed", "c", NULL) + 100;
    bool created = false;

    article_t a = {.id = id, .title = strdup("put"), .content = strdup("v1"), .author = strdup("p")};
    assert_int_equal(store_put(s, &a, &created), STORE_OK);
    assert_true(created);
    assert_int_equal(a.id, id);
    assert_time_format(a.created_at);
    assert_string_equal(a.created_at, a.updated_at);
    char created_at[ARTICLE_TIME_LEN];
    strcpy(created_at, a.created_at);
    article_free(&a);

    sleep_ms(3);
    a = (article_t){.id = id, .title = strdup("put2"), .content = strdup("v2")};
    assert_int_equal(store_put(s, &a, &created), STORE_OK);
    assert_false(created);
    assert_string_equal(a.created_at, created_at);
    assert_true(strcmp(a.updated_at, created_at) > 0);

    article_t g = {0};
    assert_int_equal(store_get(s, id, &g), STORE_OK);
    assert_string_equal(g.title, "put2");
    assert_string_equal(g.content, "v2");
    assert_null(g.author); /* a PUT replaces the whole article */
    assert_string_equal(g.created_at, created_at);
    assert_string_equal(g.updated_at, a.updated_at);
    article_free(&g);
    article_free(&a);

    /* A PUT of a NULL title is refused by the database and changes nothing. */
    a = (article_t){.id = id, .content = strdup("v3")};
    assert_int_not_equal(store_put(s, &a, &created), STORE_OK);
    assert_true(store_errmsg(s)[0] != '\0');
    article_free(&a);
    assert_int_equal(store_get(s, id, &g), STORE_OK);
    assert_string_equal(g.content, "v2");
    article_free(&g);
}

static void reopen(store_t **s)
{
    char err[256];
    store_close(*s);
    assert_int_equal(store_open(current_url, s, err, sizeof err), STORE_OK);
}

static void test_ids_not_reused(void **state)
{
    store_t *s = *state;
    int64_t a = make(s, "a", "c", NULL);
    assert_int_equal(store_delete(s, a), STORE_OK);
    int64_t b = make(s, "b", "c", NULL);
    assert_true(b > a);

    /* After an explicit id above the sequence, creates continue past it. */
    bool created;
    article_t p = {.id = b + 1000, .title = strdup("p"), .content = strdup("c")};
    assert_int_equal(store_put(s, &p, &created), STORE_OK);
    assert_true(created);
    article_free(&p);
    int64_t c = make(s, "c", "c", NULL);
    assert_true(c > b + 1000);

    /* ... also when the explicit id was deleted again. */
    p = (article_t){.id = c + 50, .title = strdup("p"), .content = strdup("c")};
    assert_int_equal(store_put(s, &p, &created), STORE_OK);
    article_free(&p);
    assert_int_equal(store_delete(s, c + 50), STORE_OK);
    int64_t d = make(s, "d", "c", NULL);
    assert_true(d > c + 50);

    /* ... and after a bulk upsert. */
    store_bulk_op_t op = {.kind = STORE_BULK_UPSERT, .id = d + 500};
    op.article = (article_t){.id = d + 500, .title = strdup("b"), .content = strdup("c")};
    assert_int_equal(store_bulk(s, &op, 1), STORE_OK);
    assert_int_equal(op.status, 201);
    article_free(&op.article);
    assert_int_equal(store_delete(s, d + 500), STORE_OK);
    int64_t e = make(s, "e", "c", NULL);
    assert_true(e > d + 500);

    /* ... and across connections (the counter lives in the database). */
    if (!current_is_memory) {
        assert_int_equal(store_delete(s, e), STORE_OK);
        reopen(&s);
        *state = s;
        int64_t f = make(s, "f", "c", NULL);
        assert_true(f > e);
    }

    /* Recreating a deleted id with an explicit PUT is allowed. */
    p = (article_t){.id = a, .title = strdup("again"), .content = strdup("c")};
    assert_int_equal(store_put(s, &p, &created), STORE_OK);
    assert_true(created);
    article_free(&p);
}

static void test_patch(void **state)
{
    store_t *s = *state;
    int64_t id = make(s, "title", "content", "author");
    article_t before = {0}, out = {0};
    assert_int_equal(store_get(s, id, &before), STORE_OK);

    sleep_ms(3);
    article_patch_t p = {.fields = ARTICLE_F_TITLE, .title = "new title"};
    assert_int_equal(store_patch(s, id, &p, &out), STORE_OK);
    assert_int_equal(out.id, id);
    assert_string_equal(out.title, "new title");
    assert_string_equal(out.content, "content");
    assert_string_equal(out.author, "author");
    assert_string_equal(out.created_at, before.created_at);
    assert_true(strcmp(out.updated_at, before.updated_at) > 0);
    assert_time_format(out.updated_at);
    article_free(&out);

    p = (article_patch_t){.fields = ARTICLE_F_CONTENT, .content = "new content"};
    assert_int_equal(store_patch(s, id, &p, &out), STORE_OK);
    assert_string_equal(out.title, "new title");
    assert_string_equal(out.content, "new content");
    assert_string_equal(out.author, "author");
    article_free(&out);

    p = (article_patch_t){.fields = ARTICLE_F_AUTHOR, .author = "someone"};
    assert_int_equal(store_patch(s, id, &p, &out), STORE_OK);
    assert_string_equal(out.author, "someone");
    article_free(&out);

    p = (article_patch_t){.fields = ARTICLE_F_AUTHOR, .author = NULL};
    assert_int_equal(store_patch(s, id, &p, &out), STORE_OK);
    assert_null(out.author);
    assert_string_equal(out.title, "new title");
    article_free(&out);

    p = (article_patch_t){.fields = ARTICLE_F_TITLE | ARTICLE_F_CONTENT | ARTICLE_F_AUTHOR,
                          .title = "T", .content = "C", .author = "A"};
    assert_int_equal(store_patch(s, id, &p, &out), STORE_OK);
    article_free(&out);
    assert_int_equal(store_get(s, id, &out), STORE_OK);
    assert_string_equal(out.title, "T");
    assert_string_equal(out.content, "C");
    assert_string_equal(out.author, "A");
    assert_string_equal(out.created_at, before.created_at);
    article_free(&out);

    /* An empty patch only touches updated_at. */
    p = (article_patch_t){.fields = 0};
    assert_int_equal(store_patch(s, id, &p, &out), STORE_OK);
    assert_string_equal(out.title, "T");
    article_free(&out);

    assert_int_equal(store_patch(s, id + 1000, &p, &out), STORE_ENOTFOUND);
    article_free(&before);
}

static void test_delete(void **state)
{
    store_t *s = *state;
    int64_t a = make(s, "a", "c", NULL);
    int64_t b = make(s, "b", "c", NULL);
    assert_int_equal(store_delete(s, a), STORE_OK);
    article_t g = {0};
    assert_int_equal(store_get(s, a, &g), STORE_ENOTFOUND);
    assert_int_equal(store_delete(s, a), STORE_ENOTFOUND);
    assert_int_equal(store_get(s, b, &g), STORE_OK);
    article_free(&g);
    int64_t n;
    assert_int_equal(store_count(s, &n), STORE_OK);
    assert_int_equal(n, 1);
}

static store_bulk_op_t upsert_op(int64_t id, const char *title, const char *content)
{
    store_bulk_op_t op = {.kind = STORE_BULK_UPSERT, .id = id};
    op.article = (article_t){.id = id, .title = dup_or_null(title), .content = strdup(content)};
    return op;
}

static void free_ops(store_bulk_op_t *ops, size_t n)
{
    for (size_t i = 0; i < n; i++)
        article_free(&ops[i].article);
}

static void test_bulk(void **state)
{
    store_t *s = *state;
    int64_t keep = make(s, "keep", "c", NULL);
    int64_t gone = make(s, "gone", "c", NULL);
    article_t before = {0};
    assert_int_equal(store_get(s, keep, &before), STORE_OK);
    int64_t fresh = gone + 100;
    sleep_ms(3);
    store_bulk_op_t ops[] = {
        upsert_op(fresh, "fresh", "c"),
        upsert_op(keep, "replaced", "c2"),
        {.kind = STORE_BULK_DELETE, .id = gone},
        {.kind = STORE_BULK_DELETE, .id = gone + 1000},
        /* The same id several times: applied in order. */
        upsert_op(fresh + 1, "x", "c"),
        {.kind = STORE_BULK_DELETE, .id = fresh + 1},
        upsert_op(fresh + 1, "y", "c"),
        upsert_op(fresh + 2, "z1", "c"),
        upsert_op(fresh + 2, "z2", "c"),
    };
    size_t n = sizeof ops / sizeof ops[0];
    assert_int_equal(store_bulk(s, ops, n), STORE_OK);
    int want[] = {201, 200, 204, 404, 201, 204, 201, 201, 200};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ops[i].status, want[i]);
    assert_string_equal(ops[1].article.created_at, before.created_at);
    assert_true(strcmp(ops[1].article.updated_at, before.updated_at) > 0);
    assert_string_equal(ops[0].article.created_at, ops[0].article.updated_at);
    assert_int_equal(ops[0].article.id, fresh);

    article_t g = {0};
    assert_int_equal(store_get(s, keep, &g), STORE_OK);
    assert_string_equal(g.title, "replaced");
    assert_string_equal(g.created_at, before.created_at);
    article_free(&g);
    assert_int_equal(store_get(s, gone, &g), STORE_ENOTFOUND);
    assert_int_equal(store_get(s, fresh + 1, &g), STORE_OK);
    assert_string_equal(g.title, "y");
    article_free(&g);
    free_ops(ops, n);
    article_free(&before);

    /* An empty batch is fine. */
    assert_int_equal(store_bulk(s, NULL, 0), STORE_OK);
}

static void test_bulk_all_or_nothing(void **state)
{
    store_t *s = *state;
    int64_t keep = make(s, "keep", "c", NULL);
    int64_t del = make(s, "del", "c", NULL);
    int64_t fresh = del + 100;
    int64_t n0;
    assert_int_equal(store_count(s, &n0), STORE_OK);

    /* A NULL title forced through on an insert... */
    store_bulk_op_t ops[] = {
        upsert_op(fresh, "fresh", "c"),
        upsert_op(keep, "changed", "c"),
        {.kind = STORE_BULK_DELETE, .id = del},
        upsert_op(fresh + 1, NULL, "c"),
        upsert_op(fresh + 2, "after", "c"),
    };
    size_t n = sizeof ops / sizeof ops[0];
    int rc = store_bulk(s, ops, n);
    assert_true(rc == STORE_EERROR);
    assert_true(store_errmsg(s)[0] != '\0');
    free_ops(ops, n);

    /* ... and on the replace of an existing article. */
    store_bulk_op_t ops2[] = {
        upsert_op(fresh, "fresh", "c"),
        {.kind = STORE_BULK_DELETE, .id = del},
        upsert_op(keep, NULL, "c"),
    };
    n = sizeof ops2 / sizeof ops2[0];
    assert_int_equal(store_bulk(s, ops2, n), STORE_EERROR);
    free_ops(ops2, n);

    article_t g = {0};
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_get(s, fresh + i, &g), STORE_ENOTFOUND);
    assert_int_equal(store_get(s, keep, &g), STORE_OK);
    assert_string_equal(g.title, "keep");
    article_free(&g);
    assert_int_equal(store_get(s, del, &g), STORE_OK);
    article_free(&g);
    int64_t n1;
    assert_int_equal(store_count(s, &n1), STORE_OK);
    assert_int_equal(n1, n0);

    /* The connection is still usable, also for writes. */
    int64_t after = make(s, "after", "c", NULL);
    assert_true(after > keep);
    store_bulk_op_t ok = upsert_op(fresh, "fresh", "c");
    assert_int_equal(store_bulk(s, &ok, 1), STORE_OK);
    free_ops(&ok, 1);
}

/* Text with every character that needs care in transit (quoting, array
 * syntax, escapes) survives a bulk upsert byte for byte. */
static void test_bulk_text(void **state)
{
    store_t *s = *state;
    static const char *const texts[] = {
        "a\"b",       "back\\slash\\",   "{braces},comma", "NULL",    "",
        " spaced ", "'single'",        "\\\"",          "日本語 🎉", "line\nbreak\ttab",
    };
    enum { N = sizeof texts / sizeof texts[0] };
    int64_t base = make(s, "base", "c", NULL) + 1;
    store_bulk_op_t ops[N + 1];
    for (size_t i = 0; i < N; i++) {
        ops[i] = upsert_op(base + (int64_t)i, texts[i][0] ? texts[i] : "t", texts[i]);
        ops[i].article.author = dup_or_null(i % 2 ? texts[i] : NULL);
    }
    ops[N] = (store_bulk_op_t){.kind = STORE_BULK_DELETE, .id = base - 1};
    assert_int_equal(store_bulk(s, ops, N + 1), STORE_OK);
    assert_int_equal(ops[N].status, 204);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(ops[i].status, 201);
        article_t g = {0};
        assert_int_equal(store_get(s, base + (int64_t)i, &g), STORE_OK);
        assert_string_equal(g.title, texts[i][0] ? texts[i] : "t");
        assert_string_equal(g.content, texts[i]);
        if (i % 2)
            assert_string_equal(g.author, texts[i]);
        else
            assert_null(g.author);
        article_free(&g);
    }
    free_ops(ops, N + 1);
}

/* A failure in a batch that repeats an id (which runs op by op) also undoes
 * everything. */
static void test_bulk_repeated_ids_rollback(void **state)
{
    store_t *s = *state;
    int64_t keep = make(s, "keep", "c", NULL);
    store_bulk_op_t ops[] = {
        upsert_op(keep + 10, "x", "c"),
        upsert_op(keep + 10, "y", "c"),
        {.kind = STORE_BULK_DELETE, .id = keep},
        upsert_op(keep + 11, NULL, "c"),
    };
    size_t n = sizeof ops / sizeof ops[0];
    assert_int_equal(store_bulk(s, ops, n), STORE_EERROR);
    free_ops(ops, n);
    article_t g = {0};
    assert_int_equal(store_get(s, keep + 10, &g), STORE_ENOTFOUND);
    assert_int_equal(store_get(s, keep, &g), STORE_OK);
    article_free(&g);
}

static void test_bulk_large(void **state)
{
    store_t *s = *state;
    enum { N = 1000 };
    int64_t base = make(s, "base", "c", NULL) + 1;
    store_bulk_op_t *ops = calloc(N, sizeof *ops);
    assert_non_null(ops);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            char title[32];
            snprintf(title, sizeof title, "bulk %d/%d", round, i);
            ops[i] = upsert_op(base + i, title, "some content of a bulk article");
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(store_bulk(s, ops, N), STORE_OK);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        print_message("bulk %s of %d rows: %.0f rows/s\n", round ? "replace" : "insert", N, N / secs);
        for (int i = 0; i < N; i++)
            assert_int_equal(ops[i].status, round ? 200 : 201);
        free_ops(ops, N);
    }
    free(ops);
    int64_t n;
    assert_int_equal(store_count(s, &n), STORE_OK);
    assert_int_equal(n, N + 1);
    store_query_t q = {.limit = 5, .q = "bulk 1/99"};
    int64_t ids[8], total;
    size_t got = list_ids(s, &q, ids, 8, &total);
    assert_int_equal(total, 11); /* 99, 990..999 */
    assert_int_equal(got, 5);
}

/* ---- concurrency -------------------------------------------------------- */

enum { THREADS = 8, PER_THREAD = 50 };

typedef struct worker {
    store_pool_t *pool;
    int64_t ids[PER_THREAD];
    int failures;
} worker_t;

static void *pool_worker(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        store_t *s = store_pool_acquire(w->pool);
        article_t a = {.title = strdup("pooled"), .content = strdup("c")};
        article_t g = {0};
        if (store_create(s, &a) != STORE_OK || store_get(s, a.id, &g) != STORE_OK ||
            strcmp(g.title, "pooled") != 0)
            w->failures++;
        w->ids[i] = a.id;
        article_free(&a);
        article_free(&g);
        store_query_t q = {.limit = 5, .sort = STORE_SORT_ID_DESC};
        article_list_t l = {0};
        if (store_list(s, &q, &l, NULL) != STORE_OK)
            w->failures++;
        article_list_free(&l);
        store_pool_release(w->pool, s);
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_pool_threads(void **state)
{
    (void)state;
    char err[256];
    /* For sqlite::memory: the pool has its own single connection (and so its
     * own empty database); 8 threads then queue for it. */
    store_pool_t *pool = store_pool_new(current_url, 4, err, sizeof err);
    assert_non_null(pool);
    static worker_t w[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_t){.pool = pool};
        assert_int_equal(pthread_create(&th[i], NULL, pool_worker, &w[i]), 0);
    }
    static int64_t all[THREADS * PER_THREAD];
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
        memcpy(&all[i * PER_THREAD], w[i].ids, sizeof w[i].ids);
    }
    qsort(all, THREADS * PER_THREAD, sizeof all[0], cmp_i64);
    for (int i = 1; i < THREADS * PER_THREAD; i++)
        assert_true(all[i] > all[i - 1]); /* distinct */
    store_t *ps = store_pool_acquire(pool);
    int64_t n;
    assert_int_equal(store_count(ps, &n), STORE_OK);
    assert_int_equal(n, THREADS * PER_THREAD);
    store_pool_release(pool, ps);
    store_pool_free(pool);
}

typedef struct opener {
    int rc;
    char err[256];
} opener_t;

static void *open_worker(void *arg)
{
    opener_t *o = arg;
    store_t *s = NULL;
    o->rc = store_open(current_url, &s, o->err, sizeof o->err);
    if (o->rc == STORE_OK) {
        article_t a = {.title = strdup("opened"), .content = strdup("c")};
        o->rc = store_create(s, &a);
        article_free(&a);
        store_close(s);
    }
    return NULL;
}

/* Connections opening at once all apply the schema without tripping over
 * each other. */
static void test_concurrent_open(void **state)
{
    (void)state;
    if (current_is_memory)
        skip();
    opener_t o[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, open_worker, &o[i]), 0);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        if (o[i].rc != STORE_OK)
            fail_msg("open %d: %s", i, o[i].err);
    }
}

/* Writers on several connections to one file do not fail with "busy". */
static void *write_worker(void *arg)
{
    opener_t *o = arg;
    store_t *s = NULL;
    o->rc = store_open(current_url, &s, o->err, sizeof o->err);
    for (int i = 0; i < 200 && o->rc == STORE_OK; i++) {
        article_t a = {.id = 0, .title = strdup("w"), .content = strdup("c")};
        bool created;
        o->rc = store_create(s, &a);
        if (o->rc == STORE_OK) {
            o->rc = store_put(s, &a, &created);
            if (o->rc == STORE_OK && created)
                o->rc = -100;
        }
        article_free(&a);
        if (o->rc != STORE_OK)
            snprintf(o->err, sizeof o->err, "%s", store_errmsg(s));
    }
    store_close(s);
    return NULL;
}

static void test_concurrent_writers(void **state)
{
    store_t *s = *state;
    if (current_is_memory)
        skip();
    opener_t o[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, write_worker, &o[i]), 0);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        if (o[i].rc != STORE_OK)
            fail_msg("writer %d: %d %s", i, o[i].rc, o[i].err);
    }
    int64_t n;
    assert_int_equal(store_count(s, &n), STORE_OK);
    assert_int_equal(n, THREADS * 200);
}

/* ---- errors ------------------------------------------------------------- */

static void test_bad_url(void **state)
{
    (void)state;
    char err[256];
    store_t *s = (store_t *)&s;
    assert_int_equal(store_open("mysql://localhost/x", &s, err, sizeof err), STORE_EURL);
    assert_null(s);
    assert_true(err[0] != '\0');
    assert_null(strstr(err, "localhost")); /* the URL may carry a password */
    assert_int_equal(store_open("", &s, err, sizeof err), STORE_EURL);
    assert_int_equal(store_open(NULL, &s, err, sizeof err), STORE_EURL);
    assert_int_equal(store_open("sqlite:", &s, err, sizeof err), STORE_EURL);
    assert_int_equal(store_open("sqlite", &s, err, sizeof err), STORE_EURL);

    int rc = store_open("sqlite:/nonexistent-dir/sub/x.db", &s, err, sizeof err);
    assert_true(rc == STORE_EUNAVAILABLE || rc == STORE_EERROR);
    assert_null(s);
    assert_true(err[0] != '\0');

    /* Nothing listens on port 1. */
    rc = store_open("postgresql://nobody@127.0.0.1:1/articles?connect_timeout=2", &s, err, sizeof err);
    assert_int_equal(rc, STORE_EUNAVAILABLE);
    assert_true(err[0] != '\0');
    rc = store_open("postgres://127.0.0.1:99999999/x", &s, err, sizeof err);
    assert_true(rc == STORE_EURL || rc == STORE_EUNAVAILABLE);
    rc = store_open("postgresql://h/db?no_such_option=1", &s, err, sizeof err);
    assert_int_equal(rc, STORE_EURL);

    assert_null(store_pool_new("nope:", 2, err, sizeof err));
    assert_true(err[0] != '\0');

    assert_string_equal(store_strerror(STORE_OK), "ok");
    assert_string_equal(store_strerror(STORE_ENOTFOUND), "not found");
    assert_non_null(store_strerror(STORE_EUNAVAILABLE));
    assert_non_null(store_strerror(-99));
}

/* ---- PostgreSQL only ---------------------------------------------------- */

/* Kills every other backend of the database, as a server restart would. */
static void kill_backends(void)
{
    PGconn *c = PQconnectdb(current_url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    PQfinish(c);
    sleep_ms(50);
}

static void test_pg_reconnect(void **state)
{
    store_t *s = *state;
    int64_t id = make(s, "before", "c", NULL);

    /* A write on a dead connection fails as unavailable, the next call
     * reconnects. */
    kill_backends();
    article_t a = {.title = strdup("t"), .content = strdup("c")};
    assert_int_equal(store_create(s, &a), STORE_EUNAVAILABLE);
    assert_int_equal(store_create(s, &a), STORE_OK);
    article_free(&a);

    /* A read is simply run again on a fresh connection. */
    kill_backends();
    article_t g = {0};
    assert_int_equal(store_get(s, id, &g), STORE_OK);
    article_free(&g);

    kill_backends();
    int64_t ids[4];
    store_query_t q = {.limit = 4, .q = "before"};
    assert_int_equal(list_ids(s, &q, ids, 4, NULL), 1);

    /* Pipelines (put, bulk) too. */
    kill_backends();
    bool created;
    a = (article_t){.id = id, .title = strdup("t"), .content = strdup("c")};
    assert_int_equal(store_put(s, &a, &created), STORE_EUNAVAILABLE);
    assert_int_equal(store_put(s, &a, &created), STORE_OK);
    assert_false(created);
    article_free(&a);
    kill_backends();
    store_bulk_op_t op = {.kind = STORE_BULK_DELETE, .id = id};
    assert_int_equal(store_bulk(s, &op, 1), STORE_EUNAVAILABLE);
    assert_int_equal(store_bulk(s, &op, 1), STORE_OK);
    assert_int_equal(op.status, 204);
    assert_int_equal(store_ping(s), STORE_OK);
}

/* Creates racing with explicit-id PUTs above the sequence never fail on a
 * taken id, and a PUT that hits an id a create just drew reports a replace. */
typedef struct racer {
    int64_t base;
    int thread;
    int rc;
    int created; /* articles this thread added */
    char err[256];
} racer_t;

static void *race_worker(void *arg)
{
    racer_t *r = arg;
    store_t *s = NULL;
    r->rc = store_open(current_url, &s, r->err, sizeof r->err);
    for (int i = 0; i < 100 && r->rc == STORE_OK; i++) {
        article_t a = {.title = strdup("r"), .content = strdup("c")};
        bool created;
        if (r->thread % 2) {
            a.id = r->base + (int64_t)i * THREADS + r->thread;
            r->rc = store_put(s, &a, &created);
            r->created += r->rc == STORE_OK && created;
        } else {
            r->rc = store_create(s, &a);
            r->created += r->rc == STORE_OK;
        }
        article_free(&a);
        if (r->rc != STORE_OK)
            snprintf(r->err, sizeof r->err, "%s", store_errmsg(s));
    }
    store_close(s);
    return NULL;
}

static void test_pg_id_race(void **state)
{
    store_t *s = *state;
    int64_t base = make(s, "base", "c", NULL) + 20;
    int64_t want = 1;
    racer_t r[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        r[i] = (racer_t){.base = base, .thread = i};
        assert_int_equal(pthread_create(&th[i], NULL, race_worker, &r[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        if (r[i].rc != STORE_OK)
            fail_msg("racer %d: %s", i, r[i].err);
        want += r[i].created;
    }
    int64_t n;
    assert_int_equal(store_count(s, &n), STORE_OK);
    assert_int_equal(n, want);
    assert_true(want > 1 + THREADS / 2 * 100); /* all creates, some PUTs */
}

/* ---- groups ------------------------------------------------------------- */

/* ---- group commit ------------------------------------------------------ */

static void job_free(store_job_t *j)
{
    article_free(&j->article);
    article_patch_free(&j->patch);
}

/* A batch of independent writes: each job has its own outcome, a failing
 * one (patch or delete of a missing id) is rolled back alone, and the
 * others are applied and visible afterwards. */
static void test_write_batch(void **state)
{
    store_t *s = *state;
    int64_t keep = make(s, "keep", "", NULL);
    int64_t gone = make(s, "gone", "", NULL);
    store_job_t jobs[6] = {
        {.kind = STORE_JOB_CREATE, .article = {.title = strdup("new"), .content = strdup("c")}},
        {.kind = STORE_JOB_PUT, .article = {.id = 777, .title = strdup("put"), .content = strdup("")}},
        {.kind = STORE_JOB_PATCH, .id = keep, .patch = {.fields = ARTICLE_F_AUTHOR, .author = strdup("ann")}},
        {.kind = STORE_JOB_PATCH, .id = 999999, .patch = {.fields = ARTICLE_F_TITLE, .title = strdup("x")}},
        {.kind = STORE_JOB_DELETE, .id = gone},
        {.kind = STORE_JOB_DELETE, .id = 999998},
    };
    store_job_t *ptrs[6];
    for (int i = 0; i < 6; i++)
        ptrs[i] = &jobs[i];
    assert_int_equal(store_write_batch(s, ptrs, 6), STORE_OK);
    assert_int_equal(jobs[0].rc, STORE_OK);
    assert_true(jobs[0].article.id > gone);
    assert_int_equal(jobs[1].rc, STORE_OK);
    assert_true(jobs[1].created);
    assert_int_equal(jobs[2].rc, STORE_OK);
    assert_string_equal(jobs[2].article.author, "ann");
    assert_int_equal(jobs[3].rc, STORE_ENOTFOUND);
    assert_int_equal(jobs[4].rc, STORE_OK);
    assert_int_equal(jobs[5].rc, STORE_ENOTFOUND);

    article_t a = {0};
    assert_int_equal(store_get(s, jobs[0].article.id, &a), STORE_OK);
    assert_string_equal(a.title, "new");
    article_free(&a);
    assert_int_equal(store_get(s, 777, &a), STORE_OK);
    assert_string_equal(a.title, "put");
    article_free(&a);
    assert_int_equal(store_get(s, keep, &a), STORE_OK);
    assert_string_equal(a.author, "ann");
    assert_string_equal(a.title, "keep");
    article_free(&a);
    assert_int_equal(store_get(s, gone, &a), STORE_ENOTFOUND);
    int64_t n;
    assert_int_equal(store_count(s, &n), STORE_OK);
    assert_int_equal(n, 3);
    for (int i = 0; i < 6; i++)
        job_free(&jobs[i]);
}

/* File databases batch on SQLite; the one-connection in-memory database and
 * PostgreSQL run jobs one by one. */
static void test_batches_writes(void **state)
{
    store_t *s = *state;
    bool want = strncmp(current_url, "sqlite:", 7) == 0 && !current_is_memory;
    assert_int_equal(store_batches_writes(s), want);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

static const struct CMUnitTest common_tests[] = {
    T(test_create_get),      T(test_unicode),         T(test_list_filters),
    T(test_list_q),          T(test_list_sort),       T(test_keyset),
    T(test_put),             T(test_ids_not_reused),  T(test_patch),
    T(test_delete),          T(test_bulk),            T(test_bulk_all_or_nothing),
    T(test_bulk_text),       T(test_bulk_repeated_ids_rollback),
    T(test_bulk_large),      T(test_pool_threads),    T(test_concurrent_open),
    T(test_concurrent_writers), T(test_write_batch), T(test_batches_writes),
};

static const struct CMUnitTest pg_tests[] = {
    T(test_pg_reconnect),
    T(test_pg_id_race),
};

static const struct CMUnitTest url_tests[] = {
    cmocka_unit_test(test_bad_url),
};

int main(void)
{
    int failed = 0;
    char dir[] = "/tmp/test_store.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char file_url[sizeof dir + 32];
    snprintf(file_url, sizeof file_url, "sqlite:%s/articles.db", dir);

    failed += cmocka_run_group_tests_name("store urls", url_tests, NULL, NULL);

    current_url = file_url;
    failed += cmocka_run_group_tests_name("store sqlite file", common_tests, NULL, NULL);

    current_url = "sqlite::memory:";
    current_is_memory = true;
    failed += cmocka_run_group_tests_name("store sqlite memory", common_tests, NULL, NULL);
    current_is_memory = false;

    const char *pg_url = getenv("TEST_PG_URL");
    if (pg_url && *pg_url) {
        current_url = pg_url;
        failed += cmocka_run_group_tests_name("store postgresql", common_tests, NULL, NULL);
        failed += cmocka_run_group_tests_name("store postgresql only", pg_tests, NULL, NULL);
    } else {
        print_message("TEST_PG_URL not set: PostgreSQL tests skipped\n");
    }

    char path[sizeof dir + 32];
    static const char *const files[] = {"articles.db", "articles.db-wal", "articles.db-shm"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    return failed ? 1 : 0;
}
