/* test_json.c - unit tests of json_parse in lib/json.c: RFC 8259 strictness,
 * the nesting limit, and strings holding \u0000 (JSON_ENUL and its pointer). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static json_error_t err;

/* Parses len bytes copied into an exactly sized heap block, so that ASan
 * sees any read past the end. err starts as junk, so that the assertions
 * see what json_parse set. */
static cJSON *parse_n(const char *text, size_t len)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    memset(&err, 0x5A, sizeof err);
    cJSON *v = json_parse(copy, len, &err);
    free(copy);
    return v;
}

static cJSON *parse(const char *text)
{
    return parse_n(text, strlen(text));
}

/* Asserts that text is refused with code, and a message containing needle. */
static void assert_refused_code_n(const char *text, size_t len, int code, const char *needle)
{
    cJSON *v = parse_n(text, len);
    if (v) {
        cJSON_Delete(v);
        fail_msg("accepted: '%.*s'", (int)len, text);
    }
    if (err.code != code)
        fail_msg("'%.*s': code %d (%.160s), want %d", (int)len, text, err.code, err.message, code);
    assert_non_null(memchr(err.message, '\0', sizeof err.message));
    assert_true(err.message[0] != '\0');
    if (needle && !strstr(err.message, needle))
        fail_msg("message '%s' for '%.*s' lacks '%s'", err.message, (int)len, text, needle);
}

/* Asserts that text is not JSON (JSON_ESYNTAX). */
static void assert_refused_n(const char *text, size_t len, const char *needle)
{
    assert_refused_code_n(text, len, JSON_ESYNTAX, needle);
}

static void assert_refused(const char *text, const char *needle)
{
    assert_refused_n(text, strlen(text), needle);
}

/* Asserts a syntax error at offset, in err.offset and in the message. */
static void assert_syntax_at_n(const char *text, size_t len, size_t offset)
{
    char needle[32];
    snprintf(needle, sizeof needle, "offset %zu", offset);
    assert_refused_n(text, len, needle);
    if (err.offset != offset)
        fail_msg("'%.*s': err.offset %zu, want %zu", (int)len, text, err.offset, offset);
}

static void assert_syntax_at(const char *text, size_t offset)
{
    assert_syntax_at_n(text, strlen(text), offset);
}

/* Asserts that text is JSON with a string holding \u0000 at pointer. */
static void assert_nul_at(const char *text, const char *pointer)
{
    assert_refused_code_n(text, strlen(text), JSON_ENUL, "NUL");
    assert_non_null(memchr(err.pointer, '\0', sizeof err.pointer));
    if (strcmp(err.pointer, pointer) != 0)
        fail_msg("'%s': pointer '%s', want '%s'", text, err.pointer, pointer);
}

static void assert_accepted(const char *text)
{
    cJSON *v = parse(text);
    if (!v)
        fail_msg("refused: '%s' (%d %s)", text, err.code, err.message);
    cJSON_Delete(v);
}

/* Parses a document holding one string and checks its decoded value. */
static void assert_string_value(const char *text, const char *want)
{
    cJSON *v = parse(text);
    if (!v)
        fail_msg("refused: '%s' (%d %s)", text, err.code, err.message);
    assert_true(cJSON_IsString(v));
    assert_string_equal(v->valuestring, want);
    cJSON_Delete(v);
}

/* "[[[...]]]" nested depth times (caller frees). */
static char *nested_arrays(size_t depth)
{
    char *s = malloc(2 * depth + 1);
    assert_non_null(s);
    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    s[2 * depth] = '\0';
    return s;
}

/* {"a":{"a":...inner...}} nested depth times (caller frees). */
static char *nested_objects(size_t depth, const char *inner)
{
    size_t il = strlen(inner);
    char *s = malloc(6 * depth + il + 1);
    assert_non_null(s);
    for (size_t i = 0; i < depth; i++)
        memcpy(s + 5 * i, "{\"a\":", 5);
    memcpy(s + 5 * depth, inner, il);
    memset(s + 5 * depth + il, '}', depth);
    s[6 * depth + il] = '\0';
    return s;
}

static void test_empty_body(void **state)
{
    (void)state;
    assert_refused_n("", 0, "empty");
    assert_int_equal(err.offset, 0);
    memset(&err, 0x5A, sizeof err);
    assert_null(json_parse(NULL, 0, &err));
    assert_int_equal(err.code, JSON_ESYNTAX);
    assert_true(err.message[0] != '\0');
}

static void test_blank_body(void **state)
{
    (void)state;
    assert_refused(" \n\t\r ", "malformed");
}

static void test_raw_nul_byte(void **state)
{
    (void)state;
    assert_syntax_at_n("{\"a\":\0}", 7, 5);
    assert_refused_n("{\"a\":\"x\0y\"}", 11, "NUL");
    assert_int_equal(err.offset, 7);
    assert_syntax_at_n("{}\0", 3, 2);
    assert_syntax_at_n("\0", 1, 0);
    /* A raw NUL byte is not JSON at all, even beside an escaped one. */
    assert_refused_n("[\"\\u0000\",\0]", 12, "NUL");
}

static void test_trailing_garbage(void **state)
{
    (void)state;
    assert_syntax_at("{} x", 3);
    assert_syntax_at("{}{}", 2);
    assert_syntax_at("[1]]", 3);
    assert_syntax_at("1 2", 2);
    assert_syntax_at("\"a\"\"b\"", 3);
    assert_syntax_at("null,", 4);
}

static void test_surrounding_whitespace(void **state)
{
    (void)state;
    cJSON *v = parse(" \n\t\r{\"a\": [1, true]}\r\n\t ");
    assert_non_null(v);
    assert_true(cJSON_IsObject(v));
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(v, "a");
    assert_true(cJSON_IsArray(a));
    assert_int_equal(cJSON_GetArraySize(a), 2);
    cJSON_Delete(v);
    assert_accepted("  \"s\"  ");
    assert_accepted("0");
}

static void test_only_len_bytes_are_read(void **state)
{
    (void)state;
    cJSON *v = parse_n("[7]garbage", 3);
    assert_non_null(v);
    assert_int_equal(cJSON_GetArrayItem(v, 0)->valueint, 7);
    cJSON_Delete(v);
    assert_refused_n("[7]garbage", 2, "offset");
}

static void test_syntax_error_offsets(void **state)
{
    (void)state;
    assert_syntax_at("{\"a\":}", 5);
    assert_syntax_at("[1,2,,3]", 5);
    assert_syntax_at("{\"a\":1,}", 7);
    assert_syntax_at("[1}", 2);
    assert_syntax_at("{\"a\" 1}", 5);
    assert_syntax_at("nul", 0);
    assert_syntax_at("'a'", 0);
    assert_syntax_at("NaN", 0);
    assert_syntax_at("+1", 0);
}

static void test_truncated_documents(void **state)
{
    (void)state;
    static const char doc[] =
        "{\"a\":[1,-2.5e3,{\"b\":\"c\\u00e9\\n\"}],\"d\":true,\"e\":null,\"f\":false}";
    size_t n = strlen(doc);
    for (size_t len = 0; len < n; len++)
        assert_refused_n(doc, len, NULL);
    cJSON *v = parse_n(doc, n);
    assert_non_null(v);
    cJSON_Delete(v);
}

static void test_nesting_limit(void **state)
{
    (void)state;
    char *ok = nested_arrays(JSON_MAX_DEPTH);
    assert_accepted(ok);
    free(ok);
    char *deep = nested_arrays(JSON_MAX_DEPTH + 1);
    assert_refused(deep, "nested deeper");
    free(deep);
}

static void test_nesting_limit_objects_and_mixed(void **state)
{
    (void)state;
    char *ok = nested_objects(JSON_MAX_DEPTH, "1");
    assert_accepted(ok);
    free(ok);
    char *deep = nested_objects(JSON_MAX_DEPTH + 1, "1");
    assert_refused(deep, "nested deeper than " JSON_MAX_DEPTH_TEXT);
    free(deep);
    /* 63 objects around an array: 64 levels. */
    ok = nested_objects(JSON_MAX_DEPTH - 1, "[]");
    assert_accepted(ok);
    free(ok);
    deep = nested_objects(JSON_MAX_DEPTH - 1, "[[]]");
    assert_refused(deep, "nested deeper");
    free(deep);
    /* Depth counts open containers, not how many were seen: many siblings
     * at depth 64 are fine. */
    char *wide = malloc(4 * JSON_MAX_DEPTH + 64);
    assert_non_null(wide);
    size_t n = 0;
    memset(wide, '[', JSON_MAX_DEPTH - 1);
    n += JSON_MAX_DEPTH - 1;
    for (int i = 0; i < 8; i++)
        n += (size_t)sprintf(wide + n, "%s[]", i ? "," : "");
    memset(wide + n, ']', JSON_MAX_DEPTH - 1);
    n += JSON_MAX_DEPTH - 1;
    wide[n] = '\0';
    assert_accepted(wide);
    free(wide);
}

static void test_very_deep_nesting_does_not_crash(void **state)
{
    (void)state;
    char *deep = nested_arrays(200000);
    assert_refused(deep, "malformed");
    free(deep);
    /* An open-only document and deep objects. */
    size_t depth = 100000;
    char *objs = malloc(6 * depth + 2);
    assert_non_null(objs);
    for (size_t i = 0; i < depth; i++)
        memcpy(objs + 5 * i, "{\"a\":", 5);
    strcpy(objs + 5 * depth, "1");
    assert_refused(objs, "malformed");
    free(objs);
    /* 100000 levels, closed: refused for the depth, not accepted. */
    char *closed = nested_objects(100000, "1");
    assert_refused(closed, "nested deeper");
    free(closed);
    /* A NUL at the bottom of a too deep document is a syntax error: the
     * depth is met first. */
    char *nul = nested_objects(100000, "\"\\u0000\"");
    assert_refused(nul, "nested deeper");
    free(nul);
}

/* RFC 8259 numbers: no leading zeros, digits after the point. cJSON reads
 * them with strtod, which is laxer. */
static void test_invalid_numbers_refused(void **state)
{
    (void)state;
    assert_refused("00", "malformed");
    assert_refused("-01", "malformed");
    assert_refused("[012]", "malformed");
    assert_refused("{\"id\":01}", "malformed");
    assert_refused("1.", "malformed");
    assert_refused("[1.]", "malformed");
    assert_refused("1.e5", "malformed");
    assert_refused("1e", "malformed");
    assert_refused("1e+", "malformed");
    assert_refused(".5", "malformed");
    assert_refused("-", "malformed");
    assert_accepted("-0");
    assert_accepted("0.5e-3");
    assert_accepted("1E+5");
    assert_accepted("[0,10,-0.0]");
}

/* A \u escape needs four hex digits; cJSON turns a bad one into U+0000,
 * which cuts the string short, the very damage json.h sets out to prevent. */
static void test_invalid_unicode_escape_refused(void **state)
{
    (void)state;
    assert_refused("\"ab\\u00G0cd\"", "malformed");
    assert_refused("{\"title\":\"abc\\uzzzzdef\"}", "malformed");
    assert_refused("\"\\u12\"", "malformed");
    assert_refused("\"\\u\"", "malformed");
    assert_refused("\"\\u000\"", "malformed");
    assert_refused("\"\\u000 \"", "malformed");
    assert_refused("{\"k\\u00\":1}", "malformed");
    /* A lone surrogate cannot be turned into UTF-8. */
    cJSON *v = parse("\"\\uD800\"");
    assert_null(v);
    assert_true(err.code < 0);
    cJSON *v2 = parse("\"ab\\u00e9cd\"");
    assert_non_null(v2);
    assert_string_equal(v2->valuestring, "ab\303\251cd"); /* é in UTF-8 */
    cJSON_Delete(v2);
    assert_string_value("\"\\ud83d\\ude00\"", "\xF0\x9F\x98\x80");
}

static void test_unknown_escapes_refused(void **state)
{
    (void)state;
    assert_refused("\"\\x\"", "malformed");
    assert_refused("\"\\U0041\"", "malformed");
    assert_refused("\"\\U0000\"", "malformed");
    assert_refused("\"\\a\"", "malformed");
    assert_refused("\"\\0\"", "malformed");
    assert_refused("\"\\'\"", "malformed");
    assert_refused("{\"\\e\":1}", "malformed");
    assert_string_value("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t");
}

/* RFC 8259: control characters inside strings must be escaped. */
static void test_raw_control_characters_in_strings_refused(void **state)
{
    (void)state;
    assert_refused("\"a\x01z\"", "malformed");
    assert_refused("\"a\nb\"", "malformed");
    assert_refused("\"a\tb\"", "malformed");
    assert_refused("\"a\x1f\"", "malformed");
    assert_refused("{\"k\x01\":1}", "malformed");
    assert_accepted("\"a\\tb\\n\"");
    assert_accepted("\"a\x7f\""); /* DEL is not a control character in JSON */
}

/* ---- \u0000 -------------------------------------------------------------- */

static void test_nul_in_values(void **state)
{
    (void)state;
    assert_nul_at("\"\\u0000\"", "");
    assert_nul_at("{\"title\":\"\\u0000\"}", "/title");
    assert_nul_at("{\"a\":\"x\\u0000y\"}", "/a");
    assert_nul_at("{\"a\":\"\\u00000\"}", "/a");
    assert_nul_at("[\"a\",\"\\u0000\"]", "/1");
    assert_nul_at("[\"\\u0000\",\"\\u0000\\u0000\"]", "/0"); /* the first one */
    assert_nul_at("{\"x\":1,\"y\":[true,null,\"\\u0000\"]}", "/y/2");
    assert_nul_at("{\"a\":[{\"b\":\"\\u0000\"}]}", "/a/0/b");
    assert_nul_at("{\"a\":{\"b\":1},\"c\":\"\\u0000\"}", "/c");
    assert_nul_at("[[1],[2,[]],\"\\u0000\"]", "/2");
    assert_nul_at("{\"\":\"\\u0000\"}", "/");
}

static void test_nul_pointer_in_bulk_document(void **state)
{
    (void)state;
    assert_nul_at("[{\"op\":\"delete\",\"id\":1},{\"op\":\"delete\",\"id\":2},"
                  "{\"op\":\"upsert\",\"article\":{\"id\":3,\"title\":\"t\"}},"
                  "{\"op\":\"upsert\",\"article\":{\"id\":4,\"title\":\"a\\u0000b\"}}]",
                  "/3/article/title");
    assert_nul_at("[{},{},{},{\"op\":\"upsert\",\"article\":{\"id\":4,\"title\":\"t\","
                  "\"content\":\"\\u0000\"}}]",
                  "/3/article/content");
    assert_nul_at("[{\"op\":\"upsert\",\"article\":{\"id\":1,\"title\":\"t\\u0000\"}}]",
                  "/0/article/title");
}

/* A member name holding \u0000: the pointer names it as written. */
static void test_nul_in_member_names(void **state)
{
    (void)state;
    assert_nul_at("{\"k\\u0000\":1}", "/k\\u0000");
    assert_nul_at("{\"ti\\u0000tle\":\"x\"}", "/ti\\u0000tle");
    assert_nul_at("{\"title\":\"x\",\"\\u0000\":\"y\"}", "/\\u0000");
    assert_nul_at("{\"a\":{\"b\\u0000\":1}}", "/a/b\\u0000");
    assert_nul_at("[{},{\"op\":\"delete\",\"id\\u0000\":1}]", "/1/id\\u0000");
}

static void test_other_escapes_are_not_nul(void **state)
{
    (void)state;
    assert_string_value("\"\\u0001\\u000a\\u1000\\n\"", "\001\n\341\200\200\n");
    assert_string_value("\"a\\u0001b\"", "a\001b");
    assert_string_value("\"\\u001b[0m\\u001f\"", "\033[0m\037");
    assert_string_value("\"u0000\"", "u0000");
    assert_string_value("\"\\u0100\"", "\304\200");
    cJSON *v = parse("{\"k\\u0001\":\"\\u0010\"}");
    assert_non_null(v);
    assert_string_equal(v->child->string, "k\001");
    assert_string_equal(v->child->valuestring, "\020");
    cJSON_Delete(v);
}

static void test_escaped_backslash_then_u0000(void **state)
{
    (void)state;
    /* JSON "\\u0000" is a backslash then the text u0000. */
    assert_string_value("\"\\\\u0000\"", "\\u0000");
    assert_string_value("\"\\\\\\\\u0000\"", "\\\\u0000");
    cJSON *v = parse("{\"\\\\u0000\":\"\\\\u0000\"}");
    assert_non_null(v);
    assert_string_equal(v->child->string, "\\u0000");
    cJSON_Delete(v);
    /* "\\\u0000": an escaped backslash, then a real escape. */
    assert_nul_at("{\"a\":\"\\\\\\u0000\"}", "/a");
    assert_nul_at("{\"a\":\"\\\\\\\\\\u0000\"}", "/a");
}

static void test_nul_escape_outside_strings(void **state)
{
    (void)state;
    assert_syntax_at("\\u0000", 0);
    assert_syntax_at("[\"a\"] \\u0000", 6);
    assert_syntax_at("[\\u0000]", 1);
    /* An escaped quote does not end the string... */
    assert_nul_at("[\"a\\\"\\u0000\"]", "/0");
    /* ...but a quote after an escaped backslash does. */
    assert_syntax_at("\"a\\\\\" \\u0000", 6);
    assert_syntax_at("\"a\" \\u0000 \"\\u0000\"", 4);
    /* A syntax error before the NUL wins. */
    assert_refused("{\"a\":01,\"b\":\"\\u0000\"}", "malformed");
    assert_refused("[1,,\"\\u0000\"]", "malformed");
}

static void test_nul_escape_respects_len(void **state)
{
    (void)state;
    assert_refused("\"\\u000", "malformed");
    assert_refused("\"\\u", "malformed");
    assert_refused("\"\\", "malformed");
    assert_refused("\"\\u0000", "malformed"); /* unterminated */
    assert_refused_n("\"\\u0000\"", 7, "malformed");
    assert_refused_n("\"\\u0000\"", 5, "malformed");
    /* Only the first len bytes count: the NUL beyond them is not seen. */
    cJSON *v = parse_n("\"ok\"\"\\u0000\"", 4);
    assert_non_null(v);
    assert_string_equal(v->valuestring, "ok");
    cJSON_Delete(v);
}

/* A NUL at the deepest level allowed: refused for the NUL, and the
 * pointer, long as it is, stays a terminated string. */
static void test_nul_at_max_depth(void **state)
{
    (void)state;
    char *doc = nested_objects(JSON_MAX_DEPTH, "\"\\u0000\"");
    assert_refused_code_n(doc, strlen(doc), JSON_ENUL, "NUL");
    assert_non_null(memchr(err.pointer, '\0', sizeof err.pointer));
    assert_true(strncmp(err.pointer, "/a/a/a/a", 8) == 0);
    free(doc);
    char *deeper = nested_objects(JSON_MAX_DEPTH + 1, "\"\\u0000\"");
    assert_refused(deeper, "nested deeper");
    free(deeper);
}

/* cJSON refuses unpaired surrogates; they must be a syntax error, not a
 * failure that looks like running out of memory. */
static void test_unpaired_surrogates_refused(void **state)
{
    (void)state;
    assert_refused("\"\\uD800\"", "surrogate");
    assert_refused("\"\\uDC00\"", "surrogate");
    assert_refused("\"\\uD800\\u0041\"", "surrogate");
    assert_refused("\"\\uDBFF\"", "surrogate");
    assert_string_value("\"\\uD83D\\uDE00\"", "\xF0\x9F\x98\x80");
}

/* A syntax error after a NUL is the more basic fault: 400 before 422. */
static void test_syntax_error_wins_over_nul(void **state)
{
    (void)state;
    assert_refused("{\"title\":\"\\u0000\"", NULL);
    assert_refused("[\"\\u0000\"] x", NULL);
    assert_refused("[\"\\u0000\", 01]", NULL);
    assert_nul_at("[\"a\", \"\\u0000\", \"\\u0000\"]", "/1");
}

/* RFC 6901: ~ and / in a member name are escaped in the pointer. */
static void test_pointer_escapes(void **state)
{
    (void)state;
    assert_nul_at("{\"a/b\":\"\\u0000\"}", "/a~1b");
    assert_nul_at("{\"a~b\":{\"c\":\"\\u0000\"}}", "/a~0b/c");
}

static void test_type_names(void **state)
{
    (void)state;
    cJSON *v = parse("[null,true,false,1,\"s\",[],{}]");
    assert_non_null(v);
    const char *want[] = {"null",     "a boolean", "a boolean", "a number",
                          "a string", "an array",  "an object"};
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++)
        assert_string_equal(json_type_name(c), want[i]);
    assert_int_equal(i, 7);
    assert_string_equal(json_type_name(NULL), "missing");
    cJSON_Delete(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_body),
        cmocka_unit_test(test_blank_body),
        cmocka_unit_test(test_raw_nul_byte),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_surrounding_whitespace),
        cmocka_unit_test(test_only_len_bytes_are_read),
        cmocka_unit_test(test_syntax_error_offsets),
        cmocka_unit_test(test_truncated_documents),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_nesting_limit_objects_and_mixed),
        cmocka_unit_test(test_very_deep_nesting_does_not_crash),
        cmocka_unit_test(test_invalid_numbers_refused),
        cmocka_unit_test(test_invalid_unicode_escape_refused),
        cmocka_unit_test(test_unknown_escapes_refused),
        cmocka_unit_test(test_raw_control_characters_in_strings_refused),
        cmocka_unit_test(test_nul_in_values),
        cmocka_unit_test(test_nul_pointer_in_bulk_document),
        cmocka_unit_test(test_nul_in_member_names),
        cmocka_unit_test(test_other_escapes_are_not_nul),
        cmocka_unit_test(test_escaped_backslash_then_u0000),
        cmocka_unit_test(test_nul_escape_outside_strings),
        cmocka_unit_test(test_nul_escape_respects_len),
        cmocka_unit_test(test_nul_at_max_depth),
        cmocka_unit_test(test_unpaired_surrogates_refused),
        cmocka_unit_test(test_syntax_error_wins_over_nul),
        cmocka_unit_test(test_pointer_escapes),
        cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
