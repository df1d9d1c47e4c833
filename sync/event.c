/* event.c - the sync daemon's Kafka event; see event.h. One rule set,
 * check_event(), serves both sides: the producer's encoders refuse what the
 * consumer's decoder would refuse, so nothing the daemon writes comes back as
 * a dead letter. Encoding is by hand (measure, reserve once, write); decoding
 * goes through json_parse. */
#include "event.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "utf8.h"

/* ---- errors ------------------------------------------------------------ */

static void clear_error(event_error_t *err)
{
    err->reason = NULL;
    err->message[0] = '\0';
    err->pointer[0] = '\0';
}

static int fail(event_error_t *err, const char *reason, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(event_error_t *err, const char *reason, const char *pointer, const char *fmt, ...)
{
    va_list ap;
    err->reason = reason;
    snprintf(err->pointer, sizeof err->pointer, "%s", pointer);
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return EVENT_EINVAL;
}

static int no_memory(event_error_t *err)
{
    fail(err, EVENT_R_NO_MEMORY, "", "out of memory");
    return EVENT_ENOMEM;
}

/* Appends s to err->pointer, as one RFC 6901 token when token is set (~ as
 * ~0, / as ~1). Names come from the input: invalid UTF-8 becomes U+FFFD and
 * a name that does not fit is cut between characters, so the pointer stays
 * text that a dead-letter header can carry. */
static void pointer_append(event_error_t *err, const char *s, bool token)
{
    size_t n = strlen(err->pointer);
    while (*s) {
        const char *piece = s;
        size_t k = 1, used = 1;
        unsigned char c = (unsigned char)*s;
        if (token && (c == '~' || c == '/')) {
            piece = c == '~' ? "~0" : "~1";
            k = 2;
        } else if (c >= 0x80) {
            k = used = utf8_sequence_length(s, strnlen(s, 4));
            if (k == 0) {
                piece = "\xEF\xBF\xBD";
                k = 3;
                used = 1;
            }
        }
        if (n + k >= sizeof err->pointer)
            break;
        memcpy(err->pointer + n, piece, k);
        n += k;
        s += used;
    }
    err->pointer[n] = '\0';
}

/* A member at fault named by the input: unknown or repeated. */
static int fail_member(event_error_t *err, const char *reason, const char *parent,
                       const char *name)
{
    if (strcmp(reason, EVENT_R_UNKNOWN_FIELD) == 0)
        fail(err, reason, parent, "unknown field; %s",
             parent[0] ? "an article has id, title, content, author, created_at and updated_at"
                       : "an event has v, op, id, seq, ts, source and article");
    else
        fail(err, reason, parent, "the field appears twice");
    pointer_append(err, "/", false);
    pointer_append(err, name, true);
    return EVENT_EINVAL;
}

/* ---- texts ------------------------------------------------------------- */

/* What a text costs as a JSON string literal, and its length in code points. */
typedef struct text_scan {
    size_t out_len; /* quotes included */
    size_t chars;
} text_scan_t;

enum { SCAN_OK, SCAN_BAD_UTF8, SCAN_NUL };

/* Bytes an ASCII character takes inside a JSON string. */
static size_t ascii_cost(unsigned char c)
{
    if (c >= 0x20)
        return c == '"' || c == '\\' ? 2 : 1;
    switch (c) {
    case '\b':
    case '\f':
    case '\n':
    case '\r':
    case '\t': return 2;
    default: return 6; /* \u00XX */
    }
}

/* Word-at-a-time tests on eight bytes, the zero-byte trick: a borrow only
 * starts at a byte that matches, so the answer is exact, and so is the
 * lowest byte flagged (false flags can only appear above a true one). */
static const uint64_t ONES = 0x0101010101010101u, HIGHS = 0x8080808080808080u;

static uint64_t load8(const char *s)
{
    uint64_t x;
    memcpy(&x, s, sizeof x);
    return x;
}

/* Non-zero when one of the bytes must be escaped: a control character, a
 * quote or a backslash. */
static uint64_t escapes8(uint64_t x)
{
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
    return (((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS;
}

/* The length of the UTF-8 sequence at s, 0 when invalid: the common two-
 * and three-byte forms here, the rest (and every check) in utf8.c. */
static size_t sequence_length(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    if (n >= 2 && s[0] >= 0xC2 && s[0] <= 0xDF && (s[1] & 0xC0) == 0x80)
        return 2;
    if (n >= 3 && s[0] >= 0xE1 && s[0] <= 0xEF && s[0] != 0xED && (s[1] & 0xC0) == 0x80 &&
        (s[2] & 0xC0) == 0x80)
        return 3;
    return utf8_sequence_length(str, n);
}

/* The index of the first flagged byte in a non-zero mask of the tests
 * above; elsewhere than on little-endian machines 0, which is slower but
 * right (the caller then looks at one byte and tests again). */
static size_t first_flagged(uint64_t m)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (size_t)__builtin_ctzll(m) >> 3;
#else
    (void)m;
    return 0;
#endif
}

/* Skips plain ASCII eight bytes at a time and looks only at the rest. */
static int scan_text(const char *s, size_t len, text_scan_t *sc)
{
    size_t i = 0, out = 2, chars = 0;
    while (i < len) {
        if (len - i >= 8) {
            uint64_t x = load8(s + i);
            uint64_t m = (x & HIGHS) | escapes8(x);
            size_t k = m ? first_flagged(m) : 8;
            i += k;
            out += k;
            chars += k;
            if (!m)
                continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c == 0)
                return SCAN_NUL;
            out += ascii_cost(c);
            i++;
            chars++;
            continue;
        }
        /* A run of non-ASCII characters (a word in Cyrillic, Greek, CJK). */
        do {
            size_t n = sequence_length(s + i, len - i);
            if (n == 0)
                return SCAN_BAD_UTF8;
            i += n;
            out += n;
            chars++;
        } while (i < len && (unsigned char)s[i] >= 0x80);
    }
    sc->out_len = out;
    sc->chars = chars;
    return SCAN_OK;
}

static char *write_escape(char *p, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    *p++ = '\\';
    switch (c) {
    case '"': *p++ = '"'; break;
    case '\\': *p++ = '\\'; break;
    case '\b': *p++ = 'b'; break;
    case '\f': *p++ = 'f'; break;
    case '\n': *p++ = 'n'; break;
    case '\r': *p++ = 'r'; break;
    case '\t': *p++ = 't'; break;
    default:
        memcpy(p, "u00", 3);
        p[3] = hex[c >> 4];
        p[4] = hex[c & 15];
        p += 5;
    }
    return p;
}

/* Writes a scanned text as a JSON string literal; non-ASCII bytes are
 * valid UTF-8 by then and are copied. */
static char *write_text(char *p, const char *s, size_t len, const text_scan_t *sc)
{
    *p++ = '"';
    if (sc->out_len == len + 2) {
        if (len)
            memcpy(p, s, len);
        p += len;
    } else {
        size_t i = 0, from = 0; /* s[from..i) is still to be copied */
        while (i < len) {
            if (len - i >= 8) {
                uint64_t m = escapes8(load8(s + i));
                if (!m) {
                    i += 8;
                    continue;
                }
                i += first_flagged(m);
            }
            unsigned char c = (unsigned char)s[i];
            if (c < 0x20 || c == '"' || c == '\\') {
                memcpy(p, s + from, i - from);
                p = write_escape(p + (i - from), c);
                from = i + 1;
            }
            i++;
        }
        memcpy(p, s + from, len - from);
        p += len - from;
    }
    *p++ = '"';
    return p;
}

/* ---- RFC 3339 ---------------------------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int two(const char *s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    return month == 2 && leap ? 29 : days[month - 1];
}

/* date-time of RFC 3339 section 5.6 with upper-case T and Z and at most nine
 * fraction digits; utc_only demands Z. No leap second (:60) and no year 0000:
 * common readers (Python's datetime, JSON Schema's date-time checkers) refuse
 * both, and the value must read everywhere. */
static bool valid_time(const char *s, size_t len, bool utc_only)
{
    if (len < 20 || len > EVENT_MAX_TIME_BYTES)
        return false;
    if (!all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) || s[7] != '-' ||
        !all_digits(s + 8, 2) || s[10] != 'T' || !all_digits(s + 11, 2) || s[13] != ':' ||
        !all_digits(s + 14, 2) || s[16] != ':' || !all_digits(s + 17, 2))
        return false;
    int year = two(s) * 100 + two(s + 2), month = two(s + 5), day = two(s + 8);
    if (year == 0 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
        two(s + 11) > 23 || two(s + 14) > 59 || two(s + 17) > 59)
        return false;
    size_t i = 19;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start || i - start > 9)
            return false;
    }
    if (i < len && s[i] == 'Z')
        return i + 1 == len;
    if (utc_only || i == len || (s[i] != '+' && s[i] != '-') || len - i != 6)
        return false;
    return all_digits(s + i + 1, 2) && s[i + 3] == ':' && all_digits(s + i + 4, 2) &&
           two(s + i + 1) <= 23 && two(s + i + 4) <= 59;
}

/* ---- the rules --------------------------------------------------------- */

/* What check_event learnt for the writers. */
typedef struct plan {
    text_scan_t title, content, author;
    size_t ts_len;
} plan_t;

static const char *op_name(event_op_t op) { return op == EVENT_OP_UPSERT ? "upsert" : "delete"; }

static const char *source_name(event_source_t s)
{
    return s == EVENT_SOURCE_SQLITE ? "sqlite" : "postgresql";
}

/* A text member's rules: present (unless nullable), valid UTF-8 without
 * NUL, within min_chars..max_chars code points and max_bytes bytes. */
typedef struct text_rule {
    const char *pointer; /* "/article/title" */
    bool nullable;
    size_t min_chars, max_chars, max_bytes;
} text_rule_t;

static int check_text(const event_text_t *t, const text_rule_t *r, text_scan_t *sc,
                      event_error_t *err)
{
    const char *name = r->pointer + sizeof "/article/" - 1;
    if (t->is_null) {
        sc->out_len = 4;
        return r->nullable ? 0 : fail(err, EVENT_R_BAD_TYPE, r->pointer, "%s must be a string",
                                      name);
    }
    if (!t->data && t->len)
        return fail(err, EVENT_R_BAD_VALUE, r->pointer, "%s has a length but no data", name);
    /* Checked before the scan so that a huge text costs nothing. */
    if (t->len > r->max_bytes && r->max_chars < r->max_bytes)
        return fail(err, EVENT_R_TOO_LARGE, r->pointer,
                    "%s is %zu bytes long, more than %zu characters can take", name, t->len,
                    r->max_chars);
    if (t->len > r->max_bytes)
        return fail(err, EVENT_R_TOO_LARGE, r->pointer,
                    "%s is %zu bytes long; at most %zu are allowed", name, t->len, r->max_bytes);
    switch (scan_text(t->data, t->len, sc)) {
    case SCAN_BAD_UTF8:
        return fail(err, EVENT_R_BAD_VALUE, r->pointer, "%s is not valid UTF-8", name);
    case SCAN_NUL:
        return fail(err, EVENT_R_BAD_VALUE, r->pointer, "%s must not contain NUL", name);
    }
    if (sc->chars < r->min_chars)
        return fail(err, EVENT_R_BAD_VALUE, r->pointer, "%s must not be empty", name);
    if (sc->chars > r->max_chars)
        return fail(err, EVENT_R_TOO_LARGE, r->pointer,
                    "%s is %zu characters long; at most %zu are allowed", name, sc->chars,
                    r->max_chars);
    return 0;
}

static int check_time(const event_text_t *t, const char *pointer, event_error_t *err)
{
    if (t->is_null || (t->data && valid_time(t->data, t->len, false)))
        return 0;
    return fail(err, EVENT_R_BAD_VALUE, pointer,
                "%s must be an RFC 3339 date-time (2026-11-22T04:17:13.123Z) or null",
                pointer + sizeof "/article/" - 1);
}

static int check_article(const event_t *ev, plan_t *pl, event_error_t *err)
{
    static const text_rule_t title = {"/article/title", false, 1, EVENT_MAX_TITLE_CHARS,
                                      4 * EVENT_MAX_TITLE_CHARS};
    static const text_rule_t content = {"/article/content", false, 0, EVENT_MAX_CONTENT_BYTES,
                                        EVENT_MAX_CONTENT_BYTES};
    static const text_rule_t author = {"/article/author", true, 0, EVENT_MAX_AUTHOR_CHARS,
                                       4 * EVENT_MAX_AUTHOR_CHARS};
    if (check_text(&ev->title, &title, &pl->title, err) < 0 ||
        check_text(&ev->content, &content, &pl->content, err) < 0 ||
        check_text(&ev->author, &author, &pl->author, err) < 0 ||
        check_time(&ev->created_at, "/article/created_at", err) < 0 ||
        check_time(&ev->updated_at, "/article/updated_at", err) < 0)
        return EVENT_EINVAL;
    return 0;
}

static size_t encoded_size(const event_t *ev, const plan_t *pl);

static int check_event(const event_t *ev, plan_t *pl, event_error_t *err)
{
    memset(pl, 0, sizeof *pl);
    if (ev->op != EVENT_OP_UPSERT && ev->op != EVENT_OP_DELETE)
        return fail(err, EVENT_R_BAD_VALUE, "/op", "op must be upsert or delete");
    if (ev->id < 1 || ev->id > EVENT_MAX_ID)
        return fail(err, EVENT_R_OUT_OF_RANGE, "/id", "id must be from 1 to %lld",
                    EVENT_MAX_ID);
    if (ev->seq < 1 || ev->seq > EVENT_MAX_SEQ)
        return fail(err, EVENT_R_OUT_OF_RANGE, "/seq", "seq must be from 1 to %lld",
                    EVENT_MAX_SEQ);
    pl->ts_len = strnlen(ev->ts, sizeof ev->ts);
    if (!valid_time(ev->ts, pl->ts_len, true))
        return fail(err, EVENT_R_BAD_VALUE, "/ts",
                    "ts must be an RFC 3339 UTC date-time (2026-11-22T04:17:13.123Z)");
    if (ev->source != EVENT_SOURCE_SQLITE && ev->source != EVENT_SOURCE_POSTGRESQL)
        return fail(err, EVENT_R_BAD_VALUE, "/source", "source must be sqlite or postgresql");
    if (ev->op == EVENT_OP_UPSERT && check_article(ev, pl, err) < 0)
        return EVENT_EINVAL;
    size_t size = encoded_size(ev, pl);
    if (size > EVENT_MAX_VALUE_BYTES)
        return fail(err, EVENT_R_TOO_LARGE, "",
                    "the event is %zu bytes as JSON; at most %u are allowed (content that "
                    "needs much escaping)",
                    size, EVENT_MAX_VALUE_BYTES);
    return 0;
}

int event_validate(const event_t *ev, event_error_t *err)
{
    event_error_t local;
    plan_t pl;
    if (!err)
        err = &local;
    clear_error(err);
    return check_event(ev, &pl, err);
}

/* ---- writers ----------------------------------------------------------- */

/* The writers run twice: with p NULL to measure, then into memory reserved
 * for exactly that many bytes. */
typedef struct out {
    char *p;
    size_t n;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->p)
        memcpy(o->p + o->n, s, n);
    o->n += n;
}

#define PUT_LIT(o, lit) put((o), (lit), sizeof(lit) - 1)

static void put_str(out_t *o, const char *s) { put(o, s, strlen(s)); }

static void put_i64(out_t *o, int64_t v)
{
    char key[EVENT_KEY_LEN];
    put(o, key, event_key(v, key));
}

static void put_text(out_t *o, const event_text_t *t, const text_scan_t *sc)
{
    if (t->is_null)
        PUT_LIT(o, "null");
    else if (o->p)
        o->n = (size_t)(write_text(o->p + o->n, t->data, t->len, sc) - o->p);
    else
        o->n += sc->out_len;
}

/* A checked time is plain ASCII: no escapes needed. */
static void put_time(out_t *o, const event_text_t *t)
{
    if (t->is_null) {
        PUT_LIT(o, "null");
        return;
    }
    PUT_LIT(o, "\"");
    put(o, t->data, t->len);
    PUT_LIT(o, "\"");
}

static void emit_event(out_t *o, const event_t *ev, const plan_t *pl)
{
    PUT_LIT(o, "{\"v\":1,\"op\":\"");
    put_str(o, op_name(ev->op));
    PUT_LIT(o, "\",\"id\":");
    put_i64(o, ev->id);
    PUT_LIT(o, ",\"seq\":");
    put_i64(o, ev->seq);
    PUT_LIT(o, ",\"ts\":\"");
    put(o, ev->ts, pl->ts_len);
    PUT_LIT(o, "\",\"source\":\"");
    put_str(o, source_name(ev->source));
    PUT_LIT(o, "\"");
    if (ev->op == EVENT_OP_UPSERT) {
        PUT_LIT(o, ",\"article\":{\"id\":");
        put_i64(o, ev->id);
        PUT_LIT(o, ",\"title\":");
        put_text(o, &ev->title, &pl->title);
        PUT_LIT(o, ",\"content\":");
        put_text(o, &ev->content, &pl->content);
        PUT_LIT(o, ",\"author\":");
        put_text(o, &ev->author, &pl->author);
        PUT_LIT(o, ",\"created_at\":");
        put_time(o, &ev->created_at);
        PUT_LIT(o, ",\"updated_at\":");
        put_time(o, &ev->updated_at);
        PUT_LIT(o, "}");
    }
    PUT_LIT(o, "}");
}

static void emit_bulk_item(out_t *o, const event_t *ev, const plan_t *pl)
{
    if (ev->op == EVENT_OP_DELETE) {
        PUT_LIT(o, "{\"op\":\"delete\",\"id\":");
        put_i64(o, ev->id);
        PUT_LIT(o, "}");
        return;
    }
    PUT_LIT(o, "{\"op\":\"upsert\",\"article\":{\"id\":");
    put_i64(o, ev->id);
    PUT_LIT(o, ",\"title\":");
    put_text(o, &ev->title, &pl->title);
    PUT_LIT(o, ",\"content\":");
    put_text(o, &ev->content, &pl->content);
    PUT_LIT(o, ",\"author\":");
    put_text(o, &ev->author, &pl->author);
    PUT_LIT(o, "}}");
}

static size_t encoded_size(const event_t *ev, const plan_t *pl)
{
    out_t o = {NULL, 0};
    emit_event(&o, ev, pl);
    return o.n;
}

typedef void emit_fn(out_t *o, const event_t *ev, const plan_t *pl);

/* Appends what fn writes of ev, checked into pl. */
static int emit_planned(const event_t *ev, const plan_t *pl, buf_t *b, emit_fn *fn)
{
    out_t o = {NULL, 0};
    fn(&o, ev, pl);
    size_t need = o.n;
    if (buf_reserve(b, need) < 0)
        return EVENT_ENOMEM;
    o = (out_t){b->data + b->len, 0};
    fn(&o, ev, pl);
    assert(o.n == need); /* the measure and the write took the same path */
    b->len += need;
    b->data[b->len] = '\0';
    return 0;
}

static int emit(const event_t *ev, buf_t *b, emit_fn *fn)
{
    event_error_t err;
    plan_t pl;
    if (check_event(ev, &pl, &err) < 0)
        return EVENT_EINVAL;
    return emit_planned(ev, &pl, b, fn);
}

int event_encode(const event_t *ev, buf_t *out) { return emit(ev, out, emit_event); }

int event_to_bulk_item(const event_t *ev, buf_t *out) { return emit(ev, out, emit_bulk_item); }

/* ---- decoding ---------------------------------------------------------- */

enum { T_V, T_OP, T_ID, T_SEQ, T_TS, T_SOURCE, T_ARTICLE, T_COUNT };
static const char *const top_names[T_COUNT] = {"v", "op", "id", "seq", "ts", "source", "article"};

enum { A_ID, A_TITLE, A_CONTENT, A_AUTHOR, A_CREATED, A_UPDATED, A_COUNT };
static const char *const article_names[A_COUNT] = {"id",     "title",      "content",
                                                   "author", "created_at", "updated_at"};

/* Sorts the members of obj into slots by name. The first unknown or
 * repeated member is returned with its reason, for the caller to report
 * when it sees fit (a wrong version is the better reason). */
static const cJSON *collect(const cJSON *obj, const char *const *names, int count,
                            const cJSON **slot, const char **reason)
{
    memset(slot, 0, sizeof(*slot) * (size_t)count);
    for (const cJSON *m = obj->child; m; m = m->next) {
        int k = 0;
        while (k < count && strcmp(m->string, names[k]) != 0)
            k++;
        if (k == count || slot[k]) {
            *reason = k == count ? EVENT_R_UNKNOWN_FIELD : EVENT_R_DUPLICATE_FIELD;
            return m;
        }
        slot[k] = m;
    }
    return NULL;
}

static int missing(event_error_t *err, const char *pointer)
{
    return fail(err, EVENT_R_MISSING_FIELD, pointer, "%s is required",
                strrchr(pointer, '/') + 1);
}

/* An integer from 1 to max; 1.0 and 1e3 are integers too, as in JSON Schema. */
static int read_int(const cJSON *v, const char *pointer, int64_t max, int64_t *out,
                    event_error_t *err)
{
    const char *name = strrchr(pointer, '/') + 1;
    if (!v)
        return missing(err, pointer);
    if (!cJSON_IsNumber(v))
        return fail(err, EVENT_R_BAD_TYPE, pointer, "%s must be an integer, not %s", name,
                    json_type_name(v));
    double d = v->valuedouble;
    if (isfinite(d) && d != floor(d))
        return fail(err, EVENT_R_BAD_TYPE, pointer, "%s must be an integer", name);
    if (!(d >= 1 && d <= (double)max))
        return fail(err, EVENT_R_OUT_OF_RANGE, pointer, "%s must be from 1 to %lld", name,
                    (long long)max);
    *out = (int64_t)d;
    return 0;
}

/* A string member that must be one of two words; returns 0 or 1. */
static int read_word(const cJSON *v, const char *pointer, const char *a, const char *b,
                     event_error_t *err)
{
    const char *name = pointer + 1;
    if (!v)
        return missing(err, pointer);
    if (!cJSON_IsString(v))
        return fail(err, EVENT_R_BAD_TYPE, pointer, "%s must be a string, not %s", name,
                    json_type_name(v));
    if (strcmp(v->valuestring, a) == 0)
        return 0;
    if (strcmp(v->valuestring, b) == 0)
        return 1;
    return fail(err, EVENT_R_BAD_VALUE, pointer, "%s must be \"%s\" or \"%s\"", name, a, b);
}

/* Points t at a string member of the tree (borrowed until cJSON_Delete). */
static int read_text(const cJSON *v, const char *pointer, bool nullable, event_text_t *t,
                     event_error_t *err)
{
    if (!v)
        return missing(err, pointer);
    if (nullable && cJSON_IsNull(v)) {
        t->is_null = true;
        return 0;
    }
    if (!cJSON_IsString(v))
        return fail(err, EVENT_R_BAD_TYPE, pointer, "%s must be a string%s, not %s",
                    strrchr(pointer, '/') + 1, nullable ? " or null" : "", json_type_name(v));
    t->data = v->valuestring;
    t->len = strlen(v->valuestring);
    return 0;
}

static int read_article(const cJSON *obj, event_t *view, event_error_t *err)
{
    const cJSON *slot[A_COUNT], *odd;
    const char *reason = NULL;
    if ((odd = collect(obj, article_names, A_COUNT, slot, &reason)))
        return fail_member(err, reason, "/article", odd->string);
    int64_t id = 0;
    if (read_int(slot[A_ID], "/article/id", EVENT_MAX_ID, &id, err) < 0 ||
        read_text(slot[A_TITLE], "/article/title", false, &view->title, err) < 0 ||
        read_text(slot[A_CONTENT], "/article/content", false, &view->content, err) < 0 ||
        read_text(slot[A_AUTHOR], "/article/author", true, &view->author, err) < 0 ||
        read_text(slot[A_CREATED], "/article/created_at", true, &view->created_at, err) < 0 ||
        read_text(slot[A_UPDATED], "/article/updated_at", true, &view->updated_at, err) < 0)
        return EVENT_EINVAL;
    if (id != view->id)
        return fail(err, EVENT_R_ID_MISMATCH, "/article/id",
                    "article.id is %lld but id is %lld; they must be equal", (long long)id,
                    (long long)view->id);
    return 0;
}

static int read_version(const cJSON *v, event_error_t *err)
{
    if (!v)
        return missing(err, "/v");
    if (!cJSON_IsNumber(v))
        return fail(err, EVENT_R_BAD_TYPE, "/v", "v must be an integer, not %s",
                    json_type_name(v));
    if (v->valuedouble != EVENT_VERSION)
        return fail(err, EVENT_R_BAD_VERSION, "/v", "version %g is not known; this is %d",
                    v->valuedouble, EVENT_VERSION);
    return 0;
}

static int read_article_member(const cJSON *a, event_t *view, event_error_t *err)
{
    if (a && !cJSON_IsObject(a) && !cJSON_IsNull(a))
        return fail(err, EVENT_R_BAD_TYPE, "/article", "article must be an object or null, not %s",
                    json_type_name(a));
    if (view->op == EVENT_OP_UPSERT) {
        if (!a)
            return missing(err, "/article");
        if (!cJSON_IsObject(a))
            return fail(err, EVENT_R_OP_MISMATCH, "/article", "an upsert needs the article");
        return read_article(a, view, err);
    }
    if (cJSON_IsObject(a))
        return fail(err, EVENT_R_OP_MISMATCH, "/article",
                    "a delete carries no article; leave it out or send null");
    return 0;
}

/* Fills view with the event's members, its texts borrowed from the tree. */
static int read_event(const cJSON *root, event_t *view, event_error_t *err)
{
    const cJSON *slot[T_COUNT], *odd;
    const char *reason = NULL;
    int k;
    if (!cJSON_IsObject(root))
        return fail(err, EVENT_R_BAD_TYPE, "", "an event must be a JSON object, not %s",
                    json_type_name(root));
    odd = collect(root, top_names, T_COUNT, slot, &reason);
    if (read_version(slot[T_V], err) < 0)
        return EVENT_EINVAL;
    if (odd)
        return fail_member(err, reason, "", odd->string);
    if ((k = read_word(slot[T_OP], "/op", "upsert", "delete", err)) < 0)
        return EVENT_EINVAL;
    view->op = k == 0 ? EVENT_OP_UPSERT : EVENT_OP_DELETE;
    if (read_int(slot[T_ID], "/id", EVENT_MAX_ID, &view->id, err) < 0 ||
        read_int(slot[T_SEQ], "/seq", EVENT_MAX_SEQ, &view->seq, err) < 0)
        return EVENT_EINVAL;
    event_text_t ts = {0};
    if (read_text(slot[T_TS], "/ts", false, &ts, err) < 0)
        return EVENT_EINVAL;
    if (ts.len >= sizeof view->ts || !valid_time(ts.data, ts.len, true))
        return fail(err, EVENT_R_BAD_VALUE, "/ts",
                    "ts must be an RFC 3339 UTC date-time (2026-11-22T04:17:13.123Z)");
    memcpy(view->ts, ts.data, ts.len + 1);
    if ((k = read_word(slot[T_SOURCE], "/source", "sqlite", "postgresql", err)) < 0)
        return EVENT_EINVAL;
    view->source = k == 0 ? EVENT_SOURCE_SQLITE : EVENT_SOURCE_POSTGRESQL;
    return read_article_member(slot[T_ARTICLE], view, err);
}

static int copy_text(event_text_t *dst, const event_text_t *src)
{
    *dst = (event_text_t){.is_null = src->is_null};
    if (src->is_null)
        return 0;
    dst->data = malloc(src->len + 1);
    if (!dst->data)
        return EVENT_ENOMEM;
    if (src->len)
        memcpy(dst->data, src->data, src->len);
    dst->data[src->len] = '\0';
    dst->len = src->len;
    return 0;
}

/* Copies view into out with texts of its own. */
static int own(const event_t *view, event_t *out)
{
    *out = *view;
    out->title = out->content = out->author = out->created_at = out->updated_at =
        (event_text_t){0};
    if (view->op == EVENT_OP_DELETE)
        return 0;
    if (copy_text(&out->title, &view->title) < 0 || copy_text(&out->content, &view->content) < 0 ||
        copy_text(&out->author, &view->author) < 0 ||
        copy_text(&out->created_at, &view->created_at) < 0 ||
        copy_text(&out->updated_at, &view->updated_at) < 0) {
        event_free(out);
        return EVENT_ENOMEM;
    }
    return 0;
}

static int parse_failure(const json_error_t *jerr, event_error_t *err)
{
    if (jerr->code == JSON_ENOMEM)
        return no_memory(err);
    if (jerr->code == JSON_ENUL) {
        fail(err, EVENT_R_BAD_VALUE, "", "a string must not contain NUL (\\u0000)");
        pointer_append(err, jerr->pointer, false);
        return EVENT_EINVAL;
    }
    return fail(err, EVENT_R_BAD_JSON, "", "%s", jerr->message);
}

/* Parses and checks data into view, whose texts point into *root (the
 * caller deletes it, also on failure). Returns 0 or EVENT_EINVAL /
 * EVENT_ENOMEM with err filled. */
static int parse_view(const char *data, size_t len, cJSON **root, event_t *view, plan_t *pl,
                      event_error_t *err)
{
    json_error_t jerr;
    *root = NULL;
    if (len > EVENT_MAX_VALUE_BYTES)
        return fail(err, EVENT_R_TOO_LARGE, "", "the value is %zu bytes; at most %u are allowed",
                    len, EVENT_MAX_VALUE_BYTES);
    *root = json_parse(data, len, &jerr);
    if (!*root)
        return parse_failure(&jerr, err);
    int rc = read_event(*root, view, err);
    return rc == 0 ? check_event(view, pl, err) : rc;
}

int event_decode(const char *data, size_t len, event_t *out, event_error_t *err)
{
    event_error_t local;
    event_t view = {0};
    plan_t pl;
    cJSON *root;
    if (!err)
        err = &local;
    clear_error(err);
    memset(out, 0, sizeof *out);
    int rc = parse_view(data, len, &root, &view, &pl, err);
    if (rc == 0 && own(&view, out) < 0)
        rc = no_memory(err);
    cJSON_Delete(root);
    return rc;
}

int event_decode_bulk_item(const char *data, size_t len, const char *key, size_t keylen,
                           int64_t *id, buf_t *out, event_error_t *err)
{
    clear_error(err);
    event_t view = {0};
    plan_t pl;
    cJSON *root;
    /* The texts stay in the tree until the item is written. */
    int rc = parse_view(data, len, &root, &view, &pl, err);
    if (rc == 0)
        rc = event_check_key(&view, key, keylen, err);
    if (rc == 0 && emit_planned(&view, &pl, out, emit_bulk_item) < 0)
        rc = no_memory(err);
    if (rc == 0)
        *id = view.id;
    cJSON_Delete(root);
    return rc;
}

/* ---- the rest ---------------------------------------------------------- */

int event_check_key(const event_t *ev, const char *key, size_t len, event_error_t *err)
{
    event_error_t local;
    char want[EVENT_KEY_LEN];
    size_t n = event_key(ev->id, want);
    if (!err)
        err = &local;
    clear_error(err);
    if (key && len == n && memcmp(key, want, n) == 0)
        return 0;
    return fail(err, EVENT_R_KEY_MISMATCH, "/id", "the record key must be the id, %s", want);
}

void event_free(event_t *ev)
{
    free(ev->title.data);
    free(ev->content.data);
    free(ev->author.data);
    free(ev->created_at.data);
    free(ev->updated_at.data);
    memset(ev, 0, sizeof *ev);
}

size_t event_key(int64_t id, char buf[EVENT_KEY_LEN])
{
    char tmp[EVENT_KEY_LEN];
    char *p = tmp + sizeof tmp;
    /* The unsigned magnitude, so that INT64_MIN does not overflow. */
    uint64_t u = id < 0 ? (uint64_t)0 - (uint64_t)id : (uint64_t)id;
    *--p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (id < 0)
        *--p = '-';
    size_t n = (size_t)(tmp + sizeof tmp - 1 - p);
    memcpy(buf, p, n + 1);
    return n;
}

void event_now(char ts[EVENT_TS_LEN])
{
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(ts, EVENT_TS_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, EVENT_TS_LEN - n, ".%03dZ", (int)(now.tv_nsec / 1000000));
}
