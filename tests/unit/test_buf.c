/* test_buf.c - unit tests of the growable byte buffer in lib/buf.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* needs the four headers above included first */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "utf8.h"

/* Checks the invariants every buffer holding data must keep. */
static void assert_buf(const buf_t *b, const char *expect, size_t len)
{
    assert_int_equal(b->len, len);
    assert_non_null(b->data);
    assert_true(b->cap > b->len);
    assert_int_equal(b->data[b->len], '\0');
    assert_memory_equal(b->data, expect, len);
}

static void test_zero_initialised_is_empty(void **state)
{
    (void)state;
    buf_t b = {0};
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    /* Appending nothing still yields a NUL-terminated string. */
    assert_int_equal(buf_append(&b, "", 0), 0);
    assert_buf(&b, "", 0);
    assert_string_equal(b.data, "");
    buf_free(&b);
}

static void test_append_puts_putc(void **state)
{
    (void)state;
    buf_t b = {0};
    assert_int_equal(buf_puts(&b, "hello"), 0);
    assert_int_equal(buf_putc(&b, ','), 0);
    assert_int_equal(buf_append(&b, " world!!!", 6), 0);
    assert_buf(&b, "hello, world", 12);
    assert_string_equal(b.data, "hello, world");
    /* Bytes after an embedded NUL are kept: len, not strlen, is the size. */
    assert_int_equal(buf_append(&b, "a\0b", 3), 0);
    assert_buf(&b, "hello, worlda\0b", 15);
    assert_int_equal(b.failed, 0);
    buf_free(&b);
}

static void test_growth_keeps_content(void **state)
{
    (void)state;
    buf_t b = {0};
    const size_t n = 100000;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(buf_putc(&b, (char)('a' + i % 26)), 0);
    assert_int_equal(b.len, n);
    assert_true(b.cap > n);
    assert_int_equal(b.data[n], '\0');
    for (size_t i = 0; i < n; i++)
        assert_int_equal(b.data[i], 'a' + i % 26);
    buf_free(&b);
}

static void test_reserve(void **state)
{
    (void)state;
    buf_t b = {0};
    assert_int_equal(buf_reserve(&b, 1000), 0);
    assert_true(b.cap >= 1001);
    size_t cap = b.cap;
    char *data = b.data;
    /* Reserved room is used without moving the data. */
    for (int i = 0; i < 1000; i++)
        buf_putc(&b, 'x');
    assert_int_equal(b.cap, cap);
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.len, 1000);
    buf_free(&b);
}

static void test_printf(void **state)
{
    (void)state;
    buf_t b = {0};
    assert_int_equal(buf_printf(&b, "%d-%s-%.2f-%%", 42, "x", 1.5), 0);
    assert_buf(&b, "42-x-1.50-%", 11);
    /* Output far larger than the first allocation. */
    char big[5000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(buf_printf(&b, "[%s]", big), 0);
    assert_int_equal(b.len, 11 + 2 + sizeof big - 1);
    assert_int_equal(b.data[11], '[');
    assert_int_equal(b.data[b.len - 1], ']');
    assert_int_equal(b.data[b.len], '\0');
    assert_int_equal(strspn(b.data + 12, "z"), sizeof big - 1);
    /* An empty format still leaves a terminated string. */
    buf_t e = {0};
    assert_int_equal(buf_printf(&e, "%s", ""), 0);
    assert_buf(&e, "", 0);
    buf_free(&e);
    buf_free(&b);
}

static int via_vprintf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

static void test_vprintf(void **state)
{
    (void)state;
    buf_t b = {0};
    buf_puts(&b, "a");
    assert_int_equal(via_vprintf(&b, "%s=%ld", "n", -7L), 0);
    assert_buf(&b, "an=-7", 5);
    buf_free(&b);
}

static void test_put_i64(void **state)
{
    (void)state;
    static const struct {
        int64_t v;
        const char *text;
    } cases[] = {
        {0, "0"},
        {7, "7"},
        {-1, "-1"},
        {10, "10"},
        {1234567890, "1234567890"},
        {INT64_MAX, "9223372036854775807"},
        {INT64_MIN, "-9223372036854775808"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_t b = {0};
        buf_puts(&b, "<");
        assert_int_equal(buf_put_i64(&b, cases[i].v), 0);
        buf_puts(&b, ">");
        char expect[32];
        snprintf(expect, sizeof expect, "<%s>", cases[i].text);
        assert_string_equal(b.data, expect);
        buf_free(&b);
    }
}

static void assert_json(const char *in, size_t len, const char *expect)
{
    buf_t b = {0};
    assert_int_equal(buf_put_json_string(&b, in, len), 0);
    assert_string_equal(b.data, expect);
    assert_int_equal(b.len, strlen(expect));
    buf_free(&b);
}

static void test_json_string_escapes(void **state)
{
    (void)state;
    assert_json("", 0, "\"\"");
    assert_json("plain / text", 12, "\"plain / text\"");
    assert_json("say \"hi\" \\o/", 12, "\"say \\\"hi\\\" \\\\o/\"");
    assert_json("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
    assert_json("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\"");
    /* len, not the NUL, ends the input. */
    assert_json("a\0b", 3, "\"a\\u0000b\"");
    assert_json("abcdef", 3, "\"abc\"");
}

static void test_json_string_utf8(void **state)
{
    (void)state;
    /* Valid UTF-8 passes through untouched. */
    assert_json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
                "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
#define FFFD "\xef\xbf\xbd"
    /* Each byte that starts no valid sequence becomes one U+FFFD. */
    assert_json("a\xff!", 3, "\"a" FFFD "!\"");
    assert_json("\xc0\xaf", 2, "\"" FFFD FFFD "\"");                   /* overlong '/' */
    assert_json("\xed\xa0\x80", 3, "\"" FFFD FFFD FFFD "\"");          /* surrogate */
    assert_json("\xf4\x90\x80\x80", 4, "\"" FFFD FFFD FFFD FFFD "\""); /* > U+10FFFF */
    assert_json("x\xe2\x82", 3, "\"x" FFFD FFFD "\"");                 /* truncated at end */
    assert_json("\xe2\x82\xac", 2, "\"" FFFD FFFD "\"");               /* cut by len */
    assert_json("\xc3\"", 2, "\"" FFFD "\\\"\"");
#undef FFFD
}

static void test_json_string_always_valid(void **state)
{
    (void)state;
    static const unsigned char alphabet[] = {'a',  '"',  '\\', '\n', 0x00, 0x1f, 0x7f, 0x80,
                                             0xbf, 0xc2, 0xc0, 0xe0, 0xed, 0xef, 0xf0, 0xf4,
                                             0xf5, 0xff, 0xa0, 0x90, 0x8f, 0x9f};
    unsigned char in[16];
    srand(11);
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(rand() % (int)sizeof in);
        for (size_t i = 0; i < len; i++)
            in[i] = alphabet[rand() % (int)sizeof alphabet];
        buf_t b = {0};
        assert_int_equal(buf_put_json_string(&b, (const char *)in, len), 0);
        assert_true(utf8_valid(b.data, b.len));
        assert_true(b.len >= 2 && b.data[0] == '"' && b.data[b.len - 1] == '"');
        /* No raw control characters, and every quote inside is escaped. */
        for (size_t i = 1; i + 1 < b.len; i++) {
            assert_true((unsigned char)b.data[i] >= 0x20);
            if (b.data[i] == '\\')
                i++;
            else
                assert_true(b.data[i] != '"');
        }
        buf_free(&b);
    }
}

static void test_reset_keeps_memory(void **state)
{
    (void)state;
    buf_t b = {0};
    buf_reset(&b); /* harmless on an empty buffer */
    buf_puts(&b, "some text");
    size_t cap = b.cap;
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, cap);
    assert_string_equal(b.data, "");
    buf_puts(&b, "new");
    assert_buf(&b, "new", 3);
    buf_free(&b);
}

static void test_free_and_detach(void **state)
{
    (void)state;
    buf_t b = {0};
    buf_puts(&b, "owned");
    char *p = buf_detach(&b);
    assert_string_equal(p, "owned");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    free(p);
    /* Detaching an empty buffer still hands out a string to free. */
    p = buf_detach(&b);
    assert_non_null(p);
    assert_string_equal(p, "");
    free(p);
    buf_puts(&b, "x");
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    buf_free(&b); /* twice is fine */
}

static void test_failure_is_sticky(void **state)
{
    (void)state;
    buf_t b = {0};
    assert_int_equal(buf_reserve(&b, SIZE_MAX / 2 + 1), -1);
    assert_int_not_equal(b.failed, 0);
    assert_int_equal(buf_puts(&b, "x"), -1);
    assert_int_equal(buf_putc(&b, 'x'), -1);
    assert_int_equal(buf_printf(&b, "%d", 1), -1);
    assert_int_equal(buf_put_i64(&b, 1), -1);
    assert_int_equal(buf_put_json_string(&b, "x", 1), -1);
    assert_int_equal(b.len, 0);
    buf_free(&b);
    assert_int_equal(b.failed, 0); /* buf_free makes it a fresh buffer */
}

static void test_huge_reserve_on_non_empty_buffer_fails(void **state)
{
    (void)state;
    buf_t b = {0};
    buf_puts(&b, "abc");
    /* len + extra + 1 wraps around SIZE_MAX; that must not pass for room. */
    assert_int_equal(buf_reserve(&b, SIZE_MAX), -1);
    assert_int_not_equal(b.failed, 0);
    buf_free(&b);
    buf_puts(&b, "abc");
    assert_int_equal(buf_reserve(&b, SIZE_MAX - 3), -1);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_initialised_is_empty),
        cmocka_unit_test(test_append_puts_putc),
        cmocka_unit_test(test_growth_keeps_content),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_vprintf),
        cmocka_unit_test(test_put_i64),
        cmocka_unit_test(test_json_string_escapes),
        cmocka_unit_test(test_json_string_utf8),
        cmocka_unit_test(test_json_string_always_valid),
        cmocka_unit_test(test_reset_keeps_memory),
        cmocka_unit_test(test_free_and_detach),
        cmocka_unit_test(test_failure_is_sticky),
        cmocka_unit_test(test_huge_reserve_on_non_empty_buffer_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
