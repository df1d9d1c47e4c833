/* fuzz_route.c - libFuzzer target: the REST core's routing and query
 * string, called directly (fuzz_http goes through HTTP): api_route_match
 * (rest/api.h) on the method and path, query_parse_id on the {id} segment,
 * and query_parse_pairs (rest/query.h, what query_parse_list runs on a
 * request) on the query string.
 *
 * Input: one byte choosing the configuration (--max-limit and the length
 * limits, within their flags' ranges), then "METHOD TARGET" (no space: the
 * whole is the target of a GET). TARGET splits at the first '?' into a path
 * and a query string; both are percent-decoded and the query string split
 * into pairs as libmicrohttpd does ('&', the first '=', '+' as a space, an
 * encoded NUL reported as has_nul).
 *
 * Invariants:
 *   - routing: a template comes back iff the path has a route; a literal
 *     route is the path itself; the {id} route's segment is the non-empty
 *     rest of "/articles/..." without '/', and never "bulk" (POST
 *     /articles/bulk is a route of its own); HEAD answers as GET;
 *   - ids: query_parse_id accepts exactly 1..19 decimal digits worth
 *     1..2^63-1 (checked against our own reading), else a 400 problem;
 *   - query: what is accepted has 1 <= limit <= max_limit (the default
 *     min(100, max_limit) when absent), offset >= 0, after_id >= 0 and only
 *     with sort=id or -id, a known sort, author and q valid UTF-8 within the
 *     length limits (q never empty), each pointing at its parameter's value;
 *     an unknown, repeated or NUL-holding parameter is never accepted; what
 *     is refused is a 400 problem naming a parameter, whose JSON parses. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "json.h"
#include "problem.h"
#include "query.h"
#include "utf8.h"

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (!(cond))                                                                          \
            __builtin_trap();                                                                 \
    } while (0)

typedef struct pair {
    char *key, *value; /* value NULL: "?flag" without '=' */
    bool has_nul;
} pair_t;

typedef struct pairs {
    pair_t *items;
    size_t n;
} pairs_t;

static int hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* s[0..n) percent-decoded (and '+' as a space when plus), NUL-terminated,
 * heap; *has_nul when the decoded text holds a NUL. */
static char *unescape(const char *s, size_t n, bool plus, bool *has_nul)
{
    char *out = malloc(n + 1);
    CHECK(out);
    size_t o = 0;
    *has_nul = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%' && i + 2 < n && hex((unsigned char)s[i + 1]) >= 0 &&
            hex((unsigned char)s[i + 2]) >= 0) {
            c = (char)(hex((unsigned char)s[i + 1]) << 4 | hex((unsigned char)s[i + 2]));
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        if (c == '\0')
            *has_nul = true;
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

static pairs_t split_query(const char *s, size_t n)
{
    pairs_t p = {calloc(n + 1, sizeof *p.items), 0};
    CHECK(p.items);
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '&')
            continue;
        if (i > start) {
            const char *piece = s + start;
            size_t len = i - start;
            const char *eq = memchr(piece, '=', len);
            pair_t *pr = &p.items[p.n++];
            bool knul = false, vnul = false;
            pr->key = unescape(piece, eq ? (size_t)(eq - piece) : len, true, &knul);
            if (eq)
                pr->value = unescape(eq + 1, len - (size_t)(eq - piece) - 1, true, &vnul);
            pr->has_nul = knul || vnul;
        }
        start = i + 1;
    }
    return p;
}

static void free_pairs(pairs_t *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->items[i].key);
        free(p->items[i].value);
    }
    free(p->items);
}

/* http_request_query_each's contract over our pairs. */
static int each_pair(const void *source, http_query_fn fn, void *ud)
{
    const pairs_t *p = source;
    for (size_t i = 0; i < p->n; i++) {
        int rc = fn(ud, p->items[i].key, p->items[i].value, p->items[i].has_nul);
        if (rc)
            return rc;
    }
    return 0;
}

static void check_problem(const problem_t *p, bool names_parameter)
{
    CHECK(p->status == 400 && p->detail[0]);
    CHECK(!names_parameter || p->parameter[0]);
    http_response_t res = {0};
    problem_respond(&res, p);
    CHECK(!res.body.failed);
    json_error_t jerr;
    cJSON *doc = json_parse(res.body.data, res.body.len, &jerr);
    CHECK(doc);
    cJSON_Delete(doc);
    http_response_free(&res);
}

/* ---- routes ------------------------------------------------------------- */

/* Our own reading of an id: 1..19 digits, 1..INT64_MAX. */
static bool model_id(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 19)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits fit in 64 bits */
    }
    if (v == 0 || v > (uint64_t)INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

static void check_route(const char *method, const char *path)
{
    static const char prefix[] = "/articles/";
    const char *tmpl, *seg;
    size_t seglen;
    int rc = api_route_match(method, path, &tmpl, &seg, &seglen);
    CHECK(rc == 0 || rc == API_EMETHOD || rc == API_ENOROUTE);
    CHECK((rc == API_ENOROUTE) == (tmpl == NULL));
    if (!tmpl) {
        CHECK(!seg && seglen == 0);
        CHECK(strcmp(path, "/articles") != 0 && strcmp(path, "/health") != 0);
        /* Any "/articles/X" with X non-empty and without '/' has a route. */
        if (strncmp(path, prefix, sizeof prefix - 1) == 0) {
            const char *rest = path + sizeof prefix - 1;
            CHECK(!*rest || strchr(rest, '/'));
        }
    } else if (strcmp(tmpl, "/articles/{id}") == 0) {
        CHECK(strncmp(path, prefix, sizeof prefix - 1) == 0);
        CHECK(seg == path + sizeof prefix - 1 && seglen == strlen(seg) && seglen > 0);
        CHECK(!strchr(seg, '/') && strcmp(seg, "bulk") != 0);
        int64_t id = 0, want = 0;
        problem_t p;
        bool ok = model_id(seg, seglen, &want);
        if (query_parse_id(seg, seglen, &id, &p) == 0) {
            CHECK(ok && id == want && id >= 1);
        } else {
            CHECK(!ok);
            check_problem(&p, false);
        }
    } else {
        CHECK(tmpl[0] == '/' && !strchr(tmpl, '{'));
        CHECK(strcmp(path, tmpl) == 0 && !seg && seglen == 0);
    }
    if (strcmp(method, "HEAD") == 0 || strcmp(method, "GET") == 0) {
        const char *t2, *s2;
        size_t l2;
        int rc2 = api_route_match(strcmp(method, "HEAD") ? "HEAD" : "GET", path, &t2, &s2, &l2);
        CHECK(rc2 == rc && t2 == tmpl && s2 == seg && l2 == seglen);
    }
}

/* ---- query string ------------------------------------------------------- */

static const char *const known[] = {"limit", "offset", "after_id", "author", "q", "sort"};

static const pair_t *find(const pairs_t *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].key, key) == 0)
            return &p->items[i];
    return NULL;
}

/* True when the model says the pairs cannot be accepted whatever their values. */
static bool must_refuse(const pairs_t *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->items[i].has_nul)
            return true;
        bool is_known = false;
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            is_known |= strcmp(p->items[i].key, known[k]) == 0;
        if (!is_known)
            return true;
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->items[i].key, p->items[j].key) == 0)
                return true;
    }
    return false;
}

static void check_text(const char *v, const pairs_t *p, const char *key, int64_t max_chars)
{
    if (!v)
        return;
    const pair_t *pr = find(p, key);
    CHECK(pr && (pr->value ? pr->value == v : !*v)); /* "?author" reads as empty */
    size_t n = strlen(v);
    CHECK(utf8_valid(v, n) && (int64_t)utf8_count(v, n) <= max_chars);
}

static void check_query(const pairs_t *p, int64_t max_limit, const article_limits_t *lim)
{
    store_query_t q;
    problem_t err;
    memset(&err, 0, sizeof err);
    if (query_parse_pairs(each_pair, p, max_limit, lim, &q, &err) != 0) {
        check_problem(&err, true);
        return;
    }
    CHECK(!must_refuse(p));
    CHECK(q.limit >= 1 && q.limit <= max_limit);
    if (!find(p, "limit"))
        CHECK(q.limit == (max_limit < QUERY_DEFAULT_LIMIT ? max_limit : QUERY_DEFAULT_LIMIT));
    CHECK(q.offset >= 0 && q.after_id >= 0);
    CHECK(q.sort >= STORE_SORT_ID && q.sort <= STORE_SORT_UPDATED_DESC);
    if (q.after_id)
        CHECK(q.sort == STORE_SORT_ID || q.sort == STORE_SORT_ID_DESC);
    check_text(q.author, p, "author", lim->max_author_chars);
    check_text(q.q, p, "q", lim->max_title_chars);
    CHECK(!q.q || q.q[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Within the ranges of --max-limit and --max-title/author-length. */
    static const int64_t max_limits[] = {1, 10, 100, 1000, 100000};
    static const article_limits_t limits[] = {{200, 100, 1048576}, {1, 1, 0}, {5, 3, 10}};
    if (size < 1)
        return 0;
    int64_t max_limit = max_limits[data[0] % 5];
    const article_limits_t *lim = &limits[data[0] / 5 % 3];
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    const char *sp = memchr(in, ' ', n);
    char *method = sp ? strndup(in, (size_t)(sp - in)) : strdup("GET");
    const char *target = sp ? sp + 1 : in;
    size_t tlen = n - (size_t)(target - in);
    const char *qm = memchr(target, '?', tlen);
    size_t plen = qm ? (size_t)(qm - target) : tlen;
    bool path_nul;
    char *path = unescape(target, plen, false, &path_nul);
    CHECK(method);
    check_route(method, path);
    pairs_t pairs = split_query(qm ? qm + 1 : "", qm ? tlen - plen - 1 : 0);
    check_query(&pairs, max_limit, lim);
    free_pairs(&pairs);
    free(path);
    free(method);
    return 0;
}
