/* cors.h - which web origins may call the GraphQL endpoint from a browser
 * (Cross-Origin Resource Sharing): a list from --cors-origins, each an
 * exact origin ("https://app.example.com", "http://localhost:3000") or
 * "*" for any. The server adds Access-Control-* headers for an allowed
 * Origin and answers preflight (OPTIONS) requests; without a list it adds
 * none, so browsers keep pages of other origins out. */
#ifndef GQL_CORS_H
#define GQL_CORS_H

#include <stdbool.h>
#include <stddef.h>

#define CORS_MAX_ORIGINS 64
#define CORS_MAX_ORIGIN_BYTES 256

typedef struct cors {
    bool any;                                          /* "*" was listed */
    size_t n;
    char origins[CORS_MAX_ORIGINS][CORS_MAX_ORIGIN_BYTES];
} cors_t;

/* Parses a comma-separated list (spaces around items ignored; NULL or ""
 * is the empty list). Returns 0, or -1 with a one-line reason in err. */
int cors_parse(const char *list, cors_t *out, char *err, size_t errlen);

/* Whether a request's Origin header (may be NULL) is allowed. */
bool cors_allowed(const cors_t *c, const char *origin);

#endif
