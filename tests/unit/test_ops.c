/* test_ops.c - unit tests of lib/ops.c: the constant-time comparison, the
 * Bearer header syntax, loading the metrics token from a value or a file
 * (and the messages, which must never hold the token), the check of a
 * request's header, the 401 challenge, and the configuration entries. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops.h"

#define TOKEN "metrics-0123456789abcdef"
#define OTHER "metrics-0123456789abcdeX"

static char err[512];

/* ---- the comparison ------------------------------------------------------ */

/* s zero-padded to OPS_TOKEN_MAX bytes, as the comparison wants it. */
static void pad(unsigned char out[OPS_TOKEN_MAX], const char *s)
{
    memset(out, 0, OPS_TOKEN_MAX);
    memcpy(out, s, strlen(s));
}

static int equal(const char *a, const char *b)
{
    unsigned char pa[OPS_TOKEN_MAX], pb[OPS_TOKEN_MAX];
    pad(pa, a);
    pad(pb, b);
    return ops_ct_equal(pa, strlen(a), pb, strlen(b), OPS_TOKEN_MAX);
}

static void test_ct_equal(void **state)
{
    (void)state;
    assert_int_equal(equal(TOKEN, TOKEN), 1);
    assert_int_equal(equal(TOKEN, OTHER), 0);          /* the last byte */
    assert_int_equal(equal("Xetrics-0123456789abcdef", TOKEN), 0); /* the first byte */
    assert_int_equal(equal(TOKEN, TOKEN "a"), 0);      /* a longer one */
    assert_int_equal(equal(TOKEN "a", TOKEN), 0);
    assert_int_equal(equal("", ""), 1);
    assert_int_equal(equal("", "a"), 0);

    /* Lengths that differ while the padded bytes are the same: the lengths
     * count. */
    unsigned char z[OPS_TOKEN_MAX] = {0};
    assert_int_equal(ops_ct_equal(z, 0, z, 1, OPS_TOKEN_MAX), 0);
    assert_int_equal(ops_ct_equal(z, 3, z, 3, OPS_TOKEN_MAX), 1);

    /* Every position and every bit of it. */
    unsigned char a[OPS_TOKEN_MAX], b[OPS_TOKEN_MAX];
    memset(a, 'x', sizeof a);
    for (size_t i = 0; i < OPS_TOKEN_MAX; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, a, sizeof b);
            b[i] ^= (unsigned char)(1u << bit);
            assert_int_equal(ops_ct_equal(a, OPS_TOKEN_MAX, b, OPS_TOKEN_MAX, OPS_TOKEN_MAX), 0);
        }
    }
    /* Lengths far apart in their high bits do not fold into "equal". */
    assert_int_equal(ops_ct_equal(z, 0, z, (size_t)1 << 40, 1), 0);
    assert_int_equal(ops_ct_equal(z, (size_t)1 << 63, z, 0, 1), 0);
}

/* ---- the header ---------------------------------------------------------- */

static int bearer(const char *h, size_t width, size_t *len)
{
    unsigned char cand[OPS_TOKEN_MAX + 8];
    memset(cand, 0xff, sizeof cand);
    int rc = ops_bearer(h, cand, width, len);
    /* Always zero-padded to width, whatever the outcome. */
    for (size_t i = *len; i < width; i++)
        assert_int_equal(cand[i], 0);
    return rc;
}

static void test_bearer_syntax(void **state)
{
    (void)state;
    size_t len = 99;
    assert_int_equal(bearer(NULL, OPS_TOKEN_MAX, &len), OPS_EMISSING);
    assert_int_equal(len, 0);
    assert_int_equal(bearer("", OPS_TOKEN_MAX, &len), OPS_EMISSING);
    assert_int_equal(bearer("Basic " TOKEN, OPS_TOKEN_MAX, &len), OPS_EMISSING);
    assert_int_equal(bearer("Bearer:" TOKEN, OPS_TOKEN_MAX, &len), OPS_EMISSING);
    assert_int_equal(bearer(" Bearer " TOKEN, OPS_TOKEN_MAX, &len), OPS_EMISSING);
    assert_int_equal(bearer("Bearer\t" TOKEN, OPS_TOKEN_MAX, &len), OPS_EMISSING);
    assert_int_equal(bearer(TOKEN, OPS_TOKEN_MAX, &len), OPS_EMISSING);

    assert_int_equal(bearer("Bearer " TOKEN, OPS_TOKEN_MAX, &len), OPS_OK);
    assert_int_equal(len, strlen(TOKEN));
    assert_int_equal(bearer("bEaReR    " TOKEN, OPS_TOKEN_MAX, &len), OPS_OK);
    assert_int_equal(len, strlen(TOKEN));

    assert_int_equal(bearer("Bearer", OPS_TOKEN_MAX, &len), OPS_EINVALID);
    assert_int_equal(bearer("Bearer   ", OPS_TOKEN_MAX, &len), OPS_EINVALID);
    assert_int_equal(bearer("Bearer " TOKEN " ", OPS_TOKEN_MAX, &len), OPS_EINVALID);
    assert_int_equal(bearer("Bearer " TOKEN "\r\n", OPS_TOKEN_MAX, &len), OPS_EINVALID);
    assert_int_equal(bearer("Bearer " TOKEN " x", OPS_TOKEN_MAX, &len), OPS_EINVALID);

    /* Exactly width bytes fit; one more is refused without reading on. */
    assert_int_equal(bearer("Bearer 12345678", 8, &len), OPS_OK);
    assert_int_equal(len, 8);
    assert_int_equal(bearer("Bearer 123456789", 8, &len), OPS_EINVALID);
    assert_int_equal(len, 0);
}

/* ---- loading the token --------------------------------------------------- */

static void assert_no_token_in_err(const char *token)
{
    assert_null(strstr(err, token));
    assert_null(strchr(err, '\n'));
    assert_true(strlen(err) > 0);
}

static void test_load_value(void **state)
{
    (void)state;
    ops_token_t t;
    assert_int_equal(ops_token_load(&t, NULL, NULL, err, sizeof err), OPS_OK);
    assert_int_equal(t.len, 0);
    assert_int_equal(ops_token_load(&t, "", "", err, sizeof err), OPS_OK);
    assert_int_equal(t.len, 0);

    assert_int_equal(ops_token_load(&t, TOKEN, NULL, err, sizeof err), OPS_OK);
    assert_int_equal(t.len, strlen(TOKEN));
    assert_memory_equal(t.bytes, TOKEN, strlen(TOKEN));
    assert_int_equal(t.bytes[strlen(TOKEN)], 0);

    /* 16 and 256 bytes are the edges. */
    char s[OPS_TOKEN_MAX + 2];
    memset(s, 'k', sizeof s);
    s[OPS_TOKEN_MIN] = '\0';
    assert_int_equal(ops_token_load(&t, s, NULL, err, sizeof err), OPS_OK);
    s[OPS_TOKEN_MIN - 1] = '\0';
    assert_int_equal(ops_token_load(&t, s, NULL, err, sizeof err), OPS_ECONFIG);
    assert_non_null(strstr(err, "shorter than 16"));
    assert_non_null(strstr(err, "--metrics-token (METRICS_TOKEN)"));
    assert_no_token_in_err(s);
    assert_int_equal(t.len, 0); /* a refused token leaves none behind */
    memset(s, 'k', sizeof s);
    s[OPS_TOKEN_MAX] = '\0';
    assert_int_equal(ops_token_load(&t, s, NULL, err, sizeof err), OPS_OK);
    assert_int_equal(t.len, OPS_TOKEN_MAX);
    s[OPS_TOKEN_MAX] = 'k';
    s[OPS_TOKEN_MAX + 1] = '\0';
    assert_int_equal(ops_token_load(&t, s, NULL, err, sizeof err), OPS_ECONFIG);
    assert_non_null(strstr(err, "longer than 256"));

    /* Only visible ASCII: no space, no control, no byte above 0x7e. */
    assert_int_equal(ops_token_load(&t, "metrics 0123456789ab", NULL, err, sizeof err),
                     OPS_ECONFIG);
    assert_non_null(strstr(err, "position 8"));
    assert_no_token_in_err("metrics 0123456789ab");
    assert_int_equal(ops_token_load(&t, "metrics-0123456789\x7f", NULL, err, sizeof err),
                     OPS_ECONFIG);
    assert_int_equal(ops_token_load(&t, "metrics-0123456789\xc3\xa9", NULL, err, sizeof err),
                     OPS_ECONFIG);

    /* Both given: the operator must say which. */
    assert_int_equal(ops_token_load(&t, TOKEN, "/nonexistent", err, sizeof err), OPS_ECONFIG);
    assert_non_null(strstr(err, "both"));
    assert_int_equal(t.len, 0);
    ops_token_clear(&t);
    ops_token_clear(NULL);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static int load_file_text(const char *path, const char *text, ops_token_t *t)
{
    write_file(path, text, strlen(text));
    err[0] = '\0';
    return ops_token_load(t, NULL, path, err, sizeof err);
}

static void test_load_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_ops.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/token", dir);
    ops_token_t t;

    /* One line, with or without its end, blanks and CR around it. */
    static const char *const good[] = {TOKEN, TOKEN "\n", TOKEN "\r\n", "  " TOKEN "\t\n\n",
                                       "\n" TOKEN "\n"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(load_file_text(path, good[i], &t), OPS_OK);
        assert_int_equal(t.len, strlen(TOKEN));
        assert_memory_equal(t.bytes, TOKEN, strlen(TOKEN));
        assert_int_equal(ops_check(&t, "Bearer " TOKEN), OPS_OK);
    }

    assert_int_equal(load_file_text(path, "", &t), OPS_ECONFIG);
    assert_non_null(strstr(err, "no token"));
    assert_non_null(strstr(err, path));
    assert_int_equal(load_file_text(path, " \n\r\n", &t), OPS_ECONFIG);
    assert_non_null(strstr(err, "no token"));

    assert_int_equal(load_file_text(path, TOKEN "\n" OTHER "\n", &t), OPS_ECONFIG);
    assert_non_null(strstr(err, "more than one line"));
    assert_no_token_in_err(TOKEN);
    assert_no_token_in_err(OTHER);
    assert_int_equal(t.len, 0);

    assert_int_equal(load_file_text(path, "short\n", &t), OPS_ECONFIG);
    assert_non_null(strstr(err, "shorter than 16"));
    assert_non_null(strstr(err, "--metrics-token-file"));
    assert_non_null(strstr(err, path));

    /* A file at the size limit is read; one byte more is refused. */
    char *big = malloc(OPS_FILE_MAX_BYTES + 1);
    assert_non_null(big);
    memset(big, ' ', OPS_FILE_MAX_BYTES + 1);
    memcpy(big, TOKEN, strlen(TOKEN));
    write_file(path, big, OPS_FILE_MAX_BYTES);
    assert_int_equal(ops_token_load(&t, NULL, path, err, sizeof err), OPS_OK);
    assert_int_equal(t.len, strlen(TOKEN));
    write_file(path, big, OPS_FILE_MAX_BYTES + 1);
    assert_int_equal(ops_token_load(&t, NULL, path, err, sizeof err), OPS_ECONFIG);
    assert_non_null(strstr(err, "larger than"));
    free(big);

    unlink(path);
    assert_int_equal(ops_token_load(&t, NULL, path, err, sizeof err), OPS_ECONFIG);
    assert_non_null(strstr(err, "cannot open"));
    assert_non_null(strstr(err, path));
    assert_int_equal(ops_token_load(&t, NULL, dir, err, sizeof err), OPS_ECONFIG);
    rmdir(dir);
}

/* ---- checking a request -------------------------------------------------- */

static void test_check(void **state)
{
    (void)state;
    ops_token_t t;
    assert_int_equal(ops_token_load(&t, TOKEN, NULL, err, sizeof err), OPS_OK);
    assert_int_equal(ops_check(&t, "Bearer " TOKEN), OPS_OK);
    assert_int_equal(ops_check(&t, "bearer  " TOKEN), OPS_OK);
    assert_int_equal(ops_check(&t, NULL), OPS_EMISSING);
    assert_int_equal(ops_check(&t, "Basic " TOKEN), OPS_EMISSING);
    assert_int_equal(ops_check(&t, "Bearer " OTHER), OPS_EINVALID);
    assert_int_equal(ops_check(&t, "Bearer metrics-0123456789abcde"), OPS_EINVALID); /* prefix */
    assert_int_equal(ops_check(&t, "Bearer " TOKEN "f"), OPS_EINVALID);
    assert_int_equal(ops_check(&t, "Bearer METRICS-0123456789ABCDEF"), OPS_EINVALID);
    assert_int_equal(ops_check(&t, "Bearer "), OPS_EINVALID);

    /* No token configured: everything passes, as before the flag existed. */
    ops_token_t none;
    assert_int_equal(ops_token_load(&none, NULL, NULL, err, sizeof err), OPS_OK);
    assert_int_equal(ops_check(&none, NULL), OPS_OK);
    assert_int_equal(ops_check(&none, "Bearer " OTHER), OPS_OK);
    assert_int_equal(ops_check(NULL, NULL), OPS_OK);

    ops_token_clear(&t);
    assert_int_equal(t.len, 0);
    assert_int_equal(ops_check(&t, "Bearer " TOKEN), OPS_OK);
}

static void test_challenge(void **state)
{
    (void)state;
    http_response_t res = {0};
    assert_int_equal(ops_challenge(&res, OPS_EMISSING), 0);
    assert_int_equal(res.status, 401);
    assert_int_equal(res.nheaders, 1);
    assert_string_equal(res.headers[0].name, "WWW-Authenticate");
    assert_string_equal(res.headers[0].value, "Bearer realm=\"metrics\"");
    http_response_free(&res);

    http_response_t bad = {0};
    assert_int_equal(ops_challenge(&bad, OPS_EINVALID), 0);
    assert_int_equal(bad.status, 401);
    assert_string_equal(bad.headers[0].value, "Bearer realm=\"metrics\", error=\"invalid_token\"");
    http_response_free(&bad);

    assert_non_null(strstr(ops_strerror(OPS_EMISSING), "Authorization: Bearer"));
    assert_non_null(strstr(ops_strerror(OPS_EINVALID), "not the metrics token"));
    assert_non_null(ops_strerror(12345));
}

/* ---- the configuration entries ------------------------------------------- */

static struct {
    const char *token, *file, *host;
    int64_t port;
} g;

static const config_option_t opts[] = {
    OPS_TOKEN_OPTIONS(&g.token, &g.file),
    OPS_LISTEN_OPTIONS(&g.host, &g.port),
};
static const config_program_t prog = {"test_ops", "0", "test", "[OPTIONS]", NULL};

static int parse(int argc, char **argv)
{
    memset(&g, 0, sizeof g);
    size_t npos;
    return config_parse(&prog, opts, sizeof opts / sizeof opts[0], argc, argv, NULL, 0, &npos,
                        err, sizeof err);
}

static void test_options(void **state)
{
    (void)state;
    unsetenv("METRICS_TOKEN");
    unsetenv("METRICS_TOKEN_FILE");
    unsetenv("METRICS_HOST");
    unsetenv("METRICS_PORT");
    char *none[] = {"test_ops", NULL};
    assert_int_equal(parse(1, none), CONFIG_OK);
    assert_null(g.token);
    assert_null(g.file);
    assert_string_equal(g.host, "127.0.0.1");
    assert_int_equal(g.port, 0);

    setenv("METRICS_TOKEN", TOKEN, 1);
    setenv("METRICS_PORT", "9100", 1);
    assert_int_equal(parse(1, none), CONFIG_OK);
    assert_string_equal(g.token, TOKEN);
    assert_int_equal(g.port, 9100);

    char *flags[] = {"test_ops", "--metrics-token=" OTHER, "--metrics-token-file", "/run/tok",
                     "--metrics-host", "10.0.0.1", "--metrics-port", "9101", NULL};
    assert_int_equal(parse(8, flags), CONFIG_OK);
    assert_string_equal(g.token, OTHER); /* the flag before the environment */
    assert_string_equal(g.file, "/run/tok");
    assert_string_equal(g.host, "10.0.0.1");
    assert_int_equal(g.port, 9101);

    char *bad[] = {"test_ops", "--metrics-port", "65536", NULL};
    assert_int_equal(parse(3, bad), CONFIG_EINVAL);
    unsetenv("METRICS_TOKEN");
    unsetenv("METRICS_PORT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ct_equal),   cmocka_unit_test(test_bearer_syntax),
        cmocka_unit_test(test_load_value), cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_check),      cmocka_unit_test(test_challenge),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
