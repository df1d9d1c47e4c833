/* test_config.c - unit tests of the table-driven flags/env/defaults parser in lib/config.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define ENV_PORT "TEST_CONFIG_PORT"
#define ENV_HOST "TEST_CONFIG_HOST"
#define ENV_FORMAT "TEST_CONFIG_FORMAT"
#define ENV_SHIFT "TEST_CONFIG_SHIFT"
#define ENV_ONCE "TEST_CONFIG_ONCE"

/* The destinations of the option table below. */
static struct {
    int64_t port, shift;
    const char *host, *format, *token;
    bool once;
} g;

static const char *const formats[] = {"text", "json", NULL};

static const config_option_t opts[] = {
    {"port", ENV_PORT, CONFIG_INT, "8080", "port to listen on", &g.port, 1, 65535, NULL},
    {"host", ENV_HOST, CONFIG_STRING, "127.0.0.1", "address to bind", &g.host, 0, 0, NULL},
    {"log-format", ENV_FORMAT, CONFIG_CHOICE, "text", "log line format", &g.format, 0, 0, formats},
    {"shift", ENV_SHIFT, CONFIG_INT, "-2", "a signed offset", &g.shift, -10, 10, NULL},
    {"token", NULL, CONFIG_STRING, NULL, "secret token", &g.token, 0, 0, NULL},
    {"once", ENV_ONCE, CONFIG_FLAG, "false", "run once", &g.once, 0, 0, NULL},
};
#define NOPTS (sizeof opts / sizeof *opts)

static const config_program_t prog = {
    .name = "testprog",
    .version = "9.8.7",
    .summary = "A program for testing config_parse.",
    .usage = "[OPTIONS] [COMMAND]",
    .epilog = "See the manual for more.",
};

static char err[256];
static const char *pos[3];
static size_t npos;

/* argv is NULL-terminated and starts with the program name. */
static int parse_max(char **argv, size_t max_positional)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    memset(err, 0, sizeof err);
    return config_parse(&prog, opts, NOPTS, argc, argv, pos, max_positional, &npos, err,
                        sizeof err);
}

static int parse(char **argv)
{
    return parse_max(argv, 2);
}

#define ARGV(...) ((char *[]){"testprog", __VA_ARGS__, NULL})

static int reset(void **state)
{
    (void)state;
    memset(&g, 0, sizeof g);
    memset(pos, 0, sizeof pos);
    npos = 99;
    unsetenv(ENV_PORT);
    unsetenv(ENV_HOST);
    unsetenv(ENV_FORMAT);
    unsetenv(ENV_SHIFT);
    unsetenv(ENV_ONCE);
    return 0;
}

/* A refusal: CONFIG_EINVAL and one non-empty line in err mentioning `needle`. */
static void assert_refused(char **argv, const char *needle)
{
    assert_int_equal(parse(argv), CONFIG_EINVAL);
    assert_true(err[0] != '\0');
    assert_null(strchr(err, '\n'));
    if (!strstr(err, needle))
        fail_msg("error '%s' does not mention '%s'", err, needle);
}

/* Runs config_parse with stdout redirected to a temporary file; returns
 * what was printed (caller frees) and the result in *rc. */
static char *parse_capturing(char **argv, int *rc)
{
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
    *rc = parse(argv);
    fflush(stdout);
    assert_true(dup2(saved, STDOUT_FILENO) >= 0);
    close(saved);
    fseek(tmp, 0, SEEK_END);
    long n = ftell(tmp);
    assert_true(n >= 0);
    rewind(tmp);
    char *text = calloc((size_t)n + 1, 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, tmp), (size_t)n);
    fclose(tmp);
    return text;
}

static void assert_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("'%s' not found in:\n%s", needle, text);
}

/* The help entry of one option: from its "  --flag " line to the next
 * option's line (caller frees). */
static char *help_entry(const char *out, const char *flag)
{
    char head[64];
    snprintf(head, sizeof head, "\n  --%s ", flag);
    const char *start = strstr(out, head);
    if (!start)
        fail_msg("no entry for --%s in:\n%s", flag, out);
    char *entry = strdup(start);
    assert_non_null(entry);
    char *next = strstr(entry + 1, "\n  --");
    if (next)
        *next = '\0';
    return entry;
}

static void test_defaults(void **state)
{
    (void)state;
    assert_int_equal(parse(ARGV(NULL)), CONFIG_OK);
    assert_int_equal(g.port, 8080);
    assert_string_equal(g.host, "127.0.0.1");
    assert_string_equal(g.format, "text");
    assert_int_equal(g.shift, -2);
    assert_null(g.token); /* no default: left alone */
    assert_int_equal(npos, 0);
}

static void test_env_overrides_default(void **state)
{
    (void)state;
    setenv(ENV_PORT, "9090", 1);
    setenv(ENV_HOST, "0.0.0.0", 1);
    setenv(ENV_FORMAT, "json", 1);
    setenv(ENV_SHIFT, "-7", 1);
    assert_int_equal(parse(ARGV(NULL)), CONFIG_OK);
    assert_int_equal(g.port, 9090);
    assert_string_equal(g.host, "0.0.0.0");
    assert_string_equal(g.format, "json");
    assert_int_equal(g.shift, -7);
}

static void test_flag_overrides_env(void **state)
{
    (void)state;
    setenv(ENV_PORT, "9090", 1);
    setenv(ENV_HOST, "0.0.0.0", 1);
    assert_int_equal(parse(ARGV("--port", "7070", "--host=::1")), CONFIG_OK);
    assert_int_equal(g.port, 7070);
    assert_string_equal(g.host, "::1");
}

static void test_flag_value_forms(void **state)
{
    (void)state;
    char **argv = ARGV("--port=123", "--host", "example", "--token=a=b", "--log-format", "json");
    assert_int_equal(parse(argv), CONFIG_OK);
    assert_int_equal(g.port, 123);
    assert_string_equal(g.host, "example");
    assert_ptr_equal(g.host, argv[3]); /* strings point into argv */
    assert_string_equal(g.token, "a=b");
    assert_string_equal(g.format, "json");
    assert_int_equal(npos, 0);
}

static void test_value_may_look_like_an_option(void **state)
{
    (void)state;
    assert_int_equal(parse(ARGV("--shift", "-3", "--token", "--port")), CONFIG_OK);
    assert_int_equal(g.shift, -3);
    assert_string_equal(g.token, "--port");
    assert_int_equal(g.port, 8080);
}

static void test_empty_string_value(void **state)
{
    (void)state;
    assert_int_equal(parse(ARGV("--host=")), CONFIG_OK);
    assert_string_equal(g.host, "");
}

static void test_unknown_flag(void **state)
{
    (void)state;
    assert_refused(ARGV("--nope"), "--nope");
    assert_refused(ARGV("--nope=1"), "--nope");
    assert_refused(ARGV("--por", "1"), "--por"); /* a prefix is not a match */
    assert_refused(ARGV("--portx=1"), "--portx");
    assert_refused(ARGV("-p", "1"), "-p");
    assert_refused(ARGV("---port", "1"), "---port");
}

static void test_missing_value(void **state)
{
    (void)state;
    assert_refused(ARGV("--port"), "--port");
    assert_refused(ARGV("--log-format", "json", "--host"), "--host");
}

static void test_int_out_of_range(void **state)
{
    (void)state;
    assert_refused(ARGV("--port", "0"), "port");
    assert_refused(ARGV("--port", "65536"), "65536");
    assert_refused(ARGV("--port=99999999999999999999"), "port");
    assert_refused(ARGV("--shift", "-11"), "-11");
    assert_refused(ARGV("--shift", "11"), "shift");
    assert_int_equal(parse(ARGV("--port", "65535", "--shift", "-10")), CONFIG_OK);
    assert_int_equal(g.port, 65535);
    assert_int_equal(g.shift, -10);
}

static void test_int_not_numeric(void **state)
{
    (void)state;
    assert_refused(ARGV("--port", "abc"), "abc");
    assert_refused(ARGV("--port", " 80"), "port");
    assert_refused(ARGV("--port", "80 "), "port");
    assert_refused(ARGV("--port", "+80"), "port");
    assert_refused(ARGV("--port", "8.0"), "port");
    assert_refused(ARGV("--port="), "port");
    assert_refused(ARGV("--port", "-80"), "port");
}

static void test_env_value_checked(void **state)
{
    (void)state;
    setenv(ENV_PORT, "http", 1);
    assert_refused(ARGV(NULL), "http");
    reset(NULL);
    setenv(ENV_FORMAT, "xml", 1);
    assert_refused(ARGV(NULL), "xml");
}

static void test_choice_not_in_list(void **state)
{
    (void)state;
    assert_refused(ARGV("--log-format", "xml"), "xml");
    assert_contains(err, "text");
    assert_contains(err, "json");
    assert_refused(ARGV("--log-format=JSON"), "log-format");
    assert_refused(ARGV("--log-format="), "log-format");
}

static void test_positionals_in_order(void **state)
{
    (void)state;
    assert_int_equal(parse(ARGV("serve", "--port", "1", "-")), CONFIG_OK);
    assert_int_equal(npos, 2);
    assert_string_equal(pos[0], "serve");
    assert_string_equal(pos[1], "-");
    assert_int_equal(g.port, 1);
}

static void test_positional_maximum(void **state)
{
    (void)state;
    assert_refused(ARGV("a", "b", "c"), "c");
    assert_int_equal(parse_max(ARGV("a"), 0), CONFIG_EINVAL);
    assert_null(strchr(err, '\n'));
    assert_true(strstr(err, "a") != NULL);
    assert_int_equal(parse_max(ARGV("a", "b", "c"), 3), CONFIG_OK);
    assert_int_equal(npos, 3);
    assert_string_equal(pos[2], "c");
}

static void test_double_dash(void **state)
{
    (void)state;
    assert_int_equal(parse(ARGV("--port", "5", "--", "--port", "--help")), CONFIG_OK);
    assert_int_equal(g.port, 5);
    assert_int_equal(npos, 2);
    assert_string_equal(pos[0], "--port");
    assert_string_equal(pos[1], "--help");
    assert_int_equal(parse(ARGV("--", "--")), CONFIG_OK);
    assert_int_equal(npos, 1);
    assert_string_equal(pos[0], "--");
}

static void test_help_lists_every_option(void **state)
{
    (void)state;
    int rc;
    char *out = parse_capturing(ARGV("--help"), &rc);
    assert_int_equal(rc, CONFIG_EXIT);
    assert_contains(out, "testprog");
    assert_contains(out, "[OPTIONS] [COMMAND]");
    assert_contains(out, prog.summary);
    assert_contains(out, prog.epilog);
    for (size_t i = 0; i < NOPTS; i++) {
        char deflt[64];
        snprintf(deflt, sizeof deflt, "(default: %s)", opts[i].def ? opts[i].def : "none");
        char *entry = help_entry(out, opts[i].flag);
        assert_contains(entry, opts[i].help);
        assert_contains(entry, deflt);
        if (opts[i].env)
            assert_contains(entry, opts[i].env);
        else
            assert_null(strstr(entry, "env"));
        free(entry);
    }
    char *entry = help_entry(out, "log-format");
    assert_contains(entry, "text json");
    free(entry);
    assert_contains(out, "--help");
    assert_contains(out, "--version");
    free(out);
}

static void test_help_short_and_late(void **state)
{
    (void)state;
    int rc;
    char *out = parse_capturing(ARGV("-h"), &rc);
    assert_int_equal(rc, CONFIG_EXIT);
    assert_contains(out, "--log-format");
    free(out);
    out = parse_capturing(ARGV("--port", "1", "serve", "--help"), &rc);
    assert_int_equal(rc, CONFIG_EXIT);
    assert_contains(out, "--port");
    free(out);
}

static void test_version(void **state)
{
    (void)state;
    int rc;
    char *out = parse_capturing(ARGV("--version"), &rc);
    assert_int_equal(rc, CONFIG_EXIT);
    assert_string_equal(out, "testprog 9.8.7\n");
    free(out);
}

static void test_nothing_printed_on_success(void **state)
{
    (void)state;
    int rc;
    char *out = parse_capturing(ARGV("--port", "2"), &rc);
    assert_int_equal(rc, CONFIG_OK);
    assert_string_equal(out, "");
    free(out);
}

#define T(f) cmocka_unit_test_setup(f, reset)

/* An unknown option given with a value is named without it: the value may
 * be a secret given to a mistyped flag. */
static void test_unknown_option_hides_its_value(void **state)
{
    (void)state;
    assert_int_equal(parse(ARGV("--api-token=s3cr3t-value")), CONFIG_EINVAL);
    assert_non_null(strstr(err, "--api-token"));
    assert_null(strstr(err, "s3cr3t"));
}

/* A flag takes no value of its own: the next argument stays positional. */
static void test_flags(void **state)
{
    (void)state;
    assert_int_equal(parse(ARGV("run")), CONFIG_OK);
    assert_false(g.once);
    assert_int_equal(parse(ARGV("run", "--once")), CONFIG_OK);
    assert_true(g.once);
    assert_int_equal(parse(ARGV("--once", "run")), CONFIG_OK);
    assert_true(g.once);
    assert_int_equal(npos, 1);
    assert_string_equal(pos[0], "run");
    assert_int_equal(parse(ARGV("--once=false", "run")), CONFIG_OK);
    assert_false(g.once);
    setenv(ENV_ONCE, "yes", 1);
    assert_int_equal(parse(ARGV("run")), CONFIG_OK);
    assert_true(g.once);
    assert_int_equal(parse(ARGV("--once=0")), CONFIG_OK);
    assert_false(g.once);
    assert_int_equal(parse(ARGV("--once=maybe")), CONFIG_EINVAL);
    assert_non_null(strstr(err, "expected true or false"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_env_overrides_default),
        T(test_flag_overrides_env),
        T(test_flag_value_forms),
        T(test_value_may_look_like_an_option),
        T(test_empty_string_value),
        T(test_unknown_flag),
        T(test_missing_value),
        T(test_int_out_of_range),
        T(test_int_not_numeric),
        T(test_env_value_checked),
        T(test_choice_not_in_list),
        T(test_positionals_in_order),
        T(test_positional_maximum),
        T(test_double_dash),
        T(test_flags),
        T(test_unknown_option_hides_its_value),
        T(test_help_lists_every_option),
        T(test_help_short_and_late),
        T(test_version),
        T(test_nothing_printed_on_success),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
