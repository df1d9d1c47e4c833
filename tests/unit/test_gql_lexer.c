/* test_gql_lexer.c - unit tests of the GraphQL lexer (graphql/lexer.c): every token kind and
 * literal form, escapes, block string dedent, invalid numbers and characters, invalid UTF-8,
 * and graphql-js's lines and UTF-16 columns. Expected messages are graphql-js's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* needs the four headers above included first */

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "lexer.h"

/* A literal with its length, for sources holding NUL bytes. */
#define S(lit) lit, sizeof(lit) - 1

static arena_t arena;

static int setup(void **state)
{
    (void)state;
    arena_init(&arena, 0, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(&arena);
    return 0;
}

static void start(gql_lexer_t *lx, const char *src, size_t len)
{
    gql_error_t err;
    assert_int_equal(gql_lexer_init(lx, src, len, &arena, &err), 0);
}

static gql_token_t next_ok(gql_lexer_t *lx)
{
    gql_token_t tok;
    gql_error_t err;
    if (gql_lexer_next(lx, &tok, &err) != 0)
        fail_msg("unexpected error: %s (%u:%u)", err.message, err.line, err.column);
    return tok;
}

static gql_token_t first_n(const char *src, size_t len)
{
    gql_lexer_t lx;
    start(&lx, src, len);
    return next_ok(&lx);
}

static gql_token_t first(const char *src)
{
    return first_n(src, strlen(src));
}

static void check_value(const gql_token_t *t, const char *value, size_t len)
{
    if (t->len != len || memcmp(t->value, value, len) != 0)
        fail_msg("value \"%.*s\" (%u bytes), expected \"%.*s\" (%zu bytes)", (int)t->len, t->value,
                 t->len, (int)len, value, len);
}

static void check_token(const char *src, gql_token_kind_t kind, const char *value)
{
    gql_token_t t = first(src);
    assert_int_equal(t.kind, kind);
    check_value(&t, value, strlen(value));
}

/* The error of lexing src to its end. */
static gql_error_t error_of(const char *src, size_t len)
{
    gql_lexer_t lx;
    gql_token_t tok;
    gql_error_t err;
    start(&lx, src, len);
    for (int i = 0; i < 10000; i++) {
        if (gql_lexer_next(&lx, &tok, &err) != 0)
            return err;
        if (tok.kind == GQL_TOKEN_EOF)
            break;
    }
    fail_msg("no error lexing \"%.*s\"", (int)len, src);
    return err;
}

static void check_error_n(const char *src, size_t len, const char *message, uint32_t line,
                          uint32_t column)
{
    gql_error_t err = error_of(src, len);
    assert_int_equal(err.code, GQL_ESYNTAX);
    assert_string_equal(err.message, message);
    if (err.line != line || err.column != column)
        fail_msg("%s at %u:%u, expected %u:%u", message, err.line, err.column, line, column);
}

static void check_error(const char *src, const char *message, uint32_t line, uint32_t column)
{
    check_error_n(src, strlen(src), message, line, column);
}

/* ---- token kinds ---- */

static void test_punctuators(void **state)
{
    (void)state;
    static const gql_token_kind_t kinds[] = {
        GQL_TOKEN_BANG,    GQL_TOKEN_DOLLAR,    GQL_TOKEN_AMP,       GQL_TOKEN_PAREN_L,
        GQL_TOKEN_PAREN_R, GQL_TOKEN_SPREAD,    GQL_TOKEN_COLON,     GQL_TOKEN_EQUALS,
        GQL_TOKEN_AT,      GQL_TOKEN_BRACKET_L, GQL_TOKEN_BRACKET_R, GQL_TOKEN_BRACE_L,
        GQL_TOKEN_PIPE,    GQL_TOKEN_BRACE_R,   GQL_TOKEN_EOF,
    };
    const char *src = "! $ & ( ) ... : = @ [ ] { | }";
    static const uint32_t columns[] = {1, 3, 5, 7, 9, 11, 15, 17, 19, 21, 23, 25, 27, 29, 30};
    gql_lexer_t lx;
    start(&lx, src, strlen(src));
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        gql_token_t t = next_ok(&lx);
        assert_int_equal(t.kind, kinds[i]);
        assert_int_equal(t.line, 1);
        assert_int_equal(t.column, columns[i]);
        assert_int_equal(t.start, columns[i] - 1);
        assert_int_equal(t.end, columns[i] - 1 +
                                    (kinds[i] == GQL_TOKEN_SPREAD ? 3 : kinds[i] != GQL_TOKEN_EOF));
        assert_null(t.value);
    }
}

static void test_spread_needs_three_dots(void **state)
{
    (void)state;
    check_error("..", "Syntax Error: Unexpected character: \".\".", 1, 1);
    check_error(". . .", "Syntax Error: Unexpected character: \".\".", 1, 1);
    gql_token_t t = first("....");
    assert_int_equal(t.kind, GQL_TOKEN_SPREAD);
    check_error("....", "Syntax Error: Unexpected character: \".\".", 1, 4);
}

static void test_names(void **state)
{
    (void)state;
    check_token("simple", GQL_TOKEN_NAME, "simple");
    check_token("_", GQL_TOKEN_NAME, "_");
    check_token("__typename rest", GQL_TOKEN_NAME, "__typename");
    check_token("aZ_09{", GQL_TOKEN_NAME, "aZ_09");
    check_token("A-b", GQL_TOKEN_NAME, "A");
    gql_token_t t = first("  \t,,name  ");
    assert_int_equal(t.start, 5);
    assert_int_equal(t.end, 9);
    assert_int_equal(t.column, 6);
}

static void test_ints(void **state)
{
    (void)state;
    check_token("4", GQL_TOKEN_INT, "4");
    check_token("-4", GQL_TOKEN_INT, "-4");
    check_token("0", GQL_TOKEN_INT, "0");
    check_token("-0", GQL_TOKEN_INT, "-0");
    check_token("9", GQL_TOKEN_INT, "9");
    check_token("123456789012345678901234567890", GQL_TOKEN_INT, "123456789012345678901234567890");
    check_token("1)", GQL_TOKEN_INT, "1");
    check_token("1,2", GQL_TOKEN_INT, "1");
}

static void test_floats(void **state)
{
    (void)state;
    static const char *const floats[] = {
        "4.123",     "-4.123",      "0.123",    "123e4",    "123E4",
        "123e-4",    "123e+4",      "-1.123e4", "-1.123E4", "-1.123e-4",
        "-1.123e+4", "-1.123e4567", "0e0",      "0.0",      "-0.0e-0",
    };
    for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++)
        check_token(floats[i], GQL_TOKEN_FLOAT, floats[i]);
}

static void test_invalid_numbers(void **state)
{
    (void)state;
    static const struct {
        const char *src, *message;
        uint32_t column;
    } cases[] = {
        {"00", "Invalid number, unexpected digit after 0: \"0\".", 2},
        {"01", "Invalid number, unexpected digit after 0: \"1\".", 2},
        {"01.23", "Invalid number, unexpected digit after 0: \"1\".", 2},
        {"-01", "Invalid number, unexpected digit after 0: \"1\".", 3},
        {"+1", "Unexpected character: \"+\".", 1},
        {"1.", "Invalid number, expected digit but got: <EOF>.", 3},
        {"1e", "Invalid number, expected digit but got: <EOF>.", 3},
        {"1.e1", "Invalid number, expected digit but got: \"e\".", 3},
        {".123", "Unexpected character: \".\".", 1},
        {".5", "Unexpected character: \".\".", 1},
        {"1.A", "Invalid number, expected digit but got: \"A\".", 3},
        {"-A", "Invalid number, expected digit but got: \"A\".", 2},
        {"-", "Invalid number, expected digit but got: <EOF>.", 2},
        {"- 1", "Invalid number, expected digit but got: \" \".", 2},
        {"1.0e", "Invalid number, expected digit but got: <EOF>.", 5},
        {"1.0eA", "Invalid number, expected digit but got: \"A\".", 5},
        {"1.0e\"", "Invalid number, expected digit but got: '\"'.", 5},
        {"1e-", "Invalid number, expected digit but got: <EOF>.", 4},
        {"1.2e3e", "Invalid number, expected digit but got: \"e\".", 6},
        {"1.2e3.4", "Invalid number, expected digit but got: \".\".", 6},
        {"1.23.4", "Invalid number, expected digit but got: \".\".", 5},
        {"1.2.3", "Invalid number, expected digit but got: \".\".", 4},
        {"0xF1", "Invalid number, expected digit but got: \"x\".", 2},
        {"0b10", "Invalid number, expected digit but got: \"b\".", 2},
        {"123abc", "Invalid number, expected digit but got: \"a\".", 4},
        {"1_234", "Invalid number, expected digit but got: \"_\".", 2},
        {"1.23f", "Invalid number, expected digit but got: \"f\".", 5},
        {"1.234_5", "Invalid number, expected digit but got: \"_\".", 6},
        {"1\xc3\x9f", "Unexpected character: U+00DF.", 2},
        {"1.\t", "Invalid number, expected digit but got: U+0009.", 3},
    };
    char expected[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(expected, sizeof expected, "Syntax Error: %s", cases[i].message);
        check_error(cases[i].src, expected, 1, cases[i].column);
    }
}

/* ---- strings ---- */

static void check_string_n(const char *src, const char *value, size_t len)
{
    gql_token_t t = first(src);
    assert_int_equal(t.kind, GQL_TOKEN_STRING);
    check_value(&t, value, len);
    assert_int_equal(t.value[t.len], '\0');
    assert_int_equal(t.end, strlen(src));
}

static void check_string(const char *src, const char *value)
{
    check_string_n(src, value, strlen(value));
}

static void test_strings(void **state)
{
    (void)state;
    check_string("\"\"", "");
    check_string("\"simple\"", "simple");
    check_string("\" white space \"", " white space ");
    check_string("\"quote \\\"\"", "quote \"");
    check_string("\"escaped \\n\\r\\b\\t\\f\"", "escaped \n\r\b\t\f");
    check_string("\"slashes \\\\ \\/\"", "slashes \\ /");
    check_string("\"unescaped unicode outside BMP \xf0\x9f\x98\x80\"",
                 "unescaped unicode outside BMP \xf0\x9f\x98\x80");
    check_string("\"unescaped maximal unicode outside BMP \xf4\x8f\xbf\xbf\"",
                 "unescaped maximal unicode outside BMP \xf4\x8f\xbf\xbf");
    check_string("\"caf\xc3\xa9 \xe2\x82\xac\"", "caf\xc3\xa9 \xe2\x82\xac");
    /* control characters are source characters since the October 2021 edition */
    check_string("\"a\x01"
                 "b\x7f\"",
                 "a\x01"
                 "b\x7f");
    check_string("\"tab\there\"", "tab\there");
}

static void test_string_unicode_escapes(void **state)
{
    (void)state;
    check_string("\"unicode \\u1234\\u5678\\u90AB\\uCDEF\"",
                 "unicode \xe1\x88\xb4\xe5\x99\xb8\xe9\x82\xab\xec\xb7\xaf");
    check_string("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac");
    check_string("\"unicode \\u{1234}\\u{5678}\\u{90AB}\\u{CDEF}\"",
                 "unicode \xe1\x88\xb4\xe5\x99\xb8\xe9\x82\xab\xec\xb7\xaf");
    check_string("\"outside BMP \\u{1F600}\"", "outside BMP \xf0\x9f\x98\x80");
    check_string("\"maximal \\u{10FFFF}\"", "maximal \xf4\x8f\xbf\xbf");
    /* a surrogate pair written as two escapes is one code point */
    check_string("\"pair \\uD83D\\uDE00\"", "pair \xf0\x9f\x98\x80");
    check_string("\"pair \\uD800\\uDC00\"", "pair \xf0\x90\x80\x80");
    check_string("\"pair \\uDBFF\\uDFFF\"", "pair \xf4\x8f\xbf\xbf");
    check_string("\"pair \\ud83d\\ude00!\"", "pair \xf0\x9f\x98\x80!");
    /* NUL by escape is part of the value; the length says so */
    check_string_n("\"a\\u0000b\"", "a\0b", 3);
    check_string_n("\"\\u{0}\"", "", 1);
    check_string_n("\"\\u{00000000}\"", "", 1);
}

static void test_string_errors(void **state)
{
    (void)state;
    static const struct {
        const char *src, *message;
        uint32_t column;
    } cases[] = {
        {"\"", "Unterminated string.", 2},
        {"\"no end quote", "Unterminated string.", 14},
        {"'single quotes'",
         "Unexpected single quote character ('), did you mean to use a double quote (\")?", 1},
        {"\"multi\nline\"", "Unterminated string.", 7},
        {"\"multi\rline\"", "Unterminated string.", 7},
        {"\"bad \\z esc\"", "Invalid character escape sequence: \"\\z\".", 6},
        {"\"bad \\x esc\"", "Invalid character escape sequence: \"\\x\".", 6},
        {"\"bad \\", "Invalid character escape sequence: \"\\\".", 6},
        {"\"bad \\u1 esc\"", "Invalid Unicode escape sequence: \"\\u1 es\".", 6},
        {"\"bad \\u0XX1 esc\"", "Invalid Unicode escape sequence: \"\\u0XX1\".", 6},
        {"\"bad \\uXXXX esc\"", "Invalid Unicode escape sequence: \"\\uXXXX\".", 6},
        {"\"bad \\uFXXX esc\"", "Invalid Unicode escape sequence: \"\\uFXXX\".", 6},
        {"\"bad \\uXXXF esc\"", "Invalid Unicode escape sequence: \"\\uXXXF\".", 6},
        {"\"bad \\u", "Invalid Unicode escape sequence: \"\\u\".", 6},
        {"\"bad \\u{} esc\"", "Invalid Unicode escape sequence: \"\\u{}\".", 6},
        {"\"bad \\u{FXXX} esc\"", "Invalid Unicode escape sequence: \"\\u{FX\".", 6},
        {"\"bad \\u{FFFF esc\"", "Invalid Unicode escape sequence: \"\\u{FFFF \".", 6},
        {"\"bad \\u{FFFF\"", "Invalid Unicode escape sequence: \"\\u{FFFF\"\".", 6},
        {"\"too high \\u{110000} esc\"", "Invalid Unicode escape sequence: \"\\u{110000}\".", 11},
        {"\"way too high \\u{12345678} esc\"",
         "Invalid Unicode escape sequence: \"\\u{12345678}\".", 15},
        {"\"too long \\u{000000000} esc\"", "Invalid Unicode escape sequence: \"\\u{000000000\".",
         11},
        {"\"bad surrogate \\uDEAD\"", "Invalid Unicode escape sequence: \"\\uDEAD\".", 16},
        {"\"bad high surrogate pair \\uDEAD\\uDEAD\"",
         "Invalid Unicode escape sequence: \"\\uDEAD\".", 26},
        {"\"bad low surrogate pair \\uD800\\uD800\"",
         "Invalid Unicode escape sequence: \"\\uD800\".", 25},
        {"\"unpaired \\uD83D\"", "Invalid Unicode escape sequence: \"\\uD83D\".", 11},
        {"\"unpaired \\uD83Dx\"", "Invalid Unicode escape sequence: \"\\uD83D\".", 11},
        {"\"unpaired \\uD83D\\u0041\"", "Invalid Unicode escape sequence: \"\\uD83D\".", 11},
        {"\"bad surrogate \\u{DEAD} esc\"", "Invalid Unicode escape sequence: \"\\u{DEAD}\".", 16},
        {"\"braces \\u{D83D}\\u{DE00} esc\"", "Invalid Unicode escape sequence: \"\\u{D83D}\".", 9},
        {"\"mixed \\uD83D\\u{DE00}\"", "Invalid Unicode escape sequence: \"\\uD83D\".", 8},
        {"\"\xf0\x9f\x98\x80 \\q\"", "Invalid character escape sequence: \"\\q\".", 5},
    };
    char expected[160];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(expected, sizeof expected, "Syntax Error: %s", cases[i].message);
        check_error(cases[i].src, expected, 1, cases[i].column);
    }
    check_error_n(S("\"a\0b\""), "Syntax Error: Invalid character within String: U+0000.", 1, 3);
}

/* ---- block strings ---- */

static void check_block_n(const char *src, const char *value, size_t len)
{
    gql_token_t t = first(src);
    assert_int_equal(t.kind, GQL_TOKEN_BLOCK_STRING);
    check_value(&t, value, len);
    assert_int_equal(t.value[t.len], '\0');
    assert_int_equal(t.end, strlen(src));
}

static void check_block(const char *src, const char *value)
{
    check_block_n(src, value, strlen(value));
}

static void test_block_strings(void **state)
{
    (void)state;
    check_block("\"\"\"\"\"\"", "");
    check_block("\"\"\"simple\"\"\"", "simple");
    check_block("\"\"\" white space \"\"\"", " white space ");
    check_block("\"\"\"contains \" quote\"\"\"", "contains \" quote");
    check_block("\"\"\"contains \\\"\"\" triple quote\"\"\"", "contains \"\"\" triple quote");
    check_block("\"\"\"\\\"\"\"\\\"\"\"\"\"\"", "\"\"\"\"\"\"");
    check_block("\"\"\"multi\nline\"\"\"", "multi\nline");
    check_block("\"\"\"multi\rline\r\nnormalized\"\"\"", "multi\nline\nnormalized");
    check_block("\"\"\"unescaped \\n\\r\\b\\t\\f\\u1234\"\"\"", "unescaped \\n\\r\\b\\t\\f\\u1234");
    check_block("\"\"\"unescaped unicode outside BMP \xf0\x9f\x98\x80\"\"\"",
                "unescaped unicode outside BMP \xf0\x9f\x98\x80");
    check_block("\"\"\"slashes \\\\ \\/\"\"\"", "slashes \\\\ \\/");
    check_block("\"\"\"a \\\"\" b\"\"\"", "a \\\"\" b");
    check_block("\"\"\"control \x01\"\"\"", "control \x01");
}

static void test_block_string_indentation(void **state)
{
    (void)state;
    /* common indentation and the blank lines around the text are removed */
    check_block("\"\"\"\n\n        spans\n          multiple\n            lines\n\n        \"\"\"",
                "spans\n  multiple\n    lines");
    /* the first line keeps its own indentation and does not count */
    check_block("\"\"\"  first\n    second\n  third\"\"\"", "  first\n  second\nthird");
    check_block("\"\"\"first\n      second\n    third\"\"\"", "first\n  second\nthird");
    /* nothing but blank lines */
    check_block("\"\"\"  \n   \n \"\"\"", "");
    check_block("\"\"\"\n\n\n\"\"\"", "");
    /* tabs are white space too, one character each */
    check_block("\"\"\"\n\tA\n\t\tB\n\"\"\"", "A\n\tB");
    check_block("\"\"\"\n \tA\n\t B\n\"\"\"", "A\nB");
    /* blank lines inside keep what is left after the common indentation */
    check_block("\"\"\"\n    a\n  \n    b\n\"\"\"", "a\n\nb");
    check_block("\"\"\"\n  a\n      \n  b\n\"\"\"", "a\n    \nb");
    /* an escaped triple quote is text, not indentation */
    check_block("\"\"\"\n  \\\"\"\"\n    x\n\"\"\"", "\"\"\"\n  x");
    /* all line terminators, also mixed */
    check_block("\"\"\"\r\n  a\r\n    b\r  c\n\"\"\"", "a\n  b\nc");
    /* white space after text on a line is kept */
    check_block("\"\"\"\n  a  \n  b\t\n\"\"\"", "a  \nb\t");
    /* non-ASCII is not white space */
    check_block("\"\"\"\n  \xc3\xa9\n    x\n\"\"\"", "\xc3\xa9\n  x");
}

static void test_block_string_errors(void **state)
{
    (void)state;
    check_error("\"\"\"", "Syntax Error: Unterminated string.", 1, 4);
    check_error("\"\"\"\"", "Syntax Error: Unterminated string.", 1, 5);
    check_error("\"\"\"no end triple-quote\"\"", "Syntax Error: Unterminated string.", 1, 25);
    check_error("\"\"\"a\n\nbc", "Syntax Error: Unterminated string.", 3, 3);
    check_error("\"\"\"a\r\n\xf0\x9f\x98\x80", "Syntax Error: Unterminated string.", 2, 3);
    check_error_n(S("\"\"\"\n\n  \0\"\"\""),
                  "Syntax Error: Invalid character within String: U+0000.", 3, 3);
}

/* ---- ignored tokens ---- */

static void test_ignored(void **state)
{
    (void)state;
    gql_token_t t = first("\n\n    foo\n\n\n");
    assert_int_equal(t.kind, GQL_TOKEN_NAME);
    assert_int_equal(t.line, 3);
    assert_int_equal(t.column, 5);
    assert_int_equal(t.start, 6);
    assert_int_equal(t.end, 9);

    t = first("\n    #comment\n    foo#comment\n");
    assert_int_equal(t.line, 3);
    assert_int_equal(t.column, 5);
    assert_int_equal(t.start, 18);

    t = first(",,,foo,,,");
    assert_int_equal(t.column, 4);

    t = first("# only a comment \xf0\x9f\x98\x80");
    assert_int_equal(t.kind, GQL_TOKEN_EOF);
    t = first("#");
    assert_int_equal(t.kind, GQL_TOKEN_EOF);
    t = first("");
    assert_int_equal(t.kind, GQL_TOKEN_EOF);
    assert_int_equal(t.line, 1);
    assert_int_equal(t.column, 1);
    t = first_n(NULL, 0);
    assert_int_equal(t.kind, GQL_TOKEN_EOF);
}

static void test_comments_kept(void **state)
{
    (void)state;
    gql_lexer_t lx;
    const char *src = "a # one\r# two \xc3\xa9\n#\nb";
    start(&lx, src, strlen(src));
    lx.keep_comments = true;
    gql_token_t t = next_ok(&lx);
    assert_int_equal(t.kind, GQL_TOKEN_NAME);
    t = next_ok(&lx);
    assert_int_equal(t.kind, GQL_TOKEN_COMMENT);
    check_value(&t, " one", 4);
    assert_int_equal(t.column, 3);
    t = next_ok(&lx);
    assert_int_equal(t.kind, GQL_TOKEN_COMMENT);
    check_value(&t, " two \xc3\xa9", 7);
    assert_int_equal(t.line, 2);
    t = next_ok(&lx);
    assert_int_equal(t.kind, GQL_TOKEN_COMMENT);
    assert_int_equal(t.len, 0);
    t = next_ok(&lx);
    assert_int_equal(t.kind, GQL_TOKEN_NAME);
    assert_int_equal(t.line, 4);
}

static void test_byte_order_mark(void **state)
{
    (void)state;
    gql_token_t t = first("\xef\xbb\xbf{");
    assert_int_equal(t.kind, GQL_TOKEN_BRACE_L);
    assert_int_equal(t.start, 3);
    assert_int_equal(t.column, 2); /* the BOM is one UTF-16 unit, as in graphql-js */

    /* ignored anywhere outside strings, as the specification says */
    gql_lexer_t lx;
    const char *src = "a\xef\xbb\xbf"
                      "b";
    start(&lx, src, strlen(src));
    next_ok(&lx);
    t = next_ok(&lx);
    check_value(&t, "b", 1);
    assert_int_equal(t.column, 3);

    /* but kept inside them */
    check_string("\"\xef\xbb\xbf\"", "\xef\xbb\xbf");
    /* and a lone part of one is no BOM */
    check_error("\xef\xbb", "Syntax Error: Invalid UTF-8 sequence (byte 0xEF).", 1, 1);
}

static void test_eof_repeats(void **state)
{
    (void)state;
    gql_lexer_t lx;
    start(&lx, "a\n", 2);
    next_ok(&lx);
    for (int i = 0; i < 3; i++) {
        gql_token_t t = next_ok(&lx);
        assert_int_equal(t.kind, GQL_TOKEN_EOF);
        assert_int_equal(t.start, 2);
        assert_int_equal(t.end, 2);
        assert_int_equal(t.line, 2);
        assert_int_equal(t.column, 1);
    }
}

/* ---- positions ---- */

/* Line and column of the index-th token of src. */
static void check_position(const char *src, int index, uint32_t line, uint32_t column)
{
    gql_lexer_t lx;
    start(&lx, src, strlen(src));
    gql_token_t t = next_ok(&lx);
    for (int i = 0; i < index; i++)
        t = next_ok(&lx);
    if (t.line != line || t.column != column)
        fail_msg("token %d of \"%s\" at %u:%u, expected %u:%u", index, src, t.line, t.column, line,
                 column);
}

static void test_line_terminators(void **state)
{
    (void)state;
    const char *src = "a\nb\r\nc\rd\n\re";
    check_position(src, 0, 1, 1);
    check_position(src, 1, 2, 1);
    check_position(src, 2, 3, 1);
    check_position(src, 3, 4, 1);
    check_position(src, 4, 6, 1);
    check_position("\r\r\n\n  x", 0, 4, 3);
}

static void test_utf16_columns(void **state)
{
    (void)state;
    /* a character outside the BMP is two UTF-16 units, one in the BMP is one */
    check_position("\"\xf0\x9f\x98\x80\" x", 1, 1, 6);
    check_position("\"\xc3\xa9\" x", 1, 1, 5);
    check_position("\"\xe2\x82\xac\" x", 1, 1, 5);
    check_position("\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\" x", 1, 1, 8);
    check_position("\"\\u{1F600}\" x", 1, 1, 13); /* escapes are ASCII in the source */
    /* comments count too, and a new line starts afresh */
    check_position("a # \xf0\x9f\x98\x80\xf0\x9f\x98\x80\n  b", 1, 2, 3);
    check_position("\"\xf0\x9f\x98\x80\" \"\xf0\x9f\x98\x80\" x", 2, 1, 11);
    /* a block string ending on a later line: columns count from that line's start */
    check_position("\"\"\"a\xf0\x9f\x98\x80\n\xf0\x9f\x98\x80\"\"\" x", 1, 2, 7);
    check_position("\"\"\"\xf0\x9f\x98\x80\r\n\xc3\xa9\"\"\"x", 1, 2, 5);
    gql_token_t t = first("  \"\"\"\n\xf0\x9f\x98\x80\n\"\"\"");
    assert_int_equal(t.line, 1);
    assert_int_equal(t.column, 3);
    /* errors are placed the same way */
    check_error("\"\xf0\x9f\x98\x80\" ~", "Syntax Error: Unexpected character: \"~\".", 1, 6);
    check_error("\"\xf0\x9f\x98\x80 \\z\"",
                "Syntax Error: Invalid character escape sequence: \"\\z\".", 1, 5);
    check_error("\"\"\"\n\xf0\x9f\x98\x80\"\"\" \"\xc3\xa9", "Syntax Error: Unterminated string.",
                2, 9);
}

/* ---- invalid input ---- */

static void test_invalid_characters(void **state)
{
    (void)state;
    check_error("~", "Syntax Error: Unexpected character: \"~\".", 1, 1);
    check_error("?", "Syntax Error: Unexpected character: \"?\".", 1, 1);
    check_error("a %", "Syntax Error: Unexpected character: \"%\".", 1, 3);
    check_error("\x07", "Syntax Error: Unexpected character: U+0007.", 1, 1);
    check_error("\x7f", "Syntax Error: Unexpected character: U+007F.", 1, 1);
    check_error("\x0b", "Syntax Error: Unexpected character: U+000B.", 1, 1);
    check_error("\xc3\xa9", "Syntax Error: Unexpected character: U+00E9.", 1, 1);
    check_error("\xe2\x80\xa8", "Syntax Error: Unexpected character: U+2028.", 1, 1);
    check_error("\xf0\x9f\x98\x80", "Syntax Error: Unexpected character: U+1F600.", 1, 1);
    check_error("x \xf0\x9f\x98\x80", "Syntax Error: Unexpected character: U+1F600.", 1, 3);
    check_error("\xc2\xa0", "Syntax Error: Unexpected character: U+00A0.", 1, 1);
}

static void test_nul_bytes(void **state)
{
    (void)state;
    check_error_n(S("\0"), "Syntax Error: Unexpected character: U+0000.", 1, 1);
    check_error_n(S("a\0b"), "Syntax Error: Unexpected character: U+0000.", 1, 2);
    check_error_n(S("{ a }\0"), "Syntax Error: Unexpected character: U+0000.", 1, 6);
    check_error_n(S("\"\0\""), "Syntax Error: Invalid character within String: U+0000.", 1, 2);
    check_error_n(S("\"\"\"\0\"\"\""), "Syntax Error: Invalid character within String: U+0000.", 1,
                  4);
    check_error_n(S("# \0\n"), "Syntax Error: Unexpected character: U+0000.", 1, 3);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *src;
        uint32_t column;
        unsigned byte;
    } cases[] = {
        {"\xff", 1, 0xFF},
        {"\x80", 1, 0x80},
        {"\xc3", 1, 0xC3},             /* cut short by the end */
        {"\xc3(", 1, 0xC3},            /* cut short by ASCII */
        {"\xc0\xaf", 1, 0xC0},         /* overlong '/' */
        {"\xe0\x80\xaf", 1, 0xE0},     /* overlong */
        {"\xed\xa0\x80", 1, 0xED},     /* a surrogate, U+D800 */
        {"\xf4\x90\x80\x80", 1, 0xF4}, /* above U+10FFFF */
        {"\xf5\x80\x80\x80", 1, 0xF5},
        {"abc\xff", 4, 0xFF}, /* right after a name */
        {"1\xff", 2, 0xFF},   /* right after a number */
        {"1.\xff", 3, 0xFF},  /* where a digit must be */
        {"\"a\xff"
         "b\"",
         3, 0xFF},                      /* inside a string */
        {"\"\xc3\xa9\xc3\"", 3, 0xC3},  /* after a valid character */
        {"\"\xf0\x9f\x98\"", 2, 0xF0},  /* a four-byte sequence cut short */
        {"\"\\\xff\"", 3, 0xFF},        /* as an escaped character */
        {"\"\\u12\xff\"", 6, 0xFF},     /* inside a \u escape */
        {"\"\"\"a\xfe\"\"\"", 5, 0xFE}, /* inside a block string */
        {"# \xff\n", 3, 0xFF},          /* inside a comment */
        {"\"\"\"\n\n\xff\"\"\"", 1, 0xFF},
    };
    char expected[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(expected, sizeof expected, "Syntax Error: Invalid UTF-8 sequence (byte 0x%02X).",
                 cases[i].byte);
        gql_error_t err = error_of(cases[i].src, strlen(cases[i].src));
        assert_int_equal(err.code, GQL_ESYNTAX);
        assert_string_equal(err.message, expected);
        assert_int_equal(err.column, cases[i].column);
    }
    assert_int_equal(error_of(S("\"\"\"\n\n\xff\"\"\"")).line, 3);
}

static void test_error_offsets(void **state)
{
    (void)state;
    gql_error_t err = error_of(S("{\n  a: \"\\q\"\n}"));
    assert_int_equal(err.offset, 8);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 7);
}

static void test_source_too_large(void **state)
{
    (void)state;
    gql_lexer_t lx;
    gql_error_t err;
    /* only the length is looked at */
    assert_int_equal(gql_lexer_init(&lx, "", (size_t)GQL_LEXER_MAX_SOURCE + 1, &arena, &err),
                     GQL_ELIMIT);
    assert_int_equal(err.code, GQL_ELIMIT);
    assert_non_null(err.message);
}

static void test_kind_descriptions(void **state)
{
    (void)state;
    assert_string_equal(gql_token_kind_desc(GQL_TOKEN_EOF), "<EOF>");
    assert_string_equal(gql_token_kind_desc(GQL_TOKEN_SPREAD), "\"...\"");
    assert_string_equal(gql_token_kind_desc(GQL_TOKEN_BRACE_R), "\"}\"");
    assert_string_equal(gql_token_kind_desc(GQL_TOKEN_NAME), "Name");
    assert_string_equal(gql_token_kind_desc(GQL_TOKEN_BLOCK_STRING), "BlockString");
    assert_string_equal(gql_token_kind_desc(GQL_TOKEN_COMMENT), "Comment");
    assert_string_equal(gql_token_kind_desc((gql_token_kind_t)99), "?");
}

/* Every token of a long line: columns stay exact without rescanning the line. */
static void test_long_line(void **state)
{
    (void)state;
    enum { N = 20000 };
    static char src[N * 6 + 1];
    size_t len = 0;
    for (int i = 0; i < N; i++) {
        memcpy(src + len, "\"\xc3\xa9\" ", 5); /* 4 UTF-16 units, 5 bytes */
        len += 5;
    }
    src[len] = '\0';
    gql_lexer_t lx;
    start(&lx, src, len);
    for (int i = 0; i < N; i++) {
        gql_token_t t = next_ok(&lx);
        assert_int_equal(t.column, (uint32_t)i * 4 + 1);
        assert_int_equal(t.start, (uint32_t)i * 5);
    }
    assert_int_equal(next_ok(&lx).kind, GQL_TOKEN_EOF);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_punctuators),
        T(test_spread_needs_three_dots),
        T(test_names),
        T(test_ints),
        T(test_floats),
        T(test_invalid_numbers),
        T(test_strings),
        T(test_string_unicode_escapes),
        T(test_string_errors),
        T(test_block_strings),
        T(test_block_string_indentation),
        T(test_block_string_errors),
        T(test_ignored),
        T(test_comments_kept),
        T(test_byte_order_mark),
        T(test_eof_repeats),
        T(test_line_terminators),
        T(test_utf16_columns),
        T(test_invalid_characters),
        T(test_nul_bytes),
        T(test_invalid_utf8),
        T(test_error_offsets),
        T(test_source_too_large),
        T(test_kind_descriptions),
        T(test_long_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
