/* cors.c - allowed web origins; see cors.h. */
#include "cors.h"

#include <stdio.h>
#include <string.h>

/* scheme "://" host [":" port], lower-case scheme, no path, query or
 * user info: what a browser sends in Origin. */
static bool origin_form(const char *s, size_t n)
{
    const char *sep = memmem(s, n, "://", 3);
    if (!sep || sep == s)
        return false;
    for (const char *p = s; p < sep; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' ||
              *p == '.'))
            return false;
    const char *host = sep + 3;
    if (host == s + n)
        return false;
    for (const char *p = host; p < s + n; p++)
        if (*p <= ' ' || *p > '~' || strchr("/?#@\\,", *p))
            return false;
    return true;
}

int cors_parse(const char *list, cors_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *p = list ? list : "";
    if (!*p)
        return 0;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *item = p;
        while (n && *item == ' ')
            item++, n--;
        while (n && item[n - 1] == ' ')
            n--;
        if (n == 1 && *item == '*') {
            out->any = true;
        } else if (!n) {
            snprintf(err, errlen, "--cors-origins: empty item in the list");
            return -1;
        } else if (n >= CORS_MAX_ORIGIN_BYTES || !origin_form(item, n)) {
            snprintf(err, errlen,
                     "--cors-origins: '%.*s' is not an origin like https://app.example.com",
                     (int)(n > 80 ? 80 : n), item);
            return -1;
        } else if (out->n == CORS_MAX_ORIGINS) {
            snprintf(err, errlen, "--cors-origins: more than %d origins", CORS_MAX_ORIGINS);
            return -1;
        } else {
            memcpy(out->origins[out->n], item, n);
            out->origins[out->n++][n] = '\0';
        }
        if (!end)
            return 0;
        p = end + 1;
    }
}

bool cors_allowed(const cors_t *c, const char *origin)
{
    if (!origin || !*origin)
        return false;
    if (c->any)
        return true;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->origins[i], origin) == 0)
            return true;
    return false;
}
