/* config.h - program configuration from one table: each option has a flag,
 * an environment variable and a default, and `--help` is generated from the
 * same table so the three can never disagree. Precedence: flag, then
 * environment, then default. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef enum config_type {
    CONFIG_STRING, /* dest is const char ** (points into argv, environ or the default) */
    CONFIG_INT,    /* dest is int64_t *, checked against [min, max] */
    CONFIG_CHOICE, /* dest is const char **, one of choices (NULL-terminated) */
    CONFIG_FLAG,   /* dest is bool *: "--flag" alone sets it, "--flag=false" clears it; the
                    * environment variable and default are true/false, 1/0 or yes/no */
} config_type_t;

typedef struct config_option {
    const char *flag; /* without the leading "--" */
    const char *env;  /* environment variable, or NULL */
    config_type_t type;
    const char *def;  /* default as text; NULL means none */
    const char *help;
    void *dest;
    int64_t min, max;                /* CONFIG_INT */
    const char *const *choices;      /* CONFIG_CHOICE */
} config_option_t;

typedef struct config_program {
    const char *name;    /* "articles-rest" */
    const char *version;
    const char *summary; /* one line */
    const char *usage;   /* "[OPTIONS]" or "COMMAND [OPTIONS]" */
    const char *epilog;  /* printed after the options, or NULL */
} config_program_t;

enum {
    CONFIG_OK = 0,
    CONFIG_EXIT = 1,    /* --help or --version was printed: exit 0 */
    CONFIG_EINVAL = -1, /* err says what is wrong: exit 2 */
};

/* The logging options every program has, the same everywhere: dests are
 * const char ** (--log-format: text or json, unset meaning text on a
 * terminal and json otherwise; --log-level: debug, info, warn or error). */
extern const char *const config_log_formats[];
extern const char *const config_log_levels[];
#define CONFIG_LOG_OPTIONS(format_dest, level_dest)                                               \
    {"log-format", "LOG_FORMAT", CONFIG_CHOICE, NULL,                                            \
     "log lines as text or JSON; when unset, text on a terminal and json otherwise",            \
     (format_dest), 0, 0, config_log_formats},                                                  \
    {"log-level", "LOG_LEVEL", CONFIG_CHOICE, "info", "least important level logged",          \
     (level_dest), 0, 0, config_log_levels}

/* Parses argv against opts. Arguments that are not options are collected
 * in order into positional[0..*npositional) (at most max_positional; more
 * is an error), so a program with commands can read them. err receives one
 * line without a trailing newline. */
int config_parse(const config_program_t *prog, const config_option_t *opts, size_t nopts,
                 int argc, char **argv, const char **positional, size_t max_positional,
                 size_t *npositional, char *err, size_t errlen);

/* Writes the generated help text to stdout. */
void config_print_help(const config_program_t *prog, const config_option_t *opts, size_t nopts);

#endif
