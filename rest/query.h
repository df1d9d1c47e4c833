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

/* Reads a path segment as an article id: 1 to 2^63-1, decimal digits only. */
int query_parse_id(const char *segment, size_t len, int64_t *id, problem_t *err);

#endif
