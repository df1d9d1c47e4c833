/* test_json.c - unit tests of json_parse and json_mask_nul_escapes in lib/json.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static char err[256];

/* Parses len bytes copied into an exactly sized heap block, so that ASan
 * sees any read past the end. */
static cJSON *parse_n(const char *text, size_t len)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    strcpy(err, "untouched");
    cJSON *v = json_parse(copy, len, err, sizeof err);
    free(copy);
    return v;
}

static cJSON *parse(const char *text)
{
    return parse_n(text, strlen(text));
}

/* Asserts that text is refused with a message containing needle. */
static void assert_refused_n(const char *text, size_t len, const char *needle)
{
    cJSON *v = parse_n(text, len);
    if (v) {
        cJSON_Delete(v);
        fail_msg("accepted: '%.*s'", (int)len, text);
    }
    assert_string_not_equal(err, "untouched");
    assert_true(err[0] != '\0');
    if (needle && !strstr(err, needle))
        fail_msg("message '%s' for '%.*s' lacks '%s'", err, (int)len, text, needle);
}

static void assert_refused(const char *text, const char *needle)
{
    assert_refused_n(text, strlen(text), needle);
}

static void assert_accepted(const char *text)
{
    cJSON *v = parse(text);
    if (!v)
        fail_msg("refused: '%s' (%s)", text, err);
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

static void test_empty_body(void **state)
{
    (void)state;
    assert_refused_n("", 0, "empty");
    strcpy(err, "untouched");
    assert_null(json_parse(NULL, 0, err, sizeof err));
    assert_string_not_equal(err, "untouched");
}

static void test_blank_body(void **state)
{
    (void)state;
    assert_refused(" \n\t\r ", "malformed");
}

static void test_raw_nul_byte(void **state)
{
    (void)state;
    assert_refused_n("{\"a\":\0}", 7, "offset 5");
    assert_refused_n("{\"a\":\"x\0y\"}", 11, "NUL");
    assert_refused_n("{}\0", 3, "offset 2");
    assert_refused_n("\0", 1, "offset 0");
}

static void test_trailing_garbage(void **state)
{
    (void)state;
    assert_refused("{} x", "offset 3");
    assert_refused("{}{}", "offset 2");
    assert_refused("[1]]", "offset 3");
    assert_refused("1 2", "offset 2");
    assert_refused("\"a\"\"b\"", "offset 3");
    assert_refused("null,", "offset 4");
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
    assert_refused("{\"a\":}", "offset 5");
    assert_refused("[1,2,,3]", "offset 5");
    assert_refused("{\"a\":1,}", "offset 7");
    assert_refused("[1}", "offset 2");
    assert_refused("{\"a\" 1}", "offset 5");
    assert_refused("nul", "offset 0");
    assert_refused("'a'", "offset 0");
    assert_refused("NaN", "offset 0");
    assert_refused("+1", "offset 0");
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
}

/* RFC 8259 numbers: no leading zeros, digits after the point. cJSON reads
 * them with strtod, which is laxer. */
static void test_invalid_numbers_refused(void **state)
{
    (void)state;
    assert_refused("00", "malformed");
    assert_refused("-01", "malformed");
    assert_refused("[012]", "malformed");
    assert_refused("1.", "malformed");
    assert_refused("1.e5", "malformed");
    assert_accepted("-0");
    assert_accepted("0.5e-3");
    assert_accepted("1E+5");
}

/* A \u escape needs four hex digits; cJSON turns a bad one into U+0000,
 * which cuts the string short, the very damage json.h sets out to prevent. */
static void test_invalid_unicode_escape_refused(void **state)
{
    (void)state;
    assert_refused("\"ab\\u00G0cd\"", "malformed");
    assert_refused("{\"title\":\"abc\\uzzzzdef\"}", "malformed");
    assert_refused("\"\\u12\"", "malformed");
    assert_refused("\"\\uD800\"", "malformed"); /* lone surrogate */
    assert_refused("\"\\x\"", "malformed");
    cJSON *v = parse("\"ab\\u00e9cd\"");
    assert_non_null(v);
    assert_string_equal(v->valuestring, "ab\303\251cd"); /* é in UTF-8 */
    cJSON_Delete(v);
}

/* RFC 8259: control characters inside strings must be escaped. */
static void test_raw_control_characters_in_strings_refused(void **state)
{
    (void)state;
    assert_refused("\"a\x01z\"", "malformed");
    assert_refused("\"a\nb\"", "malformed");
    assert_refused("\"a\tb\"", "malformed");
    assert_accepted("\"a\\tb\\n\"");
}

/* Copies text, masks it, and checks the result and the count. */
static void assert_masked(const char *text, const char *want, size_t want_count)
{
    size_t len = strlen(text);
    char *buf = malloc(len ? len : 1); /* exact size, no terminator */
    assert_non_null(buf);
    memcpy(buf, text, len);
    size_t count = json_mask_nul_escapes(buf, len);
    if (count != want_count || memcmp(buf, want, len) != 0)
        fail_msg("mask '%s': got '%.*s' (%zu), want '%s' (%zu)", text, (int)len, buf, count, want,
                 want_count);
    free(buf);
}

static void test_mask_in_strings(void **state)
{
    (void)state;
    assert_masked("{\"a\":\"x\\u0000y\"}", "{\"a\":\"x\\u0001y\"}", 1);
    assert_masked("[\"\\u0000\",\"\\u0000\\u0000\"]", "[\"\\u0001\",\"\\u0001\\u0001\"]", 3);
    assert_masked("{\"k\\u0000\":1}", "{\"k\\u0001\":1}", 1);
    assert_masked("\"\\u00000\"", "\"\\u00010\"", 1);
}

static void test_mask_leaves_other_escapes(void **state)
{
    (void)state;
    assert_masked("\"\\u0001\\u000a\\u1000\\n\"", "\"\\u0001\\u000a\\u1000\\n\"", 0);
    assert_masked("\"\\U0000\"", "\"\\U0000\"", 0);
    assert_masked("\"u0000\"", "\"u0000\"", 0);
    assert_masked("", "", 0);
}

static void test_mask_escaped_backslash(void **state)
{
    (void)state;
    /* JSON "\\u0000" is a backslash then the text u0000. */
    assert_masked("\"\\\\u0000\"", "\"\\\\u0000\"", 0);
    assert_masked("\"\\\\\\\\u0000\"", "\"\\\\\\\\u0000\"", 0);
    /* "\\\u0000": an escaped backslash, then a real escape. */
    assert_masked("\"\\\\\\u0000\"", "\"\\\\\\u0001\"", 1);
}

static void test_mask_outside_strings(void **state)
{
    (void)state;
    assert_masked("\\u0000", "\\u0000", 0);
    assert_masked("[\"a\"] \\u0000", "[\"a\"] \\u0000", 0);
    /* An escaped quote does not end the string... */
    assert_masked("\"a\\\"\\u0000\"", "\"a\\\"\\u0001\"", 1);
    /* ...but a quote after an escaped backslash does. */
    assert_masked("\"a\\\\\" \\u0000", "\"a\\\\\" \\u0000", 0);
    assert_masked("\"a\" \\u0000 \"\\u0000\"", "\"a\" \\u0000 \"\\u0001\"", 1);
}

static void test_mask_respects_len(void **state)
{
    (void)state;
    assert_masked("\"\\u000", "\"\\u000", 0);
    assert_masked("\"\\u", "\"\\u", 0);
    assert_masked("\"\\", "\"\\", 0);
    assert_masked("\"\\u0000", "\"\\u0001", 1);
}

static void test_mask_then_parse(void **state)
{
    (void)state;
    char text[] = "{\"t\":\"a\\u0000b\"}";
    assert_int_equal(json_mask_nul_escapes(text, strlen(text)), 1);
    cJSON *v = parse(text);
    assert_non_null(v);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, "t");
    assert_string_equal(t->valuestring, "a\001b");
    cJSON_Delete(v);
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
        cmocka_unit_test(test_very_deep_nesting_does_not_crash),
        cmocka_unit_test(test_invalid_numbers_refused),
        cmocka_unit_test(test_invalid_unicode_escape_refused),
        cmocka_unit_test(test_raw_control_characters_in_strings_refused),
        cmocka_unit_test(test_mask_in_strings),
        cmocka_unit_test(test_mask_leaves_other_escapes),
        cmocka_unit_test(test_mask_escaped_backslash),
        cmocka_unit_test(test_mask_outside_strings),
        cmocka_unit_test(test_mask_respects_len),
        cmocka_unit_test(test_mask_then_parse),
        cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
