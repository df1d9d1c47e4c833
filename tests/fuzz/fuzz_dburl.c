/* fuzz_dburl.c - libFuzzer target: the database URL checks of both programs
 * that take one, without connecting anywhere: the REST core's
 * --database-url (store_check_url, and store_url_is_memory, which sizes the
 * connection pool) and the sync daemon's source URL (source_url_kind,
 * source_check_url). The input, cut at its first NUL as a command line
 * would, is the URL.
 *
 * Invariants:
 *   - both accept exactly sqlite:PATH (also sqlite://PATH) with a non-empty
 *     PATH, postgresql://... and postgres://... (our own reading of the
 *     grammar), so the two programs agree on every URL;
 *   - source_url_kind says PG for the postgres schemes, SQLITE for the
 *     other accepted URLs, NONE for the refused ones;
 *   - store_url_is_memory holds exactly for the SQLite path ":memory:",
 *     in either spelling, and only for accepted URLs;
 *   - a refusal leaves a non-empty, NUL-terminated message that holds
 *     nothing of the URL past its scheme (it may hold a password): the
 *     message is the same for the scheme alone; with a short or no buffer
 *     nothing is written out of bounds. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"
#include "store.h"

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (!(cond))                                                                          \
            __builtin_trap();                                                                 \
    } while (0)

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Our reading of the SQLite path of url, or NULL. */
static const char *model_sqlite_path(const char *url)
{
    if (!starts(url, "sqlite:"))
        return NULL;
    const char *p = url + 7;
    return starts(p, "//") ? p + 2 : p;
}

static bool model_pg(const char *url)
{
    return starts(url, "postgresql://") || starts(url, "postgres://");
}

/* The failure message of check for url; err is sized exactly so that ASan
 * sees any write past errlen. */
typedef int (*check_fn)(const char *url, char *err, size_t errlen);

static void check_message(check_fn check, const char *url, int code)
{
    char *err = malloc(256);
    CHECK(err);
    memset(err, 'x', 256);
    CHECK(check(url, err, 256) == code);
    CHECK(memchr(err, '\0', 256) && err[0]);
    if (!model_sqlite_path(url)) {
        /* Only the scheme may show: the message for the scheme alone is the same. */
        char *scheme = strndup(url, strcspn(url, ":"));
        char *again = malloc(256);
        CHECK(scheme && again);
        CHECK(check(scheme, again, 256) == code);
        CHECK(strcmp(err, again) == 0);
        free(scheme);
        free(again);
    }
    free(err);
    /* Short buffers: truncated, still terminated, never overrun. */
    for (size_t len = 0; len <= 2; len++) {
        char *small = len ? malloc(len) : NULL;
        CHECK(!len || small);
        CHECK(check(url, small, len) == code);
        CHECK(!len || small[len - 1] == '\0');
        free(small);
    }
    CHECK(check(url, NULL, 0) == code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 1);
    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';

    const char *path = model_sqlite_path(url);
    bool pg = model_pg(url);
    bool ok = pg || (path && *path);

    int store_rc = store_check_url(url, NULL, 0);
    int source_rc = source_check_url(url, NULL, 0);
    CHECK(store_rc == (ok ? STORE_OK : STORE_EURL));
    CHECK(source_rc == (ok ? SOURCE_OK : SOURCE_EURL));

    source_kind_t kind = source_url_kind(url);
    CHECK(kind == (pg ? SOURCE_KIND_PG : ok ? SOURCE_KIND_SQLITE : SOURCE_KIND_NONE));

    bool memory = store_url_is_memory(url);
    CHECK(memory == (path && strcmp(path, ":memory:") == 0));
    CHECK(!memory || (ok && !pg));

    if (!ok) {
        check_message(store_check_url, url, STORE_EURL);
        check_message(source_check_url, url, SOURCE_EURL);
    }
    free(url);
    return 0;
}
