/* auth.c - the bearer token set of the REST core and the check of an
 * Authorization header against it, with the constant-time comparison of
 * lib/ops.c; see auth.h. */
#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ops.h"

/* Every token is kept padded to the longest allowed, so that comparing one
 * takes the same steps whatever its length. */
typedef struct auth_token {
    size_t len;
    unsigned char bytes[AUTH_TOKEN_MAX];
} auth_token_t;

struct auth {
    auth_token_t *tokens;
    size_t n, cap;
};

auth_t *auth_new(void) { return calloc(1, sizeof(auth_t)); }

void auth_free(auth_t *a)
{
    if (!a)
        return;
    if (a->tokens)
        explicit_bzero(a->tokens, a->cap * sizeof *a->tokens);
    free(a->tokens);
    free(a);
}

size_t auth_count(const auth_t *a) { return a ? a->n : 0; }

static int visible(unsigned char c) { return c >= 0x21 && c <= 0x7e; }

/* Grows the array without realloc, which could leave a copy of the tokens
 * in freed memory. */
static int grow(auth_t *a)
{
    size_t cap = a->cap ? a->cap * 2 : 4;
    if (cap > AUTH_MAX_TOKENS)
        cap = AUTH_MAX_TOKENS;
    auth_token_t *t = calloc(cap, sizeof *t);
    if (!t)
        return AUTH_ENOMEM;
    if (a->tokens) {
        memcpy(t, a->tokens, a->n * sizeof *t);
        explicit_bzero(a->tokens, a->cap * sizeof *a->tokens);
        free(a->tokens);
    }
    a->tokens = t;
    a->cap = cap;
    return 0;
}

/* Checks one token and adds it. `where` says which item or line it was;
 * the message never contains the token. */
static int add_one(auth_t *a, const char *s, size_t len, const char *origin, const char *where,
                   char *err, size_t errlen)
{
    if (len < AUTH_TOKEN_MIN || len > AUTH_TOKEN_MAX) {
        snprintf(err, errlen,
                 "%s %s: the token is %s than %d bytes (tokens have %d to %d bytes)", origin,
                 where, len < AUTH_TOKEN_MIN ? "shorter" : "longer",
                 len < AUTH_TOKEN_MIN ? AUTH_TOKEN_MIN : AUTH_TOKEN_MAX, AUTH_TOKEN_MIN,
                 AUTH_TOKEN_MAX);
        return AUTH_ECONFIG;
    }
    for (size_t i = 0; i < len; i++) {
        if (!visible((unsigned char)s[i])) {
            snprintf(err, errlen,
                     "%s %s: the token holds a byte that is not visible ASCII (0x21-0x7e) at "
                     "position %zu",
                     origin, where, i + 1);
            return AUTH_ECONFIG;
        }
    }
    if (a->n == AUTH_MAX_TOKENS) {
        snprintf(err, errlen, "%s %s: more than %d tokens in all", origin, where,
                 AUTH_MAX_TOKENS);
        return AUTH_ECONFIG;
    }
    if (a->n == a->cap && grow(a) < 0) {
        snprintf(err, errlen, "out of memory while reading the tokens");
        return AUTH_ENOMEM;
    }
    auth_token_t *t = &a->tokens[a->n++];
    t->len = len;
    memcpy(t->bytes, s, len);
    return 0;
}

static int blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Narrows [*s, *s + *len) to its part without surrounding blanks. */
static void trim(const char **s, size_t *len)
{
    while (*len && blank(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && blank((*s)[*len - 1]))
        (*len)--;
}

int auth_add_list(auth_t *a, const char *list, const char *origin, char *err, size_t errlen)
{
    const char *all = list;
    size_t alllen = strlen(list);
    trim(&all, &alllen);
    if (alllen == 0)
        return 0; /* an empty variable means no tokens */
    size_t item = 0;
    for (const char *p = list;; p++) {
        size_t n = strcspn(p, ",");
        const char *s = p;
        item++;
        trim(&s, &n);
        char where[32];
        snprintf(where, sizeof where, "item %zu", item);
        if (n == 0) {
            snprintf(err, errlen, "%s %s is empty (separate tokens with single commas)", origin,
                     where);
            return AUTH_ECONFIG;
        }
        int rc = add_one(a, s, n, origin, where, err, errlen);
        if (rc < 0)
            return rc;
        p += strcspn(p, ",");
        if (!*p)
            return 0;
    }
}

int auth_add_text(auth_t *a, const char *text, size_t len, const char *origin, char *err,
                  size_t errlen)
{
    size_t line = 0;
    const char *end = text + len;
    for (const char *p = text; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *s = p;
        line++;
        p += n + (nl ? 1 : 0);
        trim(&s, &n);
        if (n == 0 || s[0] == '#')
            continue;
        char where[32];
        snprintf(where, sizeof where, "line %zu", line);
        int rc = add_one(a, s, n, origin, where, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Reads the whole file into b, refusing one larger than the limit. */
static int read_file(const char *path, buf_t *b, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return AUTH_ECONFIG;
    }
    int rc = 0;
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b->len + got > AUTH_FILE_MAX_BYTES) {
            snprintf(err, errlen, "%s: larger than %d bytes", path, AUTH_FILE_MAX_BYTES);
            rc = AUTH_ECONFIG;
            goto done;
        }
        if (buf_append(b, chunk, got) < 0) {
            snprintf(err, errlen, "out of memory while reading %s", path);
            rc = AUTH_ENOMEM;
            goto done;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        rc = AUTH_ECONFIG;
    }
done:
    explicit_bzero(chunk, sizeof chunk);
    fclose(f);
    return rc;
}

int auth_add_file(auth_t *a, const char *path, char *err, size_t errlen)
{
    buf_t b = {0};
    size_t before = a->n;
    int rc = read_file(path, &b, err, errlen);
    if (rc == 0)
        rc = auth_add_text(a, b.data ? b.data : "", b.len, path, err, errlen);
    if (rc == 0 && a->n == before) {
        snprintf(err, errlen, "%s holds no token (one a line; blank lines and # comments are "
                              "ignored)",
                 path);
        rc = AUTH_ECONFIG;
    }
    if (b.data)
        explicit_bzero(b.data, b.cap);
    buf_free(&b);
    return rc;
}

int auth_check(const auth_t *a, const char *authorization)
{
    /* The header's syntax and the comparison are those of every bearer
     * token of the platform (lib/ops.h), so the metrics token and the API
     * tokens cannot drift apart in how they are checked. */
    unsigned char cand[AUTH_TOKEN_MAX];
    size_t len = 0;
    int rc = ops_bearer(authorization, cand, sizeof cand, &len);
    if (rc != OPS_OK) {
        explicit_bzero(cand, sizeof cand);
        return rc == OPS_EMISSING ? AUTH_EMISSING : AUTH_EINVALID;
    }
    volatile int found = 0;
    size_t n = a ? a->n : 0;
    for (size_t i = 0; i < n; i++)
        found |= ops_ct_equal(a->tokens[i].bytes, a->tokens[i].len, cand, len, AUTH_TOKEN_MAX);
    explicit_bzero(cand, sizeof cand);
    return found ? AUTH_OK : AUTH_EINVALID;
}
