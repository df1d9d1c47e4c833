/* fuzz_config.c - libFuzzer target: flag parsing (config_parse) and
 * database URL checking on arbitrary argument vectors. The input is split
 * at NUL bytes into argv. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *argv[32] = {"fuzz"};
    int argc = 1;
    for (size_t i = 0; i <= size && argc < 31; argc++) {
        argv[argc] = copy + i;
        i += strlen(copy + i) + 1;
    }
    const char *host = NULL, *url = NULL, *fmt = NULL;
    int64_t port = 0;
    static const char *const formats[] = {"text", "json", NULL};
    const config_option_t opts[] = {
        {"host", NULL, CONFIG_STRING, "127.0.0.1", "h", &host, 0, 0, NULL},
        {"port", NULL, CONFIG_INT, "5000", "p", &port, 0, 65535, NULL},
        {"database-url", NULL, CONFIG_STRING, "sqlite:x.db", "d", &url, 0, 0, NULL},
        {"log-format", NULL, CONFIG_CHOICE, NULL, "l", &fmt, 0, 0, formats},
    };
    static const config_program_t prog = {"fuzz", "0", "s", "[OPTIONS]", NULL};
    const char *pos[4];
    size_t npos;
    char err[256];
    /* --help and --version print; send them nowhere rather than skip them. */
    int rc = 0;
    int has_help = 0;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") || !strcmp(argv[i], "--version"))
            has_help = 1;
    if (!has_help)
        rc = config_parse(&prog, opts, 4, argc, argv, pos, 4, &npos, err, sizeof err);
    if (rc == 0 && (port < 0 || port > 65535))
        __builtin_trap();
    if (rc == CONFIG_EINVAL && !memchr(err, '\0', sizeof err))
        __builtin_trap();
    if (url)
        store_check_url(url, err, sizeof err);
    free(copy);
    return 0;
}
