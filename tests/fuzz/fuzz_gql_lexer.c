/* fuzz_gql_lexer.c - libFuzzer target: the GraphQL lexer (gql_lexer_init,
 * gql_lexer_next) on any bytes, once skipping comments and once keeping
 * them. Beyond "no crash" it asserts, for every token:
 *   - tokens advance: previous end <= start <= end <= source length, and the
 *     run ends in an EOF token at the end that repeats, or in an error;
 *   - line and column are graphql-js's: recomputed here independently (line
 *     terminators \n, \r\n, \r; columns in UTF-16 code units), also for
 *     the place of an error;
 *   - NAME, INT, FLOAT and COMMENT values are their source text, and match
 *     the grammar (names [_A-Za-z][_0-9A-Za-z]*, -?(0|[1-9][0-9]*) ints,
 *     floats with a fraction or exponent);
 *   - STRING values equal an independent decoding of the escapes, and
 *     BLOCK_STRING values an independent BlockStringValue (graphql-js's
 *     dedentBlockStringLines); both are NUL-terminated valid UTF-8;
 *   - punctuators have their length and no value;
 *   - errors carry a GQL_ESYNTAX code and a "Syntax Error: " message;
 *   - keeping comments changes nothing but the COMMENT tokens: the other
 *     tokens and the error are the same in both runs. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "lexer.h"
#include "utf8.h"

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (!(cond))                                                                          \
            __builtin_trap();                                                                 \
    } while (0)

/* Line and column of an offset, walked forward from the last one asked for. */
typedef struct pos_model {
    const char *src;
    size_t len, at;
    uint32_t line, column;
} pos_model_t;

static void pos_advance(pos_model_t *m, size_t to)
{
    while (m->at < to) {
        unsigned char c = (unsigned char)m->src[m->at];
        if (c == '\n' || c == '\r') {
            m->at += c == '\r' && m->at + 1 < m->len && m->src[m->at + 1] == '\n' ? 2 : 1;
            m->line++;
            m->column = 1;
            continue;
        }
        size_t n = c < 0x80 ? 1 : utf8_sequence_length(m->src + m->at, m->len - m->at);
        CHECK(n != 0); /* the lexer refuses invalid UTF-8 before getting past it */
        m->at += n;
        m->column += n == 4 ? 2 : 1;
    }
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_name_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static void check_name(const char *s, size_t n)
{
    CHECK(n > 0 && is_name_start((unsigned char)s[0]));
    for (size_t i = 1; i < n; i++)
        CHECK(is_name_start((unsigned char)s[i]) || is_digit((unsigned char)s[i]));
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, a fraction or exponent iff is_float. */
static void check_number(const char *s, size_t n, bool is_float)
{
    size_t i = 0;
    bool frac = false;
    if (i < n && s[i] == '-')
        i++;
    CHECK(i < n && is_digit(s[i]));
    if (s[i] == '0')
        CHECK(i + 1 == n || !is_digit(s[i + 1]));
    while (i < n && is_digit(s[i]))
        i++;
    if (i < n && s[i] == '.') {
        frac = true;
        CHECK(++i < n && is_digit(s[i]));
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        frac = true;
        if (++i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        CHECK(i < n && is_digit(s[i]));
        while (i < n && is_digit(s[i]))
            i++;
    }
    CHECK(i == n && frac == is_float);
}

static int hex(int c)
{
    if (is_digit(c))
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

static uint32_t hex4(const char *s)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex((unsigned char)s[i]);
        CHECK(d >= 0);
        v = v << 4 | (uint32_t)d;
    }
    return v;
}

static size_t put_utf8(uint32_t cp, char *out)
{
    CHECK(cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF));
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The value of the string body s[0..n), escapes decoded as the specification's
 * StringValue says; out has room for n bytes (no escape grows). */
static size_t decode_string(const char *s, size_t n, char *out)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    size_t o = 0, i = 0;
    while (i < n) {
        if (s[i] != '\\') {
            out[o++] = s[i++];
            continue;
        }
        CHECK(i + 1 < n);
        char c = s[i + 1];
        if (c != 'u') {
            const char *hit = c ? strchr(from, c) : NULL;
            CHECK(hit);
            out[o++] = to[hit - from];
            i += 2;
            continue;
        }
        uint32_t cp = 0;
        if (i + 2 < n && s[i + 2] == '{') {
            size_t j = i + 3;
            for (; j < n && s[j] != '}'; j++) {
                CHECK(hex((unsigned char)s[j]) >= 0 && j - i - 3 < 8);
                cp = cp << 4 | (uint32_t)hex((unsigned char)s[j]);
            }
            CHECK(j < n && j > i + 3);
            i = j + 1;
        } else {
            CHECK(i + 6 <= n);
            cp = hex4(s + i + 2);
            i += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                CHECK(i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u');
                uint32_t low = hex4(s + i + 2);
                CHECK(low >= 0xDC00 && low <= 0xDFFF);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                i += 6;
            }
        }
        o += put_utf8(cp, out + o);
    }
    return o;
}

/* BlockStringValue of the raw body s[0..n) as graphql-js computes it: \"""
 * becomes """, lines split at \r\n, \n and \r, the common indentation of
 * the lines after the first removed, blank lines at both ends dropped,
 * lines joined by \n. out has room for n bytes. */
static size_t block_string(const char *s, size_t n, char *out)
{
    size_t nlines = 1;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n' || (s[i] == '\r' && !(i + 1 < n && s[i + 1] == '\n')))
            nlines++;
    size_t *from = calloc(nlines, sizeof *from), *to = calloc(nlines, sizeof *to);
    CHECK(from && to);
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '\n' && s[i] != '\r')
            continue;
        from[k] = start;
        to[k++] = i;
        if (i < n && s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
            i++;
        start = i + 1;
    }
    CHECK(k == nlines);
    size_t common = SIZE_MAX, first = SIZE_MAX, last = 0;
    for (size_t l = 0; l < nlines; l++) {
        size_t ws = 0;
        while (from[l] + ws < to[l] && (s[from[l] + ws] == ' ' || s[from[l] + ws] == '\t'))
            ws++;
        if (from[l] + ws == to[l])
            continue;
        if (first == SIZE_MAX)
            first = l;
        last = l;
        if (l > 0 && ws < common)
            common = ws;
    }
    size_t o = 0;
    for (size_t l = first; first != SIZE_MAX && l <= last; l++) {
        if (l > first)
            out[o++] = '\n';
        size_t b = from[l];
        if (l > 0)
            b = to[l] - from[l] < common ? to[l] : from[l] + common;
        for (size_t i = b; i < to[l];) {
            if (i + 3 < to[l] && s[i] == '\\' && s[i + 1] == '"' && s[i + 2] == '"' &&
                s[i + 3] == '"') {
                memcpy(out + o, "\"\"\"", 3);
                o += 3;
                i += 4;
            } else {
                out[o++] = s[i++];
            }
        }
    }
    free(from);
    free(to);
    return o;
}

static void check_value(const gql_token_t *t, const char *expect, size_t n)
{
    CHECK(t->value && t->len == n && memcmp(t->value, expect, n) == 0 && t->value[n] == '\0');
    CHECK(utf8_valid(t->value, t->len));
}

static void check_token(const char *src, const gql_token_t *t)
{
    const char *text = src + t->start;
    size_t n = t->end - t->start;
    switch (t->kind) {
    case GQL_TOKEN_EOF: CHECK(n == 0 && !t->value); break;
    case GQL_TOKEN_SPREAD: CHECK(n == 3 && !memcmp(text, "...", 3) && !t->value); break;
    case GQL_TOKEN_NAME:
        CHECK(t->value == text && t->len == n);
        check_name(text, n);
        break;
    case GQL_TOKEN_INT:
    case GQL_TOKEN_FLOAT:
        CHECK(t->value == text && t->len == n);
        check_number(text, n, t->kind == GQL_TOKEN_FLOAT);
        break;
    case GQL_TOKEN_COMMENT:
        CHECK(n >= 1 && text[0] == '#' && t->value == text + 1 && t->len == n - 1);
        CHECK(!memchr(t->value, '\n', t->len) && !memchr(t->value, '\r', t->len));
        break;
    case GQL_TOKEN_STRING: {
        CHECK(n >= 2 && text[0] == '"' && text[n - 1] == '"');
        char *v = malloc(n);
        CHECK(v);
        check_value(t, v, decode_string(text + 1, n - 2, v));
        free(v);
        break;
    }
    case GQL_TOKEN_BLOCK_STRING: {
        CHECK(n >= 6 && !memcmp(text, "\"\"\"", 3) && !memcmp(text + n - 3, "\"\"\"", 3));
        char *v = malloc(n);
        CHECK(v);
        check_value(t, v, block_string(text + 3, n - 6, v));
        free(v);
        break;
    }
    default: {
        static const char punct[] = "!$&():=@[]{|}";
        /* The kind's description quotes its character: "\"!\"". */
        CHECK(n == 1 && !t->value && strchr(punct, text[0]) &&
              gql_token_kind_desc(t->kind)[1] == text[0]);
    }
    }
}

/* One run; the tokens that are not comments go to out (at most cap), the
 * error to *err. Returns the lexer's result. */
static int run(const char *src, size_t len, bool keep_comments, gql_token_t *out, size_t cap,
               size_t *nout, gql_error_t *err, arena_t *a)
{
    gql_lexer_t lx;
    pos_model_t m = {.src = src, .len = len, .line = 1, .column = 1};
    int rc = gql_lexer_init(&lx, src, len, a, err);
    CHECK(rc == 0);
    lx.keep_comments = keep_comments;
    uint32_t prev_end = 0;
    *nout = 0;
    for (size_t i = 0; i <= len + 1; i++) {
        gql_token_t t;
        rc = gql_lexer_next(&lx, &t, err);
        if (rc != 0) {
            CHECK(rc == GQL_ESYNTAX && err->code == rc && err->message);
            CHECK(strncmp(err->message, "Syntax Error: ", 14) == 0 && err->message[14]);
            CHECK(err->offset >= prev_end && err->offset <= len);
            pos_advance(&m, err->offset);
            CHECK(err->line == m.line && err->column == m.column);
            return rc;
        }
        CHECK(t.start >= prev_end && t.start <= t.end && t.end <= len);
        pos_advance(&m, t.start);
        CHECK(t.line == m.line && t.column == m.column);
        check_token(src, &t);
        CHECK(keep_comments || t.kind != GQL_TOKEN_COMMENT);
        prev_end = t.end;
        if (t.kind != GQL_TOKEN_COMMENT && *nout < cap)
            out[(*nout)++] = t;
        if (t.kind == GQL_TOKEN_EOF) {
            CHECK(t.start == len);
            gql_token_t again;
            CHECK(gql_lexer_next(&lx, &again, err) == 0 && again.kind == GQL_TOKEN_EOF &&
                  again.start == len && again.line == t.line && again.column == t.column);
            return 0;
        }
    }
    CHECK(0); /* more tokens than bytes */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *src = (const char *)data;
    size_t cap = size + 2;
    gql_token_t *plain = malloc(cap * sizeof *plain), *kept = malloc(cap * sizeof *kept);
    if (!plain || !kept)
        goto done;
    arena_t a1 = {0}, a2 = {0};
    gql_error_t e1 = {0}, e2 = {0};
    size_t n1, n2;
    int r1 = run(src, size, false, plain, cap, &n1, &e1, &a1);
    int r2 = run(src, size, true, kept, cap, &n2, &e2, &a2);
    CHECK(r1 == r2 && n1 == n2);
    for (size_t i = 0; i < n1; i++) {
        CHECK(plain[i].kind == kept[i].kind && plain[i].start == kept[i].start &&
              plain[i].end == kept[i].end && plain[i].line == kept[i].line &&
              plain[i].column == kept[i].column && plain[i].len == kept[i].len);
    }
    if (r1 != 0)
        CHECK(e1.offset == e2.offset && e1.line == e2.line && e1.column == e2.column &&
              strcmp(e1.message, e2.message) == 0);
    arena_free(&a1);
    arena_free(&a2);
done:
    free(plain);
    free(kept);
    return 0;
}
