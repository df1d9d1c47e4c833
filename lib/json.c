/* json.c - hardened JSON parsing on cJSON; see json.h. */
#include "json.h"

#include <stdio.h>
#include <string.h>

size_t json_mask_nul_escapes(char *s, size_t len)
{
    size_t count = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!in_string) {
            in_string = c == '"';
            continue;
        }
        if (c == '"') {
            in_string = false;
        } else if (c == '\\' && i + 1 < len) {
            if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0) {
                s[i + 5] = '1';
                count++;
            }
            i++; /* skip the escaped character, so \\u0000 is not an escape */
        }
    }
    return count;
}

static bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Scans a string literal starting at s[*i] == '"'. Refuses what RFC 8259
 * refuses and cJSON lets through: raw control characters and \u escapes
 * with fewer than four hex digits (cJSON reads those as U+0000). */
static const char *scan_string(const char *s, size_t len, size_t *i)
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

/* Checks text against the grammar of RFC 8259 without recursion, so that
 * hostile nesting costs a counter, not the stack. Returns NULL, or why the
 * text is not JSON with *at set to the offset of the fault. */
static const char *check_syntax(const char *s, size_t len, size_t *at)
{
    char stack[JSON_MAX_DEPTH]; /* '{' or '[' per open container */
    size_t depth = 0, i = 0;
    const char *why = NULL;
    enum { VALUE, KEY, AFTER } need = VALUE;
    for (;;) {
        while (i < len && is_json_space(s[i]))
            i++;
        if (need == AFTER) {
            if (depth == 0) {
                if (i < len)
                    why = "unexpected data after the value";
                break;
            }
            if (i < len && s[i] == ',') {
                i++;
                need = stack[depth - 1] == '{' ? KEY : VALUE;
            } else if (i < len && s[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
                i++;
                depth--;
            } else {
                why = stack[depth - 1] == '{' ? "expected , or }" : "expected , or ]";
                break;
            }
            continue;
        }
        if (i == len) {
            why = "unexpected end of the document";
            break;
        }
        if (need == KEY) {
            if (s[i] != '"') {
                why = "expected a member name in double quotes";
                break;
            }
            if ((why = scan_string(s, len, &i)))
                break;
            while (i < len && is_json_space(s[i]))
                i++;
            if (i == len || s[i] != ':') {
                why = "expected : after a member name";
                break;
            }
            i++;
            need = VALUE;
            continue;
        }
        char c = s[i];
        if (c == '{' || c == '[') {
            if (depth == JSON_MAX_DEPTH) {
                why = "nested deeper than " JSON_MAX_DEPTH_TEXT " levels";
                break;
            }
            stack[depth++] = c;
            i++;
            while (i < len && is_json_space(s[i]))
                i++;
            if (i < len && s[i] == (c == '{' ? '}' : ']')) {
                i++;
                depth--;
                need = AFTER;
            } else {
                need = c == '{' ? KEY : VALUE;
            }
            continue;
        }
        if (c == '"')
            why = scan_string(s, len, &i);
        else if (c == '-' || is_digit(c))
            why = scan_number(s, len, &i);
        else
            why = scan_literal(s, len, &i);
        if (why)
            break;
        need = AFTER;
    }
    *at = i;
    return why;
}

cJSON *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    if (len == 0 || !text) {
        snprintf(err, errlen, "the body is empty; send a JSON document");
        return NULL;
    }
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        snprintf(err, errlen, "malformed JSON: a NUL byte at offset %zu", (size_t)(nul - text));
        return NULL;
    }
    size_t at;
    const char *why = check_syntax(text, len, &at);
    if (why) {
        snprintf(err, errlen, "malformed JSON at offset %zu: %s", at, why);
        return NULL;
    }
    /* The grammar is checked; cJSON only builds the tree. */
    cJSON *v = cJSON_ParseWithLength(text, len);
    if (!v)
        snprintf(err, errlen, "out of memory while reading JSON");
    return v;
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
