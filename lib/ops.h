/* ops.h - the operator endpoints /metrics and /health, as the three programs
 * share them: the metrics token (--metrics-token, --metrics-token-file) and
 * its check against a request's Authorization header, the constant-time
 * comparison behind every bearer token of the platform (rest/auth.c uses it
 * too), and the configuration entries of the flags. Which listener serves
 * the endpoints, and in what format a refusal is written, stays with each
 * program.
 *
 * The token is a secret: nothing here logs or prints it, and error messages
 * name the flag or the file, never the token's text. */
#ifndef OPS_H
#define OPS_H

#include <stddef.h>

#include "config.h"
#include "http_server.h"

#define OPS_TOKEN_MIN 16        /* bytes, as for the REST core's API tokens */
#define OPS_TOKEN_MAX 256       /* bytes */
#define OPS_FILE_MAX_BYTES 4096 /* a token file is one line; anything larger is a mistake */

enum {
    OPS_OK = 0,
    OPS_EMISSING = -1, /* no Authorization header, or one of another scheme */
    OPS_EINVALID = -2, /* a Bearer credential that is malformed or not the token */
    OPS_ECONFIG = -3,  /* the token or its file breaks the rules: err says which */
};

/* The metrics token, zero-padded to OPS_TOKEN_MAX so that comparing it takes
 * the same steps whatever its length. len 0: no token, the endpoints are
 * open. Plain data: the caller owns it and wipes it with ops_token_clear. */
typedef struct ops_token {
    size_t len;
    unsigned char bytes[OPS_TOKEN_MAX];
} ops_token_t;

/* The configuration entries of the metrics token, the same in the three
 * programs; dests are const char **. */
#define OPS_TOKEN_OPTIONS(token_dest, file_dest)                                                  \
    {"metrics-token", "METRICS_TOKEN", CONFIG_STRING, NULL,                                      \
     "bearer token that GET /metrics and /health need (Authorization: Bearer <token>), 16 to "  \
     "256 bytes of visible ASCII; without it (here or in --metrics-token-file) they are open",  \
     (token_dest), 0, 0, NULL},                                                                  \
    {"metrics-token-file", "METRICS_TOKEN_FILE", CONFIG_STRING, NULL,                            \
     "file holding the metrics token on one line, read at start, so that the secret need not "  \
     "sit in the environment; excludes --metrics-token",                                        \
     (file_dest), 0, 0, NULL}

/* The address of a listener of their own for /metrics and /health, in the
 * servers whose main listener serves them by default (the REST core and the
 * GraphQL server); host_dest is const char **, port_dest int64_t *. */
#define OPS_LISTEN_OPTIONS(host_dest, port_dest)                                                  \
    {"metrics-host", "METRICS_HOST", CONFIG_STRING, "127.0.0.1",                                 \
     "address of the listener of /metrics and /health when --metrics-port is set",             \
     (host_dest), 0, 0, NULL},                                                                   \
    {"metrics-port", "METRICS_PORT", CONFIG_INT, "0",                                            \
     "serve /metrics and /health on this port of --metrics-host only, and answer 404 for them " \
     "on the main port (0: on the main port, with everything else)",                           \
     (port_dest), 0, 65535, NULL}

/* Fills t from --metrics-token (value) or --metrics-token-file (path); NULL
 * or "" means not given. Neither leaves t->len 0 (the endpoints stay open).
 * The file holds one line: blanks and line ends around the token are
 * ignored, so the file Prometheus reads with credentials_file works as it
 * is. Both given, a file that cannot be read, is empty, larger than
 * OPS_FILE_MAX_BYTES or holds more than one line, or a token that breaks
 * the rules is OPS_ECONFIG with one line in err. */
int ops_token_load(ops_token_t *t, const char *value, const char *path, char *err,
                   size_t errlen);
/* Wipes the token from memory. NULL is allowed. */
void ops_token_clear(ops_token_t *t);

/* Checks an Authorization header value (NULL when the request has none)
 * against t. Returns OPS_OK when t is NULL or empty (no token configured) or
 * the header carries the token; else OPS_EMISSING or OPS_EINVALID. */
int ops_check(const ops_token_t *t, const char *authorization);
/* Sets res to 401 with the WWW-Authenticate challenge of the metrics realm
 * for rc (OPS_EMISSING or OPS_EINVALID); the body, in the program's own
 * format, is the caller's (ops_strerror says why). Returns 0, or -1 when
 * the header could not be added. */
int ops_challenge(http_response_t *res, int rc);
/* One line about rc for an answer or a log; static. */
const char *ops_strerror(int rc);

/* Reads the credential of "Bearer <credential>": the scheme
 * case-insensitive, one or more spaces, then 1 to width bytes of visible
 * ASCII and nothing after them. cand receives it zero-padded to width
 * bytes (the caller's buffer of width bytes, which it wipes), *len its
 * length. Returns OPS_OK, OPS_EMISSING (no header or another scheme) or
 * OPS_EINVALID. */
int ops_bearer(const char *authorization, unsigned char *cand, size_t width, size_t *len);

/* 1 when a[0..alen) equals b[0..blen), else 0. Both buffers hold width
 * bytes, zero past their lengths (alen, blen <= width), and every byte of
 * both is looked at, so the time taken depends on neither their contents
 * nor their lengths. */
int ops_ct_equal(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
                 size_t width);

/* Starts the listener of /metrics and /health alone (--metrics-port) on
 * host:port, with the main listener's timeouts and abuse limits but one
 * thread, 64 connections and tiny bodies: the endpoints are cheap and rare,
 * and a busy API cannot starve the scrapes of it. handler serves them with
 * main->user_data. Logs where it listens, or why it cannot, and returns 0
 * or -1. */
int ops_listen(const http_server_config_t *main, const char *host, int port,
               http_handler_fn handler, http_server_t **out);

#endif
