/* auth.h - the bearer tokens of the REST core: the set configured at start
 * (--api-tokens, --api-tokens-file) and the check of a request's
 * Authorization header against it. api.c decides which routes need a
 * token; this module only answers whether a header carries a valid one.
 *
 * Tokens are secrets: nothing here logs or prints one, and error messages
 * name a token by its position (item 3, line 7), never by its text. */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>

#define AUTH_TOKEN_MIN 16  /* bytes */
#define AUTH_TOKEN_MAX 256 /* bytes */
#define AUTH_MAX_TOKENS 1000
#define AUTH_FILE_MAX_BYTES (1 << 20)

enum {
    AUTH_OK = 0,
    AUTH_EMISSING = -1, /* no Authorization header, or one of another scheme */
    AUTH_EINVALID = -2, /* a Bearer credential that is malformed or not configured */
    AUTH_ECONFIG = -3,  /* a token list or file breaks the rules: err says which */
    AUTH_ENOMEM = -4,
};

typedef struct auth auth_t;

/* An empty set (caller frees with auth_free). Returns NULL when memory ran
 * out. */
auth_t *auth_new(void);
/* Wipes the tokens from memory and frees a. NULL is allowed. */
void auth_free(auth_t *a);

/* Adds the tokens of a comma-separated list; spaces and tabs around an item
 * are ignored, an empty item is an error. `origin` names the list in err
 * ("--api-tokens"). Returns 0 or AUTH_ECONFIG / AUTH_ENOMEM with one line
 * in err. */
int auth_add_list(auth_t *a, const char *list, const char *origin, char *err, size_t errlen);
/* Adds the tokens of a file's text: one token a line; blank lines and
 * lines whose first non-blank character is '#' are ignored; spaces, tabs
 * and a CR around a token are ignored. origin names the file in err. */
int auth_add_text(auth_t *a, const char *text, size_t len, const char *origin, char *err,
                  size_t errlen);
/* Reads the file at path (at most AUTH_FILE_MAX_BYTES) and adds its tokens
 * like auth_add_text. A file that cannot be read or holds no token is an
 * error. */
int auth_add_file(auth_t *a, const char *path, char *err, size_t errlen);

/* How many tokens the set holds. */
size_t auth_count(const auth_t *a);

/* Checks an Authorization header value (NULL when the request has none):
 * "Bearer <token>", the scheme case-insensitive, one or more spaces, then
 * one token of visible ASCII and nothing after it. The token is compared
 * with every configured one in time that depends on neither their contents
 * nor their lengths. Returns AUTH_OK, AUTH_EMISSING or AUTH_EINVALID. */
int auth_check(const auth_t *a, const char *authorization);

#endif
