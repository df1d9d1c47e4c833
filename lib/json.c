/* json.c - hardened JSON parsing on cJSON; see json.h. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Scans a string literal starting at s[*i] == '"'. Refuses what RFC 8259
 * refuses and cJSON lets through: raw control characters and \u escapes
 * with fewer than four hex digits (cJSON reads those as U+0000). */
static const char *scan_string(const char *s, size_t len, size_t *i, bool *nul)
{
    size_t p = *i + 1;
    for (; p < len; p++) {
        unsigned char c = (unsigned char)s[p];
        if (c == '"') {
            *i = p + 1;
            return NULL;
        }
        if (c < 0x20) {
            *i = p;
            return "a control character must be escaped in a string";
        }
        if (c != '\\')
            continue;
        if (++p == len)
            break;
        if (s[p] == 'u') {
            for (int k = 1; k <= 4; k++) {
                if (p + (size_t)k >= len || !is_hex(s[p + (size_t)k])) {
                    *i = p;
                    return "\\u must be followed by four hex digits";
                }
            }
            unsigned cp = (unsigned)strtoul((char[5]){s[p + 1], s[p + 2], s[p + 3], s[p + 4], 0},
                                            NULL, 16);
            if (cp == 0)
                *nul = true;
            /* cJSON refuses unpaired surrogates; say so here, as JSON text. */
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                *i = p;
                return "a low surrogate \\u escape without a high one before it";
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                const char *lo = s + p + 5;
                if (p + 10 >= len || lo[0] != '\\' || lo[1] != 'u' || !is_hex(lo[2]) ||
                    !is_hex(lo[3]) || !is_hex(lo[4]) || !is_hex(lo[5]) ||
                    strtoul((char[5]){lo[2], lo[3], lo[4], lo[5], 0}, NULL, 16) < 0xDC00 ||
                    strtoul((char[5]){lo[2], lo[3], lo[4], lo[5], 0}, NULL, 16) > 0xDFFF) {
                    *i = p;
                    return "a high surrogate \\u escape must be followed by a low one";
                }
                p += 6;
            }
            p += 4;
        } else if (!strchr("\"\\/bfnrt", s[p])) {
            *i = p;
            return "unknown escape in a string";
        }
    }
    *i = len;
    return "unterminated string";
}

/* Scans a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static const char *scan_number(const char *s, size_t len, size_t *i)
{
    size_t p = *i;
    if (p < len && s[p] == '-')
        p++;
    if (p < len && s[p] == '0') {
        p++;
    } else if (p < len && is_digit(s[p])) {
        while (p < len && is_digit(s[p]))
            p++;
    } else {
        *i = p;
        return "a number needs digits";
    }
    if (p < len && s[p] == '.') {
        if (++p == len || !is_digit(s[p])) {
            *i = p;
            return "a decimal point must be followed by digits";
        }
        while (p < len && is_digit(s[p]))
            p++;
    }
    if (p < len && (s[p] == 'e' || s[p] == 'E')) {
        p++;
        if (p < len && (s[p] == '+' || s[p] == '-'))
            p++;
        if (p == len || !is_digit(s[p])) {
            *i = p;
            return "an exponent needs digits";
        }
        while (p < len && is_digit(s[p]))
            p++;
    }
    *i = p;
    return NULL;
}

static const char *scan_literal(const char *s, size_t len, size_t *i)
{
    static const char *const words[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t n = strlen(words[k]);
        if (len - *i >= n && memcmp(s + *i, words[k], n) == 0) {
            *i += n;
            return NULL;
        }
    }
    return "unexpected character";
}

/* One open container while checking: its bracket, and where the walk is in
 * it, so that a fault can be named by a JSON pointer. */
typedef struct frame {
    char open;      /* '{' or '[' */
    long index;     /* arrays: the current element */
    size_t key_off; /* objects: the current member name, raw */
    size_t key_len;
} frame_t;

/* Appends "/name" with RFC 6901's escapes (~ as ~0, / as ~1); returns
 * the length it wanted, like snprintf. The name is the raw member text, its
 * JSON escapes left as they are. */
static size_t put_name(char *out, size_t outlen, const char *name, size_t len)
{
    size_t n = 0;
    if (n + 1 < outlen)
        out[n] = '/';
    n++;
    for (size_t k = 0; k < len; k++) {
        const char *piece = name[k] == '~' ? "~0" : name[k] == '/' ? "~1" : NULL;
        for (size_t j = 0; j < (piece ? 2u : 1u); j++, n++)
            if (n + 1 < outlen)
                out[n] = piece ? piece[j] : name[k];
    }
    out[n + 1 < outlen ? n : outlen - 1] = '\0';
    return n;
}

static void build_pointer(const char *s, const frame_t *stack, size_t depth, char *out,
                          size_t outlen)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t d = 0; d < depth && n < outlen; d++) {
        if (stack[d].open == '[')
            n += (size_t)snprintf(out + n, outlen - n, "/%ld", stack[d].index);
        else
            n += put_name(out + n, outlen - n, s + stack[d].key_off, stack[d].key_len);
    }
}

typedef struct walker {
    const char *s;
    size_t len, i, depth;
    frame_t stack[JSON_MAX_DEPTH];
    json_error_t *err;
    bool nul_seen; /* the first string with \u0000 is already in err */
} walker_t;

static void skip_space(walker_t *w)
{
    while (w->i < w->len && is_json_space(w->s[w->i]))
        w->i++;
}

/* Remembers the first string holding \u0000; the walk goes on, since a
 * syntax error later in the text is the more basic fault. */
static void note_nul(walker_t *w)
{
    if (w->nul_seen)
        return;
    w->nul_seen = true;
    w->err->offset = w->i;
    build_pointer(w->s, w->stack, w->depth, w->err->pointer, sizeof w->err->pointer);
    snprintf(w->err->message, sizeof w->err->message, "a string must not contain NUL (\\u0000)");
}

static int walk_fail(walker_t *w, const char *why)
{
    w->err->code = JSON_ESYNTAX;
    w->err->offset = w->i;
    w->err->pointer[0] = '\0';
    snprintf(w->err->message, sizeof w->err->message, "malformed JSON at offset %zu: %s", w->i,
             why);
    return -1;
}

/* A string at w->i: a member name when key is set, else a value. */
static int walk_string(walker_t *w, bool key)
{
    size_t start = w->i;
    bool nul = false;
    const char *why = scan_string(w->s, w->len, &w->i, &nul);
    if (why)
        return walk_fail(w, why);
    if (key) {
        w->stack[w->depth - 1].key_off = start + 1;
        w->stack[w->depth - 1].key_len = w->i - start - 2;
    }
    if (nul)
        note_nul(w);
    return 0;
}

/* After a value: a comma, the closing bracket, or the end of the text. */
static int walk_after(walker_t *w, int *need_key)
{
    frame_t *top = &w->stack[w->depth - 1];
    char close = top->open == '{' ? '}' : ']';
    if (w->i < w->len && w->s[w->i] == ',') {
        w->i++;
        *need_key = top->open == '{';
        return 1;
    }
    if (w->i < w->len && w->s[w->i] == close) {
        w->i++;
        w->depth--;
        return 0;
    }
    return walk_fail(w, top->open == '{' ? "expected , or }" : "expected , or ]");
}

/* Opens a container; returns 1 when a value or member follows, 0 when it
 * closed at once. */
static int walk_open(walker_t *w, int *need_key)
{
    char c = w->s[w->i++];
    if (w->depth == JSON_MAX_DEPTH)
        return walk_fail(w, "nested deeper than " JSON_MAX_DEPTH_TEXT " levels");
    w->stack[w->depth++] = (frame_t){.open = c, .index = -1};
    skip_space(w);
    if (w->i < w->len && w->s[w->i] == (c == '{' ? '}' : ']')) {
        w->i++;
        w->depth--;
        return 0;
    }
    *need_key = c == '{';
    return 1;
}

/* Checks the grammar of RFC 8259 without recursion, so that hostile nesting
 * costs a counter, not the stack. */
static int check_syntax(walker_t *w)
{
    int need_key = 0, rc;
    bool have_value = false; /* false: a value (or member) is needed next */
    for (;;) {
        skip_space(w);
        if (have_value) {
            if (w->depth == 0)
                return w->i < w->len ? walk_fail(w, "unexpected data after the value")
                                     : 0;
            if ((rc = walk_after(w, &need_key)) < 0)
                return -1;
            have_value = rc == 0;
            continue;
        }
        if (w->i == w->len)
            return walk_fail(w, "unexpected end of the document");
        if (need_key) {
            if (w->s[w->i] != '"')
                return walk_fail(w, "expected a member name in double quotes");
            if (walk_string(w, true) < 0)
                return -1;
            skip_space(w);
            if (w->i == w->len || w->s[w->i] != ':')
                return walk_fail(w, "expected : after a member name");
            w->i++;
            need_key = 0;
            continue;
        }
        if (w->depth && w->stack[w->depth - 1].open == '[')
            w->stack[w->depth - 1].index++;
        char c = w->s[w->i];
        if (c == '{' || c == '[') {
            if ((rc = walk_open(w, &need_key)) < 0)
                return -1;
            have_value = rc == 0;
            continue;
        }
        const char *why = NULL;
        if (c == '"') {
            if (walk_string(w, false) < 0)
                return -1;
        } else if (c == '-' || is_digit(c)) {
            why = scan_number(w->s, w->len, &w->i);
        } else {
            why = scan_literal(w->s, w->len, &w->i);
        }
        if (why)
            return walk_fail(w, why);
        have_value = true;
    }
}

cJSON *json_parse(const char *text, size_t len, json_error_t *err)
{
    memset(err, 0, sizeof *err);
    if (len == 0 || !text) {
        err->code = JSON_ESYNTAX;
        snprintf(err->message, sizeof err->message, "the body is empty; send a JSON document");
        return NULL;
    }
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        err->code = JSON_ESYNTAX;
        err->offset = (size_t)(nul - text);
        snprintf(err->message, sizeof err->message, "malformed JSON: a NUL byte at offset %zu",
                 err->offset);
        return NULL;
    }
    /* The frames are written as containers open: clearing them for every
     * document (2 KiB) cost more than checking a small one. */
    walker_t w;
    w.s = text;
    w.len = len;
    w.i = w.depth = 0;
    w.err = err;
    w.nul_seen = false;
    int rc = check_syntax(&w);
    if (rc == 0 && w.nul_seen) {
        err->code = JSON_ENUL;
        rc = -1;
    }
    if (rc < 0)
        return NULL;
    /* The grammar is checked; cJSON only builds the tree. */
    cJSON *v = cJSON_ParseWithLength(text, len);
    if (v)
        return v;
    /* The text is valid JSON: cJSON fails only for memory. */
    err->code = JSON_ENOMEM;
    snprintf(err->message, sizeof err->message, "out of memory while reading JSON");
    return NULL;
}

const char *json_type_name(const cJSON *v)
{
    if (!v)
        return "missing";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsObject(v))
        return "an object";
    return "invalid";
}
