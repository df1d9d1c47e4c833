/* test_auth.c - unit tests of the bearer token set in rest/auth.c: the token
 * rules, the comma list and the file format, and auth_check's parsing of
 * the Authorization header. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"

#define T1 "tok1-aaaaaaaaaaaaaaaa"
#define T2 "tok2-bbbbbbbbbbbbbbbb"
#define T3 "tok3-cccccccccccccccc"

static char err[512];

/* A set from a comma list, which must be accepted. */
static auth_t *set_of(const char *list)
{
    auth_t *a = auth_new();
    assert_non_null(a);
    err[0] = '\0';
    int rc = auth_add_list(a, list, "--api-tokens", err, sizeof err);
    if (rc != 0)
        fail_msg("refused %s: %s", list, err);
    return a;
}

/* The return code of adding list to a new set; err holds the message. */
static int list_rc(const char *list)
{
    auth_t *a = auth_new();
    assert_non_null(a);
    err[0] = '\0';
    int rc = auth_add_list(a, list, "--api-tokens", err, sizeof err);
    auth_free(a);
    return rc;
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static char *header_for(const char *token)
{
    size_t n = strlen(token) + 8;
    char *h = malloc(n);
    assert_non_null(h);
    snprintf(h, n, "Bearer %s", token);
    return h;
}

static void test_parsing(void **state)
{
    (void)state;
    auth_t *a = set_of(T1);
    assert_int_equal(auth_check(a, "Bearer " T1), AUTH_OK);
    assert_int_equal(auth_check(a, "Bearer " T2), AUTH_EINVALID);
    /* a prefix, an extension and a one-byte change of the token */
    assert_int_equal(auth_check(a, "Bearer tok1-aaaaaaaaaaaaaaa"), AUTH_EINVALID);
    assert_int_equal(auth_check(a, "Bearer " T1 "a"), AUTH_EINVALID);
    assert_int_equal(auth_check(a, "Bearer tok1-aaaaaaaaaaaaaaab"), AUTH_EINVALID);
    auth_free(a);
}

static void test_scheme_is_case_insensitive(void **state)
{
    (void)state;
    auth_t *a = set_of(T1);
    assert_int_equal(auth_check(a, "bearer " T1), AUTH_OK);
    assert_int_equal(auth_check(a, "BEARER " T1), AUTH_OK);
    assert_int_equal(auth_check(a, "bEaReR " T1), AUTH_OK);
    /* the token itself is case-sensitive */
    assert_int_equal(auth_check(a, "Bearer TOK1-AAAAAAAAAAAAAAAA"), AUTH_EINVALID);
    auth_free(a);
}

static void test_wrong_scheme_is_missing(void **state)
{
    (void)state;
    auth_t *a = set_of(T1);
    assert_int_equal(auth_check(a, "Basic " T1), AUTH_EMISSING);
    assert_int_equal(auth_check(a, "Token " T1), AUTH_EMISSING);
    assert_int_equal(auth_check(a, "Bearer:" T1), AUTH_EMISSING);
    assert_int_equal(auth_check(a, "Bearer" T1), AUTH_EMISSING);
    assert_int_equal(auth_check(a, "Bearertok"), AUTH_EMISSING);
    assert_int_equal(auth_check(a, "Bear " T1), AUTH_EMISSING);
    assert_int_equal(auth_check(a, T1), AUTH_EMISSING);
    auth_free(a);
}

static void test_spaces(void **state)
{
    (void)state;
    auth_t *a = set_of(T1);
    /* one or more spaces after the scheme */
    assert_int_equal(auth_check(a, "Bearer  " T1), AUTH_OK);
    assert_int_equal(auth_check(a, "Bearer       " T1), AUTH_OK);
    /* nothing after the token, and only spaces between */
    assert_int_equal(auth_check(a, "Bearer " T1 " "), AUTH_EINVALID);
    assert_int_equal(auth_check(a, "Bearer " T1 " x"), AUTH_EINVALID);
    assert_int_equal(auth_check(a, "Bearer " T1 "\t"), AUTH_EINVALID);
    assert_int_equal(auth_check(a, "Bearer " T1 "\r\n"), AUTH_EINVALID);
    assert_int_equal(auth_check(a, "Bearer " T1 "," T2), AUTH_EINVALID);
    assert_int_equal(auth_check(a, "Bearer \t" T1), AUTH_EINVALID);
    assert_int_equal(auth_check(a, "Bearer\t" T1), AUTH_EMISSING);
    assert_int_equal(auth_check(a, " Bearer " T1), AUTH_EMISSING);
    auth_free(a);
}

static void test_empty(void **state)
{
    (void)state;
    auth_t *a = set_of(T1);
    assert_int_equal(auth_check(a, NULL), AUTH_EMISSING);
    assert_int_equal(auth_check(a, ""), AUTH_EMISSING);
    assert_int_equal(auth_check(a, " "), AUTH_EMISSING);
    assert_int_equal(auth_check(a, "Bearer"), AUTH_EINVALID);
    assert_int_equal(auth_check(a, "Bearer "), AUTH_EINVALID);
    assert_int_equal(auth_check(a, "Bearer    "), AUTH_EINVALID);
    auth_free(a);
    /* with no token configured, nothing is valid */
    auth_t *none = auth_new();
    assert_non_null(none);
    assert_int_equal(auth_count(none), 0);
    assert_int_equal(auth_check(none, "Bearer " T1), AUTH_EINVALID);
    auth_free(none);
    assert_int_equal(auth_check(NULL, "Bearer " T1), AUTH_EINVALID);
    auth_free(NULL);
}

static void test_multiple_tokens(void **state)
{
    (void)state;
    auth_t *a = set_of(T1 "," T2 " , \t" T3);
    assert_int_equal(auth_count(a), 3);
    assert_int_equal(auth_check(a, "Bearer " T1), AUTH_OK);
    assert_int_equal(auth_check(a, "Bearer " T2), AUTH_OK);
    assert_int_equal(auth_check(a, "Bearer " T3), AUTH_OK);
    assert_int_equal(auth_check(a, "Bearer tok4-dddddddddddddddd"), AUTH_EINVALID);
    /* a second list adds to the set */
    assert_int_equal(auth_add_list(a, "tok4-dddddddddddddddd", "x", err, sizeof err), 0);
    assert_int_equal(auth_count(a), 4);
    assert_int_equal(auth_check(a, "Bearer tok4-dddddddddddddddd"), AUTH_OK);
    assert_int_equal(auth_check(a, "Bearer " T1), AUTH_OK);
    auth_free(a);
}

static void test_list_rules(void **state)
{
    (void)state;
    /* empty or blank: no token, not an error (the caller decides) */
    auth_t *a = set_of("");
    assert_int_equal(auth_count(a), 0);
    auth_free(a);
    a = set_of("   ");
    assert_int_equal(auth_count(a), 0);
    auth_free(a);
    assert_int_equal(list_rc(T1 ",," T2), AUTH_ECONFIG);
    assert_non_null(strstr(err, "item 2"));
    assert_int_equal(list_rc(T1 ","), AUTH_ECONFIG);
    assert_int_equal(list_rc("," T1), AUTH_ECONFIG);
    assert_non_null(strstr(err, "item 1"));
    /* a space inside an item is not a separator */
    assert_int_equal(list_rc("tok1-aaaaaaa aaaaaaaaa"), AUTH_ECONFIG);
    assert_non_null(strstr(err, "visible ASCII"));
    assert_null(strstr(err, "aaaaaaa"));
    assert_int_equal(list_rc("tok1-aaaaaaaa\x7f" "aaaaaaaa"), AUTH_ECONFIG);
    assert_int_equal(list_rc("tok1-aaaaaaaa\xc3\xa9" "aaaaaaaa"), AUTH_ECONFIG);
}

/* 15 and 257 bytes are refused, 16 and 256 accepted and usable; the
 * message names the rule and never contains the token. */
static void test_length_edges(void **state)
{
    (void)state;
    const size_t lens[] = {15, 16, 256, 257};
    const int ok[] = {0, 1, 1, 0};
    for (size_t i = 0; i < 4; i++) {
        char *tok = repeat('k', lens[i]);
        int rc = list_rc(tok);
        if (ok[i]) {
            assert_int_equal(rc, 0);
            auth_t *a = set_of(tok);
            char *h = header_for(tok);
            assert_int_equal(auth_check(a, h), AUTH_OK);
            /* one byte less or more is another token */
            h[strlen(h) - 1] = '\0';
            assert_int_equal(auth_check(a, h), AUTH_EINVALID);
            free(h);
            char *longer = repeat('k', lens[i] + 1);
            h = header_for(longer);
            assert_int_equal(auth_check(a, h), AUTH_EINVALID);
            free(h);
            free(longer);
            auth_free(a);
        } else {
            assert_int_equal(rc, AUTH_ECONFIG);
            assert_non_null(strstr(err, lens[i] < 16 ? "shorter than 16" : "longer than 256"));
            assert_null(strstr(err, "kkkk"));
        }
        free(tok);
    }
    /* a header with a candidate longer than any token is simply invalid */
    auth_t *a = set_of(T1);
    char *huge = repeat('x', 5000);
    char *h = header_for(huge);
    assert_int_equal(auth_check(a, h), AUTH_EINVALID);
    free(h);
    free(huge);
    auth_free(a);
}

static void test_at_most_1000_tokens(void **state)
{
    (void)state;
    auth_t *a = auth_new();
    assert_non_null(a);
    char tok[32];
    for (int i = 0; i < AUTH_MAX_TOKENS; i++) {
        snprintf(tok, sizeof tok, "token-%010d", i);
        assert_int_equal(auth_add_list(a, tok, "--api-tokens", err, sizeof err), 0);
    }
    assert_int_equal(auth_count(a), 1000);
    assert_int_equal(auth_check(a, "Bearer token-0000000000"), AUTH_OK);
    assert_int_equal(auth_check(a, "Bearer token-0000000999"), AUTH_OK);
    assert_int_equal(auth_check(a, "Bearer token-0000001000"), AUTH_EINVALID);
    assert_int_equal(auth_add_list(a, "token-0000001000", "--api-tokens", err, sizeof err),
                     AUTH_ECONFIG);
    assert_non_null(strstr(err, "more than 1000"));
    auth_free(a);
}

static void test_file_text(void **state)
{
    (void)state;
    static const char text[] = "# the tokens of the sync daemon\n"
                               "\n"
                               T1 "\n"
                               "   # an indented comment\n"
                               "  \t \n"
                               "  " T2 "  \r\n"
                               "#" T3 "\n"
                               T3; /* no final newline */
    auth_t *a = auth_new();
    assert_non_null(a);
    assert_int_equal(auth_add_text(a, text, strlen(text), "f", err, sizeof err), 0);
    assert_int_equal(auth_count(a), 3);
    assert_int_equal(auth_check(a, "Bearer " T1), AUTH_OK);
    assert_int_equal(auth_check(a, "Bearer " T2), AUTH_OK);
    assert_int_equal(auth_check(a, "Bearer " T3), AUTH_OK);
    assert_int_equal(auth_check(a, "Bearer #" T3), AUTH_EINVALID);
    auth_free(a);

    /* the faulty line is named, the token is not */
    static const char bad[] = "# ok\n" T1 "\nshort-token\n";
    a = auth_new();
    assert_non_null(a);
    assert_int_equal(auth_add_text(a, bad, strlen(bad), "f", err, sizeof err), AUTH_ECONFIG);
    assert_non_null(strstr(err, "line 3"));
    assert_null(strstr(err, "short-token"));
    auth_free(a);

    /* two tokens on one line are one token with a space: refused */
    static const char two[] = T1 " " T2 "\n";
    a = auth_new();
    assert_non_null(a);
    assert_int_equal(auth_add_text(a, two, strlen(two), "f", err, sizeof err), AUTH_ECONFIG);
    assert_non_null(strstr(err, "line 1"));
    auth_free(a);

    /* a NUL byte is not visible ASCII */
    static const char nul[] = "tok1-aaaa\0aaaaaaaaaaaa\n";
    a = auth_new();
    assert_non_null(a);
    assert_int_equal(auth_add_text(a, nul, sizeof nul - 1, "f", err, sizeof err), AUTH_ECONFIG);
    auth_free(a);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_auth.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/tokens", dir);

    write_file(path, "# comment\n" T1 "\n\n" T2 "\n");
    auth_t *a = set_of(T3); /* the file adds to the list */
    assert_int_equal(auth_add_file(a, path, err, sizeof err), 0);
    assert_int_equal(auth_count(a), 3);
    assert_int_equal(auth_check(a, "Bearer " T2), AUTH_OK);
    assert_int_equal(auth_check(a, "Bearer " T3), AUTH_OK);
    auth_free(a);

    /* only comments and blank lines: no token */
    write_file(path, "# nothing here\n\n   \n#" T1 "\n");
    a = auth_new();
    assert_non_null(a);
    assert_int_equal(auth_add_file(a, path, err, sizeof err), AUTH_ECONFIG);
    assert_non_null(strstr(err, "no token"));
    assert_null(strchr(err, '\n'));
    auth_free(a);

    /* empty */
    write_file(path, "");
    a = auth_new();
    assert_non_null(a);
    assert_int_equal(auth_add_file(a, path, err, sizeof err), AUTH_ECONFIG);
    assert_non_null(strstr(err, "no token"));
    auth_free(a);

    /* a directory cannot be read as a file */
    a = auth_new();
    assert_non_null(a);
    assert_int_equal(auth_add_file(a, dir, err, sizeof err), AUTH_ECONFIG);
    assert_non_null(strstr(err, dir));
    auth_free(a);

    /* too large */
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < (AUTH_FILE_MAX_BYTES / 32) + 1; i++)
        fputs("# padding padding padding paddi\n", f);
    fclose(f);
    a = auth_new();
    assert_non_null(a);
    assert_int_equal(auth_add_file(a, path, err, sizeof err), AUTH_ECONFIG);
    assert_non_null(strstr(err, "larger than"));
    auth_free(a);

    unlink(path);
    rmdir(dir);

    /* missing */
    a = auth_new();
    assert_non_null(a);
    assert_int_equal(auth_add_file(a, "/nonexistent/tokens", err, sizeof err), AUTH_ECONFIG);
    assert_non_null(strstr(err, "/nonexistent/tokens"));
    assert_non_null(strstr(err, "No such file"));
    auth_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parsing),
        cmocka_unit_test(test_scheme_is_case_insensitive),
        cmocka_unit_test(test_wrong_scheme_is_missing),
        cmocka_unit_test(test_spaces),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_multiple_tokens),
        cmocka_unit_test(test_list_rules),
        cmocka_unit_test(test_length_edges),
        cmocka_unit_test(test_at_most_1000_tokens),
        cmocka_unit_test(test_file_text),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
