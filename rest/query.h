/* query.h - the query string and path parameters of the REST core, read
 * strictly: unknown or repeated parameters and malformed numbers are
 * refused with 400 and the parameter's name, rather than silently ignored. */
#ifndef QUERY_H
#define QUERY_H

#include <stdint.h>

#include "article.h"
#include "http_server.h"
#include "problem.h"
#include "store.h"

#define QUERY_DEFAULT_LIMIT 100

/* Fills q from the request's query string. Strings in q point into the
 * request and live as long as it does. */
int query_parse_list(const http_request_t *req, int64_t max_limit, const article_limits_t *lim,
                     store_query_t *q, problem_t *err);

/* Where query_parse_pairs reads the decoded pairs: a function with the
 * contract of http_request_query_each, over source. */
typedef int (*query_each_fn)(const void *source, http_query_fn fn, void *ud);

/* query_parse_list over the pairs of any source (the fuzzer's own);
 * query_parse_list is this over the request's. Strings in q point into what
 * each hands out and live as long as that does. */
int query_parse_pairs(query_each_fn each, const void *source, int64_t max_limit,
                      const article_limits_t *lim, store_query_t *q, problem_t *err);

/* Reads a path segment as an article id: 1 to 2^63-1, decimal digits only. */
int query_parse_id(const char *segment, size_t len, int64_t *id, problem_t *err);

#endif
