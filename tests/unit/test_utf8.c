/* test_utf8.c - unit tests of the strict UTF-8 checks in lib/utf8.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* needs the four headers above included first */

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Reference encoder and decoder, written from RFC 3629 independently of the
 * table-driven code under test, to compare against on every input. */
static size_t ref_encode(uint32_t cp, unsigned char out[4])
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static size_t ref_length(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    size_t len;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        cp = s[0] & 0x1Fu;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        cp = s[0] & 0x0Fu;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3Fu);
    }
    unsigned char tmp[4];
    bool overlong = ref_encode(cp, tmp) != len;
    bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    return overlong || surrogate || cp > 0x10FFFF ? 0 : len;
}

static bool ref_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0, len; i < n; i += len)
        if ((len = ref_length(s + i, n - i)) == 0)
            return false;
    return true;
}

static void assert_valid(const char *s, size_t n, bool expect)
{
    if (utf8_valid(s, n) != expect)
        fail_msg("utf8_valid on %zu bytes starting 0x%02x: expected %d", n,
                 n ? (unsigned char)s[0] : 0, expect);
}

static void test_ascii_and_empty(void **state)
{
    (void)state;
    assert_true(utf8_valid("", 0));
    assert_true(utf8_valid("hello, world", 12));
    /* U+0000 is a code point like any other; refusing NUL is the caller's rule. */
    assert_true(utf8_valid("a\0b", 3));
    assert_int_equal(utf8_sequence_length("", 0), 0);
    assert_int_equal(utf8_sequence_length("a", 1), 1);
    assert_int_equal(utf8_sequence_length("\x7f", 1), 1);
    assert_int_equal(utf8_count("", 0), 0);
    assert_int_equal(utf8_count("abc", 3), 3);
}

static void test_boundaries_of_each_length(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len;
    } ok[] = {
        {"\x7f", 1},             /* U+007F */
        {"\xc2\x80", 2},         /* U+0080 */
        {"\xdf\xbf", 2},         /* U+07FF */
        {"\xe0\xa0\x80", 3},     /* U+0800 */
        {"\xef\xbf\xbf", 3},     /* U+FFFF */
        {"\xed\x9f\xbf", 3},     /* U+D7FF, just below the surrogates */
        {"\xee\x80\x80", 3},     /* U+E000, just above them */
        {"\xf0\x90\x80\x80", 4}, /* U+10000 */
        {"\xf4\x8f\xbf\xbf", 4}, /* U+10FFFF */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(utf8_sequence_length(ok[i].s, ok[i].len), ok[i].len);
        /* More bytes available than the sequence needs changes nothing. */
        assert_int_equal(utf8_sequence_length(ok[i].s, ok[i].len + 1), ok[i].len);
        assert_valid(ok[i].s, ok[i].len, true);
        assert_int_equal(utf8_count(ok[i].s, ok[i].len), 1);
    }
}

static void test_rejects_invalid_sequences(void **state)
{
    (void)state;
    static const char *const bad[] = {
        /* overlong forms */
        "\xc0\x80",
        "\xc1\xbf",
        "\xe0\x80\x80",
        "\xe0\x9f\xbf",
        "\xf0\x80\x80\x80",
        "\xf0\x8f\xbf\xbf",
        /* UTF-16 surrogates */
        "\xed\xa0\x80",
        "\xed\xbf\xbf",
        "\xed\xaf\xbf\xed\xbf\xbf",
        /* above U+10FFFF, and lead bytes RFC 3629 removed */
        "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80",
        "\xf7\xbf\xbf\xbf",
        "\xf8\x88\x80\x80\x80",
        "\xfc\x84\x80\x80\x80\x80",
        "\xfe",
        "\xff",
        /* stray continuation bytes */
        "\x80",
        "\xbf",
        "a\x80",
        /* truncated sequences */
        "\xc2",
        "\xe2\x82",
        "\xf0\x9f\x98",
        "\xe2\x82!",
        "\xf0\x9f\x98!",
        /* a continuation byte missing in the middle */
        "\xc2\x41",
        "\xe2\x28\xa1",
        "\xe2\x82\x28",
        "\xf0\x9f\x28\x80",
        "\xf0\x9f\x98\x28",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = strlen(bad[i]);
        assert_valid(bad[i], n, false);
        if ((unsigned char)bad[i][0] >= 0x80)
            assert_int_equal(utf8_sequence_length(bad[i], n), 0);
    }
}

static void test_length_limit_is_respected(void **state)
{
    (void)state;
    const char *euro = "\xe2\x82\xac";
    assert_int_equal(utf8_sequence_length(euro, 3), 3);
    assert_int_equal(utf8_sequence_length(euro, 2), 0);
    assert_int_equal(utf8_sequence_length(euro, 1), 0);
    assert_int_equal(utf8_sequence_length(euro, 0), 0);
    assert_true(utf8_valid(euro, 3));
    assert_false(utf8_valid(euro, 2));
    assert_false(utf8_valid(euro, 1));
    assert_true(utf8_valid(euro, 0));
    /* Validation stops at n even when valid bytes follow. */
    assert_false(utf8_valid("ab\xf0\x9f\x98\x80", 5));
}

static void test_count(void **state)
{
    (void)state;
    const char *s = "h\xc3\xa9llo \xe2\x82\xac\xf0\x9f\x98\x80!"; /* "héllo €😀!" */
    size_t n = strlen(s);
    assert_true(utf8_valid(s, n));
    assert_int_equal(utf8_count(s, n), 9);
    assert_int_equal(utf8_count(s, 3), 2); /* "hé" */
    assert_int_equal(utf8_count("a\0b", 3), 3);
}

/* Every scalar value encodes to a sequence that is accepted alone and in a
 * long run; every surrogate is refused. */
static void test_every_code_point(void **state)
{
    (void)state;
    unsigned char one[4];
    size_t cap = 0x110000 * 4, len = 0, points = 0;
    unsigned char *all = malloc(cap);
    assert_non_null(all);
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        size_t n = ref_encode(cp, one);
        bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        if (utf8_sequence_length((const char *)one, n) != (surrogate ? 0 : n))
            fail_msg("U+%04X: length %zu", (unsigned)cp,
                     utf8_sequence_length((const char *)one, n));
        if (surrogate)
            continue;
        memcpy(all + len, one, n);
        len += n;
        points++;
    }
    assert_true(utf8_valid((const char *)all, len));
    assert_int_equal(utf8_count((const char *)all, len), points);
    assert_int_equal(points, 0x110000 - 0x800);
    free(all);
}

/* All 2^24 three-byte inputs cover every lead byte with every second and
 * third byte, which is where all of the strictness rules live. */
static void test_all_three_byte_inputs_match_reference(void **state)
{
    (void)state;
    unsigned char s[3];
    for (uint32_t v = 0; v < 1u << 24; v++) {
        s[0] = (unsigned char)(v >> 16);
        s[1] = (unsigned char)(v >> 8);
        s[2] = (unsigned char)v;
        size_t got = utf8_sequence_length((const char *)s, 3);
        if (got != ref_length(s, 3))
            fail_msg("%02x %02x %02x: got %zu, want %zu", s[0], s[1], s[2], got, ref_length(s, 3));
        /* The same bytes offered as two must never claim a third. */
        if (utf8_sequence_length((const char *)s, 2) != ref_length(s, 2))
            fail_msg("%02x %02x with n=2", s[0], s[1]);
    }
}

static void test_four_byte_inputs_match_reference(void **state)
{
    (void)state;
    static const unsigned char tails[] = {0x00, 0x41, 0x7f, 0x80, 0x8f,
                                          0x90, 0xbf, 0xc0, 0xe0, 0xff};
    const size_t nt = sizeof tails;
    unsigned char s[4];
    for (unsigned lead = 0xf0; lead <= 0xff; lead++)
        for (unsigned second = 0; second <= 0xff; second++)
            for (size_t i = 0; i < nt * nt; i++) {
                s[0] = (unsigned char)lead;
                s[1] = (unsigned char)second;
                s[2] = tails[i / nt];
                s[3] = tails[i % nt];
                for (size_t n = 0; n <= 4; n++)
                    if (utf8_sequence_length((const char *)s, n) != ref_length(s, n))
                        fail_msg("%02x %02x %02x %02x n=%zu", s[0], s[1], s[2], s[3], n);
            }
}

static void test_random_strings_match_reference(void **state)
{
    (void)state;
    static const unsigned char alphabet[] = {'a',  0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f,
                                             0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed,
                                             0xef, 0xf0, 0xf4, 0xf5, 0xff};
    unsigned char s[12];
    srand(3);
    for (int round = 0; round < 200000; round++) {
        size_t n = (size_t)(rand() % (int)sizeof s);
        for (size_t i = 0; i < n; i++)
            s[i] = alphabet[rand() % (int)sizeof alphabet];
        bool valid = ref_valid(s, n);
        assert_valid((const char *)s, n, valid);
        if (!valid)
            continue;
        size_t points = 0;
        for (size_t i = 0; i < n; i += ref_length(s + i, n - i))
            points++;
        assert_int_equal(utf8_count((const char *)s, n), points);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_and_empty),
        cmocka_unit_test(test_boundaries_of_each_length),
        cmocka_unit_test(test_rejects_invalid_sequences),
        cmocka_unit_test(test_length_limit_is_respected),
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_every_code_point),
        cmocka_unit_test(test_all_three_byte_inputs_match_reference),
        cmocka_unit_test(test_four_byte_inputs_match_reference),
        cmocka_unit_test(test_random_strings_match_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
