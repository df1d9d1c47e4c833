/* test_decode.c - unit tests of the article body validation in rest/decode.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

static const article_limits_t lim = {200, 100, 1048576};

/* ---- helpers ----------------------------------------------------------- */

/* head + unit * n + tail, on the heap (caller frees). */
static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1);
    assert_non_null(s);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * n, tail, tl + 1);
    return s;
}

/* A problem_t full of junk, so that the assertions see what was set. */
static problem_t junk_problem(void)
{
    problem_t p;
    memset(&p, 0x5A, sizeof p);
    p.field[sizeof p.field - 1] = '\0';
    p.detail[sizeof p.detail - 1] = '\0';
    return p;
}

/* json copied into an exactly sized heap block without a terminator, so
 * that ASan sees a read past len (caller frees). */
static char *body_copy(const char *json, size_t len)
{
    char *body = malloc(len ? len : 1);
    assert_non_null(body);
    memcpy(body, json, len);
    return body;
}

/* The decoders take the body as const: it must come back unchanged. */
static void assert_body_unchanged(const char *body, const char *json, size_t len)
{
    if (memcmp(body, json, len) != 0)
        fail_msg("the body was modified: %.200s", json);
}

static int run_article(const char *json, decode_mode_t mode, int64_t path_id, article_t *out,
                       problem_t *err)
{
    size_t len = strlen(json);
    char *body = body_copy(json, len);
    int rc = decode_article_body(body, len, mode, path_id, &lim, out, err);
    assert_body_unchanged(body, json, len);
    free(body);
    return rc;
}

static void assert_problem(const problem_t *p, int status, const char *field, long index)
{
    if (p->status != status || strcmp(p->field, field) != 0 || p->index != index)
        fail_msg("got status %d field '%s' index %ld (%s); want %d '%s' %ld", p->status, p->field,
                 p->index, p->detail, status, field, index);
    assert_true(p->detail[0] != '\0');
}

/* Decodes json and checks that it is refused with status and field. */
static void assert_article_refused(const char *json, decode_mode_t mode, int64_t path_id,
                                   int status, const char *field)
{
    article_t a = {0};
    problem_t p = junk_problem();
    if (run_article(json, mode, path_id, &a, &p) != -1) {
        article_free(&a);
        fail_msg("accepted (mode %d): %.200s", (int)mode, json);
    }
    assert_problem(&p, status, field, -1);
    assert_null(a.title);
    assert_null(a.content);
    assert_null(a.author);
}

static void refused_post(const char *json, int status, const char *field)
{
    assert_article_refused(json, DECODE_CREATE, 0, status, field);
}

/* Decodes json, which must be accepted; caller frees *a. */
static void accept_article(const char *json, decode_mode_t mode, int64_t path_id, article_t *a)
{
    problem_t p = junk_problem();
    if (run_article(json, mode, path_id, a, &p) != 0)
        fail_msg("refused (mode %d): %.200s: %d %s: %s", (int)mode, json, p.status, p.field,
                 p.detail);
    assert_non_null(a->title);
    assert_non_null(a->content);
}

static void accepted_post(const char *json)
{
    article_t a;
    accept_article(json, DECODE_CREATE, 0, &a);
    article_free(&a);
}

static int run_patch(const char *json, int64_t path_id, article_patch_t *out, problem_t *err)
{
    size_t len = strlen(json);
    char *body = body_copy(json, len);
    int rc = decode_patch_body(body, len, path_id, &lim, out, err);
    assert_body_unchanged(body, json, len);
    free(body);
    return rc;
}

static void accept_patch(const char *json, int64_t path_id, article_patch_t *out)
{
    problem_t p = junk_problem();
    if (run_patch(json, path_id, out, &p) != 0)
        fail_msg("patch refused: %s: %d %s: %s", json, p.status, p.field, p.detail);
}

static void refused_patch(const char *json, int64_t path_id, int status, const char *field)
{
    article_patch_t out;
    problem_t p = junk_problem();
    if (run_patch(json, path_id, &out, &p) != -1) {
        article_patch_free(&out);
        fail_msg("patch accepted: %.200s", json);
    }
    assert_problem(&p, status, field, -1);
    assert_int_equal(out.fields, 0);
    assert_null(out.title);
    assert_null(out.content);
    assert_null(out.author);
}

static int run_bulk(const char *json, size_t max_ops, store_bulk_op_t **ops, size_t *n,
                    problem_t *err)
{
    size_t len = strlen(json);
    char *body = body_copy(json, len);
    int rc = decode_bulk_body(body, len, max_ops, &lim, ops, n, err);
    assert_body_unchanged(body, json, len);
    free(body);
    return rc;
}

static void refused_bulk(const char *json, size_t max_ops, int status, const char *field,
                         long index)
{
    store_bulk_op_t *ops = (store_bulk_op_t *)&ops; /* not NULL, to see it reset */
    size_t n = 77;
    problem_t p = junk_problem();
    if (run_bulk(json, max_ops, &ops, &n, &p) != -1) {
        decode_bulk_free(ops, n);
        fail_msg("bulk accepted: %.300s", json);
    }
    assert_problem(&p, status, field, index);
    assert_null(ops);
    assert_int_equal(n, 0);
}

#define UPSERT(id) "{\"op\":\"upsert\",\"article\":{\"id\":" #id ",\"title\":\"t" #id "\"}}"

/* ---- whole document ---------------------------------------------------- */

/* Outside a bulk request a leading digit in a member name is not an index. */
static void test_nul_field_names_outside_bulk(void **state)
{
    (void)state;
    refused_post("{\"3x\":\"\\u0000\"}", 422, "3x");
    refused_post("{\"title\":\"a\",\"5\":\"\\u0000\"}", 422, "5");
    refused_post("{\"a/b\":\"\\u0000\"}", 422, "a/b");
    refused_post("{\"title\":\"\\uD800\"}", 400, "");
}

static void test_malformed_json_is_400(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "{", "{\"title\":}", "{\"title\":\"a\"} x", "{\"title\":\"a\",}", "title=a", "  "};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        refused_post(bad[i], 400, "");
        assert_article_refused(bad[i], DECODE_REPLACE, 1, 400, "");
        refused_patch(bad[i], 1, 400, "");
        refused_bulk(bad[i], 10, 400, "", -1);
    }
}

static void test_raw_nul_byte_is_400(void **state)
{
    (void)state;
    char body[] = "{\"title\":\"a\0b\"}";
    article_t a;
    problem_t p = junk_problem();
    assert_int_equal(decode_article_body(body, sizeof body - 1, DECODE_CREATE, 0, &lim, &a, &p),
                     -1);
    assert_problem(&p, 400, "", -1);
}

/* cJSON reads a \u escape with a non-hex digit as U+0000, which would cut
 * the title to "abc" without a word. */
static void test_bad_unicode_escape_is_400(void **state)
{
    (void)state;
    refused_post("{\"title\":\"abc\\u00zzdef\"}", 400, "");
    refused_patch("{\"author\":\"x\\uZZZZ\"}", 1, 400, "");
}

static void test_non_object_is_422(void **state)
{
    (void)state;
    const char *bad[] = {"[]", "[{\"title\":\"a\"}]", "\"title\"", "1", "null", "true"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        refused_post(bad[i], 422, "");
        assert_article_refused(bad[i], DECODE_REPLACE, 1, 422, "");
        refused_patch(bad[i], 1, 422, "");
    }
}

static void test_minimal_post(void **state)
{
    (void)state;
    article_t a;
    accept_article("{\"title\":\"Hello\"}", DECODE_CREATE, 0, &a);
    assert_int_equal(a.id, 0);
    assert_string_equal(a.title, "Hello");
    assert_string_equal(a.content, ""); /* default */
    assert_null(a.author);              /* default */
    article_free(&a);
}

static void test_full_post(void **state)
{
    (void)state;
    article_t a;
    accept_article("{\"title\":\"T\",\"content\":\"C \\u00e9\",\"author\":\"Ada\"}", DECODE_CREATE,
                   0, &a);
    assert_string_equal(a.title, "T");
    assert_string_equal(a.content, "C \xC3\xA9");
    assert_string_equal(a.author, "Ada");
    article_free(&a);
}

/* ---- members ----------------------------------------------------------- */

static void test_wrong_types(void **state)
{
    (void)state;
    const char *values[] = {"1", "true", "[]", "{}", "[\"a\"]", "1.5"};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"title\":%s}", values[i]);
        refused_post(body, 422, "title");
        snprintf(body, sizeof body, "{\"title\":\"a\",\"content\":%s}", values[i]);
        refused_post(body, 422, "content");
        snprintf(body, sizeof body, "{\"title\":\"a\",\"author\":%s}", values[i]);
        refused_post(body, 422, "author");
    }
    refused_post("{\"title\":null}", 422, "title");
    refused_post("{\"title\":\"a\",\"content\":null}", 422, "content");
    assert_article_refused("{\"id\":\"1\",\"title\":\"a\"}", DECODE_REPLACE, 1, 422, "id");
}

static void test_unknown_member(void **state)
{
    (void)state;
    refused_post("{\"title\":\"a\",\"tags\":[]}", 422, "tags");
    refused_post("{\"Title\":\"a\"}", 422, "Title");
    refused_post("{\"title\":\"a\",\"\":1}", 422, "");
    accepted_post("{\"title\":\"a\",\"content\":\"\",\"author\":null}");
}

static void test_duplicate_member(void **state)
{
    (void)state;
    refused_post("{\"title\":\"a\",\"title\":\"b\"}", 422, "title");
    refused_post("{\"title\":\"a\",\"author\":null,\"author\":null}", 422, "author");
    refused_post("{\"title\":\"a\",\"created_at\":\"x\",\"created_at\":\"x\"}", 422, "created_at");
    assert_article_refused("{\"id\":1,\"title\":\"a\",\"id\":1}", DECODE_REPLACE, 1, 422, "id");
}

static void test_title_presence(void **state)
{
    (void)state;
    refused_post("{}", 422, "title");
    refused_post("{\"content\":\"c\"}", 422, "title");
    refused_post("{\"title\":\"\"}", 422, "title");
    accepted_post("{\"title\":\" x \"}");
    accepted_post("{\"title\":\"0\"}");
}

/* 1..200 characters is the only rule: blank titles are titles. */
static void test_blank_title_accepted(void **state)
{
    (void)state;
    const char *blank[] = {" ", "   ", " \\t\\r\\n ", "\\t", "\\u00a0", "\\u3000"};
    const char *want[] = {" ", "   ", " \t\r\n ", "\t", "\xC2\xA0", "\xE3\x80\x80"};
    for (size_t i = 0; i < sizeof blank / sizeof *blank; i++) {
        char body[128];
        article_t a;
        snprintf(body, sizeof body, "{\"title\":\"%s\"}", blank[i]);
        accept_article(body, DECODE_CREATE, 0, &a);
        assert_string_equal(a.title, want[i]);
        article_free(&a);
        snprintf(body, sizeof body, "{\"id\":2,\"title\":\"%s\"}", blank[i]);
        accept_article(body, DECODE_REPLACE, 2, &a);
        assert_string_equal(a.title, want[i]);
        article_free(&a);
        article_patch_t p;
        snprintf(body, sizeof body, "{\"title\":\"%s\"}", blank[i]);
        accept_patch(body, 1, &p);
        assert_int_equal(p.fields, ARTICLE_F_TITLE);
        assert_string_equal(p.title, want[i]);
        article_patch_free(&p);
        store_bulk_op_t *ops = NULL;
        size_t n = 0;
        problem_t e = junk_problem();
        snprintf(body, sizeof body, "[{\"op\":\"upsert\",\"article\":{\"id\":1,\"title\":\"%s\"}}]",
                 blank[i]);
        if (run_bulk(body, 10, &ops, &n, &e) != 0)
            fail_msg("bulk refused: %s: %s", body, e.detail);
        assert_int_equal(n, 1);
        assert_string_equal(ops[0].article.title, want[i]);
        decode_bulk_free(ops, n);
    }
    /* 200 spaces are a title; 201 are too long. */
    char *ok = repeat("{\"title\":\"", " ", 200, "\"}");
    char *over = repeat("{\"title\":\"", " ", 201, "\"}");
    accepted_post(ok);
    refused_post(over, 422, "title");
    free(ok);
    free(over);
}

static void test_title_length(void **state)
{
    (void)state;
    char *ok = repeat("{\"title\":\"", "a", 200, "\"}");
    char *long1 = repeat("{\"title\":\"", "a", 201, "\"}");
    accepted_post(ok);
    refused_post(long1, 422, "title");
    free(ok);
    free(long1);
}

static void test_title_counts_code_points(void **state)
{
    (void)state;
    char *e200 = repeat("{\"title\":\"", "\xC3\xA9", 200, "\"}");
    char *e201 = repeat("{\"title\":\"", "\xC3\xA9", 201, "\"}");
    char *emoji = repeat("{\"title\":\"", "\xF0\x9F\x98\x80", 200, "\"}");
    char *escaped = repeat("{\"title\":\"", "\\u00e9", 200, "\"}");
    char *pairs = repeat("{\"title\":\"", "\\ud83d\\ude00", 201, "\"}");
    article_t a;
    accept_article(e200, DECODE_CREATE, 0, &a);
    assert_int_equal(strlen(a.title), 400);
    article_free(&a);
    refused_post(e201, 422, "title");
    accepted_post(emoji);
    accepted_post(escaped);
    refused_post(pairs, 422, "title");
    free(e200);
    free(e201);
    free(emoji);
    free(escaped);
    free(pairs);
}

static void test_content_size(void **state)
{
    (void)state;
    char *ok = repeat("{\"title\":\"t\",\"content\":\"", "a", 1048576, "\"}");
    char *over = repeat("{\"title\":\"t\",\"content\":\"", "a", 1048577, "\"}");
    /* The limit is on the decoded bytes: 1048574 + "\n" + "é" (2) is 1048577. */
    char *escaped = repeat("{\"title\":\"t\",\"content\":\"", "a", 1048574, "\\n\\u00e9\"}");
    /* 524288 "é" are 1048576 bytes but half as many characters. */
    char *multi = repeat("{\"title\":\"t\",\"content\":\"", "\xC3\xA9", 524288, "\"}");
    article_t a;
    accept_article(ok, DECODE_CREATE, 0, &a);
    assert_int_equal(strlen(a.content), 1048576);
    article_free(&a);
    refused_post(over, 422, "content");
    refused_post(escaped, 422, "content");
    accepted_post(multi);
    free(ok);
    free(over);
    free(escaped);
    free(multi);
}

static void test_content_empty_ok(void **state)
{
    (void)state;
    article_t a;
    accept_article("{\"title\":\"t\",\"content\":\"\"}", DECODE_CREATE, 0, &a);
    assert_string_equal(a.content, "");
    article_free(&a);
}

static void test_author_length_and_null(void **state)
{
    (void)state;
    char *ok = repeat("{\"title\":\"t\",\"author\":\"", "b", 100, "\"}");
    char *over = repeat("{\"title\":\"t\",\"author\":\"", "b", 101, "\"}");
    char *cjk = repeat("{\"title\":\"t\",\"author\":\"", "\xE6\x97\xA5", 100, "\"}");
    char *cjk_over = repeat("{\"title\":\"t\",\"author\":\"", "\xE6\x97\xA5", 101, "\"}");
    accepted_post(ok);
    refused_post(over, 422, "author");
    accepted_post(cjk);
    refused_post(cjk_over, 422, "author");
    article_t a;
    accept_article("{\"title\":\"t\",\"author\":null}", DECODE_CREATE, 0, &a);
    assert_null(a.author);
    article_free(&a);
    accept_article("{\"title\":\"t\",\"author\":\"\"}", DECODE_CREATE, 0, &a);
    assert_string_equal(a.author, "");
    article_free(&a);
    free(ok);
    free(over);
    free(cjk);
    free(cjk_over);
}

/* Each member with bad text in it is refused at that member. */
static void refused_in_each_member(const char *text)
{
    char body[256];
    snprintf(body, sizeof body, "{\"title\":\"a%sb\"}", text);
    refused_post(body, 422, "title");
    snprintf(body, sizeof body, "{\"title\":\"a\",\"content\":\"a%sb\"}", text);
    refused_post(body, 422, "content");
    snprintf(body, sizeof body, "{\"title\":\"a\",\"author\":\"%s\"}", text);
    refused_post(body, 422, "author");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    refused_in_each_member("\xC3\x28");         /* bad continuation */
    refused_in_each_member("\xC0\xAF");         /* overlong */
    refused_in_each_member("\xE0\x80\xAF");     /* overlong 3 bytes */
    refused_in_each_member("\xED\xA0\x80");     /* surrogate */
    refused_in_each_member("\xF4\x90\x80\x80"); /* above U+10FFFF */
    refused_in_each_member("\xFF");             /* 0xFF */
    refused_in_each_member("\xC3");             /* truncated */
    refused_in_each_member("\x80");             /* lone continuation */
    accepted_post("{\"title\":\"\xF4\x8F\xBF\xBF \xED\x9F\xBF\"}");
}

/* Each member with \u0000 in it, in each kind of request, is refused
 * with 422 at that member. */
static void refused_nul_in_each_member(const char *text)
{
    static const char *const members[] = {"title", "content", "author"};
    for (size_t i = 0; i < 3; i++) {
        char body[256], field[32];
        const char *title = i ? "\"title\":\"t\"," : "";
        snprintf(body, sizeof body, "{%s\"%s\":\"%s\"}", title, members[i], text);
        refused_post(body, 422, members[i]);
        snprintf(body, sizeof body, "{\"id\":4,%s\"%s\":\"%s\"}", title, members[i], text);
        assert_article_refused(body, DECODE_REPLACE, 4, 422, members[i]);
        snprintf(body, sizeof body, "{\"%s\":\"%s\"}", members[i], text);
        refused_patch(body, 1, 422, members[i]);
        snprintf(body, sizeof body,
                 "[" UPSERT(1) "," UPSERT(2) ",{\"op\":\"delete\",\"id\":3},"
                 "{\"op\":\"upsert\",\"article\":{\"id\":4,%s\"%s\":\"%s\"}}]",
                 title, members[i], text);
        snprintf(field, sizeof field, "article.%s", members[i]);
        refused_bulk(body, 10, 422, field, 3);
    }
}

static void test_nul_escape(void **state)
{
    (void)state;
    refused_in_each_member("\\u0000"); /* NUL escape */
    refused_nul_in_each_member("\\u0000");
    refused_nul_in_each_member("a\\u0000");
    refused_nul_in_each_member("\\u0000b");
    refused_nul_in_each_member("x\\\\\\u0000"); /* escaped backslash, then NUL */
    /* An escaped backslash followed by u0000 is six plain characters. */
    article_t a;
    accept_article("{\"title\":\"t\",\"content\":\"\\\\u0000\"}", DECODE_CREATE, 0, &a);
    assert_string_equal(a.content, "\\u0000");
    article_free(&a);
    accept_article("{\"title\":\"\\\\u0000\",\"author\":\"\\\\\\\\u0000\"}", DECODE_CREATE, 0, &a);
    assert_string_equal(a.title, "\\u0000");
    assert_string_equal(a.author, "\\\\u0000");
    article_free(&a);
}

/* The NUL is found while parsing, before any other rule: it is reported
 * even where another fault comes first in the document. */
static void test_nul_escape_reported_first(void **state)
{
    (void)state;
    refused_post("{\"id\":1,\"title\":\"\\u0000\"}", 422, "title");
    refused_post("{\"title\":5,\"content\":\"\\u0000\"}", 422, "content");
    refused_patch("{\"id\":99,\"author\":\"\\u0000\"}", 1, 422, "author");
    refused_bulk("[{\"op\":\"nope\"},{},{},{\"op\":\"upsert\",\"article\":{\"id\":4,"
                 "\"title\":\"\\u0000\"}}]",
                 10, 422, "article.title", 3);
}

/* Members that are ignored or unknown are refused for a NUL too, named by
 * the JSON pointer to the string. */
static void test_nul_escape_elsewhere(void **state)
{
    (void)state;
    refused_post("{\"title\":\"a\",\"created_at\":\"\\u0000\"}", 422, "created_at");
    refused_patch("{\"updated_at\":\"x\\u0000\"}", 1, 422, "updated_at");
    refused_post("{\"title\":\"a\",\"tags\":[\"x\",\"\\u0000\"]}", 422, "tags.1");
    refused_post("{\"title\":\"a\",\"x\":{\"y\":\"\\u0000\"}}", 422, "x.y");
    refused_post("\"\\u0000\"", 422, "");
    refused_patch("\"a\\u0000\"", 1, 422, "");
    refused_bulk("[{\"op\":\"delete\",\"id\":\"\\u0000\"}]", 10, 422, "id", 0);
    refused_bulk("[" UPSERT(1) ",{\"op\":\"\\u0000\",\"id\":2}]", 10, 422, "op", 1);
    refused_bulk("[" UPSERT(1) "," UPSERT(2) ",\"\\u0000\"]", 10, 422, "", 2);
    refused_bulk("[{\"op\":\"upsert\",\"article\":{\"id\":1,\"title\":\"t\",\"created_at\":"
                 "[\"\\u0000\"]}}]",
                 10, 422, "article.created_at.0", 0);
}

/* A NUL in a member name: the field is the name as written. */
static void test_nul_escape_in_member_name(void **state)
{
    (void)state;
    refused_post("{\"ti\\u0000tle\":\"x\"}", 422, "ti\\u0000tle");
    refused_post("{\"title\\u0000\":\"x\"}", 422, "title\\u0000");
    refused_post("{\"title\":\"a\",\"\\u0000\":1}", 422, "\\u0000");
    assert_article_refused("{\"id\":2,\"id\\u0000\":2,\"title\":\"a\"}", DECODE_REPLACE, 2, 422,
                           "id\\u0000");
    refused_patch("{\"author\\u0000\":null}", 1, 422, "author\\u0000");
    refused_bulk("[" UPSERT(1) ",{\"op\\u0000\":\"upsert\"}]", 10, 422, "op\\u0000", 1);
    refused_bulk("[" UPSERT(1) "," UPSERT(2) "," UPSERT(3) ",{\"op\":\"upsert\",\"article\":"
                 "{\"id\":4,\"title\\u0000\":\"x\"}}]",
                 10, 422, "article.title\\u0000", 3);
    /* An escaped backslash then u0000 in a name is no NUL: just unknown. */
    refused_post("{\"title\":\"a\",\"k\\\\u0000\":1}", 422, "k\\u0000");
}

/* Each member with text holding the escape accepts it, decoded. */
static void accepted_in_each_member(const char *text, const char *want)
{
    char body[256];
    char expect[64];
    snprintf(expect, sizeof expect, "a%sb", want);
    snprintf(body, sizeof body, "{\"title\":\"a%sb\",\"content\":\"a%sb\",\"author\":\"a%sb\"}",
             text, text, text);
    article_t a;
    accept_article(body, DECODE_CREATE, 0, &a);
    assert_string_equal(a.title, expect);
    assert_string_equal(a.content, expect);
    assert_string_equal(a.author, expect);
    article_free(&a);
    snprintf(body, sizeof body, "{\"id\":7,\"title\":\"%s\"}", text); /* alone: 1 character */
    accept_article(body, DECODE_REPLACE, 7, &a);
    assert_string_equal(a.title, want);
    article_free(&a);
    article_patch_t p;
    snprintf(body, sizeof body, "{\"title\":\"a%sb\",\"content\":\"a%sb\",\"author\":\"a%sb\"}",
             text, text, text);
    accept_patch(body, 1, &p);
    assert_int_equal(p.fields, ARTICLE_F_TITLE | ARTICLE_F_CONTENT | ARTICLE_F_AUTHOR);
    assert_string_equal(p.title, expect);
    assert_string_equal(p.content, expect);
    assert_string_equal(p.author, expect);
    article_patch_free(&p);
    store_bulk_op_t *ops = NULL;
    size_t n = 0;
    problem_t e = junk_problem();
    snprintf(body, sizeof body,
             "[{\"op\":\"upsert\",\"article\":{\"id\":1,\"title\":\"a%sb\",\"author\":\"a%sb\"}}]",
             text, text);
    if (run_bulk(body, 10, &ops, &n, &e) != 0)
        fail_msg("bulk refused: %s: %d %s %s", body, e.status, e.field, e.detail);
    assert_int_equal(n, 1);
    assert_string_equal(ops[0].article.title, expect);
    assert_string_equal(ops[0].article.author, expect);
    decode_bulk_free(ops, n);
}

/* The contract forbids NUL only: other escaped control characters are
 * text. */
static void test_control_characters(void **state)
{
    (void)state;
    accepted_in_each_member("\\u0001", "\001"); /* SOH */
    accepted_in_each_member("\\u0007", "\007"); /* BEL */
    accepted_in_each_member("\\u001b", "\033"); /* ESC */
    accepted_in_each_member("\\u001B", "\033");
    accepted_in_each_member("\\u001f", "\037"); /* US */
    accepted_in_each_member("\\u007f", "\177"); /* DEL */
    accepted_in_each_member("\\b", "\b");       /* backspace */
    accepted_in_each_member("\\f", "\f");       /* form feed */
    accepted_in_each_member("\\u0001\\u0002\\u0003", "\001\002\003");
    article_t a;
    accept_article("{\"title\":\"a\\tb\",\"content\":\"x\\ny\\r\\nz\\t\",\"author\":\"c\\td\"}",
                   DECODE_CREATE, 0, &a);
    assert_string_equal(a.title, "a\tb");
    assert_string_equal(a.content, "x\ny\r\nz\t");
    assert_string_equal(a.author, "c\td");
    article_free(&a);
    /* Raw control characters are still not JSON. */
    refused_post("{\"title\":\"a\x01z\"}", 400, "");
    refused_patch("{\"content\":\"a\x1b\"}", 1, 400, "");
}

/* ---- ids --------------------------------------------------------------- */

static void test_id_in_post(void **state)
{
    (void)state;
    refused_post("{\"id\":1,\"title\":\"a\"}", 422, "id");
    refused_post("{\"id\":null,\"title\":\"a\"}", 422, "id");
}

static void test_put_ids(void **state)
{
    (void)state;
    article_t a;
    accept_article("{\"id\":5,\"title\":\"a\"}", DECODE_REPLACE, 5, &a);
    assert_int_equal(a.id, 5);
    article_free(&a);
    accept_article("{\"title\":\"a\"}", DECODE_REPLACE, 7, &a);
    assert_int_equal(a.id, 7);
    article_free(&a);
    assert_article_refused("{\"id\":6,\"title\":\"a\"}", DECODE_REPLACE, 5, 422, "id");
    accept_article("{\"id\":9007199254740991,\"title\":\"a\"}", DECODE_REPLACE, DECODE_MAX_JSON_ID,
                   &a);
    assert_int_equal(a.id, DECODE_MAX_JSON_ID);
    article_free(&a);
    accept_article("{\"title\":\"a\"}", DECODE_REPLACE, DECODE_MAX_JSON_ID, &a);
    assert_int_equal(a.id, DECODE_MAX_JSON_ID);
    article_free(&a);
}

/* A PUT cannot create an id above 2^53-1: JSON clients could not read it
 * back exactly. */
static void test_put_path_id_above_max_json_id(void **state)
{
    (void)state;
    const int64_t big[] = {DECODE_MAX_JSON_ID + 1, DECODE_MAX_JSON_ID + 2,
                           INT64_C(10000000000000000), INT64_MAX};
    for (size_t i = 0; i < sizeof big / sizeof *big; i++) {
        assert_article_refused("{\"title\":\"a\"}", DECODE_REPLACE, big[i], 422, "id");
        assert_article_refused("{\"title\":\"a\",\"content\":\"c\",\"author\":null}",
                               DECODE_REPLACE, big[i], 422, "id");
        assert_article_refused("{\"id\":9007199254740991,\"title\":\"a\"}", DECODE_REPLACE, big[i],
                               422, "id");
        assert_article_refused("{\"id\":9007199254740992,\"title\":\"a\"}", DECODE_REPLACE, big[i],
                               422, "id");
    }
    article_t a;
    accept_article("{\"title\":\"a\"}", DECODE_REPLACE, DECODE_MAX_JSON_ID - 1, &a);
    assert_int_equal(a.id, DECODE_MAX_JSON_ID - 1);
    article_free(&a);
}

static void test_bad_ids(void **state)
{
    (void)state;
    const char *bad[] = {"\"1\"",
                         "0",
                         "-1",
                         "1.5",
                         "1e300",
                         "-1e300",
                         "9007199254740992",
                         "9007199254740993",
                         "18446744073709551616",
                         "null",
                         "true",
                         "[1]",
                         "0.999999",
                         "1e400"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"id\":%s,\"title\":\"a\"}", bad[i]);
        assert_article_refused(body, DECODE_REPLACE, 1, 422, "id");
        refused_patch(body, 1, 422, "id");
        snprintf(body, sizeof body, "[{\"op\":\"delete\",\"id\":%s}]", bad[i]);
        refused_bulk(body, 10, 422, "id", 0);
        snprintf(body, sizeof body, "[{\"op\":\"upsert\",\"article\":{\"id\":%s,\"title\":\"a\"}}]",
                 bad[i]);
        refused_bulk(body, 10, 422, "article.id", 0);
    }
}

static void test_timestamps_ignored(void **state)
{
    (void)state;
    article_t a;
    accept_article("{\"id\":3,\"title\":\"a\",\"content\":\"c\",\"author\":null,"
                   "\"created_at\":\"2020-01-01T00:00:00.000Z\",\"updated_at\":\"not a time\"}",
                   DECODE_REPLACE, 3, &a);
    assert_string_equal(a.created_at, "");
    assert_string_equal(a.updated_at, "");
    assert_string_equal(a.title, "a");
    article_free(&a);
    accept_article("{\"title\":\"a\",\"created_at\":null,\"updated_at\":null}", DECODE_CREATE, 0,
                   &a);
    assert_string_equal(a.created_at, "");
    article_free(&a);
}

/* created_at and updated_at of any JSON type are accepted and ignored. */
static void test_timestamps_any_type(void **state)
{
    (void)state;
    const char *values[] = {"1",   "-0",    "1.5",  "1e400", "true",          "false",
                            "null", "\"\"", "\"x\"", "[]",    "[\"a\",[1,{}]]", "{}",
                            "{\"a\":{\"b\":[]}}"};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        char body[160];
        article_t a;
        snprintf(body, sizeof body, "{\"title\":\"a\",\"created_at\":%s,\"updated_at\":%s}",
                 values[i], values[i]);
        accept_article(body, DECODE_CREATE, 0, &a);
        assert_string_equal(a.title, "a");
        assert_string_equal(a.created_at, "");
        assert_string_equal(a.updated_at, "");
        article_free(&a);
        snprintf(body, sizeof body, "{\"created_at\":%s,\"id\":5,\"title\":\"a\"}", values[i]);
        accept_article(body, DECODE_REPLACE, 5, &a);
        assert_int_equal(a.id, 5);
        assert_string_equal(a.created_at, "");
        article_free(&a);
        article_patch_t p;
        snprintf(body, sizeof body, "{\"updated_at\":%s}", values[i]);
        accept_patch(body, 1, &p);
        assert_int_equal(p.fields, 0);
        article_patch_free(&p);
        snprintf(body, sizeof body, "{\"created_at\":%s,\"author\":\"b\"}", values[i]);
        accept_patch(body, 1, &p);
        assert_int_equal(p.fields, ARTICLE_F_AUTHOR);
        article_patch_free(&p);
        store_bulk_op_t *ops = NULL;
        size_t n = 0;
        problem_t e = junk_problem();
        snprintf(body, sizeof body,
                 "[{\"op\":\"upsert\",\"article\":{\"id\":1,\"title\":\"a\",\"updated_at\":%s}}]",
                 values[i]);
        if (run_bulk(body, 10, &ops, &n, &e) != 0)
            fail_msg("bulk refused: %s: %s", body, e.detail);
        assert_int_equal(n, 1);
        assert_string_equal(ops[0].article.updated_at, "");
        decode_bulk_free(ops, n);
    }
}

/* ---- patch ------------------------------------------------------------- */

static void test_patch_empty(void **state)
{
    (void)state;
    article_patch_t p;
    accept_patch("{}", 1, &p);
    assert_int_equal(p.fields, 0);
    assert_null(p.title);
    assert_null(p.content);
    assert_null(p.author);
    article_patch_free(&p);
}

static void test_patch_only_present_fields(void **state)
{
    (void)state;
    article_patch_t p;
    accept_patch("{\"title\":\"New\"}", 1, &p);
    assert_int_equal(p.fields, ARTICLE_F_TITLE);
    assert_string_equal(p.title, "New");
    assert_null(p.content);
    article_patch_free(&p);
    accept_patch("{\"content\":\"c\",\"author\":\"a\"}", 1, &p);
    assert_int_equal(p.fields, ARTICLE_F_CONTENT | ARTICLE_F_AUTHOR);
    assert_null(p.title);
    assert_string_equal(p.content, "c");
    assert_string_equal(p.author, "a");
    article_patch_free(&p);
    accept_patch("{\"id\":4,\"title\":\"t\",\"content\":\"c\",\"author\":\"a\","
                 "\"updated_at\":\"x\"}",
                 4, &p);
    assert_int_equal(p.fields, ARTICLE_F_TITLE | ARTICLE_F_CONTENT | ARTICLE_F_AUTHOR);
    article_patch_free(&p);
}

static void test_patch_nulls(void **state)
{
    (void)state;
    article_patch_t p;
    accept_patch("{\"author\":null}", 1, &p);
    assert_int_equal(p.fields, ARTICLE_F_AUTHOR);
    assert_null(p.author);
    article_patch_free(&p);
    accept_patch("{\"content\":null}", 1, &p);
    assert_int_equal(p.fields, ARTICLE_F_CONTENT);
    assert_non_null(p.content);
    assert_string_equal(p.content, "");
    article_patch_free(&p);
    refused_patch("{\"title\":null}", 1, 422, "title");
}

static void test_patch_rules(void **state)
{
    (void)state;
    char *long_title = repeat("{\"title\":\"", "x", 201, "\"}");
    char *big = repeat("{\"content\":\"", "x", 1048577, "\"}");
    refused_patch(long_title, 1, 422, "title");
    refused_patch(big, 1, 422, "content");
    free(long_title);
    free(big);
    refused_patch("{\"title\":\"\"}", 1, 422, "title");
    refused_patch("{\"title\":5}", 1, 422, "title");
    refused_patch("{\"content\":false}", 1, 422, "content");
    refused_patch("{\"author\":[]}", 1, 422, "author");
    refused_patch("{\"author\":\"\\u0000\"}", 1, 422, "author");
    refused_patch("{\"content\":\"\xED\xA0\x80\"}", 1, 422, "content");
    refused_patch("{\"extra\":1}", 1, 422, "extra");
    refused_patch("{\"title\":\"a\",\"title\":\"a\"}", 1, 422, "title");
    refused_patch("{\"created_at\":1,\"created_at\":1}", 1, 422, "created_at");
}

static void test_patch_id(void **state)
{
    (void)state;
    article_patch_t p;
    accept_patch("{\"id\":8,\"author\":null}", 8, &p);
    assert_int_equal(p.fields, ARTICLE_F_AUTHOR);
    article_patch_free(&p);
    refused_patch("{\"id\":9,\"author\":null}", 8, 422, "id");
}

/* A failure after earlier members were copied must free them (ASan). */
static void test_patch_late_failure(void **state)
{
    (void)state;
    refused_patch("{\"title\":\"ok\",\"content\":\"ok\",\"author\":5}", 1, 422, "author");
    refused_patch("{\"author\":\"ok\",\"title\":\"ok\",\"content\":\"\xC0\xAF\"}", 1, 422,
                  "content");
    refused_patch("{\"author\":\"ok\",\"title\":\"ok\",\"content\":[]}", 1, 422, "content");
}

/* ---- bulk -------------------------------------------------------------- */

static void test_bulk_requires_array(void **state)
{
    (void)state;
    refused_bulk("{}", 10, 422, "", -1);
    refused_bulk("{\"op\":\"delete\",\"id\":1}", 10, 422, "", -1);
    refused_bulk("null", 10, 422, "", -1);
    refused_bulk("\"[]\"", 10, 422, "", -1);
}

static void test_bulk_empty(void **state)
{
    (void)state;
    store_bulk_op_t *ops = NULL;
    size_t n = 77;
    problem_t p = junk_problem();
    assert_int_equal(run_bulk("[]", 10, &ops, &n, &p), 0);
    assert_int_equal(n, 0);
    decode_bulk_free(ops, n);
}

static void test_bulk_max_ops(void **state)
{
    (void)state;
    const char *three = "[" UPSERT(1) "," UPSERT(2) "," UPSERT(3) "]";
    refused_bulk(three, 2, 422, "", -1);
    store_bulk_op_t *ops = NULL;
    size_t n = 0;
    problem_t p = junk_problem();
    assert_int_equal(run_bulk(three, 3, &ops, &n, &p), 0);
    assert_int_equal(n, 3);
    decode_bulk_free(ops, n);
}

static void test_bulk_success(void **state)
{
    (void)state;
    const char *body =
        "[" UPSERT(3) ",{\"op\":\"delete\",\"id\":4},"
                      "{\"article\":{\"id\":9007199254740991,\"title\":\"t\",\"content\":\"c\","
                      "\"author\":\"a\",\"updated_at\":\"x\"},\"op\":\"upsert\"},"
                      "{\"id\":3,\"op\":\"delete\"}]";
    store_bulk_op_t *ops = NULL;
    size_t n = 0;
    problem_t p = junk_problem();
    if (run_bulk(body, 1000, &ops, &n, &p) != 0)
        fail_msg("refused: %d %s %ld %s", p.status, p.field, p.index, p.detail);
    assert_int_equal(n, 4);
    assert_int_equal(ops[0].kind, STORE_BULK_UPSERT);
    assert_int_equal(ops[0].id, 3);
    assert_int_equal(ops[0].article.id, 3);
    assert_string_equal(ops[0].article.title, "t3");
    assert_string_equal(ops[0].article.content, "");
    assert_null(ops[0].article.author);
    assert_int_equal(ops[1].kind, STORE_BULK_DELETE);
    assert_int_equal(ops[1].id, 4);
    assert_null(ops[1].article.title);
    assert_int_equal(ops[2].kind, STORE_BULK_UPSERT);
    assert_int_equal(ops[2].id, DECODE_MAX_JSON_ID);
    assert_string_equal(ops[2].article.content, "c");
    assert_string_equal(ops[2].article.author, "a");
    assert_int_equal(ops[3].kind, STORE_BULK_DELETE);
    assert_int_equal(ops[3].id, 3);
    decode_bulk_free(ops, n);
}

static void test_bulk_op_kinds(void **state)
{
    (void)state;
    refused_bulk("[{\"op\":\"merge\",\"id\":1}]", 10, 422, "op", 0);
    refused_bulk("[{\"op\":\"Upsert\",\"article\":{\"id\":1,\"title\":\"a\"}}]", 10, 422, "op", 0);
    refused_bulk("[{\"op\":1,\"id\":1}]", 10, 422, "op", 0);
    refused_bulk("[{\"id\":1}]", 10, 422, "op", 0);
    refused_bulk("[{\"op\":\"delete\",\"op\":\"delete\",\"id\":1}]", 10, 422, "op", 0);
    refused_bulk("[{\"op\":\"delete\",\"id\":1,\"why\":\"x\"}]", 10, 422, "why", 0);
    refused_bulk("[1]", 10, 422, "", 0);
    refused_bulk("[[]]", 10, 422, "", 0);
}

static void test_bulk_upsert_rules(void **state)
{
    (void)state;
    refused_bulk("[{\"op\":\"upsert\",\"article\":{\"title\":\"a\"}}]", 10, 422, "article.id", 0);
    refused_bulk("[{\"op\":\"upsert\",\"id\":1,\"article\":{\"id\":1,\"title\":\"a\"}}]", 10, 422,
                 "id", 0);
    refused_bulk("[{\"op\":\"upsert\"}]", 10, 422, "article", 0);
    refused_bulk("[{\"op\":\"upsert\",\"article\":{\"id\":1}}]", 10, 422, "article.title", 0);
    refused_bulk("[{\"op\":\"upsert\",\"article\":{\"id\":1,\"title\":\"a\",\"x\":1}}]", 10, 422,
                 "article.x", 0);
    refused_bulk("[{\"op\":\"upsert\",\"article\":{\"id\":1,\"title\":\"a\\u0000\"}}]", 10, 422,
                 "article.title", 0);
}

/* An upsert's article must be an object: 422 at "article", with the index. */
static void test_bulk_article_not_object(void **state)
{
    (void)state;
    store_bulk_op_t *ops = NULL;
    size_t n = 0;
    problem_t p = junk_problem();
    assert_int_equal(run_bulk("[{\"op\":\"upsert\",\"article\":[1]}]", 10, &ops, &n, &p), -1);
    assert_problem(&p, 422, "article", 0);
    assert_null(ops);
    const char *values[] = {"[1]", "[]", "null", "1", "0", "true", "false", "\"x\"", "\"{}\"",
                            "[{\"id\":1,\"title\":\"a\"}]"};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        char body[256];
        snprintf(body, sizeof body, "[{\"op\":\"upsert\",\"article\":%s}]", values[i]);
        refused_bulk(body, 10, 422, "article", 0);
        snprintf(body, sizeof body, "[{\"article\":%s,\"op\":\"upsert\"}]", values[i]);
        refused_bulk(body, 10, 422, "article", 0);
        snprintf(body, sizeof body, "[" UPSERT(1) ",{\"op\":\"delete\",\"id\":2},"
                 "{\"op\":\"upsert\",\"article\":%s}," UPSERT(4) "]", values[i]);
        refused_bulk(body, 10, 422, "article", 2);
    }
    /* Missing altogether. */
    refused_bulk("[" UPSERT(1) "," UPSERT(2) "," UPSERT(3) ",{\"op\":\"upsert\"}]", 10, 422,
                 "article", 3);
}

static void test_bulk_delete_rules(void **state)
{
    (void)state;
    refused_bulk("[{\"op\":\"delete\",\"id\":1,\"article\":{\"id\":1,\"title\":\"a\"}}]", 10, 422,
                 "article", 0);
    refused_bulk("[{\"op\":\"delete\"}]", 10, 422, "id", 0);
}

/* The first failing operation is reported, after valid ones were decoded
 * (their strings must be freed: ASan). */
#define DELETE(id) "{\"op\":\"delete\",\"id\":" #id "}"
#define EMPTY_TITLE "{\"op\":\"upsert\",\"article\":{\"id\":5,\"title\":\"\"}}"
#define BAD_AUTHOR                                                                             \
    "{\"op\":\"upsert\",\"article\":{\"id\":3,\"title\":\"t\",\"author\":\"\xC0\xAF\"}}"

static void test_bulk_failing_index(void **state)
{
    (void)state;
    const char *five = "[" UPSERT(1) "," UPSERT(2) "," DELETE(3) "," UPSERT(4) "," EMPTY_TITLE
                       "," UPSERT(6) ",{\"op\":\"nope\"}]";
    refused_bulk(five, 100, 422, "article.title", 4);
    refused_bulk("[" UPSERT(1) "," DELETE(0) "]", 100, 422, "id", 1);
    refused_bulk("[" UPSERT(1) "," UPSERT(2) "," BAD_AUTHOR "]", 100, 422, "article.author", 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nul_field_names_outside_bulk),
        cmocka_unit_test(test_malformed_json_is_400),
        cmocka_unit_test(test_raw_nul_byte_is_400),
        cmocka_unit_test(test_bad_unicode_escape_is_400),
        cmocka_unit_test(test_non_object_is_422),
        cmocka_unit_test(test_minimal_post),
        cmocka_unit_test(test_full_post),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_unknown_member),
        cmocka_unit_test(test_duplicate_member),
        cmocka_unit_test(test_title_presence),
        cmocka_unit_test(test_blank_title_accepted),
        cmocka_unit_test(test_title_length),
        cmocka_unit_test(test_title_counts_code_points),
        cmocka_unit_test(test_content_size),
        cmocka_unit_test(test_content_empty_ok),
        cmocka_unit_test(test_author_length_and_null),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_nul_escape),
        cmocka_unit_test(test_nul_escape_reported_first),
        cmocka_unit_test(test_nul_escape_elsewhere),
        cmocka_unit_test(test_nul_escape_in_member_name),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_id_in_post),
        cmocka_unit_test(test_put_ids),
        cmocka_unit_test(test_put_path_id_above_max_json_id),
        cmocka_unit_test(test_bad_ids),
        cmocka_unit_test(test_timestamps_ignored),
        cmocka_unit_test(test_timestamps_any_type),
        cmocka_unit_test(test_patch_empty),
        cmocka_unit_test(test_patch_only_present_fields),
        cmocka_unit_test(test_patch_nulls),
        cmocka_unit_test(test_patch_rules),
        cmocka_unit_test(test_patch_id),
        cmocka_unit_test(test_patch_late_failure),
        cmocka_unit_test(test_bulk_requires_array),
        cmocka_unit_test(test_bulk_empty),
        cmocka_unit_test(test_bulk_max_ops),
        cmocka_unit_test(test_bulk_success),
        cmocka_unit_test(test_bulk_op_kinds),
        cmocka_unit_test(test_bulk_upsert_rules),
        cmocka_unit_test(test_bulk_article_not_object),
        cmocka_unit_test(test_bulk_delete_rules),
        cmocka_unit_test(test_bulk_failing_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
