/* fuzz_event.c - libFuzzer target: the sync daemon's Kafka event decoder
 * (sync/event.c) on any bytes. A refusal must carry a reason and a pointer
 * that is valid UTF-8; an accepted event must keep the format's limits,
 * re-encode, decode again to the same event and encode to the same bytes
 * (the encoding is canonical), and its bulk item must pass the REST core's
 * own bulk decoder with the same article. The consumer's one-step path
 * (event_decode_bulk_item) must agree with the three steps on every input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "event.h"
#include "utf8.h"

static const article_limits_t limits = {200, 100, 1048576};

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

static void check_text(const event_text_t *t, bool nullable, size_t max_chars, size_t max_bytes)
{
    if (t->is_null) {
        CHECK(nullable && !t->data);
        return;
    }
    CHECK(t->data && t->data[t->len] == '\0' && strlen(t->data) == t->len);
    CHECK(t->len <= max_bytes && utf8_valid(t->data, t->len));
    CHECK(utf8_count(t->data, t->len) <= max_chars);
}

static void check_limits(const event_t *ev)
{
    CHECK(ev->id >= 1 && ev->id <= EVENT_MAX_ID && ev->seq >= 1 && ev->seq <= EVENT_MAX_SEQ);
    CHECK(ev->op == EVENT_OP_UPSERT || ev->op == EVENT_OP_DELETE);
    if (ev->op == EVENT_OP_DELETE) {
        CHECK(!ev->title.data && !ev->content.data && !ev->author.data);
        return;
    }
    check_text(&ev->title, false, EVENT_MAX_TITLE_CHARS, 4 * EVENT_MAX_TITLE_CHARS);
    CHECK(ev->title.len > 0);
    check_text(&ev->content, false, EVENT_MAX_CONTENT_BYTES, EVENT_MAX_CONTENT_BYTES);
    check_text(&ev->author, true, EVENT_MAX_AUTHOR_CHARS, 4 * EVENT_MAX_AUTHOR_CHARS);
    check_text(&ev->created_at, true, EVENT_MAX_TIME_BYTES, EVENT_MAX_TIME_BYTES);
    check_text(&ev->updated_at, true, EVENT_MAX_TIME_BYTES, EVENT_MAX_TIME_BYTES);
}

static bool same_text(const event_text_t *a, const event_text_t *b)
{
    return a->is_null == b->is_null && a->len == b->len &&
           (a->is_null || a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static bool same_event(const event_t *a, const event_t *b)
{
    return a->op == b->op && a->id == b->id && a->seq == b->seq && a->source == b->source &&
           strcmp(a->ts, b->ts) == 0 && same_text(&a->title, &b->title) &&
           same_text(&a->content, &b->content) && same_text(&a->author, &b->author) &&
           same_text(&a->created_at, &b->created_at) && same_text(&a->updated_at, &b->updated_at);
}

static bool same_string(const char *rest, const event_text_t *t)
{
    if (t->is_null)
        return rest == NULL;
    return rest && strlen(rest) == t->len && memcmp(rest, t->data, t->len) == 0;
}

static void check_bulk_item(const event_t *ev)
{
    buf_t body = {0};
    buf_putc(&body, '[');
    CHECK(event_to_bulk_item(ev, &body) == 0);
    buf_putc(&body, ']');
    CHECK(!body.failed);
    store_bulk_op_t *ops = NULL;
    size_t n = 0;
    problem_t p;
    CHECK(decode_bulk_body(body.data, body.len, 1, &limits, &ops, &n, &p) == 0 && n == 1);
    CHECK(ops[0].id == ev->id);
    if (ev->op == EVENT_OP_DELETE) {
        CHECK(ops[0].kind == STORE_BULK_DELETE);
    } else {
        CHECK(ops[0].kind == STORE_BULK_UPSERT && ops[0].article.id == ev->id);
        CHECK(same_string(ops[0].article.title, &ev->title));
        CHECK(same_string(ops[0].article.content, &ev->content));
        CHECK(same_string(ops[0].article.author, &ev->author));
    }
    decode_bulk_free(ops, n);
    buf_free(&body);
}

static void check_refusal(int rc, const event_error_t *err, const event_t *out)
{
    static const event_t zero;
    CHECK(rc == EVENT_EINVAL || rc == EVENT_ENOMEM);
    CHECK(err->reason && err->reason[0] && err->message[0]);
    CHECK(err->pointer[0] == '\0' || err->pointer[0] == '/');
    CHECK(utf8_valid(err->pointer, strlen(err->pointer)));
    CHECK(memcmp(out, &zero, sizeof zero) == 0);
}

/* What the one-step path makes of data with the key of the event's id, or
 * of "1" when refused: refused alike, or the same item. */
static void check_one_step(const uint8_t *data, size_t size, int rc, const event_t *ev,
                           const event_error_t *want)
{
    char key[EVENT_KEY_LEN] = "1";
    size_t klen = rc == 0 ? event_key(ev->id, key) : 1;
    buf_t got = {0}, item = {0};
    buf_putc(&got, '[');
    int64_t id = 0;
    event_error_t err;
    int rc1 = event_decode_bulk_item((const char *)data, size, key, klen, &id, &got, &err);
    if (rc != 0) {
        /* Refused by the same rule, with the buffer untouched. */
        CHECK(rc1 == rc && got.len == 1 && strcmp(err.reason, want->reason) == 0);
    } else {
        CHECK(rc1 == 0 && id == ev->id);
        buf_putc(&item, '[');
        CHECK(event_to_bulk_item(ev, &item) == 0);
        CHECK(got.len == item.len && memcmp(got.data, item.data, got.len) == 0);
    }
    buf_free(&got);
    buf_free(&item);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    event_t ev, again;
    event_error_t err;
    int rc = event_decode((const char *)data, size, &ev, &err);
    check_one_step(data, size, rc, &ev, &err);
    if (rc != 0) {
        check_refusal(rc, &err, &ev);
        return 0;
    }
    CHECK(err.reason == NULL);
    check_limits(&ev);
    CHECK(event_validate(&ev, &err) == 0);

    buf_t first = {0}, second = {0};
    CHECK(event_encode(&ev, &first) == 0 && first.len <= EVENT_MAX_VALUE_BYTES);
    CHECK(event_decode(first.data, first.len, &again, &err) == 0);
    CHECK(same_event(&ev, &again));
    CHECK(event_encode(&again, &second) == 0);
    CHECK(first.len == second.len && memcmp(first.data, second.data, first.len) == 0);
    check_bulk_item(&ev);

    char key[EVENT_KEY_LEN];
    size_t klen = event_key(ev.id, key);
    CHECK(event_check_key(&ev, key, klen, &err) == 0);

    buf_free(&first);
    buf_free(&second);
    event_free(&again);
    event_free(&ev);
    return 0;
}
