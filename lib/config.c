/* config.c - table-driven flags, environment and defaults; see config.h. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

const char *const config_log_formats[] = {"text", "json", NULL};
const char *const config_log_levels[] = {"debug", "info", "warn", "error", NULL};

static int fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    snprintf(err, errlen, fmt, a, b);
    return CONFIG_EINVAL;
}

/* Stores text into the option's destination after checking it. `origin`
 * names where the value came from, for the error message. */
static int assign(const config_option_t *o, const char *text, const char *origin, char *err,
                  size_t errlen)
{
    char what[96];
    snprintf(what, sizeof what, "%s%s", origin, o->flag);
    switch (o->type) {
    case CONFIG_STRING:
        *(const char **)o->dest = text;
        return 0;
    case CONFIG_INT: {
        int64_t v;
        if (num_parse_i64(text, strlen(text), o->min, o->max, &v) < 0) {
            char range[64];
            snprintf(range, sizeof range, "an integer from %lld to %lld", (long long)o->min,
                     (long long)o->max);
            snprintf(err, errlen, "invalid value '%.64s' for %s: expected %s", text, what, range);
            return CONFIG_EINVAL;
        }
        *(int64_t *)o->dest = v;
        return 0;
    }
    case CONFIG_CHOICE:
        for (const char *const *c = o->choices; *c; c++) {
            if (strcmp(*c, text) == 0) {
                *(const char **)o->dest = text;
                return 0;
            }
        }
        snprintf(err, errlen, "invalid value '%.64s' for %s: expected one of", text, what);
        for (const char *const *c = o->choices; *c; c++) {
            size_t n = strlen(err);
            snprintf(err + n, errlen - n, " %s", *c);
        }
        return CONFIG_EINVAL;
    case CONFIG_FLAG:
        if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0 || strcmp(text, "yes") == 0) {
            *(bool *)o->dest = true;
            return 0;
        }
        if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0 || strcmp(text, "no") == 0) {
            *(bool *)o->dest = false;
            return 0;
        }
        snprintf(err, errlen, "invalid value '%.64s' for %s: expected true or false", text, what);
        return CONFIG_EINVAL;
    }
    return fail(err, errlen, "option %s%s has no type", "--", o->flag);
}

static const config_option_t *find_flag(const config_option_t *opts, size_t n, const char *name,
                                        size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].flag) == len && strncmp(opts[i].flag, name, len) == 0)
            return &opts[i];
    return NULL;
}

static int apply_defaults_and_env(const config_option_t *opts, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const config_option_t *o = &opts[i];
        if (o->def && assign(o, o->def, "default of --", err, errlen) < 0)
            return CONFIG_EINVAL;
        const char *env = o->env ? getenv(o->env) : NULL;
        if (env && assign(o, env, "environment variable for --", err, errlen) < 0)
            return CONFIG_EINVAL;
    }
    return 0;
}

int config_parse(const config_program_t *prog, const config_option_t *opts, size_t nopts,
                 int argc, char **argv, const char **positional, size_t max_positional,
                 size_t *npositional, char *err, size_t errlen)
{
    *npositional = 0;
    if (apply_defaults_and_env(opts, nopts, err, errlen) < 0)
        return CONFIG_EINVAL;
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            if (*npositional == max_positional)
                return fail(err, errlen, "unexpected argument '%.64s'%s (see --help)", arg, "");
            positional[(*npositional)++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            config_print_help(prog, opts, nopts);
            return CONFIG_EXIT;
        }
        if (strcmp(arg, "--version") == 0) {
            printf("%s %s\n", prog->name, prog->version);
            return CONFIG_EXIT;
        }
        if (strncmp(arg, "--", 2) != 0)
            return fail(err, errlen, "unknown option '%.64s'%s (see --help)", arg, "");
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const config_option_t *o = find_flag(opts, nopts, name, len);
        if (!o) {
            /* The name only: a mistyped "--api-token=SECRET" must not print the secret. */
            snprintf(err, errlen, "unknown option '--%.*s' (see --help)", (int)(len > 64 ? 64 : len),
                     name);
            return CONFIG_EINVAL;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value && o->type == CONFIG_FLAG) {
            value = "true"; /* a flag takes no separate value: "--once" */
        } else if (!value) {
            if (i + 1 >= argc)
                return fail(err, errlen, "option --%s needs a value%s", o->flag, "");
            value = argv[++i];
        }
        if (assign(o, value, "--", err, errlen) < 0)
            return CONFIG_EINVAL;
    }
    return CONFIG_OK;
}

void config_print_help(const config_program_t *prog, const config_option_t *opts, size_t nopts)
{
    printf("Usage: %s %s\n%s\n\nOptions (flag, environment variable, default):\n", prog->name,
           prog->usage, prog->summary);
    for (size_t i = 0; i < nopts; i++) {
        const config_option_t *o = &opts[i];
        const char *meta = o->type == CONFIG_INT    ? " N"
                           : o->type == CONFIG_FLAG ? ""
                                                    : " VALUE";
        printf("  --%s%s", o->flag, meta);
        if (o->env)
            printf("  [env %s]", o->env);
        printf("\n      %s", o->help);
        if (o->type == CONFIG_CHOICE) {
            printf(" (one of:");
            for (const char *const *c = o->choices; *c; c++)
                printf(" %s", *c);
            printf(")");
        }
        printf(" (default: %s)\n", o->def ? (*o->def ? o->def : "empty") : "none");
    }
    printf("  --help\n      print this help and exit\n  --version\n      print the version and exit\n");
    if (prog->epilog)
        printf("\n%s\n", prog->epilog);
}
