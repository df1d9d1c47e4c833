/* ops.c - the metrics token of the operator endpoints and the
 * constant-time bearer token comparison; see ops.h. */
#include "ops.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"

#define VALUE_ORIGIN "--metrics-token (METRICS_TOKEN)"
#define FILE_ORIGIN "--metrics-token-file (METRICS_TOKEN_FILE)"

static int visible(unsigned char c) { return c >= 0x21 && c <= 0x7e; }

static int blank(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int ops_ct_equal(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
                 size_t width)
{
    uint64_t diff = (uint64_t)(alen ^ blen);
    for (size_t i = 0; i < width; i++)
        diff |= (uint64_t)(a[i] ^ b[i]);
    /* diff | -diff has its top bit set for every diff but 0: no branch on
     * where, or whether, the buffers differ. */
    return (int)(1u ^ (unsigned)((diff | (0 - diff)) >> 63));
}

int ops_bearer(const char *authorization, unsigned char *cand, size_t width, size_t *len)
{
    const char *h = authorization;
    memset(cand, 0, width);
    *len = 0;
    if (!h || strcspn(h, " ") != 6 || strncasecmp(h, "Bearer", 6) != 0)
        return OPS_EMISSING; /* no header, or a credential of another scheme */
    const char *t = h + 6;
    while (*t == ' ')
        t++;
    size_t n = 0;
    while (n <= width && visible((unsigned char)t[n]))
        n++;
    /* Only the candidate's own length is seen here, never a token's. */
    if (n == 0 || n > width || t[n] != '\0')
        return OPS_EINVALID;
    memcpy(cand, t, n);
    *len = n;
    return OPS_OK;
}

/* Checks the token's rules and keeps it in t. origin names where it came
 * from; the message never contains the token. */
static int set_token(ops_token_t *t, const char *s, size_t len, const char *origin, char *err,
                     size_t errlen)
{
    if (len < OPS_TOKEN_MIN || len > OPS_TOKEN_MAX) {
        snprintf(err, errlen, "%s: the token is %s than %d bytes (tokens have %d to %d bytes)",
                 origin, len < OPS_TOKEN_MIN ? "shorter" : "longer",
                 len < OPS_TOKEN_MIN ? OPS_TOKEN_MIN : OPS_TOKEN_MAX, OPS_TOKEN_MIN,
                 OPS_TOKEN_MAX);
        return OPS_ECONFIG;
    }
    for (size_t i = 0; i < len; i++) {
        if (!visible((unsigned char)s[i])) {
            snprintf(err, errlen,
                     "%s: the token holds a byte that is not visible ASCII (0x21-0x7e) at "
                     "position %zu",
                     origin, i + 1);
            return OPS_ECONFIG;
        }
    }
    ops_token_clear(t);
    memcpy(t->bytes, s, len);
    t->len = len;
    return OPS_OK;
}

/* Reads the file into data (at most OPS_FILE_MAX_BYTES; the caller wipes
 * data) and narrows it to the one line it must hold. */
static int read_token_file(const char *path, char *data, size_t cap, const char **line,
                           size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, FILE_ORIGIN " %s: cannot open: %s", path, strerror(errno));
        return OPS_ECONFIG;
    }
    /* One byte more than allowed tells a file at the limit from a larger one. */
    size_t got = fread(data, 1, cap, f);
    int rc = OPS_OK;
    if (ferror(f)) {
        snprintf(err, errlen, FILE_ORIGIN " %s: cannot read: %s", path, strerror(errno));
        rc = OPS_ECONFIG;
    } else if (got > OPS_FILE_MAX_BYTES) {
        snprintf(err, errlen, FILE_ORIGIN " %s: larger than %d bytes (it holds one token)", path,
                 OPS_FILE_MAX_BYTES);
        rc = OPS_ECONFIG;
    }
    fclose(f);
    if (rc < 0)
        return rc;
    const char *s = data;
    size_t n = got;
    while (n && blank((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && blank((unsigned char)s[n - 1]))
        n--;
    if (n == 0) {
        snprintf(err, errlen, FILE_ORIGIN " %s holds no token", path);
        return OPS_ECONFIG;
    }
    if (memchr(s, '\n', n)) {
        snprintf(err, errlen, FILE_ORIGIN " %s holds more than one line (it holds one token)",
                 path);
        return OPS_ECONFIG;
    }
    *line = s;
    *len = n;
    return OPS_OK;
}

int ops_token_load(ops_token_t *t, const char *value, const char *path, char *err,
                   size_t errlen)
{
    int from_value = value && *value;
    int from_file = path && *path;
    ops_token_clear(t);
    if (from_value && from_file) {
        /* Which one wins would be a guess: the operator says. */
        snprintf(err, errlen, VALUE_ORIGIN " and " FILE_ORIGIN " are both set; give one");
        return OPS_ECONFIG;
    }
    if (from_value)
        return set_token(t, value, strlen(value), VALUE_ORIGIN, err, errlen);
    if (!from_file)
        return OPS_OK;
    char data[OPS_FILE_MAX_BYTES + 1];
    const char *line = NULL;
    size_t len = 0;
    char origin[512];
    snprintf(origin, sizeof origin, FILE_ORIGIN " %s", path);
    int rc = read_token_file(path, data, sizeof data, &line, &len, err, errlen);
    if (rc == OPS_OK)
        rc = set_token(t, line, len, origin, err, errlen);
    explicit_bzero(data, sizeof data);
    return rc;
}

void ops_token_clear(ops_token_t *t)
{
    if (t)
        explicit_bzero(t, sizeof *t);
}

int ops_check(const ops_token_t *t, const char *authorization)
{
    if (!t || t->len == 0)
        return OPS_OK;
    unsigned char cand[OPS_TOKEN_MAX];
    size_t len = 0;
    int rc = ops_bearer(authorization, cand, sizeof cand, &len);
    if (rc == OPS_OK && !ops_ct_equal(t->bytes, t->len, cand, len, OPS_TOKEN_MAX))
        rc = OPS_EINVALID;
    explicit_bzero(cand, sizeof cand);
    return rc;
}

int ops_challenge(http_response_t *res, int rc)
{
    res->status = 401;
    return http_response_header(res, "WWW-Authenticate",
                                rc == OPS_EMISSING
                                    ? "Bearer realm=\"metrics\""
                                    : "Bearer realm=\"metrics\", error=\"invalid_token\"");
}

const char *ops_strerror(int rc)
{
    switch (rc) {
    case OPS_OK:
        return "ok";
    case OPS_EMISSING:
        return "this endpoint needs the metrics token: send Authorization: Bearer <token>";
    case OPS_EINVALID:
        return "the bearer token is not the metrics token";
    case OPS_ECONFIG:
        return "the metrics token is not configured correctly";
    default:
        return "unknown error";
    }
}

int ops_listen(const http_server_config_t *main, const char *host, int port,
               http_handler_fn handler, http_server_t **out)
{
    http_server_config_t cfg = *main;
    cfg.host = host;
    cfg.port = port;
    cfg.threads = 1;
    cfg.max_connections = 64;
    cfg.max_body_bytes = 1024;
    cfg.handler = handler;
    char err[256];
    if (http_server_start(&cfg, out, err, sizeof err) < 0) {
        log_error("cannot serve /metrics and /health on %s:%d: %s", host, port, err);
        return -1;
    }
    log_info("/metrics and /health on http://%s:%d only", host, http_server_port(*out));
    return 0;
}
