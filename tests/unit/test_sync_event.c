/* test_sync_event.c - unit tests of the sync daemon's Kafka event (sync/event.c):
 * round trips, every refusal with its reason code and pointer, and the bulk
 * item checked against the REST core's own decoder. With EVENT_SAMPLES_OUT
 * set, every event encoded here is written to that file, one per line, for
 * tests/unit/check_event_schema.py to validate against the JSON Schema. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "event.h"
#include "json.h"

#define MIB (1024u * 1024)
#define TS "2026-11-22T04:17:13.123Z"

static FILE *samples; /* EVENT_SAMPLES_OUT, or NULL */

/* ---- helpers ----------------------------------------------------------- */

static event_text_t text_n(const char *s, size_t n) { return (event_text_t){(char *)s, n, false}; }
static event_text_t text(const char *s) { return text_n(s, strlen(s)); }
static const event_text_t null_text = {NULL, 0, true};

/* An upsert whose texts are borrowed from the arguments (author may be NULL). */
static event_t upsert(int64_t id, const char *title, const char *content, const char *author)
{
    event_t ev = {.op = EVENT_OP_UPSERT, .id = id, .seq = 42, .source = EVENT_SOURCE_SQLITE};
    strcpy(ev.ts, TS);
    ev.title = text(title);
    ev.content = text(content);
    ev.author = author ? text(author) : null_text;
    ev.created_at = text("2026-11-20T09:00:00.000Z");
    ev.updated_at = text("2026-11-22T04:17:12.871+01:00");
    return ev;
}

static event_t delete_event(int64_t id)
{
    event_t ev = {.op = EVENT_OP_DELETE, .id = id, .seq = 43, .source = EVENT_SOURCE_POSTGRESQL};
    strcpy(ev.ts, TS);
    return ev;
}

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

/* The event's JSON value (caller frees); also written to the samples. */
static char *encode_ok(const event_t *ev, size_t *len)
{
    buf_t b = {0};
    event_error_t err;
    if (event_encode(ev, &b) != 0) {
        event_validate(ev, &err);
        fail_msg("encode refused: %s %s: %s", err.reason, err.pointer, err.message);
    }
    assert_int_equal(event_validate(ev, &err), 0);
    assert_null(err.reason);
    assert_int_equal(strlen(b.data), b.len);
    if (samples)
        fprintf(samples, "%s\n", b.data);
    *len = b.len;
    return buf_detach(&b);
}

/* Decodes json[0..len) from an exactly sized heap copy, so that ASan sees a
 * read past len. */
static int decode_n(const char *json, size_t len, event_t *out, event_error_t *err)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, json, len);
    int rc = event_decode(copy, len, out, err);
    assert_memory_equal(copy, json, len);
    free(copy);
    return rc;
}

static void decode_ok(const char *json, size_t len, event_t *out)
{
    event_error_t err;
    if (decode_n(json, len, out, &err) != 0)
        fail_msg("refused: %s %s: %s\n  %.300s", err.reason, err.pointer, err.message, json);
    assert_null(err.reason);
}

static void assert_text_equal(const event_text_t *a, const event_text_t *b, const char *what)
{
    if (a->is_null != b->is_null || (!a->is_null && a->len != b->len))
        fail_msg("%s differs: null %d/%d, %zu/%zu bytes", what, a->is_null, b->is_null, a->len,
                 b->len);
    if (!a->is_null && a->len && memcmp(a->data, b->data, a->len) != 0)
        fail_msg("%s differs", what);
    if (!b->is_null) { /* a decoded text is a C string */
        assert_non_null(b->data);
        assert_int_equal(b->data[b->len], '\0');
    }
}

/* want is the event encoded, got the decoded one. */
static void assert_events_equal(const event_t *want, const event_t *got)
{
    assert_int_equal(want->op, got->op);
    assert_int_equal(want->id, got->id);
    assert_int_equal(want->seq, got->seq);
    assert_int_equal(want->source, got->source);
    assert_string_equal(want->ts, got->ts);
    if (want->op == EVENT_OP_DELETE) {
        assert_null(got->title.data);
        assert_null(got->content.data);
        return;
    }
    assert_text_equal(&want->title, &got->title, "title");
    assert_text_equal(&want->content, &got->content, "content");
    assert_text_equal(&want->author, &got->author, "author");
    assert_text_equal(&want->created_at, &got->created_at, "created_at");
    assert_text_equal(&want->updated_at, &got->updated_at, "updated_at");
}

static void assert_rest_text(const event_text_t *t, const char *s)
{
    if (t->is_null) {
        assert_null(s);
        return;
    }
    assert_non_null(s);
    assert_int_equal(strlen(s), t->len);
    assert_memory_equal(s, t->len ? t->data : "", t->len);
}

/* The bulk item must pass the REST core's own bulk decoder unchanged. */
static void assert_rest_accepts(const event_t *ev)
{
    static const article_limits_t lim = {200, 100, 1048576};
    buf_t body = {0};
    buf_putc(&body, '[');
    assert_int_equal(event_to_bulk_item(ev, &body), 0);
    buf_putc(&body, ']');
    store_bulk_op_t *ops = NULL;
    size_t n = 0;
    problem_t p;
    if (decode_bulk_body(body.data, body.len, 1, &lim, &ops, &n, &p) != 0)
        fail_msg("the REST core refused %.200s: %d %s %s", body.data, p.status, p.field, p.detail);
    assert_int_equal(n, 1);
    assert_int_equal(ops[0].id, ev->id);
    if (ev->op == EVENT_OP_DELETE) {
        assert_int_equal(ops[0].kind, STORE_BULK_DELETE);
    } else {
        assert_int_equal(ops[0].kind, STORE_BULK_UPSERT);
        assert_int_equal(ops[0].article.id, ev->id);
        assert_rest_text(&ev->title, ops[0].article.title);
        assert_rest_text(&ev->content, ops[0].article.content);
        assert_rest_text(&ev->author, ops[0].article.author);
    }
    decode_bulk_free(ops, n);
    buf_free(&body);
}

/* Encode, decode, compare; the second encoding is byte for byte the first. */
static void round_trip(const event_t *ev)
{
    size_t len, len2;
    char *json = encode_ok(ev, &len);
    event_t got;
    decode_ok(json, len, &got);
    assert_events_equal(ev, &got);
    char *again = encode_ok(&got, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(json, again, len);
    assert_rest_accepts(ev);
    event_free(&got);
    free(again);
    free(json);
}

static event_error_t junk_error(void)
{
    event_error_t e;
    memset(&e, 0x5A, sizeof e);
    e.reason = "junk";
    e.message[sizeof e.message - 1] = '\0';
    e.pointer[sizeof e.pointer - 1] = '\0';
    return e;
}

static void assert_error(const event_error_t *e, const char *reason, const char *pointer,
                         const char *what)
{
    if (!e->reason || strcmp(e->reason, reason) != 0 || strcmp(e->pointer, pointer) != 0)
        fail_msg("got %s '%s' (%s); want %s '%s'\n  for %.300s", e->reason ? e->reason : "NULL",
                 e->pointer, e->message, reason, pointer, what);
    assert_true(e->message[0] != '\0');
}

static void refused_n(const char *json, size_t len, const char *reason, const char *pointer)
{
    event_t out;
    memset(&out, 0x5A, sizeof out);
    event_error_t err = junk_error();
    int rc = decode_n(json, len, &out, &err);
    if (rc == 0) {
        event_free(&out);
        fail_msg("accepted: %.300s", json);
    }
    assert_int_equal(rc, EVENT_EINVAL);
    assert_error(&err, reason, pointer, json);
    event_t zero = {0};
    assert_memory_equal(&out, &zero, sizeof out);
}

static void refused(const char *json, const char *reason, const char *pointer)
{
    refused_n(json, strlen(json), reason, pointer);
}

static void accepted(const char *json)
{
    event_t ev;
    decode_ok(json, strlen(json), &ev);
    event_free(&ev);
}

/* An event the producer must not send: validate names the fault, both
 * encoders refuse and leave the buffer as it was. */
static void invalid_event(const event_t *ev, const char *reason, const char *pointer)
{
    event_error_t err = junk_error();
    assert_int_equal(event_validate(ev, &err), EVENT_EINVAL);
    assert_error(&err, reason, pointer, "a hand-built event");
    buf_t b = {0};
    buf_puts(&b, "prefix");
    assert_int_equal(event_encode(ev, &b), EVENT_EINVAL);
    assert_int_equal(event_to_bulk_item(ev, &b), EVENT_EINVAL);
    assert_string_equal(b.data, "prefix");
    buf_free(&b);
}

/* A valid upsert as a cJSON tree, to be broken one member at a time. */
static const char base_upsert[] =
    "{\"v\":1,\"op\":\"upsert\",\"id\":7,\"seq\":3,\"ts\":\"" TS "\",\"source\":\"sqlite\","
    "\"article\":{\"id\":7,\"title\":\"T\",\"content\":\"C\",\"author\":null,"
    "\"created_at\":null,\"updated_at\":null}}";

static cJSON *base_tree(void)
{
    cJSON *root = cJSON_Parse(base_upsert);
    assert_non_null(root);
    return root;
}

static void refused_tree(cJSON *root, const char *reason, const char *pointer)
{
    char *json = cJSON_PrintUnformatted(root);
    assert_non_null(json);
    refused(json, reason, pointer);
    cJSON_free(json);
    cJSON_Delete(root);
}

/* ---- round trips ------------------------------------------------------- */

static void test_encode_exact(void **state)
{
    (void)state;
    event_t ev = upsert(7, "Seven", "Text", NULL);
    size_t len;
    char *json = encode_ok(&ev, &len);
    assert_string_equal(json,
                        "{\"v\":1,\"op\":\"upsert\",\"id\":7,\"seq\":42,\"ts\":\"" TS "\","
                        "\"source\":\"sqlite\",\"article\":{\"id\":7,\"title\":\"Seven\","
                        "\"content\":\"Text\",\"author\":null,"
                        "\"created_at\":\"2026-11-20T09:00:00.000Z\","
                        "\"updated_at\":\"2026-11-22T04:17:12.871+01:00\"}}");
    free(json);
    ev = delete_event(9007199254740991LL);
    json = encode_ok(&ev, &len);
    assert_string_equal(json, "{\"v\":1,\"op\":\"delete\",\"id\":9007199254740991,\"seq\":43,"
                              "\"ts\":\"" TS "\",\"source\":\"postgresql\"}");
    free(json);
}

static void test_round_trip_upsert(void **state)
{
    (void)state;
    event_t ev = upsert(1, "Hello", "First article", "ada");
    round_trip(&ev);
    ev.seq = 9007199254740991LL;
    ev.source = EVENT_SOURCE_POSTGRESQL;
    round_trip(&ev);
}

static void test_round_trip_delete(void **state)
{
    (void)state;
    event_t ev = delete_event(42);
    round_trip(&ev);
    /* A delete's article members are ignored. */
    ev.title = text("ignored");
    ev.author = text("\x01");
    size_t len;
    char *json = encode_ok(&ev, &len);
    assert_null(strstr(json, "article"));
    free(json);
}

static void test_round_trip_nulls_and_empty(void **state)
{
    (void)state;
    event_t ev = upsert(5, "t", "", NULL);
    ev.created_at = null_text;
    ev.updated_at = null_text;
    round_trip(&ev);
    ev.content = text_n(NULL, 0); /* empty, no data */
    round_trip(&ev);
    ev.author = text("");
    round_trip(&ev);
}

static void test_round_trip_unicode(void **state)
{
    (void)state;
    event_t ev =
        upsert(3, "Ünïcödé – 中文 – \xF0\x9F\x98\x80", "\xE2\x80\xA8 and \xE2\x80\xA9", "Zoë");
    round_trip(&ev);
    /* Valid UTF-8 is copied, not escaped. */
    size_t len;
    char *json = encode_ok(&ev, &len);
    assert_non_null(strstr(json, "\"Ünïcödé – 中文 – \xF0\x9F\x98\x80\""));
    assert_non_null(strstr(json, "\"Zoë\""));
    free(json);
}

static void test_round_trip_control_characters(void **state)
{
    (void)state;
    char all[40];
    size_t n = 0;
    for (int c = 1; c < 0x20; c++)
        all[n++] = (char)c;
    all[n++] = 0x7F;
    all[n] = '\0';
    event_t ev = upsert(4, all, all, all);
    round_trip(&ev);
    size_t len;
    char *json = encode_ok(&ev, &len);
    assert_non_null(strstr(json, "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n"
                                 "\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014"
                                 "\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d"
                                 "\\u001e\\u001f\x7F\""));
    for (size_t i = 0; i < len; i++)
        assert_true((unsigned char)json[i] >= 0x20);
    free(json);
}

static void test_round_trip_quotes_backslashes(void **state)
{
    (void)state;
    event_t ev = upsert(6, "\"quoted\" \\ back\\slash \\\" /slash/",
                        "\\u0000 is not a NUL here; \\\\\" \"\"", "O'Brien \"\\\"");
    round_trip(&ev);
    size_t len;
    char *json = encode_ok(&ev, &len);
    assert_non_null(
        strstr(json, "\"title\":\"\\\"quoted\\\" \\\\ back\\\\slash \\\\\\\" /slash/\""));
    free(json);
}

/* Long texts cross the eight-byte fast path with specials at every offset. */
static void test_round_trip_every_offset(void **state)
{
    (void)state;
    char s[64];
    static const char *const specials[] = {"\"", "\\", "\n", "\x1F", "\xC3\xA9", "\xE2\x82\xAC",
                                           "\xF0\x9F\x98\x80"};
    for (size_t k = 0; k < sizeof specials / sizeof *specials; k++) {
        for (size_t at = 0; at < 20; at++) {
            memset(s, 'a', at);
            size_t sl = strlen(specials[k]);
            memcpy(s + at, specials[k], sl);
            memset(s + at + sl, 'b', 20);
            s[at + sl + 20] = '\0';
            event_t ev = upsert(8, s, s, s);
            round_trip(&ev);
        }
    }
}

static void test_round_trip_max_sizes(void **state)
{
    (void)state;
    char *title = repeat("", "\xF0\x9F\x98\x80", 200, ""); /* 800 bytes */
    char *author = repeat("", "\xC3\xA9", 100, "");
    char *content = repeat("", "abcdefgh", MIB / 8, "");
    event_t ev = upsert(9007199254740991LL, title, content, author);
    round_trip(&ev);
    /* Escapes take room, but a typical worst case still fits in 2 MiB. */
    memset(content, '"', MIB / 2);
    round_trip(&ev);
    free(title);
    free(author);
    free(content);
}

/* ---- what the decoder accepts ------------------------------------------ */

static void test_decode_accepts(void **state)
{
    (void)state;
    event_t ev;
    /* Any order, any white space, escapes of every kind. */
    const char *json =
        " {\n\t\"article\" : {\"updated_at\":null,\"created_at\":\"2024-02-29T23:59:59.5-12:00\","
        "\"author\":\"\\u00e9\\ud83d\\ude00\",\"content\":\"a\\/b\",\"title\":\"x\",\"id\":7.0},"
        "\"source\":\"postgresql\",\"ts\":\"2026-01-01T00:00:00Z\",\"seq\":3e0,\"id\":7,"
        "\"op\":\"upsert\",\"v\":1.0 }\r\n";
    decode_ok(json, strlen(json), &ev);
    assert_int_equal(ev.id, 7);
    assert_int_equal(ev.seq, 3);
    assert_int_equal(ev.source, EVENT_SOURCE_POSTGRESQL);
    assert_string_equal(ev.author.data, "\xC3\xA9\xF0\x9F\x98\x80");
    assert_string_equal(ev.content.data, "a/b");
    assert_string_equal(ev.created_at.data, "2024-02-29T23:59:59.5-12:00");
    assert_true(ev.updated_at.is_null);
    assert_null(ev.updated_at.data);
    event_free(&ev);
    /* A delete may carry article: null. */
    accepted("{\"v\":1,\"op\":\"delete\",\"id\":1,\"seq\":1,\"ts\":\"" TS
             "\",\"source\":\"sqlite\",\"article\":null}");
    accepted("{\"v\":1,\"op\":\"delete\",\"id\":1,\"seq\":1,\"ts\":\"2026-11-22T04:17:13.123456789Z"
             "\",\"source\":\"sqlite\"}");
    /* err may be NULL. */
    assert_int_equal(event_decode(base_upsert, strlen(base_upsert), &ev, NULL), 0);
    event_free(&ev);
    assert_int_equal(event_decode("{", 1, &ev, NULL), EVENT_EINVAL);
}

/* ---- refusals ---------------------------------------------------------- */

static void test_refuse_bad_json(void **state)
{
    (void)state;
    refused("", EVENT_R_BAD_JSON, "");
    refused("{", EVENT_R_BAD_JSON, "");
    refused("{}x", EVENT_R_BAD_JSON, "");
    refused("{\"v\":01}", EVENT_R_BAD_JSON, "");
    refused("{\"v\":1,}", EVENT_R_BAD_JSON, "");
    refused("{\"v\":NaN}", EVENT_R_BAD_JSON, "");
    refused("{\"v\":\"\x01\"}", EVENT_R_BAD_JSON, "");
    refused("{'v':1}", EVENT_R_BAD_JSON, "");
    refused_n("{\"v\":1}\0", 8, EVENT_R_BAD_JSON, "");
    char *deep = repeat("", "[", 100, "");
    refused(deep, EVENT_R_BAD_JSON, "");
    free(deep);
    /* Exactly the text given: a valid event cut short is not JSON. */
    refused_n(base_upsert, strlen(base_upsert) - 1, EVENT_R_BAD_JSON, "");
}

static void test_refuse_not_object(void **state)
{
    (void)state;
    refused("[]", EVENT_R_BAD_TYPE, "");
    refused("null", EVENT_R_BAD_TYPE, "");
    refused("\"event\"", EVENT_R_BAD_TYPE, "");
}

static void test_refuse_nul_and_bad_utf8(void **state)
{
    (void)state;
    cJSON *root = base_tree();
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(root, "article"), "title",
                              cJSON_CreateString("a\xC3"));
    refused_tree(root, EVENT_R_BAD_VALUE, "/article/title");
    root = base_tree();
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(root, "article"), "author",
                              cJSON_CreateString("\xED\xA0\x80")); /* a surrogate */
    refused_tree(root, EVENT_R_BAD_VALUE, "/article/author");
    root = base_tree();
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(root, "article"), "content",
                              cJSON_CreateString("\xC0\xAF")); /* overlong */
    refused_tree(root, EVENT_R_BAD_VALUE, "/article/content");
    refused("{\"v\":1,\"op\":\"upsert\",\"id\":7,\"seq\":3,\"ts\":\"" TS "\",\"source\":\"sqlite\","
            "\"article\":{\"id\":7,\"title\":\"a\\u0000b\",\"content\":\"\",\"author\":null,"
            "\"created_at\":null,\"updated_at\":null}}",
            EVENT_R_BAD_VALUE, "/article/title");
    refused("{\"v\":1,\"op\":\"delete\\u0000\"}", EVENT_R_BAD_VALUE, "/op");
}

static void test_refuse_missing(void **state)
{
    (void)state;
    static const char *const top[] = {"v", "op", "id", "seq", "ts", "source", "article"};
    static const char *const art[] = {"id",     "title",      "content",
                                      "author", "created_at", "updated_at"};
    char ptr[64];
    for (size_t i = 0; i < sizeof top / sizeof *top; i++) {
        cJSON *root = base_tree();
        cJSON_DeleteItemFromObject(root, top[i]);
        snprintf(ptr, sizeof ptr, "/%s", top[i]);
        refused_tree(root, EVENT_R_MISSING_FIELD, ptr);
    }
    for (size_t i = 0; i < sizeof art / sizeof *art; i++) {
        cJSON *root = base_tree();
        cJSON_DeleteItemFromObject(cJSON_GetObjectItem(root, "article"), art[i]);
        snprintf(ptr, sizeof ptr, "/article/%s", art[i]);
        refused_tree(root, EVENT_R_MISSING_FIELD, ptr);
    }
}

/* Replaces member name of the event (or of its article) with value. */
static void refused_with(bool in_article, const char *name, cJSON *value, const char *reason)
{
    cJSON *root = base_tree();
    cJSON *obj = in_article ? cJSON_GetObjectItem(root, "article") : root;
    assert_true(cJSON_ReplaceItemInObject(obj, name, value));
    char ptr[64];
    snprintf(ptr, sizeof ptr, "%s/%s", in_article ? "/article" : "", name);
    refused_tree(root, reason, ptr);
}

static void test_refuse_types(void **state)
{
    (void)state;
    static const char *const numbers[] = {"id", "seq"};
    static const char *const words[] = {"op", "ts", "source"};
    for (size_t i = 0; i < 2; i++) {
        refused_with(false, numbers[i], cJSON_CreateString("7"), EVENT_R_BAD_TYPE);
        refused_with(false, numbers[i], cJSON_CreateNumber(7.5), EVENT_R_BAD_TYPE);
        refused_with(false, numbers[i], cJSON_CreateTrue(), EVENT_R_BAD_TYPE);
        refused_with(false, numbers[i], cJSON_CreateNull(), EVENT_R_BAD_TYPE);
    }
    for (size_t i = 0; i < 3; i++) {
        refused_with(false, words[i], cJSON_CreateNumber(1), EVENT_R_BAD_TYPE);
        refused_with(false, words[i], cJSON_CreateNull(), EVENT_R_BAD_TYPE);
        refused_with(false, words[i], cJSON_CreateArray(), EVENT_R_BAD_TYPE);
    }
    refused_with(false, "v", cJSON_CreateString("1"), EVENT_R_BAD_TYPE);
    refused_with(false, "v", cJSON_CreateFalse(), EVENT_R_BAD_TYPE);
    refused_with(false, "article", cJSON_CreateArray(), EVENT_R_BAD_TYPE);
    refused_with(false, "article", cJSON_CreateString("{}"), EVENT_R_BAD_TYPE);
    refused_with(true, "id", cJSON_CreateString("7"), EVENT_R_BAD_TYPE);
    refused_with(true, "title", cJSON_CreateNull(), EVENT_R_BAD_TYPE);
    refused_with(true, "title", cJSON_CreateNumber(1), EVENT_R_BAD_TYPE);
    refused_with(true, "content", cJSON_CreateNull(), EVENT_R_BAD_TYPE);
    refused_with(true, "content", cJSON_CreateObject(), EVENT_R_BAD_TYPE);
    refused_with(true, "author", cJSON_CreateFalse(), EVENT_R_BAD_TYPE);
    refused_with(true, "created_at", cJSON_CreateNumber(1700000000), EVENT_R_BAD_TYPE);
    refused_with(true, "updated_at", cJSON_CreateArray(), EVENT_R_BAD_TYPE);
}

static void test_refuse_unknown_and_duplicate(void **state)
{
    (void)state;
    cJSON *root = base_tree();
    cJSON_AddNumberToObject(root, "extra", 1);
    refused_tree(root, EVENT_R_UNKNOWN_FIELD, "/extra");
    root = base_tree();
    cJSON_AddNullToObject(cJSON_GetObjectItem(root, "article"), "body");
    refused_tree(root, EVENT_R_UNKNOWN_FIELD, "/article/body");
    root = base_tree();
    cJSON_AddNullToObject(root, "a/b~c");
    refused_tree(root, EVENT_R_UNKNOWN_FIELD, "/a~1b~0c");
    root = base_tree();
    cJSON_AddNullToObject(root, "ID"); /* names are case-sensitive */
    refused_tree(root, EVENT_R_UNKNOWN_FIELD, "/ID");
    /* A hostile name: invalid UTF-8 is replaced, a long one is cut between characters. */
    root = base_tree();
    cJSON_AddNullToObject(root, "x\xFFy");
    refused_tree(root, EVENT_R_UNKNOWN_FIELD, "/x\xEF\xBF\xBDy");
    char *name = repeat("", "\xE2\x82\xAC", 100, "");
    root = base_tree();
    cJSON_AddNullToObject(root, name);
    char *want = repeat("/", "\xE2\x82\xAC", 42, ""); /* 127 bytes fit with the NUL */
    refused_tree(root, EVENT_R_UNKNOWN_FIELD, want);
    free(name);
    free(want);

    refused("{\"v\":1,\"op\":\"delete\",\"id\":1,\"id\":1,\"seq\":1,\"ts\":\"" TS
            "\",\"source\":\"sqlite\"}",
            EVENT_R_DUPLICATE_FIELD, "/id");
    refused("{\"v\":1,\"op\":\"upsert\",\"id\":7,\"seq\":3,\"ts\":\"" TS "\",\"source\":\"sqlite\","
            "\"article\":{\"id\":7,\"title\":\"T\",\"title\":\"U\",\"content\":\"C\","
            "\"author\":null,\"created_at\":null,\"updated_at\":null}}",
            EVENT_R_DUPLICATE_FIELD, "/article/title");
}

static void test_refuse_version(void **state)
{
    (void)state;
    refused_with(false, "v", cJSON_CreateNumber(2), EVENT_R_BAD_VERSION);
    refused_with(false, "v", cJSON_CreateNumber(0), EVENT_R_BAD_VERSION);
    refused_with(false, "v", cJSON_CreateNumber(1.5), EVENT_R_BAD_VERSION);
    /* A later version may have members this one lacks: its version is the reason. */
    refused("{\"v\":2,\"kind\":\"upsert\"}", EVENT_R_BAD_VERSION, "/v");
    refused("{\"kind\":\"upsert\"}", EVENT_R_MISSING_FIELD, "/v");
}

static void test_refuse_op_and_source(void **state)
{
    (void)state;
    refused_with(false, "op", cJSON_CreateString("insert"), EVENT_R_BAD_VALUE);
    refused_with(false, "op", cJSON_CreateString("Upsert"), EVENT_R_BAD_VALUE);
    refused_with(false, "source", cJSON_CreateString("mysql"), EVENT_R_BAD_VALUE);
    refused_with(false, "source", cJSON_CreateString(""), EVENT_R_BAD_VALUE);
    /* op and article must agree. */
    refused_with(false, "article", cJSON_CreateNull(), EVENT_R_OP_MISMATCH);
    cJSON *root = base_tree();
    cJSON_ReplaceItemInObject(root, "op", cJSON_CreateString("delete"));
    refused_tree(root, EVENT_R_OP_MISMATCH, "/article");
    refused("{\"v\":1,\"op\":\"delete\",\"id\":1,\"seq\":1,\"ts\":\"" TS
            "\",\"source\":\"sqlite\",\"article\":{}}",
            EVENT_R_OP_MISMATCH, "/article");
}

static void test_refuse_ids(void **state)
{
    (void)state;
    static const double out[] = {0, -1, -7, 1e300}; /* cJSON prints 2^53 inexactly: below */
    for (size_t i = 0; i < sizeof out / sizeof *out; i++) {
        refused_with(false, "id", cJSON_CreateNumber(out[i]), EVENT_R_OUT_OF_RANGE);
        refused_with(false, "seq", cJSON_CreateNumber(out[i]), EVENT_R_OUT_OF_RANGE);
        refused_with(true, "id", cJSON_CreateNumber(out[i]), EVENT_R_OUT_OF_RANGE);
    }
    refused("{\"v\":1,\"op\":\"delete\",\"id\":1e400,\"seq\":1,\"ts\":\"" TS
            "\",\"source\":\"sqlite\"}",
            EVENT_R_OUT_OF_RANGE, "/id");
    refused("{\"v\":1,\"op\":\"delete\",\"id\":-0,\"seq\":1,\"ts\":\"" TS
            "\",\"source\":\"sqlite\"}",
            EVENT_R_OUT_OF_RANGE, "/id");
    refused("{\"v\":1,\"op\":\"delete\",\"id\":9007199254740992,\"seq\":1,\"ts\":\"" TS
            "\",\"source\":\"sqlite\"}",
            EVENT_R_OUT_OF_RANGE, "/id");
    refused("{\"v\":1,\"op\":\"delete\",\"id\":1,\"seq\":9007199254740992,\"ts\":\"" TS
            "\",\"source\":\"sqlite\"}",
            EVENT_R_OUT_OF_RANGE, "/seq");
    refused("{\"v\":1,\"op\":\"upsert\",\"id\":7,\"seq\":3,\"ts\":\"" TS "\",\"source\":\"sqlite\","
            "\"article\":{\"id\":9007199254740992,\"title\":\"T\",\"content\":\"C\","
            "\"author\":null,\"created_at\":null,\"updated_at\":null}}",
            EVENT_R_OUT_OF_RANGE, "/article/id");
    /* 2^53 + 1 reads as 2^53 and is refused, not rounded into range. */
    refused("{\"v\":1,\"op\":\"delete\",\"id\":9007199254740993,\"seq\":1,\"ts\":\"" TS
            "\",\"source\":\"sqlite\"}",
            EVENT_R_OUT_OF_RANGE, "/id");
    refused_with(true, "id", cJSON_CreateNumber(8), EVENT_R_ID_MISMATCH);
    refused_with(true, "id", cJSON_CreateNumber(7.25), EVENT_R_BAD_TYPE);
}

static void test_refuse_times(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "2026-11-22T04:17:13.123+00:00", /* first: only ts must say Z */
        "2026-11-22 04:17:13Z",
        "2026-11-22t04:17:13z",
        "2026-11-22T04:17:13",
        "2026-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-11-22T24:00:00Z",
        "2026-11-22T23:60:00Z",
        "2016-12-31T23:59:60Z", /* a leap second: common readers refuse it */
        "0000-01-01T00:00:00Z",
        "2026-11-22T04:17:13.Z",
        "2026-11-22T04:17:13.1234567890Z",
        "2026-11-22T04:17:13Z ",
        "+2026-11-22T04:17:13Z",
        "2026-11-22T04:17:13ZZ",
        "",
        "yesterday",
        "2026-11-22T04:17:13.123456789012345678901234567890Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        refused_with(false, "ts", cJSON_CreateString(bad[i]), EVENT_R_BAD_VALUE);
        if (i > 0)
            refused_with(true, "created_at", cJSON_CreateString(bad[i]), EVENT_R_BAD_VALUE);
    }
    static const char *const bad_offsets[] = {
        "2026-11-22T04:17:13+24:00", "2026-11-22T04:17:13+01:60", "2026-11-22T04:17:13+0100",
        "2026-11-22T04:17:13+01:00Z", "2026-11-22T04:17:13-1:00",
    };
    for (size_t i = 0; i < sizeof bad_offsets / sizeof *bad_offsets; i++)
        refused_with(true, "updated_at", cJSON_CreateString(bad_offsets[i]), EVENT_R_BAD_VALUE);

    event_t ev = upsert(1, "t", "c", NULL);
    strcpy(ev.ts, "2000-02-29T23:59:59.000000001Z");
    ev.created_at = text("1900-01-01T00:00:00-23:59");
    ev.updated_at = text("9999-12-31T23:59:59.999999999+23:59");
    round_trip(&ev);
}

static void test_refuse_sizes(void **state)
{
    (void)state;
    char *s = repeat("", "\xF0\x9F\x98\x80", 201, "");
    refused_with(true, "title", cJSON_CreateString(s), EVENT_R_TOO_LARGE);
    free(s);
    s = repeat("", "x", 1000, ""); /* over the bytes 200 characters can take */
    refused_with(true, "title", cJSON_CreateString(s), EVENT_R_TOO_LARGE);
    free(s);
    refused_with(true, "title", cJSON_CreateString(""), EVENT_R_BAD_VALUE);
    s = repeat("", "\xC3\xA9", 101, "");
    refused_with(true, "author", cJSON_CreateString(s), EVENT_R_TOO_LARGE);
    free(s);
    s = repeat("", "x", MIB + 1, "");
    refused_with(true, "content", cJSON_CreateString(s), EVENT_R_TOO_LARGE);
    free(s);
    /* The whole value above 2 MiB, white space included. */
    s = repeat("", " ", 2 * MIB - strlen(base_upsert) + 1, base_upsert);
    refused(s, EVENT_R_TOO_LARGE, "");
    accepted(s + 1); /* exactly 2 MiB */
    free(s);
}

/* A value just under 2 MiB whose compact form is over it (numbers written
 * as 1e15 grow to 16 digits) is refused: what is accepted re-encodes. */
static void test_refuse_reencoding_too_large(void **state)
{
    (void)state;
    const char *head = "{\"v\":1,\"op\":\"upsert\",\"id\":1e15,\"seq\":1e15,\"ts\":\"" TS
                       "\",\"source\":\"sqlite\",\"article\":{\"id\":1e15,\"title\":\"T\","
                       "\"author\":null,\"created_at\":null,\"updated_at\":null,\"content\":\"";
    size_t target = 2 * MIB - 8 - strlen(head) - 3;
    size_t escapes = target / 6, plain = target - escapes * 6;
    char *body = repeat(head, "\\u0001", escapes, "");
    char *value = repeat(body, "a", plain, "\"}}");
    assert_int_equal(strlen(value), 2 * MIB - 8);
    refused(value, EVENT_R_TOO_LARGE, "");
    free(body);
    free(value);
}

/* ---- the producer's side ----------------------------------------------- */

static void test_invalid_events(void **state)
{
    (void)state;
    event_t ev = upsert(1, "t", "c", "a");
    ev.id = 0;
    invalid_event(&ev, EVENT_R_OUT_OF_RANGE, "/id");
    ev.id = 9007199254740992LL;
    invalid_event(&ev, EVENT_R_OUT_OF_RANGE, "/id");
    ev = upsert(1, "t", "c", "a");
    ev.seq = -5;
    invalid_event(&ev, EVENT_R_OUT_OF_RANGE, "/seq");
    ev = upsert(1, "t", "c", "a");
    ev.op = 0;
    invalid_event(&ev, EVENT_R_BAD_VALUE, "/op");
    ev = upsert(1, "t", "c", "a");
    ev.source = 3;
    invalid_event(&ev, EVENT_R_BAD_VALUE, "/source");
    ev = upsert(1, "t", "c", "a");
    memset(ev.ts, '1', sizeof ev.ts); /* no terminator */
    invalid_event(&ev, EVENT_R_BAD_VALUE, "/ts");
    strcpy(ev.ts, "2026-11-22T04:17:13+01:00");
    invalid_event(&ev, EVENT_R_BAD_VALUE, "/ts");

    ev = upsert(1, "t", "c", "a");
    ev.title = null_text;
    invalid_event(&ev, EVENT_R_BAD_TYPE, "/article/title");
    ev.title = text("");
    invalid_event(&ev, EVENT_R_BAD_VALUE, "/article/title");
    ev.title = text_n("a\0b", 3);
    invalid_event(&ev, EVENT_R_BAD_VALUE, "/article/title");
    ev.title = text("caf\xE9"); /* Latin-1 */
    invalid_event(&ev, EVENT_R_BAD_VALUE, "/article/title");
    ev.title = text("t");
    ev.content = text_n(NULL, 3);
    invalid_event(&ev, EVENT_R_BAD_VALUE, "/article/content");
    ev.content = null_text;
    invalid_event(&ev, EVENT_R_BAD_TYPE, "/article/content");
    ev.content = text("\xF4\x90\x80\x80"); /* above U+10FFFF */
    invalid_event(&ev, EVENT_R_BAD_VALUE, "/article/content");
    ev.content = text("c");
    ev.author = text("\xE2\x82"); /* cut short */
    invalid_event(&ev, EVENT_R_BAD_VALUE, "/article/author");
    ev.author = null_text;
    ev.created_at = text("2026-11-22");
    invalid_event(&ev, EVENT_R_BAD_VALUE, "/article/created_at");
    ev.created_at = text_n(NULL, 0);
    invalid_event(&ev, EVENT_R_BAD_VALUE, "/article/created_at");
    ev.created_at = null_text;
    ev.updated_at = text_n("2026-11-22T04:17:13Z", 19);
    invalid_event(&ev, EVENT_R_BAD_VALUE, "/article/updated_at");

    char *s = repeat("", "x", 201, "");
    ev = upsert(1, s, "c", NULL);
    invalid_event(&ev, EVENT_R_TOO_LARGE, "/article/title");
    free(s);
    s = repeat("", "x", 101, "");
    ev = upsert(1, "t", "c", s);
    invalid_event(&ev, EVENT_R_TOO_LARGE, "/article/author");
    free(s);
    s = repeat("", "x", MIB + 1, "");
    ev = upsert(1, "t", s, NULL);
    invalid_event(&ev, EVENT_R_TOO_LARGE, "/article/content");
    free(s);
    /* 1 MiB of control characters is 6 MiB escaped: over the value limit. */
    s = repeat("", "\x01", MIB, "");
    ev = upsert(1, "t", s, NULL);
    invalid_event(&ev, EVENT_R_TOO_LARGE, "");
    free(s);
}

static void test_encode_appends(void **state)
{
    (void)state;
    buf_t b = {0};
    event_t ev = delete_event(12);
    buf_puts(&b, "[");
    assert_int_equal(event_encode(&ev, &b), 0);
    buf_puts(&b, ",");
    assert_int_equal(event_to_bulk_item(&ev, &b), 0);
    buf_puts(&b, "]");
    assert_string_equal(b.data, "[{\"v\":1,\"op\":\"delete\",\"id\":12,\"seq\":43,\"ts\":\"" TS
                                "\",\"source\":\"postgresql\"},{\"op\":\"delete\",\"id\":12}]");
    buf_free(&b);
}

static void test_bulk_items(void **state)
{
    (void)state;
    buf_t b = {0};
    event_t ev = upsert(7, "Seven \"7\"", "Line\nbreak", NULL);
    assert_int_equal(event_to_bulk_item(&ev, &b), 0);
    assert_string_equal(b.data, "{\"op\":\"upsert\",\"article\":{\"id\":7,\"title\":\"Seven "
                                "\\\"7\\\"\",\"content\":\"Line\\nbreak\",\"author\":null}}");
    buf_free(&b);
    assert_rest_accepts(&ev);
    ev.author = text("ada");
    assert_rest_accepts(&ev);
    ev = delete_event(9007199254740991LL);
    assert_rest_accepts(&ev);
}

static void test_keys(void **state)
{
    (void)state;
    char key[EVENT_KEY_LEN];
    assert_int_equal(event_key(1, key), 1);
    assert_string_equal(key, "1");
    assert_int_equal(event_key(9007199254740991LL, key), 16);
    assert_string_equal(key, "9007199254740991");
    assert_int_equal(event_key(INT64_MAX, key), 19);
    assert_string_equal(key, "9223372036854775807");
    assert_int_equal(event_key(INT64_MIN, key), 20);
    assert_string_equal(key, "-9223372036854775808");

    event_t ev = delete_event(42);
    event_error_t err = junk_error();
    assert_int_equal(event_check_key(&ev, "42", 2, &err), 0);
    assert_null(err.reason);
    assert_int_equal(event_check_key(&ev, "42x", 2, NULL), 0); /* only len bytes count */
    static const char *const wrong[] = {"042", "43", "4", "+42", "42 ", ""};
    for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
        err = junk_error();
        assert_int_equal(event_check_key(&ev, wrong[i], strlen(wrong[i]), &err), EVENT_EINVAL);
        assert_error(&err, EVENT_R_KEY_MISMATCH, "/id", wrong[i]);
    }
    assert_int_equal(event_check_key(&ev, NULL, 0, NULL), EVENT_EINVAL);
}

/* The consumer's one-step path gives what the three steps give, and on a
 * refusal leaves the buffer as it was. */
static void test_decode_bulk_item(void **state)
{
    (void)state;
    static const char del[] =
        "{\"v\":1,\"op\":\"delete\",\"id\":9,\"seq\":4,\"ts\":\"" TS "\",\"source\":\"postgresql\"}";
    static const struct {
        const char *value, *key;
        int64_t id;
    } ok[] = {{base_upsert, "7", 7}, {del, "9", 9}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        event_t ev;
        buf_t want = {0}, got = {0};
        buf_puts(&want, "[");
        buf_puts(&got, "[");
        assert_int_equal(event_decode(ok[i].value, strlen(ok[i].value), &ev, NULL), 0);
        assert_int_equal(event_to_bulk_item(&ev, &want), 0);
        event_free(&ev);
        int64_t id = 0;
        event_error_t err = junk_error();
        assert_int_equal(event_decode_bulk_item(ok[i].value, strlen(ok[i].value), ok[i].key,
                                                strlen(ok[i].key), &id, &got, &err),
                         0);
        assert_null(err.reason);
        assert_int_equal(id, ok[i].id);
        assert_string_equal(got.data, want.data);
        buf_free(&want);
        buf_free(&got);
    }
    static const struct {
        const char *value, *key, *reason, *pointer;
    } bad[] = {
        {base_upsert, "8", EVENT_R_KEY_MISMATCH, "/id"},
        {"{\"v\":1", "7", EVENT_R_BAD_JSON, ""},
        {"{\"v\":2}", "7", EVENT_R_BAD_VERSION, "/v"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        buf_t b = {0};
        buf_puts(&b, "[kept");
        int64_t id = -1;
        event_error_t err = junk_error();
        assert_int_equal(event_decode_bulk_item(bad[i].value, strlen(bad[i].value), bad[i].key,
                                                strlen(bad[i].key), &id, &b, &err),
                         EVENT_EINVAL);
        assert_string_equal(err.reason, bad[i].reason);
        assert_string_equal(err.pointer, bad[i].pointer);
        assert_string_equal(b.data, "[kept");
        assert_int_equal(id, -1);
        buf_free(&b);
    }
}

static void test_now(void **state)
{
    (void)state;
    event_t ev = delete_event(1);
    event_now(ev.ts);
    assert_int_equal(strlen(ev.ts), 24);
    assert_int_equal(event_validate(&ev, NULL), 0);
    round_trip(&ev);
}

static void test_free_zeroed(void **state)
{
    (void)state;
    event_t ev = {0};
    event_free(&ev);
    event_free(&ev);
}

static int open_samples(void **state)
{
    (void)state;
    const char *path = getenv("EVENT_SAMPLES_OUT");
    if (path && *path && !(samples = fopen(path, "w")))
        return -1;
    return 0;
}

static int close_samples(void **state)
{
    (void)state;
    if (samples && fclose(samples) != 0)
        return -1;
    samples = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_exact),
        cmocka_unit_test(test_round_trip_upsert),
        cmocka_unit_test(test_round_trip_delete),
        cmocka_unit_test(test_round_trip_nulls_and_empty),
        cmocka_unit_test(test_round_trip_unicode),
        cmocka_unit_test(test_round_trip_control_characters),
        cmocka_unit_test(test_round_trip_quotes_backslashes),
        cmocka_unit_test(test_round_trip_every_offset),
        cmocka_unit_test(test_round_trip_max_sizes),
        cmocka_unit_test(test_decode_accepts),
        cmocka_unit_test(test_refuse_bad_json),
        cmocka_unit_test(test_refuse_not_object),
        cmocka_unit_test(test_refuse_nul_and_bad_utf8),
        cmocka_unit_test(test_refuse_missing),
        cmocka_unit_test(test_refuse_types),
        cmocka_unit_test(test_refuse_unknown_and_duplicate),
        cmocka_unit_test(test_refuse_version),
        cmocka_unit_test(test_refuse_op_and_source),
        cmocka_unit_test(test_refuse_ids),
        cmocka_unit_test(test_refuse_times),
        cmocka_unit_test(test_refuse_sizes),
        cmocka_unit_test(test_refuse_reencoding_too_large),
        cmocka_unit_test(test_invalid_events),
        cmocka_unit_test(test_encode_appends),
        cmocka_unit_test(test_bulk_items),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_decode_bulk_item),
        cmocka_unit_test(test_now),
        cmocka_unit_test(test_free_zeroed),
    };
    return cmocka_run_group_tests(tests, open_samples, close_samples);
}
